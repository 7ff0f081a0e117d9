"""A dry run of mail in (`POST /channels/simulate`, admins): what a raw mail would do, decided by
the same code as real mail, without writing anything."""

from __future__ import annotations

from typing import Any

from services.channels.logic.channel import ChannelRepository
from services.channels.logic.mail_parser import ParsedAttachment, parse_mail
from services.channels.logic.receive_mail import Decision, Policies, decide, incoming_from_parse
from services.channels.logic.threading import ThreadRepository
from shared.clock import Clock, isoformat
from shared.errors import Forbidden
from shared.events.catalogue import Attachment
from shared.identity import Caller

SIMULATION = "simulation"
AUTHENTICATED = {"spf": "PASS", "dkim": "PASS", "dmarc": "PASS"}


class _NothingStored:
    """A mail store that keeps nothing: the dry run reports attachments without storing them."""

    def raw(self, key: str) -> bytes | None:
        return None

    def keep_attachments(
        self, ses_message_id: str, files: list[ParsedAttachment]
    ) -> list[Attachment]:
        return [
            Attachment(name=f.name, content_type=f.content_type, size=f.size, key="(not stored)")
            for f in files
        ]


def simulate(
    raw: bytes,
    recipients: list[str],
    verdicts: dict[str, str],
    caller: Caller,
    channels: ChannelRepository,
    threads: ThreadRepository,
    clock: Clock,
    policies: Policies,
) -> tuple[Decision, list[str]]:
    """The decision for this mail, and the problems the parser found in it."""
    if not caller.is_admin:
        raise Forbidden("Only admins simulate mail.")
    parsed = parse_mail(raw)
    sender = parsed.sender.email if parsed.sender else ""
    record: dict[str, Any] = {
        "mail": {
            "messageId": SIMULATION,
            "timestamp": isoformat(clock.now()),
            "source": sender,
        },
        "receipt": {
            "recipients": recipients or [a.email for a in parsed.to + parsed.cc],
            # Mail authenticates unless the admin pretends otherwise, as most mail does.
            **{
                f"{name}Verdict": {"status": status}
                for name, status in {**AUTHENTICATED, **verdicts}.items()
            },
        },
    }
    incoming = incoming_from_parse(parsed, record["mail"], _NothingStored(), SIMULATION)
    return decide(record, incoming, channels, threads, policies), parsed.defects
