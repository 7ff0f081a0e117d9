"""The channels API's request and response shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import EmailStr, Field

from services.channels.logic.channel import Channel
from services.channels.logic.notifications import Preferences
from services.channels.logic.quarantine import QuarantinedMail
from services.channels.logic.uploads import MAX_UPLOAD_BYTES
from shared.api import RequestModel, ResponseModel
from shared.text import MultiLine, SingleLine

DEPARTMENT_ID = r"^[a-z0-9][a-z0-9-]{0,49}$"


class ChannelIn(RequestModel):
    address: EmailStr
    department_id: str = Field(pattern=DEPARTMENT_ID)
    acknowledge: bool = False
    quarantine_spam: bool = True
    acknowledge_template: MultiLine | None = Field(None, max_length=5000)
    signature: MultiLine | None = Field(None, max_length=2000)


class ChannelPatchIn(RequestModel):
    address: EmailStr | None = None
    department_id: str | None = Field(None, pattern=DEPARTMENT_ID)
    acknowledge: bool | None = None
    quarantine_spam: bool | None = None
    acknowledge_template: MultiLine | None = Field(None, max_length=5000)
    signature: MultiLine | None = Field(None, max_length=2000)


class ChannelOut(ResponseModel):
    id: str
    address: str
    department_id: str
    acknowledge: bool
    acknowledge_template: str | None
    signature: str | None
    quarantine_spam: bool
    created_at: datetime

    @classmethod
    def of(cls, channel: Channel) -> ChannelOut:
        return cls.model_validate(channel.model_dump())


class ChannelList(ResponseModel):
    items: list[ChannelOut]
    next_cursor: str | None = None


class UploadIn(RequestModel):
    name: SingleLine = Field(min_length=1, max_length=255, description="the file's name")
    content_type: str = Field(pattern=r"^[\w.+-]+/[\w.+-]+$", max_length=255)
    size: int = Field(ge=1, le=MAX_UPLOAD_BYTES, description="bytes; 10 MB at most")


class UploadOut(ResponseModel):
    key: str = Field(description="name it in the message's `attachments` once uploaded")
    url: str = Field(description="POST the file here as multipart/form-data")
    fields: dict[str, str] = Field(description="form fields to send before the file")
    expires_at: datetime


class QuarantinePageQuery(RequestModel):
    held: bool = Field(
        False, description="list machine mail held back (bounces, autoreplies to nothing) instead"
    )
    limit: int = Field(25, ge=1, le=100)
    cursor: str | None = None


class ReleaseIn(RequestModel):
    department_id: str | None = Field(
        None, pattern=DEPARTMENT_ID, description="open the ticket here instead"
    )


class QuarantinedOut(ResponseModel):
    id: str
    reason: str
    sender: str
    subject: str
    department_id: str | None
    received_at: datetime
    raw_key: str = Field(description="the whole mail in the mail bucket")
    released_at: datetime | None
    released_by: str | None

    @classmethod
    def of(cls, mail: QuarantinedMail) -> QuarantinedOut:
        received = mail.received
        return cls(
            id=mail.id,
            reason=mail.reason,
            sender=received.sender.email,
            subject=received.subject,
            department_id=received.department_id,
            received_at=datetime.fromisoformat(received.received_at),
            raw_key=received.raw_key,
            released_at=mail.released_at,
            released_by=mail.released_by,
        )


class QuarantinePage(ResponseModel):
    items: list[QuarantinedOut]
    next_cursor: str | None


class SimulateIn(RequestModel):
    eml: str = Field(min_length=1, max_length=200_000, description="the raw mail, as text")
    recipients: list[EmailStr] = Field(
        default_factory=list, description="the envelope's recipients; default: To and Cc"
    )
    verdicts: dict[
        Literal["spam", "virus", "spf", "dkim", "dmarc"],
        Literal["PASS", "FAIL", "GRAY", "PROCESSING_FAILED"],
    ] = Field(default_factory=dict, description="SES's verdicts to pretend")


class OutcomeOut(ResponseModel):
    action: str = Field(
        description="`announce` (a ticket opens or continues), `hold`, `quarantine`"
    )
    reason: str
    department_id: str | None
    channel_id: str | None
    ticket_id: str | None = Field(description="the ticket it would continue")
    acknowledge: bool = Field(description="would be acknowledged (within the hourly limit)")


class SimulationOut(ResponseModel):
    sender: str
    subject: str
    thread: str = Field(description="why it continues a ticket, or why not")
    possible_follow_up_of: str | None
    automated: str | None = Field(description="why a machine wrote it; such mail is never answered")
    outcomes: list[OutcomeOut]
    defects: list[str]


class OwnNotificationsIn(RequestModel):
    """An agent's own choice per kind of mail; a kind left out (or null) follows the default."""

    new_ticket: bool | None = None
    client_replied: bool | None = None
    assigned: bool | None = None
    sla_at_risk: bool | None = None
    sla_breached: bool | None = None


class NotificationKinds(RequestModel):
    """Each kind of mail to agents, on or off."""

    new_ticket: bool = Field(True, description="a ticket opened in your department, unassigned")
    client_replied: bool = Field(True, description="the client answered your ticket")
    assigned: bool = Field(True, description="someone else gave you a ticket")
    sla_at_risk: bool = Field(True, description="an SLA target of your ticket is near")
    sla_breached: bool = Field(True, description="an SLA target of your ticket passed")


class NotificationPreferencesOut(ResponseModel):
    email: str
    enabled: NotificationKinds = Field(description="what you get")
    own: OwnNotificationsIn = Field(description="your own choices; null: the default")
    defaults: NotificationKinds = Field(description="what admins chose for everyone")

    @staticmethod
    def of(email: str, preferences: Preferences) -> NotificationPreferencesOut:
        return NotificationPreferencesOut(
            email=email,
            enabled=NotificationKinds(**preferences.enabled),
            own=OwnNotificationsIn(**preferences.own),
            defaults=NotificationKinds(**preferences.with_defaults_only.enabled),
        )
