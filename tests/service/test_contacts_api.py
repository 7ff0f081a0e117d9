"""The contacts API by hand: create, read, change, list and search; addresses unique whatever
their case; bad input named field by field; who may do what."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

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


def test_a_change_to_an_address_of_another_contact_is_a_409_and_changes_nothing(
    http: HttpClient,
) -> None:
    dana = create(http, **DANA)
    fox = create(http, name="Fox Mulder", emails=["fox@fbi.example.gov"])
    answer = http.call(
        "PATCH",
        f"/contacts/{fox['id']}",
        {"emails": ["fox@fbi.example.gov", "DSCULLY@fbi.example.gov"]},
        as_=AGENT,
    )
    assert "dscully@fbi.example.gov" in _problem(answer, 409, "conflict")["detail"]
    assert get(http, fox["id"]) == fox
    assert find(http, "email=dscully@fbi.example.gov")[0]["id"] == dana["id"]


def test_an_address_given_up_is_free_for_another_contact(http: HttpClient) -> None:
    dana = create(http, **DANA)
    http.expect(
        200, "PATCH", f"/contacts/{dana['id']}", {"emails": ["dana@client.example.org"]}, as_=AGENT
    )
    other = create(http, name="Walter Skinner", emails=["dscully@fbi.example.gov"])
    assert find(http, "email=dscully@fbi.example.gov")[0]["id"] == other["id"]


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


def test_a_patch_may_not_leave_a_contact_without_name_and_address(http: HttpClient) -> None:
    dana = create(http, name="Dana Scully")
    answer = http.call("PATCH", f"/contacts/{dana['id']}", {"name": None}, as_=AGENT)
    assert _fields(_problem(answer, 422, "validation")) == ["emails"]


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
    "query", ["dana@client.example.org", "DANA@Client.Example.ORG", "dscully@fbi.example.gov"]
)
def test_search_by_exact_address_ignores_case(http: HttpClient, query: str) -> None:
    dana = create(http, **DANA)
    create(http, name="Dana Other", emails=["dana@client.example.org.uk"])
    assert [c["id"] for c in find(http, f"email={quote(query)}")] == [dana["id"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("da", ["Dana Scully", "Dan Brown"]),
        ("scu", ["Dana Scully"]),  # a later word of the name
        ("dana sc", ["Dana Scully"]),
        ("ZOE", ["Zoë O'Neil"]),  # accents and case do not matter
        ("oneil", ["Zoë O'Neil"]),
        ("dscully@", ["Dana Scully"]),  # the start of an address
        ("xyz", []),
    ],
)
def test_search_by_prefix_of_name_or_address(
    http: HttpClient, query: str, expected: list[str]
) -> None:
    create(http, **DANA)
    create(http, name="Dan Brown", emails=["brown@example.org"])
    create(http, name="Zoë O'Neil")
    found = find(http, f"q={quote(query)}")
    assert sorted(c["name"] for c in found) == sorted(expected)


def test_a_contact_found_by_several_terms_is_listed_once(http: HttpClient) -> None:
    create(http, name="Dana Danes", emails=["dana@example.org"])
    assert len(find(http, "q=dan")) == 1


def test_a_contact_found_by_several_terms_is_listed_once_across_pages(http: HttpClient) -> None:
    # Given Dana, found by "dan" four ways (her name, two words of it, her address), among others
    dana = create(http, name="Dana Danes", emails=["dana@example.org"])
    others = [create(http, name=f"Dan {surname}")["id"] for surname in ("Brown", "Carter")]
    # When the search is read one item at a time
    seen: list[str] = []
    cursor = ""
    for _ in range(20):
        page = http.expect(200, "GET", f"/contacts?q=dan&limit=1{cursor}", as_=AGENT)
        seen += [c["id"] for c in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    # Then every contact is listed exactly once
    assert sorted(seen) == sorted([dana["id"], *others])


def test_search_by_phone_in_any_form(http: HttpClient) -> None:
    dana = create(http, **DANA)
    create(http, name="Fox Mulder", phone="+1 202 555 0199")
    for form in ("+12025550143", "+1 202-555-0143", "+1 (202) 555 0143"):
        assert [c["id"] for c in find(http, f"phone={quote(form)}")] == [dana["id"]]


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
