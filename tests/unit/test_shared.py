"""The shared library's small parts: identity, errors, settings, clock, envelope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel, ValidationError

from shared.aws import client
from shared.clock import FixedClock, SystemClock, isoformat
from shared.errors import Invalid, NotFound, Unauthorized, invalid_from_pydantic
from shared.events.catalogue import Person, TicketCreated
from shared.events.envelope import OutgoingEvent
from shared.identity import caller_from_claims
from shared.secrets import resolve_secret
from shared.settings import Settings

SIGNED_IN = {"sub": "7f3e2b1c-0000-4000-8000-000000000001", "email_verified": "true"}


@pytest.mark.parametrize(
    ("claims", "role"),
    [
        ({"email": "A@X.org", "cognito:groups": ["admin"]}, "admin"),
        ({"email": "a@x.org", "cognito:groups": "[admin agents]"}, "admin"),  # API Gateway's form
        ({"email": "a@x.org", "cognito:groups": "agents,admin"}, "admin"),
        ({"email": "a@x.org", "cognito:groups": ["administrators"]}, "agent"),
        ({"email": "a@x.org"}, "agent"),
    ],
)
def test_the_role_comes_from_the_cognito_groups(claims: dict[str, object], role: str) -> None:
    caller = caller_from_claims({**SIGNED_IN, **claims})
    assert (caller.email, caller.role) == ("a@x.org", role)


@pytest.mark.parametrize("verified", ["true", "True", True])
def test_the_caller_is_the_tokens_subject_with_its_verified_email(verified: object) -> None:
    # Given claims as a Cognito ID token has them (a JSON boolean) or as API Gateway passes them
    claims = {"sub": "7f3e2b1c", "email": "a@x.org", "email_verified": verified}

    # When the caller is read from them
    caller = caller_from_claims(claims)

    # Then the caller is that subject, with that email
    assert (caller.subject, caller.email, caller.role) == ("7f3e2b1c", "a@x.org", "agent")


@pytest.mark.parametrize(
    "claims",
    [None, {}, {**SIGNED_IN, "cognito:groups": ["admin"]}, {**SIGNED_IN, "email": ""}],
)
def test_no_email_claim_means_not_signed_in(claims: dict[str, object] | None) -> None:
    with pytest.raises(Unauthorized):
        caller_from_claims(claims)


@pytest.mark.parametrize("subject", [None, ""])
def test_a_token_without_a_subject_is_refused(subject: str | None) -> None:
    claims = {"sub": subject, "email": "a@x.org", "email_verified": "true"}
    with pytest.raises(Unauthorized, match="subject"):
        caller_from_claims(claims)


@pytest.mark.parametrize("verified", ["false", False, None, "", "yes"])
def test_an_email_not_verified_is_refused(verified: object) -> None:
    # Given a token whose email its user typed in but never confirmed (or says nothing of it)
    claims = {"sub": "7f3e2b1c", "email": "someone.else@x.org", "email_verified": verified}

    # Then it signs nobody in: that address may be another agent's
    with pytest.raises(Unauthorized, match="not verified"):
        caller_from_claims(claims)


def test_problems_follow_rfc_9457() -> None:
    problem = NotFound("No ticket 'x'.").to_problem("/tickets/x")
    assert problem == {
        "type": "https://helpdesk.dev/problems/not-found",
        "title": "Not found",
        "status": 404,
        "detail": "No ticket 'x'.",
        "instance": "/tickets/x",
    }


def test_validation_errors_name_nested_fields() -> None:
    class Inner(BaseModel):
        email: str

    class Outer(BaseModel):
        inner: Inner
        tags: list[int]

    with pytest.raises(ValidationError) as caught:
        Outer.model_validate({"inner": {}, "tags": [1, "x"]})
    error = invalid_from_pydantic(caught.value, location="query")
    assert isinstance(error, Invalid)
    assert [e.field for e in error.errors] == ["query.inner.email", "query.tags.1"]


def test_names_come_from_one_prefix_and_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPDESK_STAGE", "prod")
    settings = Settings()
    assert settings.table_name("tickets") == "helpdesk-prod-tickets"
    assert settings.queue_name("sla") == "helpdesk-prod-sla-events"
    assert settings.bus_name == "helpdesk-prod-bus"


def test_bad_settings_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPDESK_TICKET_PREFIX", "tkt lower")
    with pytest.raises(ValidationError, match="ticket_prefix"):
        Settings()


def test_the_clock_moves_forward_only() -> None:
    clock = SystemClock()
    before = clock.now()
    assert clock.advance(timedelta(hours=2)) - before >= timedelta(hours=2)
    with pytest.raises(ValueError, match="forward"):
        clock.advance(timedelta(minutes=-1))
    fixed = FixedClock(datetime(2026, 3, 29, 0, 30, tzinfo=UTC))
    assert isoformat(fixed.advance(timedelta(minutes=90))) == "2026-03-29T02:00:00.000Z"


def test_an_event_travels_in_its_envelope() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    data = TicketCreated(
        ticket_id="t",
        number="TKT-0001",
        subject="s",
        status="open",
        priority="low",
        department_id=None,
        requester=Person(email="a@b.c"),
        created_at=isoformat(now),
    )
    event = OutgoingEvent.of(data, now, correlation_id="req-1")
    entry = event.to_put_events_entry("bus")
    assert (entry["Source"], entry["DetailType"], entry["EventBusName"]) == (
        "helpdesk.tickets",
        "TicketCreated",
        "bus",
    )
    assert event.envelope.occurred_at == "2026-01-02T03:04:05.000Z"
    assert event.envelope.schema_version == TicketCreated.schema_version == 3
    assert event.envelope.data["requester"] == {"email": "a@b.c", "name": None}
    assert OutgoingEvent.of(data, now).envelope.id != event.envelope.id


def test_a_secret_is_read_by_reference_from_ssm_or_secrets_manager(aws: None) -> None:
    client("ssm").put_parameter(
        Name="/helpdesk/test/reply-token-secret", Value="from-parameter-store", Type="SecureString"
    )
    arn = client("secretsmanager").create_secret(Name="reply", SecretString="from-secrets")["ARN"]
    assert resolve_secret(None, "/helpdesk/test/reply-token-secret") == "from-parameter-store"
    assert resolve_secret(None, arn) == "from-secrets"
    # A value given directly wins (the laptop), and no reference means no secret
    assert resolve_secret("given", arn) == "given"
    assert resolve_secret(None, None) is None
