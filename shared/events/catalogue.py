"""The catalogue of events between services: the `data` model of every event on the bus.

This module is the contract other teams subscribe to. `python -m shared.events.catalogue` writes
docs/events.md and docs/events.schema.json from these models; a test fails if they are stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, Field

from shared.events.envelope import EventData
from shared.model import Model

Priority = str  # "low" | "medium" | "high" | "urgent"; validated by the owning service


class Person(Model):
    model_config = ConfigDict(frozen=True)

    email: str
    name: str | None = None


PREVIEW_CHARACTERS = 500  # of a client's words carried to where agents are told of them
SYSTEM = "system"  # the actor of the changes the desk makes by itself
OPENING_VERSION = 1  # a ticket's version as it opens, and so of the changes committed with it


class TicketCreated(EventData):
    """A ticket was opened (by an agent over HTTP or by mail through the channels service).
    Version 2 added `preview` and `opened_by`; version 3 added `assignee`."""

    source_service = "tickets"
    event_name = "TicketCreated"
    schema_version = 3

    ticket_id: str
    number: str = Field(description="human number such as TKT-0042")
    subject: str
    status: str
    priority: Priority
    department_id: str | None
    requester: Person
    channel_id: str | None = None
    cc: list[str] = Field(default_factory=list)
    follow_up_of: str | None = Field(None, description="the closed ticket this one continues")
    mail_message_id: str | None = Field(None, description="Message-ID of the mail that opened it")
    uploads: list[str] = Field(
        default_factory=list,
        description="keys of the files an agent uploaded for the first message, which are then "
        "kept (unnamed uploads expire)",
    )
    opened_by: str | None = Field(
        None, description="the agent who opened it over HTTP; none for a ticket opened by mail"
    )
    preview: str | None = Field(
        None,
        description=f"the first {PREVIEW_CHARACTERS} characters of the first message (public), "
        "for the mail that tells agents of the ticket",
    )
    assignee: str | None = Field(
        None,
        description="the agent given the ticket as it opened (by turns); the TicketUpdated of "
        f"the same commit, at version {OPENING_VERSION}, tells the same assignment",
    )
    created_at: str


class FieldChange(Model):
    model_config = ConfigDict(frozen=True)

    field: str
    old: Any = None
    new: Any = None


class TicketUpdated(EventData):
    """Fields of a ticket changed (by an agent, or by the system after a message)."""

    source_service = "tickets"
    event_name = "TicketUpdated"

    ticket_id: str
    number: str
    changes: list[FieldChange]
    actor: str = Field(description=f"agent email, or `{SYSTEM}`")
    version: int
    updated_at: str


class TicketStatusChanged(EventData):
    """The status of a ticket changed; `reason` says why: `agent`, `client_reply`, `agent_reply`,
    `merge`."""

    source_service = "tickets"
    event_name = "TicketStatusChanged"

    ticket_id: str
    number: str
    old: str
    new: str
    priority: Priority
    department_id: str | None
    reason: str
    changed_at: str


class TicketAssigned(EventData):
    """The assignee of a ticket changed (None: unassigned)."""

    source_service = "tickets"
    event_name = "TicketAssigned"

    ticket_id: str
    number: str
    old: str | None
    new: str | None
    department_id: str | None


class Attachment(Model):
    model_config = ConfigDict(frozen=True)

    name: str
    content_type: str
    size: int
    key: str = Field(description="object key in the mail bucket")
    content_id: str | None = Field(None, description="for inline images referenced by cid:")


class MessagePosted(EventData):
    """A message was added to a ticket.

    Only `public` messages carry their content: an internal note is announced with its ids and
    author alone (and the folders its uploaded files are in, without their names), so no consumer
    (above all the one that sends mail) can ever show it to a client.
    """

    source_service = "tickets"
    event_name = "MessagePosted"

    ticket_id: str
    number: str
    subject: str
    message_id: str
    visibility: str = Field(description="`public` or `internal`")
    author: dict[str, str | None] = Field(description="`type`, `email`, `name`")
    department_id: str | None
    requester: Person
    cc: list[str] = Field(default_factory=list)
    body: str | None = Field(None, description="public messages only")
    html: str | None = Field(None, description="public messages only")
    attachments: list[Attachment] = Field(default_factory=list)
    note_uploads: list[str] = Field(
        default_factory=list,
        description="internal notes only: the `uploads/<id>/` folders of its files, which are "
        "then kept (unnamed uploads expire)",
    )
    mail_message_id: str | None = Field(None, description="Message-ID of the mail it came in")
    first_response: bool = Field(False, description="the first public agent reply on the ticket")
    created_at: str


class TicketMerged(EventData):
    """A ticket was merged into another; mail to the source now threads into the target."""

    source_service = "tickets"
    event_name = "TicketMerged"

    source_ticket_id: str
    source_number: str
    target_ticket_id: str
    target_number: str
    actor: str
    merged_at: str


class ClientReminderDue(EventData):
    """A ticket has waited on its client long enough (the deployment's `remind_after`): the
    channels service mails the requester one reminder in the ticket's thread, from its channel.
    It carries no words of the ticket (the reminder's text is the channels service's), so no note
    can reach a client by it; `reminder_id` names this reminder, mailed once however often the
    event arrives."""

    source_service = "tickets"
    event_name = "ClientReminderDue"

    ticket_id: str
    number: str
    subject: str
    requester: Person
    department_id: str | None
    channel_id: str | None = Field(None, description="the channel the ticket came in by")
    reminder_id: str = Field(description="unique per reminder: the ticket and the time")
    waiting_since: str = Field(description="when the ticket began waiting on the client")
    resolves_at: str | None = Field(
        None, description="when it will be resolved unless the client answers; null: never"
    )


class TicketRated(EventData):
    """The client rated the resolution of their ticket (or changed their rating) by the links of
    the rating mail. `agent` and `department_id` are the ticket's at rating time: who the rating
    counts for."""

    source_service = "tickets"
    event_name = "TicketRated"

    ticket_id: str
    number: str
    rating: str = Field(description="`good` or `bad`")
    previous_rating: str | None = Field(None, description="the rating it replaces, if any")
    comment: str | None = None
    resolved_at: str = Field(description="the resolution rated")
    agent: str | None = Field(description="the assignee when the client rated")
    department_id: str | None
    rated_at: str


class EmailSent(EventData):
    """A public reply went out by mail; `message_id` is the Message-ID we gave it."""

    source_service = "channels"
    event_name = "EmailSent"

    ticket_id: str
    ticket_message_id: str = Field(description="the id of the message on the ticket")
    ticket_message_at: str = Field(description="when that message was posted")
    message_id: str
    sender: str
    recipients: list[str]
    sent_at: str


class RecipientOutcome(Model):
    model_config = ConfigDict(frozen=True)

    email: str
    detail: str | None = Field(None, description="the receiving server's answer, if any")


class EmailDeliveryEvent(EventData):
    """Base of what became of a mail we sent for a ticket: an agent's reply (a message on the
    ticket) or the acknowledgement of a ticket opened by mail (no message)."""

    source_service = "channels"
    event_name = "EmailDeliveryEvent"

    ticket_id: str
    ticket_message_id: str | None = Field(
        None, description="the id of the message on the ticket; none for an acknowledgement"
    )
    ticket_message_at: str | None = Field(None, description="when that message was posted")
    message_id: str = Field(description="the Message-ID we gave the mail")
    recipients: list[RecipientOutcome]
    at: str


class EmailDelivered(EmailDeliveryEvent):
    """The receiving servers accepted the mail for these recipients."""

    event_name = "EmailDelivered"


class EmailBounced(EmailDeliveryEvent):
    """The mail did not reach these recipients.

    `kind` says how: `bounce` (a receiving server refused it; `permanent` for a hard bounce, so
    the address should not be written to again), `rejected` (SES refused to send it), or `failed`
    (sending kept failing until we gave up).
    """

    event_name = "EmailBounced"

    kind: str = Field(description="`bounce`, `rejected` or `failed`")
    permanent: bool
    reason: str | None = None


class EmailComplained(EmailDeliveryEvent):
    """A recipient marked the mail as spam."""

    event_name = "EmailComplained"

    feedback_type: str | None = Field(None, description="`abuse`, `not-spam`...")


class DepartmentMembersChanged(EventData):
    """Who belongs to a department now (whole list), for services that filter by membership."""

    source_service = "tickets"
    event_name = "DepartmentMembersChanged"

    department_id: str
    name: str
    members: list[str]
    archived: bool


class MailVerdicts(Model):
    model_config = ConfigDict(frozen=True)

    spam: str | None = None
    virus: str | None = None
    spf: str | None = None
    dkim: str | None = None
    dmarc: str | None = None


class AgentReply(Model):
    """Who answered a notification by mail, checked by the channels service, and how the answer
    goes on the ticket."""

    model_config = ConfigDict(frozen=True)

    email: str = Field(description="the agent the notification was sent to, who sent the answer")
    visibility: str = Field(description="`internal` (a note), or `public` when it began #public")


class EmailReceived(EventData):
    """A mail reached a support address; its raw MIME is in the mail bucket.

    The channels service decides where it belongs: `ticket_id` when it continues a thread,
    otherwise the department and channel of the address it came to. Version 2 added
    `attachments_omitted`; version 3 added `agent_reply`.
    """

    source_service = "channels"
    event_name = "EmailReceived"
    schema_version = 3

    ses_message_id: str
    message_id: str | None = Field(description="the mail's own Message-ID header")
    raw_key: str = Field(description="key of the raw MIME in the mail bucket")
    sender: Person
    recipients: list[str]
    cc: list[str] = Field(default_factory=list)
    subject: str
    text: str = ""
    html: str | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    attachments_omitted: int = Field(
        0, description="attachments beyond the limit per mail: not stored, only in the raw mail"
    )
    truncated: bool = Field(False, description="text, HTML or attachments were cut to fit")
    automated: str | None = Field(
        None, description="why a machine wrote it (autoreply, bounce...): never answered"
    )
    ticket_id: str | None = Field(None, description="the thread the mail continues, if any")
    possible_follow_up_of: str | None = Field(
        None, description="a ticket the subject named but that the sender may not write into"
    )
    department_id: str | None = None
    channel_id: str | None = None
    agent_reply: AgentReply | None = Field(
        None,
        description="an agent's answer to a notification about `ticket_id`: posted as theirs, "
        "never as the client's",
    )
    received_at: str
    verdicts: MailVerdicts


class SlaDueTimesChanged(EventData):
    """The due times of a ticket's targets, as they stand now."""

    source_service = "sla"
    event_name = "SlaDueTimesChanged"

    ticket_id: str
    first_response_due_at: str | None
    resolution_due_at: str | None
    sequence: int = Field(
        0, description="grows with every change of the ticket's timer: keep the highest seen"
    )


