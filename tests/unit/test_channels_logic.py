"""Mail in and out of tickets, on the in-memory storage: which department and ticket a mail goes
to, the quarantine and its release, machine mail and loops, acknowledgements and their hourly
limits, replies and their threading, attempts and delivery reports. Mail arrives as the typed
`ReceivedMail` SES's receipt becomes; time is a fixed clock the tests move, nothing sleeps."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

import pytest

from services.channels.logic.delivery import MAX_SEND_ATTEMPTS, SendFailed
from services.channels.logic.delivery_reports import DeliveryReport, record_report
from services.channels.logic.dependencies import HourlyLimits
from services.channels.logic.follow_tickets import follow_message, follow_requester, remember_ticket
from services.channels.logic.loops import automated_reason
from services.channels.logic.manage_channels import (
    ChannelFields,
    delete_channel,
    find_channel,
    update_channel,
)
from services.channels.logic.receive_mail import INBOUND_PREFIX
from services.channels.logic.thread_matching import reply_address
from services.channels.logic.uploads import UPLOADS_PREFIX, upload_form
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.events.catalogue import (
    Attachment,
    EmailBounced,
    EmailComplained,
    EmailDelivered,
    EmailReceived,
    EmailSent,
    FieldChange,
    MailVerdicts,
    Person,
    RecipientOutcome,
    TicketCreated,
    TicketUpdated,
)
from tests.channels_desk import (
    ADMIN,
    AGENT,
    AUTHENTICATED,
    BILLING,
    CLIENT,
    SECRET,
    Desk,
    mail_id,
    text_of,
)

THROTTLED = SendFailed("Throttling: Maximum sending rate exceeded.", permanent=False)


@pytest.fixture
def desk() -> Desk:
    return Desk()


@pytest.fixture
def billing(desk: Desk) -> Desk:
    """Billing's address, answering from its signature."""
    desk.channel(signature="Billing")
    return desk


@pytest.fixture
def acknowledging(desk: Desk) -> Desk:
    """Billing's address, acknowledging new tickets with its own words."""
    desk.channel(acknowledge=True, acknowledge_template="Ticket {number} is open: {subject}")
    return desk


def opened(desk: Desk, **mail: Any) -> TicketCreated:
    """A ticket the client's mail opened (acknowledged if the channel says so)."""
    assert desk.receive(**mail) == 1
    (ticket,) = desk.deliver()
    return ticket


# --- channels --------------------------------------------------------------------------------


def test_an_address_belongs_to_one_channel_and_is_free_again_once_it_moves(desk: Desk) -> None:
    # Given Billing's address, moved to another one
    channel = desk.channel("Billing@Example.com")
    assert channel.address == BILLING
    fields = ChannelFields(acknowledge=True, address="money@example.com")
    moved = update_channel(channel.id, fields, ADMIN, desk.deps)
    assert (moved.acknowledge, moved.address) == (True, "money@example.com")
    # Then the old address may be taken again, and the new one is taken
    billing = desk.channel(BILLING, "x")
    with pytest.raises(Conflict):
        desk.channel("MONEY@example.com", "y")
    # And moving another channel onto a taken address is refused the same way, changing nothing
    with pytest.raises(Conflict):
        update_channel(billing.id, ChannelFields(address="money@example.com"), ADMIN, desk.deps)
    assert find_channel(billing.id, ADMIN, desk.deps).address == BILLING
    # When it is deleted, it is gone, and so is its address
    delete_channel(channel.id, ADMIN, desk.deps)
    with pytest.raises(NotFound):
        find_channel(channel.id, ADMIN, desk.deps)
    assert desk.channel("money@example.com", "z").address == "money@example.com"


# --- where mail goes -------------------------------------------------------------------------


def test_mail_is_announced_for_the_department_of_its_address_whatever_its_tag_or_case(
    desk: Desk,
) -> None:
    billing = desk.channel()
    desk.channel("sales@example.com", "sales")
    assert desk.receive(to=["Billing+VIP@Example.com"]) == 1
    (received,) = desk.announced(EmailReceived)
    assert (received.department_id, received.channel_id) == ("billing", billing.id)
    assert received.ticket_id is None


