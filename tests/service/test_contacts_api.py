"""The contacts API by hand, at its edge: create, read, change and list end to end; a taken
address answered 409; bad input and bad searches named field by field; who may do what. The rules
behind them (one owner per address, search) run on the in-memory fakes
(tests/unit/test_contacts_logic.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import HttpClient
from tests.service.test_contacts_support import ADMIN, AGENT, create, find, get

pytestmark = pytest.mark.service

DANA = {
    "name": "Dana Scully",
    "emails": ["Dana@Client.example.org", "dscully@fbi.example.gov"],
    "phone": "+1 (202) 555-0143",
    "organisation": "FBI",
    "notes": "Prefers mail to calls.",
    "tags": ["vip", "vip", "gov"],
}


def _problem(answer: Any, status: int, slug: str) -> dict[str, Any]:
    assert answer.status == status, answer.body
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.body["type"].endswith(f"/{slug}"), answer.body
    return answer.body  # type: ignore[no-any-return]


def _fields(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem.get("errors", [])]


# --- create and read ----------------------------------------------------------------------------


def test_an_agent_creates_a_contact_normalised_and_reads_it_back(http: HttpClient) -> None:
    # When an agent creates a contact with mixed-case addresses and a formatted phone number
    created = create(http, **DANA)
    # Then addresses are lower-cased in their order (the first is primary), the phone is E.164
    assert created["emails"] == ["dana@client.example.org", "dscully@fbi.example.gov"]
    assert created["primary_email"] == "dana@client.example.org"
    assert created["phone"] == "+12025550143"
    assert created["tags"] == ["gov", "vip"]
    assert (created["crm"], created["read_only"], created["origin"]) == (None, [], "agent")
    assert created["version"] == 1
    # And reading it gives the same contact
    assert get(http, created["id"]) == created


@pytest.mark.parametrize(
    "phone", ["12345", "020 7183 8750", "+44 20 7183 875", "call me", "+999 123 456"]
)
def test_an_invalid_phone_number_is_refused_naming_the_field(http: HttpClient, phone: str) -> None:
    answer = http.call("POST", "/contacts", {"name": "Dana", "phone": phone}, as_=AGENT)
    problem = _problem(answer, 422, "validation")
    assert _fields(problem) == ["phone"]
    assert "country code" in problem["errors"][0]["message"]
    # And nothing was created
    assert find(http, "q=dana") == []


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": "Dana", "emails": ["not-an-address"]}, ["emails.0"]),
        ({"name": "Dana", "emails": [f"d{n}@example.org" for n in range(11)]}, ["emails"]),
        ({"name": "x" * 201}, ["name"]),
        ({"name": "Dana", "nickname": "D"}, ["nickname"]),
        ({"name": "Dana", "tags": [""]}, ["tags.0"]),
        ({}, ["name"]),
        ({"name": "  ", "emails": []}, ["name"]),
    ],
)
def test_bad_input_is_refused_naming_each_field(
    http: HttpClient, body: dict[str, Any], fields: list[str]
) -> None:
    problem = _problem(http.call("POST", "/contacts", body, as_=AGENT), 422, "validation")
    assert _fields(problem) == fields


def test_an_unknown_contact_is_404(http: HttpClient) -> None:
    _problem(http.call("GET", "/contacts/no-such-id", as_=AGENT), 404, "not-found")
    _problem(
        http.call("PATCH", "/contacts/no-such-id", {"notes": "x"}, as_=AGENT), 404, "not-found"
    )


def test_without_a_token_nothing_is_answered(http: HttpClient) -> None:
    created = create(http, **DANA)
    _problem(http.call("GET", f"/contacts/{created['id']}", as_=None), 401, "unauthorized")
    _problem(http.call("GET", "/contacts", as_=None), 401, "unauthorized")


# --- one address, one contact ---------------------------------------------------------------------


@pytest.mark.parametrize("address", ["dana@client.example.org", "DANA@CLIENT.EXAMPLE.ORG"])
def test_an_address_of_another_contact_is_a_409_naming_it(http: HttpClient, address: str) -> None:
    # Given Dana's contact
    create(http, **DANA)
    # When someone creates another contact with her address, in any case
    answer = http.call("POST", "/contacts", {"name": "Impostor", "emails": [address]}, as_=AGENT)
    # Then it is a conflict naming the address, and there is still one contact
    problem = _problem(answer, 409, "conflict")
    assert "dana@client.example.org" in problem["detail"]
    assert _fields(problem) == ["emails"]
    assert [c["name"] for c in find(http, "q=impostor")] == []
    assert len(find(http, "")) == 1


# --- change ---------------------------------------------------------------------------------------


def test_a_patch_changes_only_what_it_sends_and_null_clears(http: HttpClient) -> None:
    dana = create(http, **DANA)
    changed = http.expect(
        200,
        "PATCH",
        f"/contacts/{dana['id']}",
        {"organisation": None, "notes": "Call after 5pm.", "emails": ["dscully@fbi.example.gov"]},
        as_=AGENT,
    )
    assert changed["organisation"] is None
    assert changed["notes"] == "Call after 5pm."
    assert changed["primary_email"] == "dscully@fbi.example.gov"
    assert (changed["name"], changed["phone"], changed["tags"]) == (
        dana["name"],
        dana["phone"],
        dana["tags"],
    )
    assert changed["version"] == dana["version"] + 1
    # The address given up no longer finds her; the one kept does
    assert find(http, "email=dana@client.example.org") == []
    assert find(http, "email=dscully@fbi.example.gov")[0]["id"] == dana["id"]


def test_a_patch_with_a_bad_phone_is_422_and_changes_nothing(http: HttpClient) -> None:
    dana = create(http, **DANA)
    answer = http.call("PATCH", f"/contacts/{dana['id']}", {"phone": "12"}, as_=AGENT)
    assert _fields(_problem(answer, 422, "validation")) == ["phone"]
    assert get(http, dana["id"]) == dana


# --- list and search ------------------------------------------------------------------------------


def test_the_list_is_by_name_and_pages_with_a_cursor(http: HttpClient) -> None:
    names = ["Zed Zimmer", "anna Adams", "Bob Brown", "Émile Étienne", "Carla Cruz"]
    for name in names:
        create(http, name=name)
    seen: list[str] = []
    cursor = ""
    for _ in range(5):
        page = http.expect(200, "GET", f"/contacts?limit=2{cursor}", as_=AGENT)
        assert len(page["items"]) <= 2
        seen += [c["name"] for c in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == ["anna Adams", "Bob Brown", "Carla Cruz", "Émile Étienne", "Zed Zimmer"]


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("q=d", ["query.q"]),
        ("q=!!", ["query.q"]),
        ("phone=12", ["query.phone"]),
        ("email=nope", ["query.email"]),
        ("email=a@example.org&q=dana", ["query.email", "query.q"]),
        ("limit=0", ["query.limit"]),
        ("cursor=bm90IGEgY3Vyc29y", ["query.cursor"]),
        ("cursor=%%%", ["query.cursor"]),
    ],
)
def test_bad_searches_are_refused_naming_the_parameter(
    http: HttpClient, query: str, fields: list[str]
) -> None:
    create(http, **DANA)
    problem = _problem(http.call("GET", f"/contacts?{query}", as_=AGENT), 422, "validation")
    assert _fields(problem) == fields


def test_a_cursor_of_one_search_is_refused_by_another(http: HttpClient) -> None:
    for n in range(3):
        create(http, name=f"Dana {n}")
    page = http.expect(200, "GET", "/contacts?q=dana&limit=1", as_=AGENT)
    assert page["next_cursor"]
    answer = http.call("GET", f"/contacts?q=fox&cursor={page['next_cursor']}", as_=AGENT)
    assert _fields(_problem(answer, 422, "validation")) == ["query.cursor"]


# --- who may do what ------------------------------------------------------------------------------


def test_agents_may_not_erase_or_merge_and_nothing_changes(http: HttpClient) -> None:
    dana = create(http, **DANA)
    fox = create(http, name="Fox Mulder")
    answer = http.call("DELETE", f"/contacts/{dana['id']}", as_=AGENT)
    assert "admins" in _problem(answer, 403, "forbidden")["detail"]
    answer = http.call("POST", f"/contacts/{fox['id']}/merge", {"into": dana["id"]}, as_=AGENT)
    _problem(answer, 403, "forbidden")
    assert get(http, dana["id"]) == dana
    assert get(http, fox["id"]) == fox


def test_admins_read_and_change_like_agents(http: HttpClient) -> None:
    dana = create(http, **DANA)
    changed = http.expect(200, "PATCH", f"/contacts/{dana['id']}", {"tags": ["x"]}, as_=ADMIN)
    assert changed["tags"] == ["x"]