class SlaTargetEvent(EventData):
    """Base of the events about one SLA target of a ticket."""

    source_service = "sla"
    event_name = "SlaTargetEvent"

    ticket_id: str
    target: str = Field(description="`first_response` or `resolution`")
    due_at: str
    at: str


class SlaWarning(SlaTargetEvent):
    """A target is approaching its due time."""

    event_name = "SlaWarning"


class SlaBreached(SlaTargetEvent):
    """A target passed its due time unmet."""

    event_name = "SlaBreached"


class SlaMet(SlaTargetEvent):
    """A target was met."""

    event_name = "SlaMet"


class ContactLinked(EventData):
    """The requester of a ticket is this contact."""

    source_service = "contacts"
    event_name = "ContactLinked"

    ticket_id: str
    contact_id: str


class ContactMerged(EventData):
    """Two contacts became one; tickets of the merged-away contact belong to the survivor."""

    source_service = "contacts"
    event_name = "ContactMerged"

    merged_contact_id: str
    surviving_contact_id: str


class CrmLink(Model):
    """Where a contact lives in a CRM."""

    model_config = ConfigDict(frozen=True)

    provider: str = Field(description="the CRM, such as `hubspot` or `salesforce`")
    id: str = Field(description="the record's id in that CRM")
    url: str | None = Field(None, description="opens the record in the CRM")


