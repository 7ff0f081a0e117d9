"""HubSpot's webhooks through the function API Gateway invokes: verified (signature v3, five
minutes), queued and applied behind the queue. And the admins' routes: status and manual runs.
De-duplication and applying in any order are held on the in-memory fakes
(tests/unit/test_crm_sync_logic.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from local_stack.system import LocalSystem
from shared.aws import client
from shared.settings import get_settings
from tests.conftest import Delivery, HttpClient
from tests.fakes.hubspot import (
    CLIENT_SECRET,
    TOKEN,
    FakeHubSpot,
    signed_headers,
    webhook_event,
)
from tests.service.test_crm_support import (
    PUBLIC_HOST,
    WEBHOOK_PATH,
    call_webhook,
    queued,
    upserted_ids,
)
from tests.service.test_crm_support import hubspot as hubspot  # the fixture
from tests.service.test_crm_support import webhook_event as gateway_event

pytestmark = pytest.mark.service
URL = f"https://{PUBLIC_HOST}{WEBHOOK_PATH}"


def _deliver(
    system: LocalSystem, events: list[dict[str, object]], **options: object
) -> tuple[int, object]:
    body = json.dumps(events).encode()
    headers = signed_headers(URL, body, datetime.now(UTC))
    return call_webhook(system, gateway_event(body, headers, **options))  # type: ignore[arg-type]


def test_a_signed_webhook_is_queued_and_applied_behind_the_queue(
    hubspot: FakeHubSpot, system: LocalSystem, delivery: Delivery
) -> None:
    contact = hubspot.add("dana@client.example.org", datetime.now(UTC), firstname="Dana")
    status, answer = _deliver(
        system, [webhook_event("contact.creation", contact.id, datetime.now(UTC))]
    )
    assert (status, answer) == (200, {"queued": 1, "duplicates": 0})
    assert upserted_ids() == []  # nothing applied by the webhook function itself
    delivery.run()
    assert upserted_ids() == [contact.id]


def test_a_bad_signature_is_refused_and_changes_nothing(
    hubspot: FakeHubSpot, system: LocalSystem
) -> None:
    body = json.dumps([webhook_event("contact.creation", "1001", datetime.now(UTC))]).encode()
    headers = signed_headers(URL, body, datetime.now(UTC), secret="not-the-secret")
    status, problem = call_webhook(system, gateway_event(body, headers))
    assert status == 401
    assert problem["type"].endswith("/unauthorized")
    assert queued() == []


def test_a_tampered_body_is_refused(hubspot: FakeHubSpot, system: LocalSystem) -> None:
    body = json.dumps([webhook_event("contact.creation", "1001", datetime.now(UTC))]).encode()
    headers = signed_headers(URL, body, datetime.now(UTC))
    status, _ = call_webhook(system, gateway_event(body.replace(b"1001", b"1002"), headers))
    assert status == 401
    assert queued() == []


def test_a_stale_timestamp_is_refused(hubspot: FakeHubSpot, system: LocalSystem) -> None:
    body = json.dumps([webhook_event("contact.creation", "1001", datetime.now(UTC))]).encode()
    headers = signed_headers(URL, body, datetime.now(UTC) - timedelta(minutes=5, seconds=1))
    status, problem = call_webhook(system, gateway_event(body, headers))
    assert status == 401
    assert "5 minutes" in problem["detail"]
    assert queued() == []


def test_a_base64_encoded_body_from_api_gateway_is_verified_as_sent(
    hubspot: FakeHubSpot, system: LocalSystem
) -> None:
    status, answer = _deliver(
        system, [webhook_event("contact.creation", "1001", datetime.now(UTC))], encode=True
    )
    assert (status, answer) == (200, {"queued": 1, "duplicates": 0})


def test_the_signed_uri_includes_the_query_string(
    hubspot: FakeHubSpot, system: LocalSystem
) -> None:
    body = json.dumps([webhook_event("contact.creation", "1001", datetime.now(UTC))]).encode()
    headers = signed_headers(URL + "?portal=62515", body, datetime.now(UTC))
    event = gateway_event(body, headers, query={"portal": ["62515"]})
    assert call_webhook(system, event)[0] == 200
    unsigned_query = gateway_event(
        body, signed_headers(URL, body, datetime.now(UTC)), query={"portal": ["62515"]}
    )
    assert call_webhook(system, unsigned_query)[0] == 401


def test_status_and_manual_runs_are_for_admins(
    hubspot: FakeHubSpot, http: HttpClient, delivery: Delivery
) -> None:
    hubspot.add("dana@client.example.org", datetime.now(UTC) - timedelta(days=1))
    agent = ("alice@example.com", "agent")
    assert http.call("GET", "/crm/status", as_=agent).status == 403
    assert http.call("POST", "/crm/sync", {"full": True}, as_=agent).status == 403
    assert queued() == []

    refused = http.call("POST", "/crm/sync", {"full": "yes please"})
    assert refused.status == 422
    assert refused.body["errors"][0]["field"] == "full"

    assert http.expect(202, "POST", "/crm/sync", {"full": True}) == {"queued": True, "full": True}
    delivery.run()
    status = http.expect(200, "GET", "/crm/status")
    assert status["enabled"] is True
    assert status["last_run"]["outcome"] == "ok"
    assert status["last_run"]["counts"]["upserted"] == 1
    assert status["checkpoint"]["full_pass"] == "done"
    assert status["ambiguous"] == []


def test_the_token_and_client_secret_can_come_from_ssm(
    hubspot: FakeHubSpot,
    system: LocalSystem,
    delivery: Delivery,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the secrets only in SSM, named by reference, as in AWS
    ssm = client("ssm")
    for name, value in (("hubspot-token", TOKEN), ("hubspot-client-secret", CLIENT_SECRET)):
        ssm.put_parameter(Name=f"/helpdesk/test/crm/{name}", Value=value, Type="SecureString")
    monkeypatch.delenv("HELPDESK_CRM_HUBSPOT_TOKEN")
    monkeypatch.delenv("HELPDESK_CRM_HUBSPOT_CLIENT_SECRET")
    monkeypatch.setenv("HELPDESK_CRM_HUBSPOT_TOKEN_REF", "/helpdesk/test/crm/hubspot-token")
    monkeypatch.setenv(
        "HELPDESK_CRM_HUBSPOT_CLIENT_SECRET_REF", "/helpdesk/test/crm/hubspot-client-secret"
    )
    get_settings.cache_clear()
    contact = hubspot.add("dana@client.example.org", datetime.now(UTC))

    # Then a webhook signed with the client secret is accepted and applied with the token
    status, _ = _deliver(system, [webhook_event("contact.creation", contact.id, datetime.now(UTC))])
    assert status == 200
    delivery.run()
    assert upserted_ids() == [contact.id]
