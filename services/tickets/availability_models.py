"""Request and response bodies of an agent's own availability for tickets by turns."""

from __future__ import annotations

from pydantic import Field, StrictBool

from shared.api import RequestModel, ResponseModel


class AvailabilityIn(RequestModel):
    available: StrictBool = Field(
        description="true: new tickets of departments that assign by turns may come to you"
    )


class AvailabilityOut(ResponseModel):
    email: str
    available: bool
    open_tickets: int = Field(description="tickets assigned to you, neither resolved nor closed")