class ContactSnapshot(EventData):
    """Base of the events that carry a contact as it now stands."""

    source_service = "contacts"
    event_name = "ContactSnapshot"

    contact_id: str
    name: str | None
    emails: list[str] = Field(description="lower-cased; the first is the primary address")
    phone: str | None = Field(description="E.164")
    organisation: str | None
    tags: list[str] = Field(default_factory=list)
    crm: CrmLink | None
    actor: str = Field(description="agent email, `system`, or `crm:<provider>`")
    version: int
    at: str


class ContactCreated(ContactSnapshot):
    """A contact was created: by an agent, for the requester of a new ticket, or from the CRM."""

    event_name = "ContactCreated"


class ContactUpdated(ContactSnapshot):
    """A contact changed (by an agent, a merge, or the CRM); the whole contact as it is now."""

    event_name = "ContactUpdated"


class ContactErased(EventData):
    """A contact's personal data was erased; services anonymise what they keep of the person.

    Carries no personal data itself: the event outlives the erasure on the bus and in archives."""

    source_service = "contacts"
    event_name = "ContactErased"

    contact_id: str
    actor: str
    erased_at: str


class CrmContact(EventData):
    """Base of the events about one CRM record."""

    source_service = "crm_sync"
    event_name = "CrmContact"

    provider: str = Field(description="the CRM, such as `hubspot` or `salesforce`")
    crm_id: str = Field(description="the record's id in that CRM")


