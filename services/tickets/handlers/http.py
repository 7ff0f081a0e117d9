"""The tickets HTTP API: parse, call one use case, answer. No rule lives here."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from services.tickets.handlers.wiring import dependencies
from services.tickets.logic.agents import (
    AgentChange,
    Invitation,
    change_agent,
    invite_agent,
    list_agents,
)
from services.tickets.logic.attachments import download
from services.tickets.logic.availability import loads_of
from services.tickets.logic.change_ticket import UNSET, ExpectedVersion, TicketPatch, change_ticket
from services.tickets.logic.departments import (
    add_member,
    create_department,
    get_department,
    remove_member,
    update_department,
)
from services.tickets.logic.dependencies import Dependencies
from services.tickets.logic.find_ticket import conversation, find_ticket, history
from services.tickets.logic.list_tickets import TicketQuery, list_tickets, queue_counts
from services.tickets.logic.merge_tickets import merge_tickets
from services.tickets.logic.open_ticket import OpenTicket, open_ticket
from services.tickets.logic.post_message import NewMessage, post_agent_message
from services.tickets.logic.repository import AgentLoad
from services.tickets.logic.ticket import Author, Ticket
from services.tickets.models import (
    AgentOut,
    AgentPage,
    AgentPatchIn,
    AgentsQuery,
    AttachmentLinkOut,
    CountsOut,
    DepartmentIn,
    DepartmentList,
    DepartmentOut,
    DepartmentPatchIn,
    HistoryOut,
    HistoryPage,
    InviteAgentIn,
    ListTicketsQuery,
    MemberIn,
    MergedOut,
    MergeIn,
    MessageIn,
    MessageOut,
    MessagePage,
    OpenTicketIn,
    PageQuery,
    PatchTicketIn,
    PostedOut,
    TicketOut,
    TicketPage,
)
from shared.api import Api, ApiRequest, Reply
from shared.errors import FieldError, Invalid
from shared.events.catalogue import Attachment, Person

api = Api(__name__, tag="tickets", service="tickets")
ETAG = re.compile(r'^(?:W/)?"?(\d+)"?$')


def _with_etag(ticket: Ticket, deps: Dependencies, status: int | None = None) -> Reply:
    out = TicketOut.of(ticket, deps.config.automations)
    return Reply(out, status, {"ETag": f'"{ticket.version}"'})


@api.route(
    "/tickets",
    "POST",
    summary="Open a ticket",
    body=OpenTicketIn,
    response=TicketOut,
    status=201,
    errors=(422,),
)
def create_ticket(request: ApiRequest[OpenTicketIn, Any]) -> Reply:
    body = request.body
    deps = dependencies()
    ticket = open_ticket(
        OpenTicket(
            subject=body.subject,
            body=body.body,
            requester=Person(email=str(body.requester.email).lower(), name=body.requester.name),
            author=Author(type="agent", email=request.caller.email),
            priority=body.priority,
            department_id=body.department_id,
            tags=body.tags,
            cc=[str(address) for address in body.cc],
            attachments=[Attachment(**a.model_dump()) for a in body.attachments],
            correlation_id=request.request_id,
        ),
        request.caller,
        deps,
    )
    return _with_etag(ticket, deps, 201)


@api.route(
    "/tickets",
    "GET",
    summary="List tickets (filtered, sorted, paged)",
    query=ListTicketsQuery,
    response=TicketPage,
)
def list_all(request: ApiRequest[Any, ListTicketsQuery]) -> TicketPage:
    q = request.query
    deps = dependencies()
    page = list_tickets(
        TicketQuery(
            statuses=tuple(dict.fromkeys(q.status)),
            priority=q.priority,
            department_id=q.department_id,
            assignee=q.assignee,
            contact_id=q.contact_id,
            sla=q.sla,
            tag=q.tag,
            sort=q.sort,
        ),
        request.caller,
        deps,
        q.limit,
        q.cursor,
    )
    items = [TicketOut.of(t, deps.config.automations) for t in page.items]
    return TicketPage(items=items, next_cursor=page.cursor)


@api.route(
    "/tickets/{ticket_id}",
    "GET",
    summary="One ticket, by id or number",
    response=TicketOut,
    errors=(404,),
)
def get_ticket(request: ApiRequest[Any, Any]) -> Reply:
    deps = dependencies()
    return _with_etag(find_ticket(request.path["ticket_id"], request.caller, deps), deps)


@api.route(
    "/tickets/{ticket_id}",
    "PATCH",
    summary="Change status, priority, assignee, department, tags",
    body=PatchTicketIn,
    response=TicketOut,
    errors=(404, 409, 412, 422),
)
def patch_ticket(request: ApiRequest[PatchTicketIn, Any]) -> Reply:
    body = request.body
    sent = body.model_fields_set
    assignee: str | object | None = UNSET
    if "assignee" in sent:  # sent as null: unassign
        assignee = str(body.assignee).lower() if body.assignee else None
    patch = TicketPatch(
        status=body.status,
        priority=body.priority,
        assignee=assignee,
        department_id=body.department_id if "department_id" in sent else UNSET,
        tags=body.tags,
    )
    deps = dependencies()
    ticket = change_ticket(
        request.path["ticket_id"],
        patch,
        expected_version(request.headers.get("if-match"), body.version),
        request.caller,
        deps,
        request.request_id,
    )
    return _with_etag(ticket, deps)


def expected_version(if_match: str | None, version: int | None) -> ExpectedVersion | None:
    if if_match is not None:
        match = ETAG.match(if_match.strip())
        if match is None:
            message = 'send the ETag you received, such as "3"'
            raise Invalid(f"If-Match: {message}", [FieldError("header.If-Match", message)])
        return ExpectedVersion(int(match.group(1)), "if-match")
    return ExpectedVersion(version, "body") if version is not None else None


@api.route(
    "/tickets/{ticket_id}/messages",
    "POST",
    summary="Reply to the client, or add an internal note",
    body=MessageIn,
    response=PostedOut,
    status=201,
    errors=(404, 409),
)
def post_message(request: ApiRequest[MessageIn, Any]) -> PostedOut:
    body = request.body
    deps = dependencies()
    ticket, message = post_agent_message(
        request.path["ticket_id"],
        NewMessage(
            body=body.body,
            author=Author(type="agent", email=request.caller.email),
            visibility=body.visibility,
            status=body.status,
            attachments=[Attachment(**a.model_dump()) for a in body.attachments],
            forward=body.forward,
            correlation_id=request.request_id,
        ),
        request.caller,
        deps,
    )
    return PostedOut(
        ticket=TicketOut.of(ticket, deps.config.automations), message=MessageOut.of(message)
    )


@api.route(
    "/tickets/{ticket_id}/messages",
    "GET",
    summary="The conversation in order, notes marked",
    query=PageQuery,
    response=MessagePage,
    errors=(404,),
)
def get_messages(request: ApiRequest[Any, PageQuery]) -> MessagePage:
    deps = dependencies()
    ticket, page = conversation(
        request.path["ticket_id"],
        request.caller,
        deps,
        request.query.limit,
        request.query.cursor,
    )
    return MessagePage(
        ticket=TicketOut.of(ticket, deps.config.automations),
        items=[MessageOut.of(m) for m in page.items],
        next_cursor=page.cursor,
    )


@api.route(
    "/tickets/{ticket_id}/attachments/{attachment_id}",
    "GET",
    summary="A link to one file of the ticket, valid for 5 minutes, that downloads it",
    response=AttachmentLinkOut,
    errors=(404, 503),
)
def get_attachment(request: ApiRequest[Any, Any]) -> Reply:
    link = download(
        request.path["ticket_id"], request.path["attachment_id"], request.caller, dependencies()
    )
    # The link opens the file to whoever holds it: nothing on the way may keep it.
    return Reply(AttachmentLinkOut.of(link), None, {"Cache-Control": "no-store"})


@api.route(
    "/tickets/{ticket_id}/history",
    "GET",
    summary="Who changed what, when",
    query=PageQuery,
    response=HistoryPage,
    errors=(404,),
)
def get_history(request: ApiRequest[Any, PageQuery]) -> HistoryPage:
    page = history(
        request.path["ticket_id"],
        request.caller,
        dependencies(),
        request.query.limit,
        request.query.cursor,
    )
    return HistoryPage(items=[HistoryOut.of(e) for e in page.items], next_cursor=page.cursor)


@api.route(
    "/tickets/{ticket_id}/merge",
    "POST",
    summary="Merge this ticket into another",
    body=MergeIn,
    response=MergedOut,
    errors=(404, 409),
    idempotent=True,
)
def merge(request: ApiRequest[MergeIn, Any]) -> MergedOut:
    deps = dependencies()
    source, target = merge_tickets(
        request.path["ticket_id"],
        request.body.into,
        request.caller,
        deps,
        request.request_id,
    )
    timings = deps.config.automations
    return MergedOut(source=TicketOut.of(source, timings), target=TicketOut.of(target, timings))


@api.route(
    "/departments",
    "POST",
    summary="Create a department (admins)",
    body=DepartmentIn,
    response=DepartmentOut,
    status=201,
    errors=(403, 409),
    tag="departments",
)
def post_department(request: ApiRequest[DepartmentIn, Any]) -> DepartmentOut:
    department = create_department(
        request.body.name, request.body.id, request.caller, dependencies()
    )
    return DepartmentOut.of(department)


@api.route(
    "/departments", "GET", summary="Every department", response=DepartmentList, tag="departments"
)
def get_departments(request: ApiRequest[Any, Any]) -> DepartmentList:
    return DepartmentList(
        items=[DepartmentOut.of(d) for d in dependencies().repository.departments()]
    )


@api.route(
    "/departments/{department_id}",
    "GET",
    summary="One department",
    response=DepartmentOut,
    errors=(404,),
    tag="departments",
)
def get_one_department(request: ApiRequest[Any, Any]) -> DepartmentOut:
    return DepartmentOut.of(get_department(request.path["department_id"], dependencies()))


@api.route(
    "/departments/{department_id}",
    "PATCH",
    summary="Rename or archive a department, choose how its tickets are assigned (admins)",
    body=DepartmentPatchIn,
    response=DepartmentOut,
    errors=(403, 404),
    tag="departments",
)
def patch_department(request: ApiRequest[DepartmentPatchIn, Any]) -> DepartmentOut:
    body = request.body
    department = update_department(
        request.path["department_id"],
        body.name,
        body.archived,
        request.caller,
        dependencies(),
        assignment=body.assignment,
        open_limit=body.open_limit if "open_limit" in body.model_fields_set else UNSET,
    )
    return DepartmentOut.of(department)


@api.route(
    "/departments/{department_id}/members",
    "POST",
    summary="Add an agent (admins)",
    body=MemberIn,
    response=DepartmentOut,
    errors=(403, 404),
    tag="departments",
    idempotent=True,
)
def post_member(request: ApiRequest[MemberIn, Any]) -> DepartmentOut:
    department = add_member(
        request.path["department_id"], str(request.body.email), request.caller, dependencies()
    )
    return DepartmentOut.of(department)


@api.route(
    "/departments/{department_id}/members/{email}",
    "DELETE",
    summary="Remove an agent (admins)",
    response=DepartmentOut,
    errors=(403, 404),
    tag="departments",
)
def delete_member(request: ApiRequest[Any, Any]) -> DepartmentOut:
    email = unquote(request.path["email"])  # `@` may arrive percent-encoded
    department = remove_member(request.path["department_id"], email, request.caller, dependencies())
    return DepartmentOut.of(department)


@api.route(
    "/departments/{department_id}/counts",
    "GET",
    summary="Tickets per status in the queue",
    response=CountsOut,
    errors=(404,),
    tag="departments",
)
def get_counts(request: ApiRequest[Any, Any]) -> CountsOut:
    department_id = request.path["department_id"]
    counts = queue_counts(department_id, request.caller, dependencies())
    return CountsOut(department_id=department_id, **counts)


@api.route(
    "/agents",
    "GET",
    summary="Every agent, to pick an assignee",
    query=AgentsQuery,
    response=AgentPage,
    tag="agents",
)
def get_agents(request: ApiRequest[Any, AgentsQuery]) -> AgentPage:
    deps = dependencies()
    page = list_agents(deps, request.query.limit, request.query.cursor)
    loads = loads_of(page.items, deps)
    return AgentPage(
        items=[AgentOut.of(a, loads[a.email]) for a in page.items], next_cursor=page.cursor
    )


@api.route(
    "/agents",
    "POST",
    summary="Invite an agent by email (admins)",
    body=InviteAgentIn,
    response=AgentOut,
    status=201,
    errors=(403, 409),
    tag="agents",
)
def post_agent(request: ApiRequest[InviteAgentIn, Any]) -> AgentOut:
    body = request.body
    invitation = Invitation(email=str(body.email), name=body.name, admin=body.admin)
    return AgentOut.of(invite_agent(invitation, request.caller, dependencies()), AgentLoad())


@api.route(
    "/agents/{email}",
    "PATCH",
    summary="Disable or enable an agent, grant or take back admin (admins)",
    body=AgentPatchIn,
    response=AgentOut,
    errors=(403, 404, 409),
    tag="agents",
)
def patch_agent(request: ApiRequest[AgentPatchIn, Any]) -> AgentOut:
    email = unquote(request.path["email"])  # `@` may arrive percent-encoded
    change = AgentChange(disabled=request.body.disabled, admin=request.body.admin)
    deps = dependencies()
    agent = change_agent(email, change, request.caller, deps)
    return AgentOut.of(agent, loads_of([agent], deps)[agent.email])
