"""Links to the files of messages (the channels service stores them in the mail bucket), served by
the edge: CloudFront URLs signed with the stage's key, canned policy."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.signers import CloudFrontSigner

from shared.errors import NotReady
from shared.secrets import resolve_secret
from shared.settings import get_settings

# A first deployment stores the edge's address and key id only once the edge is up, after the
# services: until then a link is a 503 that says so, not a 500.
NOT_READY = (
    "Links to files are not ready: the deployment has not stored the edge's address and key yet."
)


class CloudFrontFileLinks:
    def download_url(
        self, key: str, content_disposition: str, content_type: str, expires_at: datetime
    ) -> str:
        settings = get_settings()
        try:
            edge = resolve_secret(settings.edge_url, settings.edge_url_ref)
            key_id = resolve_secret(settings.file_link_key_id, settings.file_link_key_id_ref)
            private_key = resolve_secret(settings.file_link_key, settings.file_link_key_ref)
        except GetParameterError:
            raise NotReady(NOT_READY) from None
        if not (edge and key_id and private_key):
            raise NotReady(NOT_READY)
        # The response overrides are part of the signed URL: the link cannot be changed to serve
        # the file in place or as another type.
        overrides = urlencode(
            {
                "response-content-disposition": content_disposition,
                "response-content-type": content_type,
            },
            quote_via=quote,
        )
        url = f"{edge.rstrip('/')}/{quote(key)}?{overrides}"
        signer = CloudFrontSigner(key_id, _rsa_signer(private_key))
        return str(signer.generate_presigned_url(url, date_less_than=expires_at))


@cache
def _rsa_signer(private_key: str) -> Any:
    """What CloudFront checks a signature with: RSA over SHA-1 (PKCS #1 v1.5). `cryptography` is
    loaded with the first link signed, not with the function."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = serialization.load_pem_private_key(private_key.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("CloudFront checks RSA signatures only")

    def sign(message: bytes) -> bytes:
        return key.sign(
            message,
            padding.PKCS1v15(),
            hashes.SHA1(),  # noqa: S303 - what CloudFront signatures use
        )

    return sign
