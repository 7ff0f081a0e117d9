"""The local gateway does what API Gateway does with each service's rendered API definition:
the authorizer where the definition puts it, CORS preflights for the console's origin, and its
own refusals readable by a browser."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from infra.api import ApiDefinition
from local_stack.gateway import Gateway
from local_stack.system import LocalSystem
from local_stack.tokens import DevTokens
from shared.api import public_url
from shared.aws import reset_process_state
from tests.conftest import HttpClient

pytestmark = pytest.mark.service
CONSOLE = "https://console.example.com"
EDGE = "d111111abcdef8.cloudfront.net"


@pytest.fixture
def browser(system: LocalSystem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HttpClient:
    """The API as a console served from another origin reaches it."""
    monkeypatch.setenv("HELPDESK_CONSOLE_ORIGIN", CONSOLE)
    reset_process_state()
    tokens = DevTokens(tmp_path / "key")
    return HttpClient(Gateway(system.apps, tokens, {}), tokens)


def test_a_preflight_from_the_console_is_answered_without_a_token(browser: HttpClient) -> None:
    # When the console's browser asks whether it may PATCH a ticket
    answer = browser.call(
        "OPTIONS",
        "/tickets/TKT-0001",
        as_=None,
        headers={"Origin": CONSOLE, "Access-Control-Request-Method": "PATCH"},
    )
    # Then the gateway answers for the API, with the console's origin and the ticket's methods
    assert answer.status == 204
    assert answer.headers["Access-Control-Allow-Origin"] == CONSOLE
    assert set(answer.headers["Access-Control-Allow-Methods"].split(",")) == {
        "GET",
        "PATCH",
        "OPTIONS",
    }
    assert "Authorization" in answer.headers["Access-Control-Allow-Headers"]
    assert "If-Match" in answer.headers["Access-Control-Allow-Headers"]


def test_answers_and_refusals_are_readable_by_the_console(browser: HttpClient) -> None:
    # An answer of the service carries the origin and exposes the version header
    listed = browser.call("GET", "/tickets", headers={"Origin": CONSOLE})
    assert listed.status == 200
    assert listed.headers["Access-Control-Allow-Origin"] == CONSOLE
    assert "ETag" in listed.headers["Access-Control-Expose-Headers"]
    # And so does the gateway's own refusal of a missing token, and the service's problems
    refused = browser.call("GET", "/tickets", as_=None, headers={"Origin": CONSOLE})
    assert refused.status == 401
    assert refused.headers["Access-Control-Allow-Origin"] == CONSOLE
    missing = browser.call("GET", "/tickets/TKT-4040", headers={"Origin": CONSOLE})
    assert missing.status == 404
    assert missing.headers["Access-Control-Allow-Origin"] == CONSOLE


def test_without_a_console_origin_no_origin_is_allowed(http: HttpClient) -> None:
    preflight = http.call("OPTIONS", "/tickets", as_=None, headers={"Origin": CONSOLE})
    assert preflight.status == 204
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert "Access-Control-Allow-Origin" not in http.call("GET", "/tickets").headers


def test_the_token_is_required_where_the_rendered_definition_says(
    system: LocalSystem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a definition in which GET /tickets lost its authorizer
    rendered = ApiDefinition.requires_token

    def without_authorizer(self: ApiDefinition, route: str, method: str) -> Any:
        return False if (route, method) == ("/tickets", "GET") else rendered(self, route, method)

    monkeypatch.setattr(ApiDefinition, "requires_token", without_authorizer)
    tokens = DevTokens(tmp_path / "key")
    http = HttpClient(Gateway(system.apps, tokens, {}), tokens)
    # When an agent lists tickets with a valid token
    answer = http.call("GET", "/tickets")
    # Then the gateway passed the request on without the agent's claims, as API Gateway would,
    # and the route fails for everyone: the local stack shows the missing authorizer
    assert answer.status == 401
    assert answer.body["detail"] != "A valid bearer token is required."
    # While a route that kept it still works
    assert http.call("GET", "/departments").status == 200


def test_a_public_route_is_reached_without_a_token(http: HttpClient) -> None:
    # The CRM's webhook has no authorizer: the gateway lets it through and the service judges
    # it (here: no CRM is connected, which only the service knows)
    answer = http.call("POST", "/crm/webhooks/hubspot", [], as_=None)
    assert answer.status == 404
    assert answer.body["detail"] == "HubSpot is not the connected CRM."


def test_an_unsupported_method_is_a_405_problem(http: HttpClient) -> None:
    answer = http.call("PUT", "/tickets", {})
    assert answer.status == 405
    assert answer.headers["Content-Type"] == "application/problem+json"


def test_behind_the_edge_the_url_a_webhook_was_signed_over_is_the_edges() -> None:
    # Given a request the edge passed on, as API Gateway hands it to the function
    request = SimpleNamespace(
        headers={"host": "abc123.execute-api.eu-west-1.amazonaws.com", "x-forwarded-host": EDGE},
        context={"path": "/api/crm/webhooks/hubspot", "stage": "api"},
        path="/crm/webhooks/hubspot",
        query_params=None,
    )
    # Then the URL is the one the CRM called: the edge's host, without the API's stage
    assert public_url(request) == f"https://{EDGE}/crm/webhooks/hubspot"
    # And called directly, it is the API's own
    request.headers.pop("x-forwarded-host")
    assert public_url(request) == (
        "https://abc123.execute-api.eu-west-1.amazonaws.com/api/crm/webhooks/hubspot"
    )
