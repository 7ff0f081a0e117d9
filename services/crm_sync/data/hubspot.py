"""The HubSpot connector: HubSpot's CRM v3 API and webhooks, translated to `logic.connector`.

Requests (private app token as a bearer token):
- every contact: `GET /crm/v3/objects/contacts?limit=&after=&properties=&archived=`
- changes in a window: `POST /crm/v3/objects/contacts/search`, `lastmodifieddate` GTE/LTE in
  epoch milliseconds, sorted ascending; one search lists at most 10,000 results
- by id: `POST /crm/v3/objects/contacts/batch/read` (a merged-away id answers with the survivor)
- by address: the search, `email` EQ
- push back: `POST /crm/v3/objects/contacts`, `POST /crm/v3/objects/notes` with an association
Webhooks are JSON arrays of events, signed with the app's client secret (signature v3).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import urllib3

from services.crm_sync.logic.connector import (
    Change,
    ChangeKind,
    CrmError,
    CrmPage,
    CrmRecord,
    CrmUnavailable,
    InvalidSignature,
    MalformedWebhook,
    NewContact,
    Note,
    RateLimited,
    SignedRequest,
)
from shared.clock import isoformat

logger = logging.getLogger(__name__)

PROVIDER = "hubspot"
CONTACTS = "/crm/v3/objects/contacts"
PROPERTIES = (
    "email",
    "firstname",
    "lastname",
    "phone",
    "company",
    "hs_additional_emails",
    "lastmodifieddate",
    "hs_merged_object_ids",
)
PAGE_SIZE = 100  # the most the list and search endpoints return at once
BATCH_READ_LIMIT = 100
SEARCH_RESULT_CAP = 10_000  # a search pages through this many results at most
SIGNATURE_MAX_AGE = timedelta(minutes=5)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Epoch milliseconds as HubSpot writes them (13 digits until the year 2286): a longer number is
# refused before any arithmetic, which it would overflow.
EPOCH_MS = re.compile(r"[0-9]{1,13}")
NOTE_TO_CONTACT = 202  # HubSpot's association type id, note → contact
RECORD_URL = "https://app.hubspot.com/contacts/{portal}/record/0-1/{id}"
# Characters HubSpot decodes in the URI before signing it.
SIGNED_URI_DECODED = {
    "%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'",
    "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";",
}  # fmt: skip
CHANGE_KINDS: dict[str, ChangeKind] = {
    "contact.creation": "upsert",
    "contact.propertyChange": "upsert",
    "contact.restore": "upsert",
    "contact.deletion": "delete",
    "contact.privacyDeletion": "delete",
    "contact.merge": "merge",
}


def signature_v3(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """base64(HMAC-SHA256(secret, method + uri + body + timestamp)), as HubSpot signs."""
    for encoded, character in SIGNED_URI_DECODED.items():
        uri = uri.replace(encoded, character).replace(encoded.lower(), character)
    message = method.encode() + uri.encode() + body + timestamp.encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class HubSpotConnector:
    provider = PROVIDER

    def __init__(
        self,
        base_url: str,
        token: str | None,
        client_secret: str | None,
        portal_id: str | None = None,
        window_limit: int = SEARCH_RESULT_CAP,
        pool: urllib3.PoolManager | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._token = token
        self._secret = client_secret
        self._portal = portal_id
        self.window_limit = window_limit
        self._pool = pool or urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=3, read=10), retries=False
        )

    # --- reading ------------------------------------------------------------------------------

    def list_contacts(self, cursor: str | None, archived: bool = False) -> CrmPage:
        fields: dict[str, str] = {
            "limit": str(PAGE_SIZE),
            "properties": ",".join(PROPERTIES),
            "archived": "true" if archived else "false",
        }
        if cursor:
            fields["after"] = cursor
        answer = self._request("GET", CONTACTS, fields=fields)
        return CrmPage([self._record(r) for r in answer.get("results", [])], _after(answer))

    def changes(self, start: datetime, end: datetime, cursor: str | None) -> CrmPage:
        answer = self._search(
            [
                {"propertyName": "lastmodifieddate", "operator": "GTE", "value": _ms(start)},
                {"propertyName": "lastmodifieddate", "operator": "LTE", "value": _ms(end)},
            ],
            cursor,
        )
        after = _after(answer)
        if after is not None and int(after) >= self.window_limit:
            after = None  # HubSpot refuses to page further; the engine splits such windows
        records = [self._record(r) for r in answer.get("results", [])]
        return CrmPage(records, after, total=int(answer.get("total", len(records))))

    def get_contacts(self, crm_ids: Sequence[str]) -> dict[str, CrmRecord]:
        found: dict[str, CrmRecord] = {}
        wanted = list(dict.fromkeys(crm_ids))
        for start in range(0, len(wanted), BATCH_READ_LIMIT):
            batch = wanted[start : start + BATCH_READ_LIMIT]
            answer = self._request(
                "POST",
                f"{CONTACTS}/batch/read",
                body={"properties": list(PROPERTIES), "inputs": [{"id": i} for i in batch]},
            )
            for result in answer.get("results", []):
                record = self._record(result)
                for asked in (record.crm_id, *record.merged_ids):
                    if asked in batch:
                        found[asked] = record
        return found

    def find_by_email(self, email: str) -> CrmRecord | None:
        answer = self._search(
            [{"propertyName": "email", "operator": "EQ", "value": email}], None, limit=1
        )
        results = answer.get("results", [])
        return self._record(results[0]) if results else None

    def record_url(self, crm_id: str) -> str | None:
        return RECORD_URL.format(portal=self._portal, id=crm_id) if self._portal else None

    # --- webhooks -----------------------------------------------------------------------------

    def parse_webhook(self, request: SignedRequest, now: datetime) -> list[Change]:
        self._verify(request, now)
        try:
            events = json.loads(request.body)
            if not isinstance(events, list):
                raise TypeError("not a list of events")
            return [change for e in events if (change := _change(e)) is not None]
        except (ValueError, TypeError, KeyError) as error:
            raise MalformedWebhook(
                f"The webhook body is not a list of HubSpot events: {error}"
            ) from error

    def _verify(self, request: SignedRequest, now: datetime) -> None:
        if not self._secret:
            raise InvalidSignature("no client secret is configured to check webhooks against")
        signature = request.headers.get("x-hubspot-signature-v3", "")
        timestamp = request.headers.get("x-hubspot-request-timestamp", "")
        if not signature or not EPOCH_MS.fullmatch(timestamp):
            raise InvalidSignature(
                "X-HubSpot-Signature-v3 and X-HubSpot-Request-Timestamp (epoch milliseconds) "
                "are required"
            )
        signed_at = _from_epoch_ms(timestamp)
        if abs(now - signed_at) > SIGNATURE_MAX_AGE:
            raise InvalidSignature("the request was signed more than 5 minutes away from now")
        expected = signature_v3(self._secret, request.method, request.url, request.body, timestamp)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise InvalidSignature("the signature does not match")

    # --- pushing back -------------------------------------------------------------------------

    def create_contact(self, contact: NewContact) -> CrmRecord:
        first, _, last = (contact.name or "").partition(" ")
        properties = {
            "email": contact.emails[0],
            "firstname": first or None,
            "lastname": last or None,
            "phone": contact.phone,
            "company": contact.organisation,
        }
        if contact.emails[1:]:
            properties["hs_additional_emails"] = ";".join(contact.emails[1:])
        answer = self._request(
            "POST",
            CONTACTS,
            body={"properties": {k: v for k, v in properties.items() if v is not None}},
        )
        return self._record(answer)

    def add_note(self, crm_id: str, note: Note) -> str:
        answer = self._request(
            "POST",
            "/crm/v3/objects/notes",
            body={
                "properties": {"hs_timestamp": isoformat(note.at), "hs_note_body": note.body},
                "associations": [
                    {
                        "to": {"id": crm_id},
                        "types": [
                            {
                                "associationCategory": "HUBSPOT_DEFINED",
                                "associationTypeId": NOTE_TO_CONTACT,
                            }
                        ],
                    }
                ],
            },
        )
        return str(answer["id"])

    # --- HTTP ---------------------------------------------------------------------------------

    def _search(
        self, filters: list[dict[str, Any]], cursor: str | None, limit: int = PAGE_SIZE
    ) -> Any:
        body: dict[str, Any] = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
            "properties": list(PROPERTIES),
            "limit": limit,
        }
        if cursor:
            body["after"] = cursor
        return self._request("POST", f"{CONTACTS}/search", body=body)

    def _request(
        self,
        method: str,
        path: str,
        *,
        fields: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        if not self._token:
            raise CrmError("no HubSpot access token is configured")
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        try:
            response = self._pool.request(
                method, self._base + path, fields=fields, json=body, headers=headers
            )
        except urllib3.exceptions.HTTPError as error:
            raise CrmUnavailable(f"HubSpot did not answer: {error}") from error
        if response.status == 429:
            raise _rate_limited(response)
        if response.status >= 500:
            raise CrmUnavailable(f"HubSpot answered {response.status}")
        if response.status >= 400:
            raise CrmError(
                f"HubSpot refused {method} {path}: {response.status} {_message(response)}"
            )
        return json.loads(response.data) if response.data else {}

    def _record(self, result: dict[str, Any]) -> CrmRecord:
        properties = result.get("properties") or {}
        crm_id = str(result["id"])
        emails = [properties.get("email"), *_split(properties.get("hs_additional_emails"))]
        name = " ".join(p for p in (properties.get("firstname"), properties.get("lastname")) if p)
        archived = bool(result.get("archived"))
        changed = (archived and result.get("archivedAt")) or properties.get("lastmodifieddate")
        return CrmRecord(
            crm_id=crm_id,
            emails=tuple(dict.fromkeys(e.strip().lower() for e in emails if e and e.strip())),
            name=name or None,
            phone=properties.get("phone") or None,
            organisation=properties.get("company") or None,
            updated_at=_parse_time(changed or result["updatedAt"]),
            archived=archived,
            url=self.record_url(crm_id),
            merged_ids=tuple(
                i for i in _split(properties.get("hs_merged_object_ids")) if i != crm_id
            ),
        )


def _change(event: dict[str, Any]) -> Change | None:
    kind = CHANGE_KINDS.get(event["subscriptionType"])
    if kind is None:
        return None  # subscribed to more than we use (associations, say): nothing to do
    occurred_at = _from_epoch_ms(event["occurredAt"])
    if kind == "merge":
        survivor = str(event["primaryObjectId"])
        merged = tuple(str(i) for i in event.get("mergedObjectIds", []) if str(i) != survivor)
        return Change(str(event["eventId"]), kind, survivor, occurred_at, merged)
    return Change(str(event["eventId"]), kind, str(event["objectId"]), occurred_at)


def _rate_limited(response: Any) -> RateLimited:
    try:
        policy = json.loads(response.data).get("policyName")
    except (ValueError, AttributeError):
        policy = None
    retry_after = response.headers.get("Retry-After")
    seconds = (
        float(retry_after) if retry_after and retry_after.replace(".", "", 1).isdigit() else 0.0
    )
    return RateLimited(seconds, daily=policy == "DAILY")


def _message(response: Any) -> str:
    try:
        return str(json.loads(response.data).get("message", ""))
    except (ValueError, AttributeError):
        return ""


def _after(answer: dict[str, Any]) -> str | None:
    after = ((answer.get("paging") or {}).get("next") or {}).get("after")
    return str(after) if after else None


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]


def _ms(moment: datetime) -> str:
    """Epoch milliseconds, floored, in integers (a float loses a millisecond now and then)."""
    return str((moment - EPOCH) // timedelta(milliseconds=1))


def _from_epoch_ms(value: object) -> datetime:
    """The moment `value` gives in epoch milliseconds; ValueError unless it is one."""
    text = str(value)
    if not EPOCH_MS.fullmatch(text):
        raise ValueError(f"not a time in epoch milliseconds: {text[:20]!r}")
    return EPOCH + timedelta(milliseconds=int(text))


def _parse_time(value: str) -> datetime:
    # HubSpot writes `2024-05-01T10:00:00.123Z`; older payloads carry epoch milliseconds.
    if value.isdigit():
        return _from_epoch_ms(value)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
