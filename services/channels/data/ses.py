"""Sending raw mail through SES: the headers (Message-ID, threading) are ours, not SES's."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from services.channels.logic.delivery import SendFailed
from shared.aws import client
from shared.settings import get_settings

# SES's answers that sending again cannot change; anything else (throttling, an outage) may pass.
REFUSALS = frozenset(
    {
        "MessageRejected",
        "MailFromDomainNotVerifiedException",
        "ConfigurationSetDoesNotExistException",
        "ConfigurationSetSendingPausedException",
        "AccountSendingPausedException",
        "InvalidParameterValue",
        # IAM: the functions may send only from the support domain; trying again changes nothing.
        "AccessDenied",
        "AccessDeniedException",
    }
)


class SesMailSender:
    def send(self, sender: str, recipients: list[str], raw: bytes) -> str:
        """Send; returns SES's message id, which its delivery reports will name."""
        try:
            answer = client("ses").send_raw_email(
                Source=sender,
                Destinations=recipients,
                RawMessage={"Data": raw},
                ConfigurationSetName=get_settings().mail_configuration_set,
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            message = error.response.get("Error", {}).get("Message", "")
            raise SendFailed(f"{code}: {message}", permanent=code in REFUSALS) from error
        except BotoCoreError as error:  # no answer at all: the endpoint is down or unreachable
            raise SendFailed(str(error), permanent=False) from error
        return str(answer["MessageId"])
