"""The CRM sync through the whole local system, with a fake HubSpot on loopback: a record
changed in the CRM changes its contact in the helpdesk, which shows the CRM link."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from services.crm_sync.handlers.work import BUSY_RETRY_SECONDS
from tests.fakes.hubspot import (
    CLIENT_SECRET,
    TOKEN,
    FakeHubSpot,
    signed_headers,
    webhook_event,
)
from tests.flow.conftest import RunningStack, eventually, start_stack

pytestmark = pytest.mark.flow
PORTAL = "62515"


@pytest.fixture(scope="module")
def hubspot() -> Iterator[FakeHubSpot]:
    with FakeHubSpot() as fake:
        yield fake


@pytest.fixture(scope="module")
def crm_stack(
    hubspot: FakeHubSpot, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    folder = tmp_path_factory.mktemp("crm-stack")
    running = start_stack(
        folder / "state",
        folder / "stack.log",
        {
            "HELPDESK_CRM_PROVIDER": "hubspot",
            "HELPDESK_CRM_HUBSPOT_BASE_URL": hubspot.url,
            "HELPDESK_CRM_HUBSPOT_TOKEN": TOKEN,
            "HELPDESK_CRM_HUBSPOT_CLIENT_SECRET": CLIENT_SECRET,
            "HELPDESK_CRM_HUBSPOT_PORTAL_ID": PORTAL,
        },
    )
    yield running
    if running.process.poll() is None:
        running.stop()


def test_a_contact_changed_in_the_crm_is_changed_in_the_helpdesk(
    crm_stack: RunningStack, hubspot: FakeHubSpot
) -> None:
    admin = crm_stack.token()
    agent = crm_stack.token("alice@example.com", "agent")
    # Given a record just created in the CRM (the stack's own first full pass ran at its start)
    record = hubspot.add(
        "dana@client.example.org",
        datetime.now(UTC),
        firstname="Dana",
        lastname="Scully",
        company="FBI",
    )

    def dana() -> list[dict[str, Any]]:
        status, page = crm_stack.call("GET", "/contacts?email=dana@client.example.org", None, agent)
        assert status == 200, page
        return page["items"]  # type: ignore[no-any-return]

    # When an admin runs the sync
    assert crm_stack.call("POST", "/crm/sync", {}, admin)[0] == 202
    # (on a busy machine the start-up pass may still hold the lease: the sync then waits its turn)
    [contact] = eventually(dana, seconds=BUSY_RETRY_SECONDS + 30)
    # Then the CRM's contact is in the helpdesk, with its link
    assert contact["name"] == "Dana Scully"
    assert contact["crm"] == {
        "provider": "hubspot",
        "id": record.id,
        "url": f"https://app.hubspot.com/contacts/{PORTAL}/record/0-1/{record.id}",
    }

    # When the record changes in the CRM and the sync runs again
    record.company, record.updated_at = "Bureau", datetime.now(UTC)
    assert crm_stack.call("POST", "/crm/sync", {}, admin)[0] == 202

    # Then the helpdesk's contact follows it
    [changed] = eventually(dana, lambda found: found and found[0]["organisation"] == "Bureau", 30)
    assert changed["organisation"] == "Bureau"
    assert changed["id"] == contact["id"]
    status, crm = crm_stack.call("GET", "/crm/status", None, admin)
    assert status == 200, crm
    assert crm["checkpoint"]["full_pass"] == "done"


def _webhook(stack: RunningStack, events: list[dict[str, Any]], secret: str = CLIENT_SECRET) -> int:
    """POST a webhook to the stack as HubSpot does: no bearer token, a v3 signature instead."""
    path = "/crm/webhooks/hubspot"
    body = json.dumps(events).encode()
    # The signature covers the URL HubSpot called: the local gateway's, over http, which it
    # tells the function as API Gateway does (X-Forwarded-Proto).
    url = stack.base + path
    request = urllib.request.Request(stack.base + path, data=body, method="POST")
    for name, value in signed_headers(url, body, datetime.now(UTC), secret).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_a_signed_webhook_reaches_the_helpdesk_and_a_forged_one_does_not(
    crm_stack: RunningStack, hubspot: FakeHubSpot
) -> None:
    agent = crm_stack.token("alice@example.com", "agent")
    record = hubspot.add("fox@client.example.org", datetime.now(UTC), firstname="Fox")

    def fox() -> list[dict[str, Any]]:
        return crm_stack.call("GET", "/contacts?email=fox@client.example.org", None, agent)[1][
            "items"
        ]

    # A webhook signed with another secret is refused and changes nothing
    created = [webhook_event("contact.creation", record.id, datetime.now(UTC))]
    assert _webhook(crm_stack, created, secret="not-the-secret") == 401
    # The same webhook, signed as HubSpot signs it, brings the contact in
    assert _webhook(crm_stack, created) in (200, 202, 204)
    [contact] = eventually(fox, seconds=30)
    assert contact["crm"]["id"] == record.id
