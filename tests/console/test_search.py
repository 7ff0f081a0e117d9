"""Ticket search from the console's header: `/` focuses the field, Enter shows the results with
the matched words marked and the query in the URL, a result opens its ticket at the message that
matched; suggestions while typing work by keyboard; a phrase in the wrong order, and an agent of
another department, find nothing and are told so."""

from __future__ import annotations

import re
import smtplib
import urllib.parse
import uuid
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.console.conftest import screenshot, sign_in_with_dev_token, visible_after_reloads
from tests.flow.conftest import RunningStack, eventually

ADMIN = "admin@example.com"
ALICE = "alice@example.com"  # of Support, where the mail goes
BOB = "bob@example.com"  # of Billing only
SUBJECT = "Flux capacitor overheating"
BODY = "The quantum flux capacitor melts at gigawatt levels every Tuesday."


@pytest.fixture(scope="module")
def ticket(stack: RunningStack) -> dict[str, Any]:
    """A client's mail to Support, once search finds it."""
    admin = stack.token()
    for name, member in (("Support", ALICE), ("Billing", BOB)):
        status, department = stack.call("POST", "/departments", {"name": name}, admin)
        assert status == 201, department
        path = f"/departments/{department['id']}/members"
        assert stack.call("POST", path, {"email": member}, admin)[0] == 200
    channel = {"address": "support@example.com", "department_id": "support"}
    assert stack.call("POST", "/channels", channel, admin)[0] == 201

    raw = (
        f"From: Marty Client <marty@client.example.org>\r\nTo: support@example.com\r\n"
        f"Subject: {SUBJECT}\r\nMessage-ID: <{uuid.uuid4()}@client.example.org>\r\n\r\n{BODY}\r\n"
    )
    with smtplib.SMTP("127.0.0.1", stack.smtp, timeout=10) as smtp:
        smtp.sendmail("marty@client.example.org", ["support@example.com"], raw.encode())
    # Search follows the ticket's events: wait until it finds the mail's words.
    _, found = eventually(
        lambda: stack.call("GET", "/search?q=gigawatt", token=admin),
        lambda answer: answer[0] == 200 and answer[1]["items"],
    )
    (hit,) = found["items"]
    assert hit["ticket"]["department_id"] == "support"
    return hit["ticket"]  # type: ignore[no-any-return]


def search_field(page: Page) -> Locator:
    return page.get_by_role("combobox", name="Search tickets")


def search_by_keyboard(page: Page, words: str) -> None:
    """Press `/` where no field has the focus, type the words, press Enter."""
    page.locator("#page-title").wait_for()
    page.keyboard.press("/")
    expect(search_field(page)).to_be_focused()
    page.keyboard.type(words)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=f"Tickets matching “{words}”")).to_be_visible()


def test_an_agent_finds_a_mail_by_its_words_and_opens_it(
    page: Page, stack: RunningStack, ticket: dict[str, Any]
):
    sign_in_with_dev_token(page, stack, ALICE, "agent")
    search_by_keyboard(page, "Gigawatt capacitor")
    assert re.search(r"#/search\?q=Gigawatt(\+|%20)capacitor$", page.url)

    link = page.get_by_role("link", name=SUBJECT, exact=True)
    visible_after_reloads(page, link)
    hit = page.get_by_role("article", name=SUBJECT)
    expect(hit).to_contain_text(ticket["number"])
    expect(hit).to_contain_text("Open")
    expect(hit).to_contain_text("Marty Client")
    expect(hit.locator("mark")).to_have_text(["capacitor", "gigawatt"])
    expect(hit.locator(".search-snippet")).to_contain_text("melts at gigawatt levels")
    expect(page.get_by_role("status").filter(has_text="1 ticket found")).to_be_visible()
    screenshot(page, "search")

    page.reload()  # the query is in the URL: the same results, and the field says what was asked
    expect(link).to_be_visible()
    expect(search_field(page)).to_have_value("Gigawatt capacitor")

    link.click()
    page.wait_for_url(f"**/#/tickets/{ticket['id']}?message=*")
    heading = page.get_by_role("heading", name=f"{ticket['number']}: {SUBJECT}")
    expect(heading).to_be_visible()
    found = page.locator(".message-found")
    expect(found).to_contain_text("Found by your search")
    expect(found).to_contain_text("melts at gigawatt levels")

    page.go_back()  # Back returns to the results
    expect(link).to_be_visible()


def test_a_phrase_matches_its_words_in_order_only(
    page: Page, stack: RunningStack, ticket: dict[str, Any]
):
    sign_in_with_dev_token(page, stack, ALICE, "agent")
    search_by_keyboard(page, '"flux capacitor"')
    expect(page.get_by_role("link", name=SUBJECT, exact=True)).to_be_visible()

    search_field(page).fill('"capacitor flux"')
    search_field(page).press("Enter")
    expect(page.get_by_role("heading", name='Tickets matching “"capacitor flux"”')).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="No tickets match.")).to_be_visible()
    expect(page.get_by_role("link", name=SUBJECT, exact=True)).to_have_count(0)
    assert "q=" + urllib.parse.quote_plus('"capacitor flux"') in page.url


def test_an_agent_of_another_department_finds_nothing(
    page: Page, stack: RunningStack, ticket: dict[str, Any]
):
    sign_in_with_dev_token(page, stack, BOB, "agent")
    search_by_keyboard(page, "Gigawatt capacitor")
    expect(page.get_by_role("status").filter(has_text="No tickets match.")).to_be_visible()
    expect(page.get_by_text(SUBJECT)).to_have_count(0)


def test_suggestions_while_typing_work_by_keyboard(
    page: Page, stack: RunningStack, ticket: dict[str, Any]
):
    sign_in_with_dev_token(page, stack, ALICE, "agent")
    field = search_field(page)
    field.click()
    page.keyboard.type("quantum gigaw")  # the last word as typed so far
    listbox = page.get_by_role("listbox", name="Suggested tickets")
    option = listbox.get_by_role("option", name=re.compile(SUBJECT))
    expect(option).to_be_visible()
    expect(field).to_have_attribute("aria-expanded", "true")

    page.keyboard.press("Escape")  # closes the list, keeps the field
    expect(listbox).to_be_hidden()
    expect(field).to_be_focused()
    page.keyboard.press("Escape")  # leaves the field
    expect(field).not_to_be_focused()

    field.focus()
    page.keyboard.type("s")  # "gigaws": no word starts so; back to "gigaw"
    page.keyboard.press("Backspace")
    expect(option).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(option).to_have_attribute("aria-selected", "true")
    expect(field).to_have_attribute("aria-activedescendant", option.get_attribute("id") or "")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/#/tickets/{ticket['id']}?message=*")
    expect(page.get_by_role("heading", name=f"{ticket['number']}: {SUBJECT}")).to_be_visible()


def test_a_query_the_api_refuses_shows_why(page: Page, stack: RunningStack):
    sign_in_with_dev_token(page, stack, ALICE, "agent")
    search_by_keyboard(page, "one two three four five six seven eight nine")
    expect(page.get_by_role("alert")).to_contain_text("at most 8 words or phrases")
    expect(page.get_by_text("No tickets match")).to_have_count(0)

    page.goto(f"{stack.base}/#/search?q=")
    expect(page.get_by_role("alert")).to_contain_text("at least 1 character")