def test_one_mail_to_two_departments_is_announced_once_for_each_and_no_more(desk: Desk) -> None:
    billing = desk.channel()
    sales = desk.channel("sales@example.com", "sales")
    desk.channel("invoices@example.com", "billing")  # Billing's second address
    to = [BILLING, "sales@example.com", "invoices@example.com"]
    mail = desk.mail(to=to, message_id="m2@client")
    # When one mail goes to both departments, to Billing twice (two of its addresses)
    assert desk.receive(mail) == 2
    # And SES delivers it again, and a second SES message carries the same Message-ID
    assert desk.receive(mail) == 0
    assert desk.receive(desk.mail(to=to, message_id="m2@client")) == 0
    # Then it is announced once per department, on the first address of each it was sent to
    announced = {(r.department_id, r.channel_id) for r in desk.announced(EmailReceived)}
    assert announced == {("billing", billing.id), ("sales", sales.id)}
    assert len(desk.announced(EmailReceived)) == 2


def test_mail_to_no_known_address_is_announced_without_a_department(desk: Desk) -> None:
    assert desk.receive(to=["nobody@example.com"]) == 1
    (received,) = desk.announced(EmailReceived)
    assert (received.department_id, received.channel_id, received.ticket_id) == (None, None, None)
    assert desk.quarantine() == []


# --- replies and threading -------------------------------------------------------------------


def test_an_agents_reply_leaves_as_threaded_mail(billing: Desk) -> None:
    # Given a ticket a client opened by mail, copying a colleague
    ticket = opened(billing, cc=["dave@client.example.org"], message_id="first@client.example.org")
    # When an agent replies publicly
    billing.reply(ticket, body="Refund sent.")
    # Then one mail leaves from Billing's address to the client and the CC, in the thread
    (mail,) = billing.sent
    assert mail["Subject"] == f"[{ticket.number}] Invoice"
    assert mail["From"].addresses[0].addr_spec == BILLING
    assert (mail["To"], mail["Cc"]) == (CLIENT, "dave@client.example.org")
    assert mail["In-Reply-To"] == "<first@client.example.org>"
    assert "<first@client.example.org>" in mail["References"]
    assert mail["Reply-To"] == reply_address(BILLING, ticket.number, SECRET, billing.clock.now())
    assert mail["Message-ID"].endswith("@example.com>")
    text = text_of(mail)
    assert "Refund sent." in text
    assert "Billing" in text  # the channel's signature
    assert mail.get_body(preferencelist=("html",)) is not None
    # And the ticket hears it was sent
    (sent,) = billing.announced(EmailSent)
    assert (sent.ticket_id, sent.sender) == (ticket.ticket_id, BILLING)


@pytest.mark.parametrize(
    "how", ["in-reply-to", "references only", "reply-to address only", "subject tag only"]
)
def test_a_client_reply_returns_to_its_ticket(billing: Desk, how: str) -> None:
    # Given the agent answered the client's ticket
    ticket = opened(billing)
    billing.reply(ticket, body="Which card?")
    ours = billing.sent[-1]
    # When the client answers, with their mail client keeping only some of the threading
    kept_only: dict[str, dict[str, Any]] = {
        "in-reply-to": {"in_reply_to": [mail_id(ours)]},
        "references only": {"references": [mail_id(ours)]},
        "reply-to address only": {"to": [str(ours["Reply-To"])], "subject": "no tag here"},
        "subject tag only": {"subject": f"Re: {ours['Subject']}"},
    }
    assert billing.receive(**kept_only[how]) == 1
    # Then the answer continues the ticket, and no new ticket opens
    answer = billing.announced(EmailReceived)[-1]
    assert (answer.ticket_id, answer.department_id) == (ticket.ticket_id, "billing")
    assert billing.deliver() == []


@pytest.mark.parametrize(
    ("sender", "verdicts"),
    [
        ("mallory@evil.example.net", AUTHENTICATED),
        (CLIENT, MailVerdicts(spf="FAIL", dkim="FAIL", dmarc="FAIL")),
    ],
    ids=["stranger", "forged sender"],
)
def test_a_subject_tag_the_sender_may_not_use_opens_a_possible_follow_up(
    billing: Desk, sender: str, verdicts: MailVerdicts
) -> None:
    ticket = opened(billing)
    billing.receive(sender=sender, subject=f"Re: [{ticket.number}] Invoice", verdicts=verdicts)
    new = billing.announced(EmailReceived)[-1]
    assert new.ticket_id is None
    assert new.possible_follow_up_of == ticket.ticket_id


def test_an_expired_reply_to_address_leads_to_no_ticket(billing: Desk) -> None:
    ticket = opened(billing)
    billing.reply(ticket)
    reply_to = str(billing.sent[-1]["Reply-To"])
    billing.clock.advance(timedelta(days=181))
    billing.receive(to=[reply_to], subject="no tag here")
    assert billing.announced(EmailReceived)[-1].ticket_id is None


