"""The links a client rates a resolved ticket by, without signing in: the channels service puts
them in the rating mail, the tickets service checks them when the client answers.

A token names the ticket, the resolution it rates (when the ticket was resolved) and when it
expires, signed with HMAC-SHA256 under a key derived from the deployment's reply-token secret, so
the one secret signs reply-to addresses and rating links apart: neither can pass for the other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import quote

Rating = Literal["good", "bad"]
RATINGS: tuple[Rating, ...] = ("good", "bad")
RATING_LINK_DAYS = 14
RATINGS_PATH = "/ratings"
_PURPOSE = b"helpdesk rating links v1"
_SEPARATOR = "|"


class InvalidRatingToken(Exception):
    """The token was not signed by us, or was altered."""


class ExpiredRatingToken(Exception):
    """The token was ours, but its time to rate is over."""


@dataclass(frozen=True)
class RatingClaim:
    ticket_id: str
    resolved_at: str  # the resolution rated, as the wire writes times
    expires_at: datetime


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def rating_token(secret: str, ticket_id: str, resolved_at: str, now: datetime) -> str:
    """A token for rating this resolution of the ticket, valid RATING_LINK_DAYS from `now`."""
    expires = int((now + timedelta(days=RATING_LINK_DAYS)).timestamp())
    payload = _SEPARATOR.join((ticket_id, resolved_at, str(expires))).encode()
    signature = hmac.new(_key(secret), payload, hashlib.sha256).digest()
    return f"{_encode(payload)}.{_encode(signature)}"


def read_rating_token(secret: str, token: str, now: datetime) -> RatingClaim:
    """What the token claims, once its signature and expiry are checked."""
    payload_text, _, signature_text = token.partition(".")
    try:
        payload, signature = _decode(payload_text), _decode(signature_text)
    except ValueError as error:  # not base64: nobody's token
        raise InvalidRatingToken(token) from error
    expected = hmac.new(_key(secret), payload, hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise InvalidRatingToken(token)
    ticket_id, resolved_at, expires = payload.decode().split(_SEPARATOR)
    expires_at = datetime.fromtimestamp(int(expires), UTC)
    if now >= expires_at:
        raise ExpiredRatingToken(token)
    return RatingClaim(ticket_id, resolved_at, expires_at)


def rating_link(public_url: str, token: str, rating: Rating) -> str:
    """The address of the rating page with `rating` chosen."""
    return f"{public_url.rstrip('/')}{RATINGS_PATH}/{quote(token, safe='')}?choice={rating}"
