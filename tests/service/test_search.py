"""Searching tickets (`GET /search`): what is found and how, who sees what, paging, snippets, and
the index following merges and erasures. The index is kept from events, so each test delivers
them before it searches."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import Delivery, HttpClient
from tests.service.test_contacts_support import find

pytestmark = pytest.mark.service

ALICE = ("alice@example.com", "agent")  # member of Billing
DAVE = ("dave@example.com", "agent")  # member of Technical Support


def _setup(http: HttpClient) -> None:
    for name, department_id, member in (
        ("Billing", "billing", ALICE[0]),
        ("Technical Support", "tech", DAVE[0]),
    ):
        http.expect(201, "POST", "/departments", {"name": name, "id": department_id})
        http.expect(200, "POST", f"/departments/{department_id}/members", {"email": member})


def _open(
    http: HttpClient,
    subject: str,
    body: str,
    department_id: str = "billing",
    requester: dict[str, str] | None = None,
    tags: list[str] | None = None,
) -> dict[str, Any]:
    ticket = {
        "subject": subject,
        "body": body,
        "department_id": department_id,
        "requester": requester or {"email": "bob@example.org", "name": "Bob Stone"},
        "tags": tags or [],
    }
    return http.expect(201, "POST", "/tickets", ticket)  # type: ignore[no-any-return]


def _search(
    http: HttpClient, q: str, as_: tuple[str, str] = ("admin@example.com", "admin"), **more: Any
) -> dict[str, Any]:
    query = "&".join([f"q={quote(q)}", *(f"{k}={v}" for k, v in more.items())])
    return http.expect(200, "GET", f"/search?{query}", as_=as_)  # type: ignore[no-any-return]


def _numbers(
    http: HttpClient, q: str, as_: tuple[str, str] = ("admin@example.com", "admin")
) -> list[str]:
    return [hit["ticket"]["number"] for hit in _search(http, q, as_)["items"]]


@pytest.fixture
def desk(http: HttpClient, delivery: Delivery) -> HttpClient:
    """Three tickets: a printer in Billing, an invoice in Billing, a router in Tech."""
    _setup(http)
    _open(http, "Printer jam on floor 3", "The printer jams every morning.", tags=["hardware"])
    _open(
        http,
        "Invoice question",
        "Why was I charged twice in May?",
        requester={"email": "zoe@client.example.org", "name": "Zoë Müller"},
    )
    _open(http, "Router down", "The café wifi router is down since Monday.", department_id="tech")
    delivery.run()
    return http


def test_a_word_of_the_subject_or_body_finds_the_ticket(desk: HttpClient) -> None:
    assert _numbers(desk, "router ") == ["TKT-0003"]
    assert _numbers(desk, "charged ") == ["TKT-0002"]


def test_every_word_must_match(desk: HttpClient) -> None:
    assert _numbers(desk, "printer morning ") == ["TKT-0001"]
    assert _numbers(desk, "printer invoice ") == []


def test_the_number_requester_and_tags_are_searched(desk: HttpClient) -> None:
    assert _numbers(desk, "TKT-0002") == ["TKT-0002"]
    assert _numbers(desk, "zoe@client.example.org") == ["TKT-0002"]
    assert _numbers(desk, "hardware ") == ["TKT-0001"]


def test_a_quoted_phrase_matches_only_words_in_that_order(desk: HttpClient) -> None:
    assert _numbers(desk, '"printer jam"') == ["TKT-0001"]
    assert _numbers(desk, '"jam printer"') == []


def test_the_last_word_matches_as_a_prefix_while_typing(desk: HttpClient) -> None:
    assert _numbers(desk, "prin") == ["TKT-0001"]
    assert _numbers(desk, "rou") == ["TKT-0003"]
    # A quoted word is a whole word, not a prefix
    assert _numbers(desk, '"prin"') == []


def test_case_and_accents_do_not_matter(desk: HttpClient) -> None:
    assert _numbers(desk, "ZOE MULLER ") == ["TKT-0002"]
    assert _numbers(desk, "cafe ") == ["TKT-0003"]
    assert _numbers(desk, "Müller ") == ["TKT-0002"]


def test_english_words_match_by_their_stem(desk: HttpClient) -> None:
    assert _numbers(desk, "jammed printers ") == ["TKT-0001"]
    assert _numbers(desk, "charge ") == ["TKT-0002"]


def test_results_are_newest_first(desk: HttpClient, delivery: Delivery) -> None:
    _open(desk, "Another printer", "Toner low")
    delivery.run()
    assert _numbers(desk, "printer ") == ["TKT-0004", "TKT-0001"]


def test_an_agent_finds_only_tickets_of_their_departments(desk: HttpClient) -> None:
    assert _numbers(desk, "router ", ALICE) == []
    assert _numbers(desk, "router ", DAVE) == ["TKT-0003"]
    assert _numbers(desk, "printer ", DAVE) == []
    assert _numbers(desk, "printer ", ALICE) == ["TKT-0001"]


def test_a_moved_ticket_is_found_only_by_its_new_department(
    desk: HttpClient, delivery: Delivery
) -> None:
    desk.expect(200, "PATCH", "/tickets/TKT-0003", {"department_id": "billing"})
    assert _numbers(desk, "router ", DAVE) == []
    assert _numbers(desk, "router ", ALICE) == ["TKT-0003"]


def test_internal_notes_are_searched(desk: HttpClient, delivery: Delivery) -> None:
    note = {"body": "Finance confirmed the refund.", "visibility": "internal"}
    desk.expect(201, "POST", "/tickets/TKT-0002/messages", note)
    delivery.run()
    [hit] = _search(desk, "refund ", ALICE)["items"]
    assert hit["ticket"]["number"] == "TKT-0002"
    assert hit["matched_in"] == "message"
    assert hit["snippet"] == "Finance confirmed the **refund**."


def test_a_reply_is_searched_once_its_event_is_delivered(
    desk: HttpClient, delivery: Delivery
) -> None:
    desk.expect(201, "POST", "/tickets/TKT-0001/messages", {"body": "Replaced the fuser unit."})
    delivery.run()
    assert _numbers(desk, "fuser ") == ["TKT-0001"]


def test_the_snippet_marks_the_matched_words(desk: HttpClient) -> None:
    [hit] = _search(desk, "jams morn")["items"]
    assert hit["matched_in"] == "message"
    assert hit["snippet"] == "The printer **jams** every **morning**."
    [hit] = _search(desk, "router")["items"]
    assert hit["matched_in"] == "subject"
    assert hit["snippet"] == "**Router** down"


def test_pages_follow_the_cursor_to_the_end(http: HttpClient, delivery: Delivery) -> None:
    _setup(http)
    for n in range(5):
        _open(http, f"Scanner issue {n}", "The scanner is slow.")
    delivery.run()
    seen: list[str] = []
    cursor = None
    while True:
        more = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = _search(http, "scanner", **more)
        assert len(page["items"]) <= 2
        seen += [hit["ticket"]["number"] for hit in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["TKT-0005", "TKT-0004", "TKT-0003", "TKT-0002", "TKT-0001"]


def test_a_cursor_of_another_query_is_refused(desk: HttpClient) -> None:
    page = _search(desk, "printer", limit=1)
    _open(desk, "Printer again", "Jam")
    cursor = page["next_cursor"] or "eyJsaXN0IjoiVyNwcmludGVyIiwiYWZ0ZXIiOiJ4In0="
    answer = desk.call("GET", f"/search?q=router&cursor={cursor}")
    assert answer.status == 422, answer.body


@pytest.mark.parametrize("q", ["", "   ", '""', "x" * 201])
def test_an_empty_or_too_long_query_is_422_naming_q(desk: HttpClient, q: str) -> None:
    answer = desk.call("GET", f"/search?q={quote(q)}")
    assert answer.status == 422, answer.body
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in answer.body["errors"]] == ["query.q"]


def test_a_missing_query_is_422_naming_q(desk: HttpClient) -> None:
    answer = desk.call("GET", "/search")
    assert answer.status == 422, answer.body
    assert [e["field"] for e in answer.body["errors"]] == ["query.q"]


def test_erasure_removes_the_persons_name_address_and_messages_from_the_index(
    http: HttpClient, delivery: Delivery
) -> None:
    # Given Gina's ticket, opened by an agent for her, and found by her name
    _setup(http)
    gina = {"email": "gina@client.example.org", "name": "Gina Linetti"}
    ticket = _open(http, "Please delete my data", "Under GDPR.", requester=gina)
    delivery.run()
    assert _numbers(http, "linetti ") == [ticket["number"]]
    [contact] = find(http, "email=gina@client.example.org")
    # When she is erased and the events are delivered
    http.expect(204, "DELETE", f"/contacts/{contact['id']}")
    delivery.run()
    # Then neither her name nor her address finds the ticket; its subject still does
    assert _numbers(http, "linetti ") == []
    assert _numbers(http, "gina ") == []
    assert _numbers(http, "gina@client.example.org") == []
    assert _numbers(http, "gdpr ") == [ticket["number"]]


def test_a_merged_tickets_words_find_the_ticket_it_was_merged_into(
    desk: HttpClient, delivery: Delivery
) -> None:
    source = _open(desk, "Toner smudges", "Smudges on every page.")
    delivery.run()
    desk.expect(200, "POST", f"/tickets/{source['number']}/merge", {"into": "TKT-0001"})
    delivery.run()
    assert _numbers(desk, "smudges ") == [source["number"], "TKT-0001"]