def test_internal_notes_and_client_messages_are_never_mailed(billing: Desk) -> None:
    ticket = opened(billing)
    billing.reply(ticket, visibility="internal", body=None)
    billing.reply(ticket, author={"type": "client", "email": CLIENT, "name": None})
    assert billing.sent == []


# --- the quarantine --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("verdicts", "reason"),
    [
        (MailVerdicts(virus="FAIL"), "SES found a virus"),
        (MailVerdicts(spam="FAIL"), "SES judged it spam"),
    ],
)
def test_virus_and_spam_wait_in_quarantine_until_an_admin_releases_them_once(
    billing: Desk, verdicts: MailVerdicts, reason: str
) -> None:
    # When such a mail arrives
    assert billing.receive(subject="Prize!", verdicts=verdicts) == 1
    # Then nothing is announced, and admins (only) find it in the quarantine
    assert billing.announced(EmailReceived) == []
    with pytest.raises(Forbidden):
        billing.quarantine(caller=AGENT)
    (kept,) = billing.quarantine()
    assert (kept.reason, kept.received.subject, kept.received.department_id) == (
        reason,
        "Prize!",
        "billing",
    )
    assert kept.received.raw_key.startswith(INBOUND_PREFIX)
    # When an admin releases it, it is announced as if it had just arrived, once
    with pytest.raises(Forbidden):
        billing.release(kept, caller=AGENT)
    released = billing.release(kept)
    assert released.released_by == ADMIN.email
    with pytest.raises(Conflict):
        billing.release(kept)
    (announced,) = billing.announced(EmailReceived)
    assert (announced.subject, announced.department_id) == ("Prize!", "billing")


def test_spam_goes_through_when_the_channel_says_so(desk: Desk) -> None:
    desk.channel(quarantine_spam=False)
    desk.receive(verdicts=MailVerdicts(spam="FAIL"))
    assert len(desk.announced(EmailReceived)) == 1
    assert desk.quarantine() == []


def test_a_virus_in_a_reply_to_a_ticket_is_quarantined_too(billing: Desk) -> None:
    ticket = opened(billing)
    infected = AUTHENTICATED.model_copy(update={"virus": "FAIL"})
    billing.receive(subject=f"Re: [{ticket.number}] Invoice", verdicts=infected)
    (kept,) = billing.quarantine()
    assert (kept.reason, kept.received.ticket_id) == ("SES found a virus", ticket.ticket_id)


def test_mail_to_no_address_of_ours_is_quarantined_when_configured(desk: Desk) -> None:
    desk.change_policy(unknown_address="quarantine")
    desk.receive(to=["nobody@example.com"], subject="Lost mail")
    assert desk.announced(EmailReceived) == []
    (kept,) = desk.quarantine()
    assert kept.reason == "sent to no address of ours"
    # An admin may release it into the department it belongs to
    desk.release(kept, department="sales")
    (announced,) = desk.announced(EmailReceived)
    assert (announced.department_id, announced.subject) == ("sales", "Lost mail")


def test_the_quarantine_pages_newest_first(billing: Desk) -> None:
    for number in range(5):
        billing.receive(subject=f"spam {number}", verdicts=MailVerdicts(spam="FAIL"))
        billing.clock.advance(timedelta(minutes=1))
    first, cursor = billing.deps.quarantine.quarantined(False, 3, None)
    second, last = billing.deps.quarantine.quarantined(False, 3, cursor)
    assert last is None
    subjects = [mail.received.subject for mail in first + second]
    assert subjects == [f"spam {number}" for number in reversed(range(5))]


