"""The channels API's request and response shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import EmailStr, Field

from services.channels.logic.channel import Channel
from shared.api import RequestModel, ResponseModel

DEPARTMENT_ID = r"^[a-z0-9][a-z0-9-]{0,49}$"


class ChannelIn(RequestModel):
    address: EmailStr
    department_id: str = Field(pattern=DEPARTMENT_ID)
    acknowledge: bool = False
    acknowledge_template: str | None = Field(None, max_length=5000)
    signature: str | None = Field(None, max_length=2000)


class ChannelPatchIn(RequestModel):
    address: EmailStr | None = None
    department_id: str | None = Field(None, pattern=DEPARTMENT_ID)
    acknowledge: bool | None = None
    acknowledge_template: str | None = Field(None, max_length=5000)
    signature: str | None = Field(None, max_length=2000)


class ChannelOut(ResponseModel):
    id: str
    address: str
    department_id: str
    acknowledge: bool
    acknowledge_template: str | None
    signature: str | None
    created_at: datetime

    @classmethod
    def of(cls, channel: Channel) -> ChannelOut:
        return cls.model_validate(channel.model_dump())


class ChannelList(ResponseModel):
    items: list[ChannelOut]
    next_cursor: str | None = None
