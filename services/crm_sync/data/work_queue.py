"""The service's work queue on SQS: between the webhook function and the one that applies."""

from __future__ import annotations

from collections.abc import Sequence

from shared.aws import client
from shared.settings import get_settings

WORK_QUEUE = "work"  # as infra names it: `<prefix>-<stage>-crm_sync-work`
SEND_BATCH_LIMIT = 10  # SQS's limit per SendMessageBatch


class SqsWorkQueue:
    def __init__(self) -> None:
        self._name = get_settings().queue_name("crm_sync", WORK_QUEUE)
        self._url: str | None = None

    def send(self, bodies: Sequence[str], delay_seconds: int = 0) -> None:
        sqs = client("sqs")
        if self._url is None:
            self._url = sqs.get_queue_url(QueueName=self._name)["QueueUrl"]
        for start in range(0, len(bodies), SEND_BATCH_LIMIT):
            batch = bodies[start : start + SEND_BATCH_LIMIT]
            answer = sqs.send_message_batch(
                QueueUrl=self._url,
                Entries=[
                    {"Id": str(i), "MessageBody": body, "DelaySeconds": delay_seconds}
                    for i, body in enumerate(batch)
                ],
            )
            if answer.get("Failed"):
                raise RuntimeError(f"the work queue refused messages: {answer['Failed']}")
