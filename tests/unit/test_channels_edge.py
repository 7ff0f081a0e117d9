"""The channels functions read AWS's events at the edge: an SES receipt event and SES's reports
through SNS become the typed values the use cases take."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from services.channels.handlers.mail import SesReceiptEvent, received_mail
from services.channels.handlers.reports import delivery_report
from services.channels.logic.delivery_reports import DeliveryReport
from shared.events.catalogue import MailVerdicts, Person, RecipientOutcome
from tests.conftest import CORPUS

SES_RECEIPT = CORPUS / "events" / "aws-docs" / "ses-lambda-action-event.json"
SNS_IN_SQS = CORPUS / "events" / "powertools" / "snsSqsEvent.json"
# A bounce notification as SES's documentation shows it.
BOUNCE = {
    "notificationType": "Bounce",
    "bounce": {
        "bounceType": "Permanent",
        "reportingMTA": "dns; email.example.com",
        "bouncedRecipients": [
            {
                "emailAddress": "jane@example.com",
                "status": "5.1.1",
                "action": "failed",
                "diagnosticCode": "smtp; 550 5.1.1 <jane@example.com>... User",
            }
        ],
        "bounceSubType": "General",
        "timestamp": "2016-01-27T14:59:38.237Z",
        "feedbackId": "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000",
        "remoteMtaIp": "127.0.2.0",
    },
    "mail": {
        "timestamp": "2016-01-27T14:59:38.237Z",
        "source": "john@example.com",
        "sourceArn": "arn:aws:ses:us-east-1:888888888888:identity/example.com",
        "sourceIp": "127.0.3.0",
        "sendingAccountId": "123456789012",
        "callerIdentity": "IAM_user_or_role_name",
        "messageId": "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000",
        "destination": ["jane@example.com"],
    },
}


@pytest.mark.corpus
@pytest.mark.skipif(not SES_RECEIPT.exists(), reason="../shared/corpus/events is not present")
def test_an_ses_receipt_event_becomes_the_mail_received() -> None:
    (record,) = SesReceiptEvent.model_validate_json(SES_RECEIPT.read_text()).Records
    received = received_mail(record)
    ses_message_id = "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000"
    assert (received.ses_message_id, received.raw_key) == (
        ses_message_id,
        f"inbound/{ses_message_id}",
    )
    assert received.received_at == datetime(2019, 8, 5, 21, 30, 2, 28000, tzinfo=UTC)
    assert received.recipients == ["recipient@example.com"]
    # powertools' SES model has no DKIM verdict: ours reads it too
    assert received.verdicts == MailVerdicts(
        spam="PASS", virus="PASS", spf="PASS", dkim="PASS", dmarc="GRAY"
    )
    summary = received.summary
    assert summary.sender == Person(email="sender@example.com", name="Doe, John")
    assert summary.message_id == "F8098FDD-49A3-442D-9935-F6112B195BDA@example.com"
    assert summary.in_reply_to == ["1FCED16B-F6B0-4506-A6F0-594DFexample@example.com"]
    assert summary.headers["precedence"] == "Bulk"


@pytest.mark.corpus
@pytest.mark.skipif(not SNS_IN_SQS.exists(), reason="../shared/corpus/events is not present")
def test_an_ses_report_through_sns_becomes_a_delivery_report() -> None:
    (record,) = json.loads(SNS_IN_SQS.read_text())["Records"]
    envelope = json.loads(record["body"])
    report = delivery_report(json.dumps({**envelope, "Message": json.dumps(BOUNCE)}))
    assert report == DeliveryReport(
        "bounce",
        "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000",
        [
            RecipientOutcome(
                email="jane@example.com", detail="smtp; 550 5.1.1 <jane@example.com>... User"
            )
        ],
        datetime(2016, 1, 27, 14, 59, 38, 237000, tzinfo=UTC),
        permanent=True,
        reason="Permanent / General",
    )
