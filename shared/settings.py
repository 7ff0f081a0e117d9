"""Settings read from the environment once, validated, and shared by every service.

Physical resource names are derived from one prefix here, so the infrastructure templates, the
local stack and the services agree on them without repeating strings.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any, Literal

from pydantic import ConfigDict, Field
from pydantic.config import JsonDict

from shared.model import Model

# How a setting reaches a deployment (`json_schema_extra["deploy"]` of each field):
# - "parameter": an operator sets it as a stack parameter; every function gets it;
# - "stack": the stacks set it themselves (stage, account, region, user pool);
# - "local": it means something only on a laptop or in tests, never in AWS.
PARAMETER: JsonDict = {"deploy": "parameter"}
STACK: JsonDict = {"deploy": "stack"}
LOCAL: JsonDict = {"deploy": "local"}


ENV_PREFIX = "HELPDESK_"


class Settings(Model):
    """Each field comes from the argument of that name (or alias), else from the environment:
    `HELPDESK_<FIELD>`, or the alias itself where there is one, in any case, else its default.

    A plain model reading `os.environ`, as pydantic-settings would: that library alone cost every
    cold start about half a bare `import boto3`.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    def __init__(self, **values: Any) -> None:
        super().__init__(**{**self.environment_values(), **values})

    @classmethod
    def environment_values(cls) -> dict[str, str]:
        """The fields set in the environment, by the name the model validates them under."""
        # An empty variable means "not set": a stack parameter left blank keeps the default.
        environment = {name.lower(): value for name, value in os.environ.items() if value}
        values = {}
        for name, info in cls.model_fields.items():
            key = info.validation_alias if isinstance(info.validation_alias, str) else None
            variable = key or f"{ENV_PREFIX}{name}"
            if (value := environment.get(variable.lower())) is not None:
                values[key or name] = value
        return values

    stage: str = Field(
        "local", description="Deployment stage: local, dev, prod, ...", json_schema_extra=STACK
    )
    resource_prefix: str = Field(
        "helpdesk",
        pattern=r"^[a-z][a-z0-9-]{1,30}$",
        description="First part of every resource name",
        json_schema_extra=STACK,
    )
    region: str = Field("eu-west-1", validation_alias="AWS_DEFAULT_REGION", json_schema_extra=STACK)
    # Part of globally unique names (the mail bucket); the emulator's default account locally.
    account_id: str = Field("123456789012", description="AWS account id", json_schema_extra=STACK)
    # Points boto3 and pynamodb at the emulator; None in AWS.
    endpoint_url: str | None = Field(
        None, validation_alias="AWS_ENDPOINT_URL", json_schema_extra=LOCAL
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Least severe level the functions log", json_schema_extra=PARAMETER
    )
    ticket_prefix: str = Field(
        "TKT",
        pattern=r"^[A-Z][A-Z0-9]{0,9}$",
        description="Ticket numbers start with it: TKT-0042",
        json_schema_extra=PARAMETER,
    )
    ticket_number_width: int = Field(
        4,
        ge=1,
        le=12,
        description="Digits of a ticket number, zero-padded",
        json_schema_extra=PARAMETER,
    )
    triage_department: str | None = Field(
        None,
        description="Id of the department whose members also work tickets without a department",
        json_schema_extra=PARAMETER,
    )
    # Signs the reply-to addresses of outgoing mail; without it none are given out or accepted.
    reply_token_secret: str | None = Field(None, min_length=16, json_schema_extra=LOCAL)
    # In AWS, where the secret is: the stacks set the SSM SecureString parameter
    # `reply_token_parameter`; a Secrets Manager ARN works too where the policy grants it.
    reply_token_secret_ref: str | None = Field(None, json_schema_extra=STACK)
    acknowledgements_per_hour: int = Field(
        5,
        ge=0,
        description="At most this many acknowledgements per sender per hour",
        json_schema_extra=PARAMETER,
    )
    acknowledgements_per_channel_per_hour: int = Field(
        100,
        ge=0,
        description="At most this many acknowledgements per channel per hour, all senders together",
        json_schema_extra=PARAMETER,
    )
    tickets_per_sender_per_hour: int = Field(
        20,
        ge=1,
        description="New tickets one sender may open by mail per hour; mail beyond is held for "
        "an admin",
        json_schema_extra=PARAMETER,
    )
    reply_token_days: int = Field(
        180,
        ge=1,
        description="Days a reply-to address given out in a mail leads back to its ticket",
        json_schema_extra=PARAMETER,
    )
    raw_mail_days: int = Field(
        90,
        ge=1,
        description="Days the mail bucket keeps received mail as SES stored it (read once, on "
        "arrival; its text and attachments stay with the ticket)",
        json_schema_extra=PARAMETER,
    )
    unknown_address_mail: Literal["triage", "quarantine"] = Field(
        "triage",
        description="Mail to no known address: a ticket without a department, or quarantine",
        json_schema_extra=PARAMETER,
    )
    auto_close_after: float = Field(
        4,
        ge=0,
        description="Days a resolved ticket stays resolved before it closes by itself (fractions "
        "allowed); 0: never",
        json_schema_extra=PARAMETER,
    )
    remind_after: float = Field(
        0,
        ge=0,
        description="Days a ticket waits on the client before they get one reminder by mail; "
        "0: no reminder",
        json_schema_extra=PARAMETER,
    )
    close_after_waiting: float = Field(
        0,
        ge=0,
        description="Days a ticket waits on the client before it is resolved by itself; 0: never",
        json_schema_extra=PARAMETER,
    )
    csat_mail: bool = Field(
        True,
        description="When a ticket is resolved, mail the client two links to rate it good or bad "
        "(valid 14 days); false: no rating mail",
        json_schema_extra=PARAMETER,
    )
    csat_delay: int = Field(
        0,
        ge=0,
        description="Minutes after a ticket is resolved that its rating mail goes, if the ticket "
        "is still resolved or closed then; 0: when it is resolved",
        json_schema_extra=PARAMETER,
    )
    # How often the local stack runs the sweeps that run every minute in AWS (SLA breaches,
    # grouped notifications, tickets' automatic steps).
    sla_sweep_seconds: float = Field(60, gt=0, json_schema_extra=LOCAL)
    crm_provider: Literal["hubspot"] | None = Field(
        None,
        description="The CRM whose contacts are kept in step; empty: no CRM sync",
        json_schema_extra=PARAMETER,
    )
    crm_hubspot_base_url: str = Field(
        "https://api.hubapi.com", description="HubSpot's API address", json_schema_extra=PARAMETER
    )
    crm_hubspot_portal_id: str | None = Field(
        None,
        description="The HubSpot account's id, for links to its records",
        json_schema_extra=PARAMETER,
    )
    # The private app's access token and the app's client secret (signs webhooks): the values on
    # a laptop; in AWS `*_ref` names an SSM SecureString parameter or a Secrets Manager ARN.
    crm_hubspot_token: str | None = Field(None, json_schema_extra=LOCAL)
    crm_hubspot_token_ref: str | None = Field(
        None,
        description="SSM SecureString name or Secrets Manager ARN of HubSpot's access token",
        json_schema_extra=PARAMETER,
    )
    crm_hubspot_client_secret: str | None = Field(None, json_schema_extra=LOCAL)
    crm_hubspot_client_secret_ref: str | None = Field(
        None,
        description="SSM SecureString name or Secrets Manager ARN of the HubSpot app's client "
        "secret (it signs webhooks)",
        json_schema_extra=PARAMETER,
    )
    crm_push_back: bool = Field(
        False,
        description="Create hand-made contacts in the CRM and add ticket notes to its records",
        json_schema_extra=PARAMETER,
    )
    crm_poll_overlap_seconds: int = Field(
        300,
        ge=0,
        description="Each CRM poll re-reads this much before its checkpoint (search lags writes)",
        json_schema_extra=PARAMETER,
    )
    user_pool_id: str | None = Field(
        None, description="The Cognito user pool agents sign in with", json_schema_extra=STACK
    )
    user_pool_client_id: str | None = Field(
        None, description="The console's app client of the user pool", json_schema_extra=STACK
    )
    console_origin: str | None = Field(
        None,
        pattern=r"^https?://[^/\s]+$",
        description="Browser origin of an agent console served from another address than the "
        "API (https://console.example.com): it gets CORS headers; empty: none",
        json_schema_extra=PARAMETER,
    )

    console_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s#]+$",
        description="Address of the agent console that mails to agents link to "
        "(https://help.example.com); empty: the edge's own, which a deployment stores",
        json_schema_extra=PARAMETER,
    )
    console_url_ref: str | None = Field(None, json_schema_extra=STACK)
    mail_domain: str | None = Field(
        None,
        description="The support domain (the shared stack's MailDomain): channel addresses must "
        "be on it; empty: any",
        json_schema_extra=STACK,
    )
    # Download links to the files of messages go through the edge, signed for CloudFront: its
    # address, the id CloudFront gave the public key, and the private key (PEM). Values on a
    # laptop; in AWS the deployment stores them once the edge exists and `*_ref` names where.
    edge_url: str | None = Field(None, pattern=r"^https?://[^/\s]+$", json_schema_extra=LOCAL)
    edge_url_ref: str | None = Field(None, json_schema_extra=STACK)
    file_link_key_id: str | None = Field(None, json_schema_extra=LOCAL)
    file_link_key_id_ref: str | None = Field(None, json_schema_extra=STACK)
    file_link_key: str | None = Field(None, json_schema_extra=LOCAL)
    file_link_key_ref: str | None = Field(None, json_schema_extra=STACK)

    @property
    def bus_name(self) -> str:
        return f"{self.resource_prefix}-{self.stage}-bus"

    @property
    def mail_bucket(self) -> str:
        # S3 bucket names are global across every account: the account and region make it ours.
        return f"{self.resource_prefix}-{self.stage}-mail-{self.account_id}-{self.region}"

    @property
    def artifacts_bucket(self) -> str:
        """Where a deployment uploads the functions' code and the larger templates."""
        return f"{self.resource_prefix}-{self.stage}-artifacts-{self.account_id}-{self.region}"

    @property
    def reply_token_parameter(self) -> str:
        """The SSM SecureString parameter a deployment keeps the reply token secret in."""
        return f"/{self.resource_prefix}/{self.stage}/reply-token-secret"

    @property
    def console_url_parameter(self) -> str:
        """The SSM parameter a deployment keeps the console's address in, once the edge has one."""
        return f"/{self.resource_prefix}/{self.stage}/console-url"

    @property
    def edge_url_parameter(self) -> str:
        """The SSM parameter a deployment keeps the edge's address in, once it has one."""
        return f"/{self.resource_prefix}/{self.stage}/edge-url"

    @property
    def file_link_key_parameter(self) -> str:
        """The SSM SecureString parameter of the private key that signs links to files."""
        return f"/{self.resource_prefix}/{self.stage}/file-links/private-key"

    @property
    def file_link_key_id_parameter(self) -> str:
        """The SSM parameter of the id CloudFront gave that key's public half."""
        return f"/{self.resource_prefix}/{self.stage}/file-links/key-id"

    @property
    def mail_configuration_set(self) -> str:
        """The SES configuration set of mail we send: it reports deliveries, bounces, complaints."""
        return f"{self.resource_prefix}-{self.stage}-mail"

    @property
    def mail_notifications_topic(self) -> str:
        return f"{self.resource_prefix}-{self.stage}-mail-notifications"

    @property
    def alerts_topic(self) -> str:
        """Where alarms go (work parked in a dead-letter queue): operators subscribe to it."""
        return f"{self.resource_prefix}-{self.stage}-alerts"

    def table_name(self, service: str) -> str:
        return f"{self.resource_prefix}-{self.stage}-{service}"

    def idempotency_table(self, service: str) -> str:
        return f"{self.resource_prefix}-{self.stage}-{service}-idempotency"

    def queue_name(self, service: str, purpose: str = "events") -> str:
        return f"{self.resource_prefix}-{self.stage}-{service}-{purpose}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings; cached so the environment is read once per cold start."""
    return Settings()
