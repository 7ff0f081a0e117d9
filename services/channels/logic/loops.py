"""Mail loops: which mail was written by a machine, so the helpdesk never answers it.

An autoresponder answering our acknowledgement, answered again by us, is the classic mail loop.
We recognise machine mail by the headers RFC 3834 and common practice define (Auto-Submitted,
Precedence, X-Auto-Response-Suppress, List-Unsubscribe without a list, X-Autoreply), by delivery
reports (multipart/report, X-Failed-Recipients, mailer-daemon senders), and by our own addresses as
sender.

Mail through a list (List-Id, `Precedence: list`) is a person writing through a group address, say
a client's team: it opens and continues tickets like any mail, but no automatic answer goes to a
list, where it would reach everyone on it.
"""

from __future__ import annotations

BULK_PRECEDENCE = {"bulk", "junk"}
BOUNCE_SENDERS = {"mailer-daemon", "postmaster"}


def automated_reason(headers: dict[str, str], sender: str, ours: bool) -> str | None:
    """Why this mail was written by a machine, or None if a person wrote it."""
    submitted = headers.get("auto-submitted", "").split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return f"Auto-Submitted: {submitted}"
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    if "x-auto-response-suppress" in headers:
        return "X-Auto-Response-Suppress"
    if "list-unsubscribe" in headers and mailing_list(headers) is None:
        return "newsletter (List-Unsubscribe)"
    if headers.get("x-autoreply", "").strip().lower() == "yes" or "x-autorespond" in headers:
        return "autoreply"
    if headers.get("content-type", "").lower() == "multipart/report" or (
        "x-failed-recipients" in headers
    ):
        return "delivery report"
    if sender.split("@", 1)[0].lower() in BOUNCE_SENDERS:
        return "delivery report"
    if ours:
        return "sent from one of our own addresses"
    return None


def mailing_list(headers: dict[str, str]) -> str | None:
    """Why this mail came through a mailing list or group, or None."""
    if "list-id" in headers:
        return "mailing list (List-Id)"
    if headers.get("precedence", "").strip().lower() == "list":
        return "mailing list (Precedence: list)"
    return None
