"""The tickets API's request and response shapes (the names a frontend relies on)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import EmailStr, Field, StringConstraints, field_validator

from services.tickets.logic.agent_directory import Agent, AgentStatus
from services.tickets.logic.attachments import Download, attachment_id, download_path
from services.tickets.logic.list_tickets import Sort
from services.tickets.logic.pending_steps import AutomationTimings, Step, pending_step
from services.tickets.logic.repository import AgentLoad
from services.tickets.logic.ticket import (
    MAX_TAGS,
    Assignment,
    DeliveryState,
    Department,
    HistoryEntry,
    Message,
    Priority,
    SlaState,
    Status,
    Ticket,
    Visibility,
)
from shared.api import RequestModel, ResponseModel
from shared.text import MultiLine, SingleLine

MAX_SUBJECT = 250
MAX_BODY = 100_000  # characters; a longer message is refused with 422 naming `body`
TAG = re.compile(r"^[^\s,]{1,50}$")
# The user pool signs in addresses of the common shape only (no quotes, `!` or `}`, say).
AGENT_EMAIL = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"
# What `create_department` makes of an id or a name: lower-case letters, digits and dashes.
DepartmentId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=100)]


class PersonIn(RequestModel):
    email: EmailStr
    name: SingleLine | None = Field(None, max_length=200)


class OpenTicketIn(RequestModel):
    subject: SingleLine = Field(min_length=1, max_length=MAX_SUBJECT)
    body: MultiLine = Field(min_length=1, max_length=MAX_BODY)
    priority: Priority = "medium"
    department_id: DepartmentId | None = None
    requester: PersonIn
    tags: list[SingleLine] = Field(default_factory=list, max_length=MAX_TAGS)
    cc: list[EmailStr] = Field(default_factory=list, max_length=50)
    attachments: list[AttachmentIn] = Field(
        default_factory=list,
        max_length=10,
        description="files for the first message, uploaded as for replies",
    )

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: list[str]) -> list[str]:
        return valid_tags(tags)


def valid_tags(tags: list[str]) -> list[str]:
    for tag in tags:
        if not TAG.match(tag):
            raise ValueError(f"{tag!r}: a tag is 1 to 50 characters, no spaces or commas")
    return tags


class PatchTicketIn(RequestModel):
    """Only the fields sent change; `assignee: null` unassigns."""

    status: Status | None = None
    priority: Priority | None = None
    assignee: EmailStr | None = None
    department_id: DepartmentId | None = None
    tags: list[SingleLine] | None = Field(None, max_length=MAX_TAGS)
    version: int | None = Field(None, ge=1, description="the version you read; or send If-Match")

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: list[str] | None) -> list[str] | None:
        return None if tags is None else valid_tags(tags)


class AttachmentIn(RequestModel):
    name: SingleLine = Field(min_length=1, max_length=255)
    content_type: str = Field(pattern=r"^[\w.+-]+/[\w.+-]+$", max_length=255)
    size: int = Field(ge=1)
    # Only files uploaded for replies (`POST /channels/uploads`): never another mail's files.
    key: str = Field(
        pattern=r"^uploads/[0-9a-f-]{36}/[A-Za-z0-9._-]{1,100}$",
        description="the key `POST /channels/uploads` gave, after the upload",
    )


class MessageIn(RequestModel):
    body: MultiLine = Field(min_length=1, max_length=MAX_BODY)
    visibility: Visibility = "public"
    status: Status | None = Field(None, description="status to set with the message")
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)
    forward: list[Annotated[str, StringConstraints(max_length=100)]] = Field(
        default_factory=list,
        max_length=10,
        description="ids of files already on this ticket to send again with the reply",
    )


class MergeIn(RequestModel):
    into: SingleLine = Field(min_length=1, description="id or number of the ticket that remains")


class ListTicketsQuery(RequestModel):
    status: list[Status] = Field(default_factory=list)
    priority: Priority | None = None
    department_id: str | None = Field(None, description="a department id, or `none`")
    assignee: str | None = Field(None, description="`me`, `none` or an agent's email")
    contact_id: str | None = None
    sla: SlaState | None = None
    tag: str | None = None
    sort: Sort = "updated"
    limit: int = Field(25, ge=1, le=100)
    cursor: str | None = None


class PageQuery(RequestModel):
    limit: int = Field(50, ge=1, le=200)
    cursor: str | None = None


class PersonOut(ResponseModel):
    email: str
    name: str | None


class SlaOut(ResponseModel):
    state: SlaState | None = None
    first_response_due_at: datetime | None = None
    resolution_due_at: datetime | None = None


class SatisfactionOut(ResponseModel):
    rating: str = Field(description="`good` or `bad`")
    comment: str | None
    rated_at: datetime


class AutomationOut(ResponseModel):
    step: Step = Field(
        description="`close` (resolved: closes), `remind` (waiting on the client: one reminder "
        "mail) or `resolve` (waiting on the client: resolved)"
    )
    due_at: datetime = Field(
        description="when it is due: the next run of the automatic steps (every minute) takes "
        "it, unless the ticket changes before"
    )


class TicketOut(ResponseModel):
    id: str
    number: str
    subject: str
    status: Status
    priority: Priority
    department_id: str | None
    assignee: str | None
    requester: PersonOut
    contact_id: str | None
    tags: list[str]
    cc: list[str]
    channel_id: str | None
    sla: SlaOut
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    merged_into: str | None
    follow_up_of: str | None
    possible_follow_up_of: str | None
    satisfaction: SatisfactionOut | None = Field(
        None, description="the client's rating of the ticket's resolution, by the rating mail"
    )
    automation: AutomationOut | None = Field(
        description="the automatic step pending and when (closes automatically on …), by the "
        "deployment's settings; null: none"
    )
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, ticket: Ticket, timings: AutomationTimings) -> TicketOut:
        """`timings`: the deployment's, the ones each commit files the ticket's step with."""
        step = pending_step(ticket, timings)
        automation = AutomationOut(step=step.step, due_at=step.due_at) if step else None
        return cls.model_validate({**ticket.model_dump(), "automation": automation})


class TicketPage(ResponseModel):
    items: list[TicketOut]
    next_cursor: str | None


class AuthorOut(ResponseModel):
    type: str
    email: str | None = None
    name: str | None = None


class AttachmentOut(ResponseModel):
    id: str
    name: str
    content_type: str
    size: int
    key: str
    content_id: str | None = Field(
        None, description="for an inline image of the HTML: what its `cid:` reference names"
    )
    inline: bool = Field(description="an image the message's HTML shows (by `cid:`)")
    download_path: str = Field(
        description="`GET` it (with the token) for a short-lived link to the file"
    )


class AttachmentLinkOut(ResponseModel):
    url: str = Field(description="fetches the file, as a download, until `expires_at`")
    expires_at: datetime
    name: str
    content_type: str = Field(description="the type it is served as")
    size: int

    @classmethod
    def of(cls, download: Download) -> AttachmentLinkOut:
        file = download.attachment
        return cls(
            url=download.url,
            expires_at=download.expires_at,
            name=file.name,
            content_type=download.served_type,
            size=file.size,
        )


class DeliveryOut(ResponseModel):
    state: DeliveryState = Field(
        description="`sent`, `delivered`, `bounced`, `failed` (never sent) or `complained`"
    )
    detail: str | None = Field(None, description="the receiving server's answer, if any")
    at: datetime


class MessageOut(ResponseModel):
    id: str
    ticket_id: str
    visibility: Visibility
    internal: bool = Field(description="true for notes: never shown to the client")
    author: AuthorOut
    body: str
    html: str | None
    attachments: list[AttachmentOut]
    attachments_omitted: int = Field(
        description="files of the mail it came in beyond the limit per mail: not stored with it"
    )
    mail_message_id: str | None
    delivery: dict[str, DeliveryOut] = Field(
        description="for a public reply mailed to the client: what became of it, by recipient"
    )
    created_at: datetime

    @classmethod
    def of(cls, message: Message) -> MessageOut:
        files = [
            {
                **file.model_dump(),
                "id": attachment_id(message, position),
                "inline": file.content_id is not None,
                "download_path": download_path(message, position),
            }
            for position, file in enumerate(message.attachments, start=1)
        ]
        return cls.model_validate(
            {
                **message.model_dump(),
                "attachments": files,
                "internal": message.visibility == "internal",
            }
        )


class MessagePage(ResponseModel):
    ticket: TicketOut
    items: list[MessageOut]
    next_cursor: str | None


class PostedOut(ResponseModel):
    ticket: TicketOut
    message: MessageOut


class HistoryOut(ResponseModel):
    field: str
    old: Any = None
    new: Any = None
    actor: str
    at: datetime
    reason: str | None = Field(
        None, description="why the system made an automatic change (`closed automatically: …`)"
    )

    @classmethod
    def of(cls, entry: HistoryEntry) -> HistoryOut:
        return cls.model_validate(entry.model_dump())


class HistoryPage(ResponseModel):
    items: list[HistoryOut]
    next_cursor: str | None


class MergedOut(ResponseModel):
    source: TicketOut
    target: TicketOut


class DepartmentIn(RequestModel):
    name: SingleLine = Field(min_length=1, max_length=100)
    id: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9-]{0,49}$")


class DepartmentPatchIn(RequestModel):
    name: SingleLine | None = Field(None, min_length=1, max_length=100)
    archived: bool | None = None
    assignment: Assignment | None = Field(
        None,
        description="`round_robin`: each new ticket goes to the next available member in turn; "
        "`manual` (the default): agents assign by hand",
    )
    open_limit: int | None = Field(
        None,
        ge=1,
        le=10000,
        description="a member with this many open tickets is skipped in turn; null: no limit",
    )


class MemberIn(RequestModel):
    email: EmailStr


class DepartmentOut(ResponseModel):
    id: str
    name: str
    members: list[str]
    archived: bool
    assignment: Assignment
    open_limit: int | None

    @classmethod
    def of(cls, department: Department) -> DepartmentOut:
        return cls.model_validate(department.model_dump())


class DepartmentList(ResponseModel):
    items: list[DepartmentOut]
    next_cursor: str | None = None


class CountsOut(ResponseModel):
    department_id: str
    open: int
    in_progress: int
    waiting_on_client: int
    resolved: int
    closed: int


class AgentsQuery(RequestModel):
    limit: int = Field(60, ge=1, le=60)  # the user pool lists 60 at most at once
    cursor: str | None = None


class InviteAgentIn(RequestModel):
    email: EmailStr = Field(
        pattern=AGENT_EMAIL,
        json_schema_extra={"pattern": AGENT_EMAIL},
        description="where the invitation goes; the agent signs in with it",
    )
    name: SingleLine | None = Field(None, min_length=1, max_length=200)
    admin: bool = False


class AgentPatchIn(RequestModel):
    """Only the fields sent change."""

    disabled: bool | None = Field(None, description="true: may no longer sign in")
    admin: bool | None = None


class AgentOut(ResponseModel):
    email: str
    name: str | None
    status: AgentStatus = Field(
        description="`invited` (has not signed in yet), `active` or `disabled`"
    )
    admin: bool
    available: bool = Field(
        description="takes new tickets by turns; only they set it (PUT /agents/me/availability)"
    )
    open_tickets: int = Field(description="tickets assigned to them, neither resolved nor closed")

    @classmethod
    def of(cls, agent: Agent, load: AgentLoad) -> AgentOut:
        return cls(
            email=agent.email,
            name=agent.name,
            status=agent.status,
            admin=agent.admin,
            available=load.available,
            open_tickets=load.open_tickets,
        )


class AgentPage(ResponseModel):
    items: list[AgentOut]
    next_cursor: str | None
