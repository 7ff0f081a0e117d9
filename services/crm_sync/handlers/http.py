"""The CRM sync HTTP API: status and manual runs (admins), and the CRM's webhooks (signed by the
CRM, so reachable without a bearer token)."""

from __future__ import annotations

from typing import Any

from services.crm_sync.handlers.wiring import dependencies
from services.crm_sync.logic.connector import InvalidSignature, MalformedWebhook, SignedRequest
from services.crm_sync.logic.crm_status import request_sync, sync_status
from services.crm_sync.logic.webhooks import receive_webhook
from services.crm_sync.models import StatusOut, SyncIn, SyncOut, WebhookOut
from shared.api import Api, ApiRequest
from shared.errors import BadRequest, NotFound, Unauthorized

api = Api(__name__, tag="crm", service="crm_sync")


@api.route(
    "/crm/status",
    "GET",
    summary="Where the CRM sync stands: checkpoint, last run, ambiguous records (admins)",
    response=StatusOut,
    errors=(403,),
)
def get_crm_status(request: ApiRequest[Any, Any]) -> StatusOut:
    deps = dependencies()
    status = sync_status(request.caller, deps.provider, deps.repository)
    return StatusOut.of(status)


@api.route(
    "/crm/sync",
    "POST",
    summary="Run the CRM sync now, or a full re-sync (admins); it runs behind the work queue",
    body=SyncIn,
    response=SyncOut,
    status=202,
    errors=(403, 409),
)
def post_crm_sync(request: ApiRequest[SyncIn, Any]) -> SyncOut:
    deps = dependencies()
    sync = request_sync(request.caller, deps.provider, request.body.full, deps.queue)
    return SyncOut(queued=True, full=sync.full)


@api.route(
    "/crm/webhooks/hubspot",
    "POST",
    summary="HubSpot's contact webhooks, signed with the app's client secret (signature v3)",
    response=WebhookOut,
    authenticated=False,
    errors=(400, 401, 404),
)
def post_hubspot_webhook(request: ApiRequest[Any, Any]) -> WebhookOut:
    deps = dependencies()
    crm = deps.connector
    if crm is None or crm.provider != "hubspot":
        raise NotFound("HubSpot is not the connected CRM.")
    signed = SignedRequest(request.method, request.url, request.headers, request.raw_body)
    try:
        receipt = receive_webhook(signed, crm, deps.repository, deps.queue, deps.clock)
    except InvalidSignature as refused:
        raise Unauthorized(f"The webhook signature is not valid: {refused}") from refused
    except MalformedWebhook as malformed:
        raise BadRequest(str(malformed)) from malformed
    return WebhookOut(queued=receipt.queued, duplicates=receipt.duplicates)
