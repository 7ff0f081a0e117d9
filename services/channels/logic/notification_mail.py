"""The mail that tells an agent what happened on a ticket (see notifications.py)."""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from services.channels.logic.notifications import (
    PUBLIC_MARK,
    WHAT_HAPPENED,
    WHY_YOU,
    Notice,
    WatchedTicket,
)
from services.channels.logic.send_reply import header_text, written_mail


def write_notification(
    agent: str,
    ticket: WatchedTicket,
    notices: list[Notice],
    sender: str,
    message_id: str,
    console_url: str | None,
    now: datetime,
) -> bytes:
    """The mail telling `agent` of `notices` on `ticket`: what happened, the client's latest
    words, the link to the ticket, and how to answer. Declared automatic (RFC 3834), so no
    autoresponder answers it."""
    kinds = list(dict.fromkeys(notice.kind for notice in notices))
    headline = "; ".join(WHAT_HAPPENED[kind] for kind in kinds)

    def compose() -> EmailMessage:
        message = EmailMessage()
        message["From"] = Address(display_name="Helpdesk", addr_spec=sender)
        message["To"] = agent
        message["Subject"] = header_text(f"[{ticket.number}] {headline}: {ticket.subject}")
        message["Message-ID"] = f"<{message_id}>"
        message["Date"] = format_datetime(now)
        message["Auto-Submitted"] = "auto-generated"
        message["X-Auto-Response-Suppress"] = "All"
        lines = [f"{headline} on {ticket.number}: {header_text(ticket.subject)}", ""]
        if len(notices) > 1:
            lines += [f"- {WHAT_HAPPENED[n.kind]} at {n.at.strftime('%H:%M UTC')}" for n in notices]
            lines.append("")
        if ticket.client_words:
            lines += ["The client's latest words:", ""]
            lines += [f"> {line}" for line in ticket.client_words.splitlines()]
            lines.append("")
        if console_url:
            lines += [f"Open the ticket: {console_url}/#/tickets/{ticket.ticket_id}", ""]
        lines += [
            "Answer this mail to add an internal note to the ticket. To answer the client",
            f"instead, write {PUBLIC_MARK} alone on the first line.",
            "",
            "-- ",
            f"You get this mail because {WHY_YOU[kinds[0]]}.",
        ]
        if console_url:
            lines.append(f"Choose which mails you get: {console_url}/#/notifications")
        message.set_content("\n".join(lines))
        return message

    return written_mail(compose)
