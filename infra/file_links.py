"""The files of messages, downloaded through the edge: what the edge stack adds for them, the
mail bucket's grant to it, and the stage's key pair that signs the links.

S3 cannot add headers of its own to an answer, so the files are served by CloudFront, whose
response-headers policy adds `X-Content-Type-Options: nosniff` and a sandboxing CSP. A behaviour
per file prefix reads the mail bucket through an Origin Access Control and serves only URLs signed
with the stage's key (a trusted key group, canned policy): the tickets API signs them for five
minutes. The mail bucket's policy belongs to the shared stack, which goes up before the edge: it
names the distribution by a parameter that the deployment sets once the edge exists.
"""

from __future__ import annotations

from typing import Any

from services.channels.data.mail_bucket import ATTACHMENTS_PREFIX
from services.channels.logic.uploads import UPLOADS_PREFIX
from shared.settings import Settings

FILE_PREFIXES = (ATTACHMENTS_PREFIX, UPLOADS_PREFIX)
FILES_ORIGIN = "mail-files"
# The answer to a file, whatever it is: never sniffed into another type, and were a browser ever
# to render it, a sandboxed page that loads and runs nothing. The local gateway sends the same.
FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Referrer-Policy": "no-referrer",
}
# The S3 response overrides the link signs (the name to save under, the type to serve as): the
# edge passes these on, and no other part of the query (S3 would read CloudFront's `Signature`
# and `Expires` as a signature of its own).
RESPONSE_OVERRIDES = ("response-content-disposition", "response-content-type")
RSA_KEY_BITS = 2048  # what CloudFront takes
HSTS_SECONDS = 31_536_000
DISTRIBUTION_PARAMETER = "EdgeDistributionId"  # the shared stack's
PUBLIC_KEY_PARAMETER = "FileLinkPublicKey"  # the edge stack's
KEY_ID_OUTPUT = "FileLinkKeyId"


def new_private_key() -> str:
    """A new RSA private key for signing links, as PEM."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_key(private_key: str) -> str:
    """The public half of a PEM private key, as CloudFront takes it."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(private_key.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def edge_file_parameters() -> dict[str, Any]:
    return {
        PUBLIC_KEY_PARAMETER: {
            "Type": "String",
            "Description": "Public key (PEM) of the links the tickets API signs to files; the "
            "deployment makes the key pair once per stage",
        }
    }


def edge_file_origin(settings: Settings) -> dict[str, Any]:
    """The mail bucket as an origin of the edge, read through the access control."""
    return {
        "Id": FILES_ORIGIN,
        "DomainName": f"{settings.mail_bucket}.s3.{settings.region}.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""},  # empty: the access control signs
        "OriginAccessControlId": {"Fn::GetAtt": ["MailFilesAccess", "Id"]},
    }


def edge_file_behaviours(no_caching: str) -> list[dict[str, Any]]:
    """One behaviour per file prefix: the key in the bucket is the path, and only a link signed
    with the stage's key is served. Nothing is cached: a link lives five minutes."""
    return [
        {
            "PathPattern": f"/{prefix}*",
            "TargetOriginId": FILES_ORIGIN,
            "ViewerProtocolPolicy": "https-only",
            "AllowedMethods": ["GET", "HEAD"],
            "CachedMethods": ["GET", "HEAD"],
            "CachePolicyId": no_caching,
            "OriginRequestPolicyId": {"Ref": "FileRequests"},
            "ResponseHeadersPolicyId": {"Ref": "FileHeaders"},
            "TrustedKeyGroups": [{"Ref": "FileLinkKeys"}],
            "Compress": False,
        }
        for prefix in FILE_PREFIXES
    ]