class CrmContactUpserted(CrmContact):
    """A CRM record was created or changed. `updated_at` is the CRM's own change time: an event
    older than what the helpdesk already applied is ignored, so updates only move forward."""

    event_name = "CrmContactUpserted"

    url: str | None = Field(None, description="opens the record in the CRM")
    emails: list[str] = Field(
        default_factory=list, description="the record's addresses; the first is the primary"
    )
    name: str | None = None
    phone: str | None = Field(None, description="as the CRM holds it; normalised to E.164 here")
    organisation: str | None = None
    updated_at: str = Field(description="the CRM's updatedAt, UTC ISO 8601")


class CrmContactDeleted(CrmContact):
    """A CRM record was deleted; the helpdesk contact is unlinked, never deleted with it."""

    event_name = "CrmContactDeleted"

    deleted_at: str


class CrmContactMerged(CrmContact):
    """Two CRM records became one: `crm_id` was merged into `surviving_crm_id`."""

    event_name = "CrmContactMerged"

    surviving_crm_id: str
    merged_at: str


CATALOGUE: tuple[type[EventData], ...] = (
    TicketCreated,
    TicketUpdated,
    TicketStatusChanged,
    TicketAssigned,
    MessagePosted,
    TicketMerged,
    ClientReminderDue,
    TicketRated,
    DepartmentMembersChanged,
    EmailReceived,
    EmailSent,
    EmailDelivered,
    EmailBounced,
    EmailComplained,
    SlaDueTimesChanged,
    SlaWarning,
    SlaBreached,
    SlaMet,
    ContactLinked,
    ContactMerged,
    ContactCreated,
    ContactUpdated,
    ContactErased,
    CrmContactUpserted,
    CrmContactDeleted,
    CrmContactMerged,
)


def render_markdown() -> str:
    lines = [
        "# Event catalogue",
        "",
        "Generated from `shared/events/catalogue.py` by `python -m shared.events.catalogue`;",
        "do not edit by hand. Every event is on the helpdesk bus with",
        "`Source` = `helpdesk.<service>`, `DetailType` = the event name and",
        "`Detail` = the envelope",
        "(`id`, `occurred_at`, `schema_version`, `correlation_id`, `data`). Delivery is at least",
        "once: apply each `id` once. JSON Schemas of every `data`: `events.schema.json`.",
        "",
    ]
    for event in CATALOGUE:
        schema = event.model_json_schema()
        lines += [
            f"## {event.event_name}",
            "",
            f"Source `{event.source()}`, schema version "
            f"{event.schema_version}. {(event.__doc__ or '').strip()}",
            "",
            "| field | type | required |",
            "|---|---|---|",
        ]
        required = set(schema.get("required", []))
        for name, prop in schema["properties"].items():
            kind = (
                prop.get("type")
                or " or ".join(
                    option.get("type", option.get("$ref", "").rsplit("/", 1)[-1])
                    for option in prop.get("anyOf", [])
                )
                or prop.get("$ref", "").rsplit("/", 1)[-1]
            )
            lines.append(f"| `{name}` | {kind} | {'yes' if name in required else 'no'} |")
        lines.append("")
    return "\n".join(lines)


def render_schemas() -> str:
    schemas = {event.event_name: event.model_json_schema() for event in CATALOGUE}
    return json.dumps(schemas, indent=2, sort_keys=True) + "\n"


def write_docs(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "events.md").write_text(render_markdown())
    (folder / "events.schema.json").write_text(render_schemas())


if __name__ == "__main__":
    write_docs(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
