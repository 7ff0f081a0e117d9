"""Sending raw mail through SES: the headers (Message-ID, threading) are ours, not SES's."""

from __future__ import annotations

from shared.aws import client


class SesMailSender:
    def send(self, sender: str, recipients: list[str], raw: bytes) -> None:
        client("ses").send_raw_email(
            Source=sender, Destinations=recipients, RawMessage={"Data": raw}
        )
