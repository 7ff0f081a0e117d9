"""The files on a ticket's messages: their ids, short-lived download links, and forwarding.

An attachment's id names the message it is on (its second and id, which address the message in
storage) and its position there, so finding it is one small read and needs no index of files.
Anyone who may see the ticket may download its files; to anyone else, and for an id that names
nothing, the answer is the same 404 as for a ticket that does not exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from services.tickets.logic.dependencies import Dependencies
from services.tickets.logic.find_ticket import find_ticket
from services.tickets.logic.ticket import Message, Ticket
from shared.errors import FieldError, Invalid, not_found
from shared.events.catalogue import Attachment
from shared.identity import Caller

LINK_LIFETIME = timedelta(minutes=5)
ATTACHMENT_ID = re.compile(
    r"^(?P<second>\d{8}T\d{6})\.(?P<message>[0-9a-f-]{36})\.(?P<position>[1-9]\d{0,2})$"
)
SECOND = "%Y%m%dT%H%M%S"
OCTET_STREAM = "application/octet-stream"
# Types a browser would run as a page (scripts and all) if it ever rendered them: always served
# as bytes to save, whatever the mail said they were.
ACTIVE_TYPE = re.compile(r"html|xml|svg|javascript|ecmascript|xsl", re.IGNORECASE)
PLAIN_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")
NOT_ASCII_FILENAME = re.compile(r"[^A-Za-z0-9 ._()+-]")


@dataclass(frozen=True)
class Download:
    attachment: Attachment
    url: str
    expires_at: datetime
    served_type: str  # what the link answers as Content-Type


def attachment_id(message: Message, position: int) -> str:
    """The id of the message's `position`-th file (from 1)."""
    second = message.created_at.astimezone(UTC).strftime(SECOND)
    return f"{second}.{message.id}.{position}"


def download_path(message: Message, position: int) -> str:
    return f"/tickets/{message.ticket_id}/attachments/{attachment_id(message, position)}"


def find_attachment(ticket: Ticket, attachment_id: str, deps: Dependencies) -> Attachment | None:
    """The file the id names on this ticket, if there is one (whoever asks)."""
    match = ATTACHMENT_ID.match(attachment_id)
    if match is None:
        return None
    posted_at = datetime.strptime(match["second"], SECOND).replace(tzinfo=UTC)
    message = deps.repository.find_message(ticket.id, match["message"], posted_at)
    position = int(match["position"])
    if message is None or position > len(message.attachments):
        return None
    return message.attachments[position - 1]


def download(key: str, attachment_id: str, caller: Caller, deps: Dependencies) -> Download:
    ticket = find_ticket(key, caller, deps)
    attachment = find_attachment(ticket, attachment_id, deps)
    if attachment is None:
        raise not_found("attachment", attachment_id)
    served = served_type(attachment.content_type)
    expires_at = deps.clock.now() + LINK_LIFETIME
    url = deps.files.download_url(
        attachment.key, content_disposition(attachment.name), served, expires_at
    )
    return Download(attachment, url, expires_at, served)


def forwarded(ticket: Ticket, attachment_ids: list[str], deps: Dependencies) -> list[Attachment]:
    """The files of the ticket an agent forwards in a reply; an id naming none is refused."""
    found: list[Attachment] = []
    errors = []
    for index, each in enumerate(attachment_ids):
        attachment = find_attachment(ticket, each, deps)
        if attachment is None:
            errors.append(FieldError(f"forward.{index}", "no such attachment on this ticket"))
        else:
            found.append(attachment)
    if errors:
        raise Invalid("forward: no such attachment on this ticket", errors)
    return found


def served_type(content_type: str) -> str:
    """The type a file is served as: its own, unless a browser could run it as a page."""
    if not PLAIN_TYPE.match(content_type) or ACTIVE_TYPE.search(content_type):
        return OCTET_STREAM
    return content_type.lower()


def content_disposition(name: str) -> str:
    """Always a download, never shown in place; the name as RFC 6266 carries it (an ASCII
    stand-in for old clients, the exact name in UTF-8)."""
    fallback = NOT_ASCII_FILENAME.sub("_", name) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
