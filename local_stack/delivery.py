"""Event delivery as Lambda's event source mappings do it, for the local stack and for tests.

`QueueSource` reads a consumer's SQS queue in batches and deletes what the function did not report
as failed (failures reappear after the visibility timeout, then land in the DLQ). `StreamSource`
reads a table's stream and re-reads from the first failed record, in order. Both have `poll_once`
so a test can deliver step by step, and the local stack runs them on threads.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.aws import client

Function = Callable[[dict[str, Any], Any], Any]
logger = logging.getLogger(__name__)


@dataclass
class LambdaContext:
    """The parts of Lambda's context object that powertools and chalice read."""

    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "local"
    log_stream_name: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:local:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


class QueueSource:
    def __init__(self, queue_name: str, function: Function, function_name: str) -> None:
        self.queue_name = queue_name
        self._function = function
        self._function_name = function_name
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = client("sqs").get_queue_url(QueueName=self.queue_name)["QueueUrl"]
        return self._url

    def poll_once(self, wait_seconds: int = 0, batch_size: int = 10) -> int:
        """Deliver one batch; returns the number of messages handed to the function."""
        sqs = client("sqs")
        messages = sqs.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=batch_size,
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        arn = f"arn:aws:sqs:local:000000000000:{self.queue_name}"
        event = {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": arn,
                    "awsRegion": "local",
                }
                for m in messages
            ]
        }
        try:
            response = self._function(event, LambdaContext(self._function_name)) or {}
        except Exception:
            # As in Lambda: the whole batch becomes visible again after the visibility timeout.
            logger.exception("queue function failed")
            return len(messages)
        failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(
                QueueUrl=self.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        return len(messages)


class StreamSource:
    # Shards are listed again this often; between listings each shard is read on from the
    # iterator its last read returned, one call a poll instead of three.
    SHARDS_EVERY_POLLS = 50

    def __init__(self, table_name: str, function: Function, function_name: str) -> None:
        self.table_name = table_name
        self._function = function
        self._function_name = function_name
        self._positions: dict[str, tuple[str, str | None]] = {}  # shard -> (type, sequence)
        self._iterators: dict[str, str] = {}  # shard -> where the next read goes on
        self._shards: list[str] = []
        self._polls = 0
        self._stream_arn: str | None = None

    def _stream(self) -> str:
        if self._stream_arn is None:
            table = client("dynamodb").describe_table(TableName=self.table_name)["Table"]
            self._stream_arn = table["LatestStreamArn"]
        return self._stream_arn

    def poll_once(self) -> int:
        """Deliver what each shard holds beyond the last delivered record; returns records."""
        streams = client("dynamodbstreams")
        arn = self._stream()
        if self._polls % self.SHARDS_EVERY_POLLS == 0:
            shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
            self._shards = [shard["ShardId"] for shard in shards]
        self._polls += 1
        delivered = 0
        for shard_id in self._shards:
            iterator = self._iterators.pop(shard_id, None) or self._iterator(arn, shard_id)
            read = streams.get_records(ShardIterator=iterator, Limit=100)
            records = read["Records"]
            if not records:
                if read.get("NextShardIterator"):
                    self._iterators[shard_id] = read["NextShardIterator"]
                continue
            delivered += len(records)
            for record in records:
                record["eventSourceARN"] = arn
            try:
                response = self._function({"Records": records}, LambdaContext(self._function_name))
            except Exception:
                logger.exception("stream function failed; retrying from the same record")
                self._positions[shard_id] = (
                    "AT_SEQUENCE_NUMBER",
                    records[0]["dynamodb"]["SequenceNumber"],
                )
                continue
            failures = (response or {}).get("batchItemFailures", [])
            if failures:
                self._positions[shard_id] = ("AT_SEQUENCE_NUMBER", failures[0]["itemIdentifier"])
            else:
                last = records[-1]["dynamodb"]["SequenceNumber"]
                self._positions[shard_id] = ("AFTER_SEQUENCE_NUMBER", last)
                if read.get("NextShardIterator"):
                    self._iterators[shard_id] = read["NextShardIterator"]
        return delivered

    def _iterator(self, arn: str, shard_id: str) -> str:
        """An iterator at the shard's recorded position: after what was delivered, or at the
        first record a function failed on."""
        kind, sequence = self._positions.get(shard_id, ("TRIM_HORIZON", None))
        arguments = {"StreamArn": arn, "ShardId": shard_id, "ShardIteratorType": kind}
        if sequence is not None:
            arguments["SequenceNumber"] = sequence
        iterator: str = client("dynamodbstreams").get_shard_iterator(**arguments)["ShardIterator"]
        return iterator