def test_a_mail_the_parser_gives_up_on_is_quarantined_with_its_raw_mail_kept(
    billing: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a mail SES stored, and a parser that fails on it
    def broken(*args: object) -> None:
        raise RuntimeError("parser bug")

    monkeypatch.setattr("services.channels.logic.mail_parser._parse", broken)
    mail = billing.mail()
    raw = b"From: zed@client.example.org\r\nTo: billing@example.com\r\nSubject: X\r\n\r\nHi\r\n"
    billing.bucket.objects[mail.raw_key] = raw
    # When it arrives, it opens no ticket but waits for an admin, with the raw mail kept
    assert billing.receive(mail) == 1
    assert billing.announced(EmailReceived) == []
    (kept,) = billing.quarantine()
    assert kept.reason == "the mail could not be parsed"
    assert billing.bucket.raw(kept.received.raw_key) == raw


# --- machine mail and acknowledgements -------------------------------------------------------


def test_a_new_ticket_from_mail_is_acknowledged_once(acknowledging: Desk) -> None:
    # When a client writes
    ticket = opened(acknowledging, message_id="first@client.example.org")
    # Then one acknowledgement answers their mail, with the ticket number, marked automatic
    (ack,) = acknowledging.sent
    assert ack["To"] == CLIENT
    assert ack["Subject"] == f"[{ticket.number}] Invoice"
    assert ack["In-Reply-To"] == "<first@client.example.org>"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack.get_content().strip() == f"Ticket {ticket.number} is open: Invoice"
    # And the ticket's creation delivered again sends nothing more
    remember_ticket(ticket, acknowledging.deps)
    assert len(acknowledging.sent) == 1


def test_a_reply_to_an_acknowledgement_returns_to_its_ticket(acknowledging: Desk) -> None:
    ticket = opened(acknowledging)
    (ack,) = acknowledging.sent
    acknowledging.receive(in_reply_to=[mail_id(ack)], subject="Re: thanks")
    assert acknowledging.announced(EmailReceived)[-1].ticket_id == ticket.ticket_id


def test_no_acknowledgement_when_the_channel_does_not_want_them(billing: Desk) -> None:
    opened(billing)
    assert billing.sent == []


@pytest.mark.parametrize(
    ("sender", "headers"),
    [
        (CLIENT, {"Auto-Submitted": "auto-replied"}),
        (CLIENT, {"Precedence": "bulk"}),
        (CLIENT, {"Precedence": "junk"}),
        (CLIENT, {"X-Auto-Response-Suppress": "All"}),
        (CLIENT, {"X-Autoreply": "yes"}),
        (CLIENT, {"X-Failed-Recipients": "nobody@client.example.org"}),
        (CLIENT, {"Content-Type": "multipart/report"}),
        ("MAILER-DAEMON@client.example.org", {}),
        (BILLING, {}),
    ],
    ids=[
        "auto-submitted",
        "bulk",
        "junk",
        "suppress",
        "x-autoreply",
        "failed-recipients",
        "report",
        "mailer-daemon",
        "our-own-address",
    ],
)
def test_machine_mail_opens_no_ticket_and_gets_no_answer(
    acknowledging: Desk, sender: str, headers: dict[str, str]
) -> None:
    assert acknowledging.receive(sender=sender, headers=headers) == 1
    assert acknowledging.announced(EmailReceived) == []
    assert acknowledging.sent == []
    # It is kept, listed apart from the quarantine, for admins only
    (held,) = acknowledging.quarantine(held=True)
    assert held.received.sender.email == sender.lower()
    assert held.received.automated is not None
    assert acknowledging.quarantine() == []
    with pytest.raises(Forbidden):
        acknowledging.quarantine(held=True, caller=AGENT)


def test_held_machine_mail_can_be_released_into_a_ticket_once(acknowledging: Desk) -> None:
    # Given a person's mail that looked automatic (their client marks everything bulk)
    acknowledging.receive(headers={"Precedence": "bulk"})
    (held,) = acknowledging.quarantine(held=True)
    # When an admin releases it
    acknowledging.release(held)
    # Then it opens its ticket, unacknowledged (it still looks automatic), and only once
    (ticket,) = acknowledging.deliver()
    assert ticket.requester.email == CLIENT
    assert acknowledging.sent == []
    with pytest.raises(Conflict):
        acknowledging.release(held)


def test_an_out_of_office_reply_joins_its_ticket_marked_automatic_and_unanswered(
    acknowledging: Desk,
) -> None:
    # Given a ticket the client's mail opened and an agent answered
    ticket = opened(acknowledging)
    acknowledging.reply(ticket, body="Which invoice?")
    answer = acknowledging.sent[-1]
    # When the client's autoresponder answers our mail
    acknowledging.receive(
        subject=f"Out of office: {answer['Subject']}",
        in_reply_to=[mail_id(answer)],
        headers={"Auto-Submitted": "auto-replied"},
    )
    # Then it continues the ticket, marked as a machine's (the ticket keeps waiting on the
    # client), and nobody answers it
    (_, autoreply) = acknowledging.announced(EmailReceived)
    assert autoreply.ticket_id == ticket.ticket_id
    assert autoreply.automated == "Auto-Submitted: auto-replied"
    assert acknowledging.deliver() == []
    assert len(acknowledging.sent) == 2  # the acknowledgement and the agent's answer only


def test_list_mail_answering_a_ticket_joins_it_as_a_persons_mail(billing: Desk) -> None:
    ticket = opened(billing)
    billing.reply(ticket, body="Which invoice?")
    answer = billing.sent[-1]
    billing.receive(
        in_reply_to=[mail_id(answer)],
        headers={"List-Id": "<team.client.example.org>"},
    )
    # Not a machine's: the ticket opens again for it
    (_, through_list) = billing.announced(EmailReceived)
    assert (through_list.ticket_id, through_list.automated) == (ticket.ticket_id, None)


def test_a_person_writing_is_not_machine_mail() -> None:
    assert automated_reason({"auto-submitted": "no"}, CLIENT, ours=False) is None
    assert automated_reason({"precedence": "first-class"}, CLIENT, ours=False) is None
    assert automated_reason({"content-type": "multipart/report"}, CLIENT, ours=False)


@pytest.mark.parametrize(
    ("headers", "held"),
    [
        ({"List-Id": "<customers.client.example.org>"}, False),
        ({"Precedence": "list"}, False),
        ({"Precedence": "bulk", "List-Id": "<news.client.example.org>"}, True),
        ({"Auto-Submitted": "auto-generated"}, True),
    ],
    ids=["list-id", "precedence list", "bulk list", "auto-submitted"],
)
def test_list_mail_opens_a_ticket_without_acknowledgement_while_machine_mail_is_held(
    acknowledging: Desk, headers: dict[str, str], held: bool
) -> None:
    # When mail comes through a list (a client's team writes from its group address) or is bulk
    acknowledging.receive(headers=headers)
    tickets = acknowledging.deliver()
    # Then list mail is a ticket like any other, and bulk or automatic mail is held; neither is
    # ever answered by an acknowledgement
    kept = acknowledging.quarantine(held=True)
    assert (len(tickets), len(kept)) == ((0, 1) if held else (1, 0))
    assert acknowledging.sent == []


def test_no_acknowledgement_goes_to_a_sender_who_failed_to_authenticate(
    acknowledging: Desk,
) -> None:
    opened(acknowledging, verdicts=MailVerdicts(spf="PASS", dkim="FAIL"))
    assert acknowledging.sent == []


def test_the_acknowledgement_shows_the_subject_as_one_line_cut_to_80_characters(
    acknowledging: Desk,
) -> None:
    # When a client writes with a very long subject
    subject = "Invoice " + "very " * 40 + "END"
    ticket = opened(acknowledging, subject=subject)
    # Then the ticket keeps it whole, and the acknowledgement shows its first 80 characters
    assert ticket.subject == subject
    (ack,) = acknowledging.sent
    shown = ack.get_content().strip().removeprefix(f"Ticket {ticket.number} is open: ")
    assert len(shown) == 80
    assert subject.startswith(shown.rstrip("…"))
    assert "END" not in ack.get_content()


def test_a_sender_gets_at_most_the_hourly_number_of_acknowledgements(acknowledging: Desk) -> None:
    limit = acknowledging.deps.policy.acknowledgements.per_sender
    for _ in range(limit + 3):
        acknowledging.receive()
    assert len(acknowledging.deliver()) == limit + 3
    assert len(acknowledging.sent) == limit
    # The next hour brings a new allowance
    acknowledging.clock.advance(timedelta(hours=1))
    opened(acknowledging)
    assert len(acknowledging.sent) == limit + 1


def test_a_mail_delivered_again_costs_no_acknowledgement(acknowledging: Desk) -> None:
    limit = acknowledging.deps.policy.acknowledgements.per_sender
    # Given one mail that reaches us more times than the hourly limit (SES redelivering it)
    for _ in range(limit + 1):
        acknowledging.receive(message_id="same@client.example.org")
    # When the sender then writes as many new mails as the limit leaves
    for _ in range(limit - 1):
        acknowledging.receive()
    # Then every ticket was acknowledged: the repeats opened nothing and took no slot
    assert len(acknowledging.deliver()) == limit
    assert len(acknowledging.sent) == limit


def test_a_channel_sends_at_most_its_hourly_number_of_acknowledgements(
    acknowledging: Desk,
) -> None:
    acknowledging.change_policy(acknowledgements=HourlyLimits(per_sender=5, per_channel=3))
    # When five clients write within the hour (each within their own hourly allowance)
    for number in range(5):
        acknowledging.receive(sender=f"client{number}@client.example.org")
    # Then five tickets open, and the channel answered only three of them
    assert len(acknowledging.deliver()) == 5
    assert len(acknowledging.sent) == 3


def test_a_sender_opening_too_many_tickets_is_held_then_released(billing: Desk) -> None:
    billing.change_policy(tickets_per_sender_per_hour=3)
    # When one sender writes five new mails within the hour, one of them delivered twice
    again = billing.mail(message_id="again@client.example.org")
    assert [billing.receive(again), billing.receive(again)] == [1, 0]
    for _ in range(4):
        billing.receive()
    # Then three tickets open (the repeat costs nothing), and the rest is held, saying why
    assert len(billing.deliver()) == 3
    held = billing.quarantine(held=True)
    assert len(held) == 2
    assert all("3 new tickets an hour" in mail.reason for mail in held)
    # And another sender is not affected
    billing.receive(sender="dave@client.example.org")
    assert len(billing.deliver()) == 1
    # When an admin releases a held mail, it opens its ticket
    billing.release(held[0])
    assert len(billing.deliver()) == 1
    # And a reply to one of the sender's tickets is never held
    billing.receive(subject=f"Re: [{next(iter(billing.tickets.values())).number}] Invoice")
    assert billing.announced(EmailReceived)[-1].ticket_id is not None


# --- sending and its outcome -----------------------------------------------------------------


def test_sending_is_retried_while_ses_throttles_then_recorded_as_failed(billing: Desk) -> None:
    # Given a reply, and SES that answers "throttled" every time
    ticket = opened(billing)
    billing.sender.fail(THROTTLED, times=MAX_SEND_ATTEMPTS + 1)
    posted = billing.message(ticket)
    # When the event is delivered again and again (the queue hands it back after each failure)
    for _ in range(MAX_SEND_ATTEMPTS - 1):
        with pytest.raises(SendFailed):
            follow_message(posted, billing.deps)
    follow_message(posted, billing.deps)
    # Then the last attempt gave up without raising, and once more changes nothing
    follow_message(posted, billing.deps)
    assert billing.sender.attempts == MAX_SEND_ATTEMPTS
    stored = billing.outbound.of_message(posted.message_id)
    assert stored is not None
    assert (stored.state, stored.attempts) == ("failed", MAX_SEND_ATTEMPTS + 1)
    (failed,) = billing.announced(EmailBounced)
    assert (failed.kind, failed.permanent) == ("failed", False)
    assert failed.reason is not None
    assert "Throttling" in failed.reason


def test_a_reply_that_goes_out_on_a_later_attempt_is_sent_once(billing: Desk) -> None:
    ticket = opened(billing)
    billing.sender.fail(THROTTLED)
    posted = billing.message(ticket)
    with pytest.raises(SendFailed):
        follow_message(posted, billing.deps)
    follow_message(posted, billing.deps)
    follow_message(posted, billing.deps)  # delivered again after it went out
    assert len(billing.sent) == 1
    assert len(billing.announced(EmailSent)) == 1
    assert billing.announced(EmailBounced) == []


def test_a_reply_ses_refuses_is_failed_at_once_and_not_sent_again(billing: Desk) -> None:
    ticket = opened(billing)
    billing.sender.fail(SendFailed("MessageRejected: Email address is not verified.", True))
    posted = billing.reply(ticket)
    follow_message(posted, billing.deps)
    assert billing.sender.attempts == 1
    (failed,) = billing.announced(EmailBounced)
    assert (failed.kind, failed.permanent) == ("rejected", True)
    assert [r.email for r in failed.recipients] == [CLIENT]


def test_a_reply_carries_the_files_the_agent_attached(billing: Desk) -> None:
    # Given a file uploaded through the form the service gave
    pdf = b"%PDF-1.4 refund receipt"
    form = upload_form("receipt 11/2026.pdf", "application/pdf", len(pdf), billing.deps)
    assert form.key.startswith(UPLOADS_PREFIX)
    assert billing.bucket.post(form.key, pdf)
    attachment = Attachment(
        name="receipt 11/2026.pdf", content_type="application/pdf", size=len(pdf), key=form.key
    )
    # When an agent's reply names it
    billing.reply(opened(billing), attachments=[attachment])
    # Then it goes out with the mail, and is kept as long as the message
    (mail,) = billing.sent
    (attached,) = list(mail.iter_attachments())
    assert attached.get_filename() == "receipt 11/2026.pdf"
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_content() == pdf
    assert billing.bucket.tags[form.key] == "named"


def test_a_reply_whose_file_never_arrived_fails_visibly(billing: Desk) -> None:
    form = upload_form("a.pdf", "application/pdf", 9, billing.deps)
    missing = Attachment(name="a.pdf", content_type="application/pdf", size=9, key=form.key)
    billing.reply(opened(billing), attachments=[missing])
    (failed,) = billing.announced(EmailBounced)
    assert (failed.kind, failed.permanent) == ("rejected", True)
    assert {r.email: r.detail for r in failed.recipients} == {
        CLIENT: "the attachment a.pdf was never uploaded"
    }
    assert billing.sent == []


def test_an_attachment_name_with_a_line_break_is_sent_with_a_clean_name(billing: Desk) -> None:
    # Given a reply naming an uploaded file whose name holds CR LF
    key = f"{UPLOADS_PREFIX}f1/receipt.pdf"
    billing.bucket.objects[key] = b"%PDF-1.4"
    name = "receipt\r\nBcc: eve@evil.example.pdf"
    attachment = Attachment(name=name, content_type="application/pdf", size=8, key=key)
    # When it is mailed (nothing raised to the queue)
    billing.reply(opened(billing), attachments=[attachment])
    # Then the file went out under its name on one line
    (mail,) = billing.sent
    (attached,) = list(mail.iter_attachments())
    assert attached.get_filename() == "receipt Bcc: eve@evil.example.pdf"
    assert attached.get_content() == b"%PDF-1.4"
    assert mail["Bcc"] is None
    assert [sent.message_id for sent in billing.announced(EmailSent)] == [mail_id(mail)]


def test_a_reply_that_cannot_be_written_is_failed_for_good_and_announced(billing: Desk) -> None:
    # Given a reply copied to an address no mail header can carry
    ticket = opened(billing, cc=["kim\u2028@client.example.org"])
    posted = billing.message(ticket)
    # When it is handled, and handled again (the event delivered twice)
    follow_message(posted, billing.deps)
    follow_message(posted, billing.deps)
    # Then nothing went out (it was tried once), and the failure is announced with its reason
    assert billing.sender.attempts == 0
    stored = billing.outbound.of_message(posted.message_id)
    assert stored is not None
    assert (stored.state, stored.attempts) == ("failed", 2)
    (failed,) = billing.announced(EmailBounced)
    assert (failed.kind, failed.permanent) == ("failed", True)
    assert failed.reason is not None
    assert failed.reason.startswith("the mail could not be written")
    assert failed.ticket_message_id == posted.message_id
    assert {r.email for r in failed.recipients} == {CLIENT, "kim\u2028@client.example.org"}


def test_an_acknowledgement_that_cannot_be_written_is_kept_as_failed(acknowledging: Desk) -> None:
    # Given a new ticket to acknowledge, for a requester no mail header can carry
    acknowledging.receive(sender="carol\u2028@client.example.org")
    # When it is remembered (nothing raised to the queue)
    (ticket,) = acknowledging.deliver()
    # Then nothing went out, and the failure is kept and announced
    assert acknowledging.sender.attempts == 0
    stored = acknowledging.outbound.of_message(f"ack-{ticket.ticket_id}")
    assert stored is not None
    assert stored.state == "failed"
    (failed,) = acknowledging.announced(EmailBounced)
    assert (failed.ticket_message_id, failed.kind) == (None, "failed")


def test_reports_about_a_reply_reach_its_ticket_per_recipient(billing: Desk) -> None:
    # Given a reply sent to the client and a colleague
    ticket = opened(billing, cc=["dave@client.example.org"])
    posted = billing.reply(ticket)
    (sent,) = billing.sender.sent
    at = billing.clock.now()

    def report(kind: Literal["delivery", "bounce", "complaint"], to: str, **details: Any) -> None:
        outcomes = [RecipientOutcome(email=to, detail="250 OK")]
        assert record_report(
            DeliveryReport(kind, sent.ses_message_id, outcomes, at, **details), billing.deps
        )

    # When SES reports a delivery to one, a hard bounce and a complaint about the other
    report("delivery", CLIENT)
    report("bounce", "dave@client.example.org", permanent=True, reason="Permanent / General")
    report("complaint", "dave@client.example.org", feedback_type="abuse")
    # Then each reaches the ticket's message, naming its recipients
    (delivered,) = billing.announced(EmailDelivered)
    (bounced,) = billing.announced(EmailBounced)
    (complained,) = billing.announced(EmailComplained)
    for event in (delivered, bounced, complained):
        assert (event.ticket_id, event.ticket_message_id) == (ticket.ticket_id, posted.message_id)
    assert [r.email for r in delivered.recipients] == [CLIENT]
    assert (bounced.kind, bounced.permanent, bounced.reason) == (
        "bounce",
        True,
        "Permanent / General",
    )
    assert complained.feedback_type == "abuse"


def test_a_report_about_an_acknowledgement_reaches_its_ticket_without_a_message(
    acknowledging: Desk,
) -> None:
    ticket = opened(acknowledging)
    (ack,) = acknowledging.sender.sent
    bounce = DeliveryReport(
        "bounce", ack.ses_message_id, [RecipientOutcome(email=CLIENT)], acknowledging.clock.now()
    )
    assert record_report(bounce, acknowledging.deps)
    (bounced,) = acknowledging.announced(EmailBounced)
    assert (bounced.ticket_id, bounced.ticket_message_id) == (ticket.ticket_id, None)


def test_a_report_about_mail_of_no_ticket_is_ignored(desk: Desk) -> None:
    report = DeliveryReport("delivery", "unknown", [], desk.clock.now())
    assert not record_report(report, desk.deps)
    assert desk.outbox == []


# --- erasure ---------------------------------------------------------------------------------


def test_erasing_a_requester_deletes_the_mail_they_sent_and_its_files(billing: Desk) -> None:
    # Given a ticket opened by a mail whose raw MIME and an attachment are in the bucket
    mail = billing.mail()
    billing.bucket.objects[mail.raw_key] = b"raw"
    billing.bucket.objects[f"attachments/{mail.ses_message_id}/1-passport.jpg"] = b"jpg"
    billing.bucket.objects["inbound/someone-else"] = b"raw"
    billing.receive(mail)
    (ticket,) = billing.deliver()
    # When the requester's personal data is erased
    erased = {"email": "erased-1@erased.invalid", "name": None}
    change = FieldChange(field="requester", old={"email": CLIENT}, new=erased)
    follow_requester(
        TicketUpdated(
            ticket_id=ticket.ticket_id,
            number=ticket.number,
            changes=[change],
            actor="system",
            version=2,
            updated_at="2026-11-02T10:00:00.000Z",
        ),
        billing.deps,
    )
    # Then their mail is gone, the thread forgot their address, and no reply would reach them
    assert list(billing.bucket.objects) == ["inbound/someone-else"]
    assert billing.deps.received_mail.mail_from(CLIENT) == []
    thread = billing.deps.threads.thread(ticket.ticket_id)
    assert thread is not None
    assert thread.requester == erased["email"]
    billing.reply(ticket, requester=Person(email=str(erased["email"])))
    assert billing.sent == []


def test_a_note_keeps_the_files_of_its_upload_folders(billing: Desk) -> None:
    form = upload_form("a.pdf", "application/pdf", 3, billing.deps)
    assert billing.bucket.post(form.key, b"pdf")
    folder = form.key.rsplit("/", 1)[0] + "/"
    ticket = opened(billing)
    billing.reply(ticket, visibility="internal", body=None, note_uploads=[folder])
    assert billing.bucket.tags[form.key] == "named"
    assert billing.sent == []


def test_a_departments_first_address_answers_its_tickets_that_name_no_channel(
    desk: Desk,
) -> None:
    first = desk.channel()
    desk.clock.advance(timedelta(minutes=1))
    desk.channel("invoices@example.com", "billing")
    ticket = TicketCreated(
        ticket_id="t9",
        number="TKT-0009",
        subject="Call me",
        status="open",
        priority="medium",
        department_id="billing",
        requester=Person(email=CLIENT),
        created_at="2026-11-02T09:00:00.000Z",
    )
    desk.reply(ticket)
    (mail,) = desk.sent
    assert mail["From"].addresses[0].addr_spec == first.address


def test_a_channel_must_be_at_the_deployments_mail_domain(desk: Desk) -> None:
    desk.change_policy(mail_domain="example.com")
    with pytest.raises(Invalid) as refused:
        desk.channel("sales@elsewhere.example.net", "sales")
    assert [e.field for e in refused.value.errors] == ["address"]
    channel = desk.channel("Sales@Example.com", "sales")
    with pytest.raises(Invalid):
        update_channel(channel.id, ChannelFields(address="sales@0.com"), ADMIN, desk.deps)
