"""Contacts in the console: found by search, their tickets, notes edited, and erased by an admin
(agents see neither Erase nor Merge)."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.console.conftest import screenshot, sign_in_with_dev_token, visible_after_reloads
from tests.flow.conftest import RunningStack, eventually

AGENT = "alice@example.com"


@pytest.fixture(scope="module", autouse=True)
def help_desk(stack: RunningStack) -> None:
    """The tickets' department, with the agent in it: agents see their departments' tickets."""
    admin = stack.token()
    assert stack.call("POST", "/departments", {"name": "Help"}, admin)[0] == 201
    assert stack.call("POST", "/departments/help/members", {"email": AGENT}, admin)[0] == 200


def a_requester_with_tickets(stack: RunningStack, name: str, subjects: list[str]) -> dict[str, str]:
    """Tickets opened for a new address; answers the contact they made and the last ticket."""
    admin = stack.token()
    address = f"{name.split()[0].lower()}-{uuid.uuid4().hex[:6]}@client.example.org"
    for subject in subjects:
        status, ticket = stack.call(
            "POST",
            "/tickets",
            {
                "subject": subject,
                "body": "Please help.",
                "priority": "medium",
                "department_id": "help",
                "requester": {"email": address, "name": name},
            },
            admin,
        )
        assert status == 201, ticket
    linked = eventually(
        lambda: stack.call("GET", f"/tickets/{ticket['id']}", token=admin)[1],
        lambda found: found.get("contact_id"),
    )
    contact_id = linked["contact_id"]
    tickets = f"/contacts/{contact_id}/tickets"
    eventually(
        lambda: stack.call("GET", tickets, token=admin)[1],
        lambda page: len(page["items"]) == len(subjects),
    )
    return {
        "address": address,
        "contact": contact_id,
        "number": ticket["number"],
        "ticket": ticket["id"],
    }


def test_an_agent_finds_a_requester_sees_their_tickets_and_edits_notes(
    page: Page, stack: RunningStack
):
    made = a_requester_with_tickets(stack, "Dana Scully", ["Printer on fire", "Invoice sent twice"])
    admin = stack.token()
    status, _ = stack.call("PATCH", f"/contacts/{made['contact']}", {"organisation": "FBI"}, admin)
    assert status == 200

    sign_in_with_dev_token(page, stack, AGENT, "agent")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts").click()
    page.get_by_label("Search contacts").fill("scul")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("link", name="Dana Scully").click()

    page.get_by_role("heading", name="Dana Scully", level=1).wait_for()
    tickets = page.get_by_role("region", name="Tickets")
    expect(tickets.get_by_role("row").filter(has_text="Printer on fire")).to_be_visible()
    expect(tickets.get_by_role("link", name=made["number"])).to_have_attribute(
        "href", f"#/tickets/{made['ticket']}"
    )
    expect(page.get_by_role("button", name="Erase…")).to_have_count(0)
    expect(page.get_by_role("button", name="Merge into…")).to_have_count(0)

    page.get_by_role("button", name="Edit contact").click()
    page.get_by_label("Notes").fill("Prefers mail to calls.")
    page.get_by_role("button", name="Save contact").click()
    page.get_by_text("Prefers mail to calls.").wait_for()
    contact = stack.call("GET", f"/contacts/{made['contact']}", token=admin)[1]
    assert contact["notes"] == "Prefers mail to calls."
    assert contact["organisation"] == "FBI"


def test_a_rejected_edit_keeps_what_was_typed(page: Page, stack: RunningStack):
    made = a_requester_with_tickets(stack, "Walter Skinner", ["Badge lost"])
    sign_in_with_dev_token(page, stack, AGENT, "agent")
    page.goto(f"{stack.base}/#/contacts/{made['contact']}")
    page.get_by_role("button", name="Edit contact").click()
    page.get_by_label("Notes").fill("Call after six.")
    page.get_by_label("Phone").fill("12")
    page.get_by_role("button", name="Save contact").click()

    page.get_by_role("alert").wait_for()
    expect(page.locator(".field-error")).to_be_visible()
    expect(page.get_by_label("Notes")).to_have_value("Call after six.")


def test_a_contact_with_their_tickets(page: Page, stack: RunningStack):
    made = a_requester_with_tickets(
        stack,
        "Fox Mulder",
        ["VPN drops every hour", "Cannot open the shared drive", "New laptop request"],
    )
    admin = stack.token()
    change = {
        "organisation": "X-Files Unit",
        "phone": "+1 202 555 0143",
        "tags": ["vip", "on-site"],
        "notes": "Prefers calls in the afternoon.",
    }
    assert stack.call("PATCH", f"/contacts/{made['contact']}", change, admin)[0] == 200
    sign_in_with_dev_token(page, stack, "admin@example.com", "admin")
    page.goto(f"{stack.base}/#/contacts/{made['contact']}")
    page.get_by_role("row").filter(has_text="New laptop request").wait_for()
    expect(page.get_by_role("row").filter(has_text="VPN drops every hour")).to_be_visible()
    screenshot(page, "contact")


def test_an_admin_erases_a_contact_after_confirming(page: Page, stack: RunningStack):
    made = a_requester_with_tickets(stack, "Alex Krycek", ["Account locked"])
    sign_in_with_dev_token(page, stack, "admin@example.com", "admin")
    page.goto(f"{stack.base}/#/contacts/{made['contact']}")
    page.get_by_role("button", name="Erase…").click()

    dialog = page.get_by_role("dialog")
    erase = dialog.get_by_role("button", name="Erase contact")
    expect(erase).to_be_disabled()
    dialog.get_by_label(f"Type {made['address']} or ERASE to confirm").fill("ERASE")
    erase.click()

    page.get_by_text("This contact was erased").wait_for()
    assert stack.call("GET", f"/contacts/{made['contact']}", token=stack.token())[0] == 410


def test_an_admin_merges_a_duplicate_and_its_old_id_leads_to_the_survivor(
    page: Page, stack: RunningStack
):
    duplicate = a_requester_with_tickets(stack, "Monica Reyes", ["Old phone number"])
    survivor = a_requester_with_tickets(stack, "Monica Reyes-Doggett", ["Broken screen"])
    sign_in_with_dev_token(page, stack, "admin@example.com", "admin")
    page.goto(f"{stack.base}/#/contacts/{duplicate['contact']}")
    page.get_by_role("button", name="Merge into…").click()

    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name or address of the contact that stays").fill("Reyes-Doggett")
    dialog.get_by_role("button", name="Find").click()
    dialog.get_by_role("button", name="Monica Reyes-Doggett").click()
    dialog.get_by_role("button", name="Merge contacts").click()

    page.get_by_text("was merged into this one").wait_for()
    page.goto(f"{stack.base}/#/contacts/{duplicate['contact']}")
    page.get_by_text(f"Contact {duplicate['contact']} was merged into this one").wait_for()
    assert survivor["contact"] in page.url
    # The duplicate's tickets follow once the tickets service has applied the merge's event
    visible_after_reloads(page, page.get_by_role("row").filter(has_text="Old phone number"))
