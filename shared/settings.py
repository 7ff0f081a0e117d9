"""Settings read from the environment once, validated, and shared by every service.

Physical resource names are derived from one prefix here, so the infrastructure templates, the
local stack and the services agree on them without repeating strings.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HELPDESK_", extra="ignore", frozen=True)

    stage: str = Field("local", description="deployment stage: local, dev, prod, ...")
    resource_prefix: str = Field("helpdesk", pattern=r"^[a-z][a-z0-9-]{1,30}$")
    region: str = Field("eu-west-1", validation_alias="AWS_DEFAULT_REGION")
    # Points boto3 and pynamodb at the emulator; None in AWS.
    endpoint_url: str | None = Field(None, validation_alias="AWS_ENDPOINT_URL")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    ticket_prefix: str = Field("TKT", pattern=r"^[A-Z][A-Z0-9]{0,9}$")
    ticket_number_width: int = Field(4, ge=1, le=12)
    # Members of this department also see and work tickets that have no department.
    triage_department: str | None = None
    # Signs the reply-to addresses of outgoing mail; without it none are given out or accepted.
    reply_token_secret: str | None = Field(None, min_length=16)
    # In AWS, where to read it instead: an SSM SecureString parameter's name or a secret's ARN.
    reply_token_secret_ref: str | None = None
    # At most this many acknowledgements per sender per hour: a runaway sender gets no flood back.
    acknowledgements_per_hour: int = Field(5, ge=0)
    # Days the mail bucket keeps received mail as SES stored it (`inbound/`). It is read once,
    # when it arrives; what was taken out of it (text, attachments) stays with the tickets.
    raw_mail_days: int = Field(90, ge=1)
    # Mail to no known address: a ticket without a department ("triage") or quarantine.
    unknown_address_mail: Literal["triage", "quarantine"] = "triage"
    # How often the local stack runs the SLA sweep (in AWS it runs every minute).
    sla_sweep_seconds: float = Field(60, gt=0)
    # The CRM whose contacts are kept in step with the helpdesk's; None: no CRM sync.
    crm_provider: Literal["hubspot"] | None = None
    crm_hubspot_base_url: str = "https://api.hubapi.com"
    crm_hubspot_portal_id: str | None = Field(None, description="the account's id, for links")
    # The private app's access token and the app's client secret (signs webhooks): the values on
    # a laptop; in AWS `*_ref` names an SSM SecureString parameter or a Secrets Manager ARN.
    crm_hubspot_token: str | None = None
    crm_hubspot_token_ref: str | None = None
    crm_hubspot_client_secret: str | None = None
    crm_hubspot_client_secret_ref: str | None = None
    # Create hand-made contacts in the CRM and add ticket notes to CRM records.
    crm_push_back: bool = False
    # Each poll re-reads this much before its checkpoint: the CRM's search index lags its writes.
    crm_poll_overlap_seconds: int = Field(300, ge=0)

    @property
    def bus_name(self) -> str:
        return f"{self.resource_prefix}-{self.stage}-bus"

    @property
    def mail_bucket(self) -> str:
        return f"{self.resource_prefix}-{self.stage}-mail"

    @property
    def reply_token_parameter(self) -> str:
        """The SSM SecureString parameter a deployment keeps the reply token secret in."""
        return f"/{self.resource_prefix}/{self.stage}/reply-token-secret"

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
