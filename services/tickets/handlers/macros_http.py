"""The tickets API's macro routes: keep macros, apply one to a ticket, preview it."""

from __future__ import annotations

from typing import Any

from services.tickets.handlers.http import expected_version
from services.tickets.handlers.wiring import dependencies, macro_store
from services.tickets.logic.apply_macro import apply_macro, preview_macro
from services.tickets.logic.macros import (
    UNCHANGED,
    MacroDraft,
    MacroEdit,
    create_macro,
    delete_macro,
    get_macro,
    list_macros,
    update_macro,
)
from services.tickets.macro_models import (
    AppliedOut,
    ApplyMacroIn,
    MacroChangesIn,
    MacroIn,
    MacroList,
    MacroOut,
    MacroPatchIn,
    PreviewOut,
)
from services.tickets.models import MessageOut, TicketOut
from shared.api import Api, ApiRequest, Reply
from shared.clock import get_clock

api = Api(__name__, tag="macros", service="tickets")


@api.route(
    "/macros",
    "POST",
    summary="Save a macro: shared (admins) or personal",
    body=MacroIn,
    response=MacroOut,
    status=201,
    errors=(403, 409, 422),
)
def post_macro(request: ApiRequest[MacroIn, Any]) -> Reply:
    body = request.body
    draft = MacroDraft(
        name=body.name,
        scope=body.scope,
        body=body.body,
        visibility=body.visibility,
        changes=body.changes.to_changes(),
    )
    return MacroOut.of(create_macro(draft, request.caller, macro_store(), get_clock())).reply()


@api.route(
    "/macros",
    "GET",
    summary="The shared macros and the caller's own",
    response=MacroList,
)
def get_macros(request: ApiRequest[Any, Any]) -> MacroList:
    return MacroList(items=[MacroOut.of(m) for m in list_macros(request.caller, macro_store())])


@api.route(
    "/macros/{macro_id}",
    "GET",
    summary="One macro: shared, or the caller's own",
    response=MacroOut,
    errors=(404,),
)
def get_one_macro(request: ApiRequest[Any, Any]) -> Reply:
    return MacroOut.of(get_macro(request.path["macro_id"], request.caller, macro_store())).reply()


@api.route(
    "/macros/{macro_id}",
    "PATCH",
    summary="Change a macro: the caller's own, or a shared one (admins)",
    body=MacroPatchIn,
    response=MacroOut,
    errors=(403, 404, 409, 412, 422),
)
def patch_macro(request: ApiRequest[MacroPatchIn, Any]) -> Reply:
    body = request.body
    changes: MacroChangesIn | None = body.changes
    edit = MacroEdit(
        name=body.name,
        body=body.body if "body" in body.model_fields_set else UNCHANGED,
        visibility=body.visibility,
        changes=changes.to_changes() if changes is not None else None,
    )
    macro = update_macro(
        request.path["macro_id"],
        edit,
        request.caller,
        macro_store(),
        get_clock(),
        _if_match(request),
    )
    return MacroOut.of(macro).reply()


@api.route(
    "/macros/{macro_id}",
    "DELETE",
    summary="Delete a macro: the caller's own, or a shared one (admins)",
    status=204,
    errors=(403, 404, 409, 412),
)
def remove_macro(request: ApiRequest[Any, Any]) -> Reply:
    delete_macro(request.path["macro_id"], request.caller, macro_store(), _if_match(request))
    return Reply(None, 204)


def _if_match(request: ApiRequest[Any, Any]) -> int | None:
    """The macro version an edit was made on, if the caller sent one (If-Match)."""
    expected = expected_version(request.headers.get("if-match"), None)
    return expected.version if expected is not None else None


@api.route(
    "/tickets/{ticket_id}/macros/{macro_id}",
    "POST",
    summary="Apply a macro: post its text and make its changes, in one commit",
    body=ApplyMacroIn,
    response=AppliedOut,
    errors=(404, 409, 412, 422),
    tag="tickets",
    idempotent=True,
)
def post_apply_macro(request: ApiRequest[ApplyMacroIn, Any]) -> Reply:
    deps = dependencies()
    outcome = apply_macro(
        request.path["ticket_id"],
        request.path["macro_id"],
        expected_version(request.headers.get("if-match"), request.body.version),
        request.caller,
        deps,
        macro_store(),
        request.request_id,
    )
    message = outcome.message
    applied = AppliedOut(
        ticket=TicketOut.of(outcome.ticket, deps.config.automations),
        message=MessageOut.of(message) if message is not None else None,
    )
    return Reply(applied, None, {"ETag": f'"{outcome.ticket.version}"'})


@api.route(
    "/tickets/{ticket_id}/macros/{macro_id}/preview",
    "POST",
    summary="What applying a macro would post and change, without writing anything",
    response=PreviewOut,
    errors=(404, 422),
    tag="tickets",
)
def post_preview_macro(request: ApiRequest[Any, Any]) -> PreviewOut:
    deps = dependencies()
    outcome = preview_macro(
        request.path["ticket_id"],
        request.path["macro_id"],
        request.caller,
        deps,
        macro_store(),
    )
    return PreviewOut.of(outcome, deps.config.automations)
