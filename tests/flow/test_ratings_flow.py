"""A client rates a resolved ticket through the whole local system: the rating mail with its two
links, the page that records nothing, the form that records, and the rating on the ticket and in
the CSAT report."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest

from tests.flow.conftest import RunningStack, eventually, running_stack

pytestmark = pytest.mark.flow
CLIENT = "hana@client.example.org"
AGENT = "alice@example.com"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    yield from running_stack(tmp_path_factory, "ratings")


def _browse(url: str, form: dict[str, str] | None = None) -> tuple[int, str]:
    """Open a link, or send a page's form, as a browser does: no token."""
    data = None if form is None else urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(url, data)
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_resolved_ticket_is_rated_by_the_links_of_its_mail(stack: RunningStack) -> None:
    admin = stack.token()
    assert stack.call("POST", "/departments", {"name": "Garden"}, admin)[0] == 201
    member = {"email": AGENT}
    assert stack.call("POST", "/departments/garden/members", member, admin)[0] == 200
    channel = {"address": "garden@example.com", "department_id": "garden"}
    assert stack.call("POST", "/channels", channel, admin)[0] == 201
    opened = {
        "subject": "Wilted roses",
        "body": "They wilted.",
        "department_id": "garden",
        "requester": {"email": CLIENT},
    }
    status, ticket = stack.call("POST", "/tickets", opened, admin)
    assert status == 201, ticket
    # When the ticket is resolved
    change = {"status": "resolved", "assignee": AGENT}
    assert stack.call("PATCH", f"/tickets/{ticket['id']}", change, admin)[0] == 200
    # Then the client gets one mail with a link per rating
    _, outbox = eventually(
        lambda: stack.call("GET", "/local/outbox"),
        done=lambda answer: any("/ratings/" in m["text"] for m in answer[1]),
    )
    (mail,) = [m for m in outbox if m["to"] == CLIENT and "/ratings/" in m["text"]]
    found = re.findall(r"(http\S+/ratings/\S+\?choice=(good|bad))", mail["text"])
    links = {choice: url for url, choice in found}
    assert set(links) == {"good", "bad"}
    # Opening the good link shows the page and records nothing
    status, page = _browse(links["good"])
    assert status == 200
    assert 'value="good" required checked' in page
    assert stack.call("GET", f"/tickets/{ticket['id']}", token=admin)[1]["satisfaction"] is None
    # Sending the page's form records the rating
    status, page = _browse(links["good"], {"choice": "good", "comment": "Lovely."})
    assert status == 200, page
    rated = stack.call("GET", f"/tickets/{ticket['id']}", token=admin)[1]["satisfaction"]
    assert (rated["rating"], rated["comment"]) == ("good", "Lovely.")
    status, report = stack.call("GET", "/reports/csat?department_id=garden", token=admin)
    assert status == 200, report
    assert report["total"] == {"good": 1, "bad": 0, "share_good": 1.0}
    assert report["agents"] == [{"agent": AGENT, "good": 1, "bad": 0, "share_good": 1.0}]
