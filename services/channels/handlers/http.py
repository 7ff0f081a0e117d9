"""The channels HTTP API: inbound addresses and their departments (admins only), the quarantine,
the dry run, uploads of the files agents attach to replies, and which mails agents get."""

from __future__ import annotations

from typing import Any

from services.channels.handlers.wiring import dependencies
from services.channels.logic.manage_channels import (
    ChannelFields,
    create_channel,
    delete_channel,
    find_channel,
    list_channels,
    update_channel,
)
from services.channels.logic.notify_agents import (
    change_defaults,
    change_preferences,
    preferences_of,
)
from services.channels.logic.review_quarantine import list_quarantine, release_mail
from services.channels.logic.simulate import simulate
from services.channels.logic.uploads import upload_form
from services.channels.models import (
    ChannelIn,
    ChannelList,
    ChannelOut,
    ChannelPatchIn,
    NotificationKinds,
    NotificationPreferencesOut,
    OutcomeOut,
    OwnNotificationsIn,
    QuarantinedOut,
    QuarantinePage,
    QuarantinePageQuery,
    ReleaseIn,
    SimulateIn,
    SimulationOut,
    UploadIn,
    UploadOut,
)
from shared.api import Api, ApiRequest, Reply

api = Api(__name__, tag="channels", service="channels")


def _fields(body: ChannelIn | ChannelPatchIn) -> ChannelFields:
    return ChannelFields(
        address=str(body.address) if body.address is not None else None,
        department_id=body.department_id,
        acknowledge=body.acknowledge,
        acknowledge_template=body.acknowledge_template,
        signature=body.signature,
        quarantine_spam=body.quarantine_spam,
    )


@api.route(
    "/channels",
    "POST",
    summary="Add an inbound address (admins)",
    body=ChannelIn,
    response=ChannelOut,
    status=201,
    errors=(403, 409),
)
def post_channel(request: ApiRequest[ChannelIn, Any]) -> ChannelOut:
    body = request.body
    channel = create_channel(
        str(body.address),
        body.department_id,
        _fields(body),
        request.caller,
        dependencies(),
    )
    return ChannelOut.of(channel)


@api.route(
    "/channels",
    "GET",
    summary="Every inbound address (admins)",
    response=ChannelList,
    errors=(403,),
)
def get_channels(request: ApiRequest[Any, Any]) -> ChannelList:
    channels = list_channels(request.caller, dependencies())
    return ChannelList(items=[ChannelOut.of(c) for c in channels])


@api.route(
    "/channels/{channel_id}",
    "GET",
    summary="One inbound address (admins)",
    response=ChannelOut,
    errors=(403, 404),
)
def get_channel(request: ApiRequest[Any, Any]) -> ChannelOut:
    return ChannelOut.of(find_channel(request.path["channel_id"], request.caller, dependencies()))


@api.route(
    "/channels/{channel_id}",
    "PATCH",
    summary="Change an inbound address (admins)",
    body=ChannelPatchIn,
    response=ChannelOut,
    errors=(403, 404, 409),
)
def patch_channel(request: ApiRequest[ChannelPatchIn, Any]) -> ChannelOut:
    channel = update_channel(
        request.path["channel_id"], _fields(request.body), request.caller, dependencies()
    )
    return ChannelOut.of(channel)


@api.route(
    "/channels/{channel_id}",
    "DELETE",
    summary="Remove an inbound address (admins)",
    status=204,
    errors=(403, 404),
)
def remove_channel(request: ApiRequest[Any, Any]) -> Reply:
    delete_channel(request.path["channel_id"], request.caller, dependencies())
    return Reply(None)


@api.route(
    "/channels/quarantine",
    "GET",
    summary="Mail kept back for an admin, newest first",
    query=QuarantinePageQuery,
    response=QuarantinePage,
    errors=(403,),
)
def get_quarantine(request: ApiRequest[Any, QuarantinePageQuery]) -> QuarantinePage:
    query = request.query
    items, cursor = list_quarantine(
        query.held, query.limit, query.cursor, request.caller, dependencies()
    )
    return QuarantinePage(items=[QuarantinedOut.of(m) for m in items], next_cursor=cursor)


@api.route(
    "/channels/quarantine/{quarantine_id}/release",
    "POST",
    summary="Let a quarantined mail open its ticket (admins)",
    body=ReleaseIn,
    response=QuarantinedOut,
    errors=(403, 404, 409),
    idempotent=True,
)
def post_release(request: ApiRequest[ReleaseIn, Any]) -> QuarantinedOut:
    released = release_mail(
        request.path["quarantine_id"],
        request.body.department_id,
        request.caller,
        dependencies(),
    )
    return QuarantinedOut.of(released)


@api.route(
    "/channels/uploads",
    "POST",
    summary="Where to upload a file to attach to a reply (any agent)",
    body=UploadIn,
    response=UploadOut,
    status=201,
)
def post_upload(request: ApiRequest[UploadIn, Any]) -> UploadOut:
    body = request.body
    form = upload_form(body.name, body.content_type, body.size, dependencies())
    return UploadOut(key=form.key, url=form.url, fields=form.fields, expires_at=form.expires_at)


@api.route(
    "/channels/simulate",
    "POST",
    summary="What a raw mail would do, without doing it (admins)",
    body=SimulateIn,
    response=SimulationOut,
    errors=(403,),
)
def post_simulate(request: ApiRequest[SimulateIn, Any]) -> SimulationOut:
    body = request.body
    decision, defects = simulate(
        body.eml.encode(),
        [str(address) for address in body.recipients],
        dict(body.verdicts),
        request.caller,
        dependencies(),
    )
    first = decision.outcomes[0].received
    return SimulationOut(
        sender=first.sender.email,
        subject=first.subject,
        thread=decision.thread.reason,
        possible_follow_up_of=decision.thread.suspected_ticket,
        automated=decision.automated,
        outcomes=[
            OutcomeOut(
                action=o.action,
                reason=o.reason,
                department_id=o.received.department_id,
                channel_id=o.received.channel_id,
                ticket_id=o.received.ticket_id,
                acknowledge=o.acknowledge,
            )
            for o in decision.outcomes
        ],
        defects=defects,
    )


@api.route(
    "/notifications/preferences",
    "GET",
    summary="Which mails you get about tickets (any agent)",
    response=NotificationPreferencesOut,
)
def get_notification_preferences(request: ApiRequest[Any, Any]) -> NotificationPreferencesOut:
    caller = request.caller
    return NotificationPreferencesOut.of(caller.email, preferences_of(caller, dependencies()))


@api.route(
    "/notifications/preferences",
    "PUT",
    summary="Choose which mails you get (a kind left out follows the default)",
    body=OwnNotificationsIn,
    response=NotificationPreferencesOut,
)
def put_notification_preferences(
    request: ApiRequest[OwnNotificationsIn, Any],
) -> NotificationPreferencesOut:
    caller = request.caller
    own = request.body.model_dump(exclude_none=True)
    return NotificationPreferencesOut.of(
        caller.email, change_preferences(caller, own, dependencies())
    )


@api.route(
    "/notifications/defaults",
    "PUT",
    summary="Which mails agents get unless they choose otherwise (admins)",
    body=NotificationKinds,
    response=NotificationPreferencesOut,
    errors=(403,),
)
def put_notification_defaults(
    request: ApiRequest[NotificationKinds, Any],
) -> NotificationPreferencesOut:
    caller = request.caller
    defaults = request.body.model_dump()
    return NotificationPreferencesOut.of(
        caller.email, change_defaults(caller, defaults, dependencies())
    )
