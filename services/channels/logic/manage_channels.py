"""Managing channels (admins only): create, change and delete inbound addresses."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.channels.logic.channel import Channel, canonical_address
from services.channels.logic.dependencies import Dependencies
from shared.errors import Conflict, FieldError, Forbidden, Invalid, not_found
from shared.identity import Caller


@dataclass(frozen=True)
class ChannelFields:
    address: str | None = None
    department_id: str | None = None
    acknowledge: bool | None = None
    acknowledge_template: str | None = None
    signature: str | None = None
    quarantine_spam: bool | None = None


def _admin_only(caller: Caller) -> None:
    if not caller.is_admin:
        raise Forbidden("Only admins manage channels.")


def _address(address: str, mail_domain: str | None) -> str:
    canonical = canonical_address(address)
    if canonical != address.strip().lower():
        message = "give the address without a +tag: tagged addresses reach it anyway"
        raise Invalid(f"address: {message}", [FieldError("address", message)])
    # SES receives mail and sends it only for the deployment's domain: an address elsewhere
    # would never get mail, and nothing could be sent from it.
    if mail_domain is not None and canonical.partition("@")[2] != mail_domain.lower():
        message = f"the support addresses of this deployment are at {mail_domain}"
        raise Invalid(f"address: {message}", [FieldError("address", message)])
    return canonical


def _taken(address: str) -> Conflict:
    return Conflict(f"{address} is already the address of another channel.")


def create_channel(
    address: str,
    department_id: str,
    fields: ChannelFields,
    caller: Caller,
    deps: Dependencies,
) -> Channel:
    _admin_only(caller)
    channel = Channel(
        id=str(uuid.uuid4()),
        address=_address(address, deps.policy.mail_domain),
        department_id=department_id,
        acknowledge=bool(fields.acknowledge),
        acknowledge_template=fields.acknowledge_template,
        signature=fields.signature,
        quarantine_spam=fields.quarantine_spam is not False,
        created_at=deps.clock.now(),
    )
    if not deps.channels.add(channel):
        raise _taken(channel.address)
    return channel


def find_channel(channel_id: str, caller: Caller, deps: Dependencies) -> Channel:
    _admin_only(caller)
    channel = deps.channels.get(channel_id)
    if channel is None:
        raise not_found("channel", channel_id)
    return channel


def update_channel(
    channel_id: str, fields: ChannelFields, caller: Caller, deps: Dependencies
) -> Channel:
    current = find_channel(channel_id, caller, deps)
    changes = {
        name: value
        for name, value in vars(fields).items()
        if value is not None and name != "address"
    }
    if fields.address is not None:
        changes["address"] = _address(fields.address, deps.policy.mail_domain)
    changed = current.model_copy(update=changes)
    if changed != current and not deps.channels.replace(current, changed):
        raise _taken(changed.address)
    return changed


def delete_channel(channel_id: str, caller: Caller, deps: Dependencies) -> None:
    deps.channels.remove(find_channel(channel_id, caller, deps))


def list_channels(caller: Caller, deps: Dependencies) -> list[Channel]:
    _admin_only(caller)
    return deps.channels.all()