def edge_file_resources(settings: Settings) -> dict[str, Any]:
    """The access control to the mail bucket, the key that signs links, what reaches S3, and the
    headers of every file."""
    name = f"{settings.resource_prefix}-{settings.stage}-files"
    return {
        "MailFilesAccess": {
            "Type": "AWS::CloudFront::OriginAccessControl",
            "Properties": {
                "OriginAccessControlConfig": {
                    "Name": name,
                    "Description": "The edge reads the files of messages, signing every request",
                    "OriginAccessControlOriginType": "s3",
                    "SigningBehavior": "always",
                    "SigningProtocol": "sigv4",
                }
            },
        },
        "FileLinkKey": {
            "Type": "AWS::CloudFront::PublicKey",
            "Properties": {
                "PublicKeyConfig": {
                    "Name": name,
                    "CallerReference": name,
                    "Comment": "Checks the links the tickets API signs to files",
                    "EncodedKey": {"Ref": PUBLIC_KEY_PARAMETER},
                }
            },
        },
        "FileLinkKeys": {
            "Type": "AWS::CloudFront::KeyGroup",
            "Properties": {"KeyGroupConfig": {"Name": name, "Items": [{"Ref": "FileLinkKey"}]}},
        },
        "FileRequests": {
            "Type": "AWS::CloudFront::OriginRequestPolicy",
            "Properties": {
                "OriginRequestPolicyConfig": {
                    "Name": name,
                    "Comment": "The signed response overrides of a file link, nothing else",
                    "QueryStringsConfig": {
                        "QueryStringBehavior": "whitelist",
                        "QueryStrings": list(RESPONSE_OVERRIDES),
                    },
                    "HeadersConfig": {"HeaderBehavior": "none"},
                    "CookiesConfig": {"CookieBehavior": "none"},
                }
            },
        },
        "FileHeaders": {
            "Type": "AWS::CloudFront::ResponseHeadersPolicy",
            "Properties": {
                "ResponseHeadersPolicyConfig": {
                    "Name": name,
                    "Comment": "Files of messages: never sniffed, never run",
                    "SecurityHeadersConfig": {
                        "ContentTypeOptions": {"Override": True},
                        "ContentSecurityPolicy": {
                            "ContentSecurityPolicy": FILE_HEADERS["Content-Security-Policy"],
                            "Override": True,
                        },
                        "ReferrerPolicy": {
                            "ReferrerPolicy": FILE_HEADERS["Referrer-Policy"],
                            "Override": True,
                        },
                        "StrictTransportSecurity": {
                            "AccessControlMaxAgeSec": HSTS_SECONDS,
                            "IncludeSubdomains": False,
                            "Override": True,
                        },
                    },
                }
            },
        },
    }


def edge_file_outputs() -> dict[str, Any]:
    return {
        KEY_ID_OUTPUT: {
            "Description": "The id of the public key file links are signed for (Key-Pair-Id)",
            "Value": {"Ref": "FileLinkKey"},
        }
    }


def mail_bucket_file_statement(settings: Settings) -> dict[str, Any]:
    """The mail bucket's grant to the edge: only its distribution, once it exists, reads the
    files of messages, and nothing else in the bucket (never the raw mail)."""
    return {
        "Fn::If": [
            "EdgeServesFiles",
            {
                "Sid": "OnlyTheEdgeReadsFiles",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": [
                    f"arn:aws:s3:::{settings.mail_bucket}/{prefix}*" for prefix in FILE_PREFIXES
                ],
                "Condition": {
                    "StringEquals": {
                        "AWS:SourceArn": "arn:aws:cloudfront::${AWS::AccountId}:distribution/"
                        f"${{{DISTRIBUTION_PARAMETER}}}"
                    }
                },
            },
            {"Ref": "AWS::NoValue"},
        ]
    }


def shared_file_parameters() -> dict[str, Any]:
    return {
        DISTRIBUTION_PARAMETER: {
            "Type": "String",
            "Default": "",
            "Description": "The edge's distribution, which alone reads the files of messages; "
            "the deployment sets it once the edge exists",
        }
    }


def shared_file_conditions() -> dict[str, Any]:
    return {"EdgeServesFiles": {"Fn::Not": [{"Fn::Equals": [{"Ref": DISTRIBUTION_PARAMETER}, ""]}]}}
