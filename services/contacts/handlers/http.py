"""The contacts HTTP API: parse, call one use case, answer. No rule lives here."""

from __future__ import annotations

from typing import Any

from services.contacts.handlers.wiring import dependencies
from services.contacts.logic.manage_contacts import (
    ContactFields,
    create_contact,
    erase_contact,
    find_contact,
    list_contacts,
    search_contacts,
    tickets_of_contact,
    update_contact,
)
from services.contacts.logic.merge import merge_by_hand
from services.contacts.models import (
    ContactIn,
    ContactOut,
    ContactPage,
    ContactPatchIn,
    ContactsQuery,
    ContactTicketOut,
    ContactTicketPage,
    MergeIn,
    PageQuery,
)
from shared.api import Api, ApiRequest, Reply

api = Api(__name__, tag="contacts", service="contacts")
LIST_FIELDS = ("emails", "tags")  # sent as null in a patch: emptied


def _fields(body: ContactIn | ContactPatchIn) -> ContactFields:
    values: dict[str, Any] = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        values[name] = [] if value is None and name in LIST_FIELDS else value
    if "emails" in values:
        values["emails"] = [str(address) for address in values["emails"]]
    return ContactFields(**values)


@api.route(
    "/contacts",
    "POST",
    summary="Create a contact by hand",
    body=ContactIn,
    response=ContactOut,
    status=201,
    errors=(409,),
)
def post_contact(request: ApiRequest[ContactIn, Any]) -> ContactOut:
    contact = create_contact(
        _fields(request.body), request.caller, dependencies(), request.request_id
    )
    return ContactOut.of(contact)


@api.route(
    "/contacts",
    "GET",
    summary="Every contact by name, or a search: `email`, `q` (prefix) or `phone`",
    query=ContactsQuery,
    response=ContactPage,
)
def get_contacts(request: ApiRequest[Any, ContactsQuery]) -> ContactPage:
    q = request.query
    deps = dependencies()
    if q.email or q.q or q.phone:
        page = search_contacts(
            deps,
            email=str(q.email) if q.email else None,
            q=q.q,
            phone=q.phone,
            limit=q.limit,
            cursor=q.cursor,
        )
    else:
        page = list_contacts(deps, q.limit, q.cursor)
    return ContactPage(items=[ContactOut.of(c) for c in page.items], next_cursor=page.cursor)


@api.route(
    "/contacts/{contact_id}",
    "GET",
    summary="One contact; a merged-away one answers 308 naming the survivor",
    response=ContactOut,
    errors=(308, 404, 410),
)
def get_contact(request: ApiRequest[Any, Any]) -> ContactOut:
    return ContactOut.of(find_contact(request.path["contact_id"], dependencies()))


@api.route(
    "/contacts/{contact_id}",
    "PATCH",
    summary="Change a contact (fields the CRM owns only in the CRM)",
    body=ContactPatchIn,
    response=ContactOut,
    errors=(308, 404, 409, 410),
)
def patch_contact(request: ApiRequest[ContactPatchIn, Any]) -> ContactOut:
    contact = update_contact(
        request.path["contact_id"],
        _fields(request.body),
        request.caller,
        dependencies(),
        request.request_id,
    )
    return ContactOut.of(contact)


@api.route(
    "/contacts/{contact_id}",
    "DELETE",
    summary="Erase a contact's personal data (admins); their tickets stay",
    status=204,
    errors=(308, 403, 404, 410),
)
def delete_contact(request: ApiRequest[Any, Any]) -> Reply:
    erase_contact(request.path["contact_id"], request.caller, dependencies(), request.request_id)
    return Reply(None)


@api.route(
    "/contacts/{contact_id}/merge",
    "POST",
    summary="Merge this contact into another (admins); answers the survivor",
    body=MergeIn,
    response=ContactOut,
    errors=(308, 403, 404, 409, 410),
    idempotent=True,
)
def post_merge(request: ApiRequest[MergeIn, Any]) -> ContactOut:
    survivor = merge_by_hand(
        request.path["contact_id"],
        request.body.into,
        request.caller,
        dependencies(),
        request.request_id,
    )
    return ContactOut.of(survivor)


@api.route(
    "/contacts/{contact_id}/tickets",
    "GET",
    summary="Every ticket the contact raised, newest first",
    query=PageQuery,
    response=ContactTicketPage,
    errors=(308, 404, 410),
)
def get_contact_tickets(request: ApiRequest[Any, PageQuery]) -> ContactTicketPage:
    page = tickets_of_contact(
        request.path["contact_id"],
        request.caller,
        dependencies(),
        request.query.limit,
        request.query.cursor,
    )
    return ContactTicketPage(
        items=[ContactTicketOut.of(t) for t in page.items], next_cursor=page.cursor
    )
