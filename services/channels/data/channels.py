"""Channels on DynamoDB: the channel items and the address items that keep addresses unique."""

from __future__ import annotations

from pynamodb.exceptions import TransactWriteError

from services.channels.data.tables import SERVICE, AddressItem, ChannelItem, ChannelsTable
from services.channels.logic.channel import Channel
from shared.storage import bind_table, failed_conditions, transaction

CHANNELS_PK = "CHANNELS"


def _address_key(address: str) -> str:
    return f"ADDRESS#{address}"


class DynamoChannelRepository:
    def __init__(self) -> None:
        bind_table(ChannelsTable, SERVICE)

    def add(self, channel: Channel) -> bool:
        return self._write(new=channel)

    def replace(self, old: Channel, new: Channel) -> bool:
        return self._write(new=new, old=old)

    def _write(self, new: Channel, old: Channel | None = None) -> bool:
        try:
            with transaction(ChannelsTable) as write:
                if old is None or old.address != new.address:
                    # The address item is the uniqueness guard: it exists at most once.
                    write.save(
                        AddressItem(_address_key(new.address), "ADDRESS", channel_id=new.id),
                        condition=AddressItem.pk.does_not_exist(),
                    )
                    if old is not None:
                        write.delete(AddressItem(_address_key(old.address), "ADDRESS"))
                write.save(_item(new))
        except TransactWriteError as error:
            if failed_conditions(write, error):
                return False  # the address item exists: another channel has the address
            raise
        return True

    def remove(self, channel: Channel) -> None:
        with transaction(ChannelsTable) as write:
            write.delete(AddressItem(_address_key(channel.address), "ADDRESS"))
            write.delete(ChannelItem(CHANNELS_PK, f"CHANNEL#{channel.id}"))

    def get(self, channel_id: str) -> Channel | None:
        try:
            return _channel(ChannelItem.get(CHANNELS_PK, f"CHANNEL#{channel_id}"))
        except ChannelItem.DoesNotExist:
            return None

    def all(self) -> list[Channel]:
        return [_channel(item) for item in ChannelItem.query(CHANNELS_PK)]

    def of_department(self, department_id: str) -> Channel | None:
        channels = sorted(
            (c for c in self.all() if c.department_id == department_id), key=lambda c: c.created_at
        )
        return channels[0] if channels else None

    def by_addresses(self, addresses: list[str]) -> list[Channel]:
        keys = [(_address_key(address), "ADDRESS") for address in addresses]
        channel_ids = {item.channel_id for item in AddressItem.batch_get(keys)}
        if not channel_ids:
            return []
        found = ChannelItem.batch_get([(CHANNELS_PK, f"CHANNEL#{i}") for i in channel_ids])
        return [_channel(item) for item in found]


def _item(channel: Channel) -> ChannelItem:
    return ChannelItem(CHANNELS_PK, f"CHANNEL#{channel.id}", **channel.model_dump())


def _channel(item: ChannelItem) -> Channel:
    return Channel(
        id=item.id,
        address=item.address,
        department_id=item.department_id,
        acknowledge=bool(item.acknowledge),
        acknowledge_template=item.acknowledge_template,
        signature=item.signature,
        quarantine_spam=item.quarantine_spam is not False,
        created_at=item.created_at,
    )
