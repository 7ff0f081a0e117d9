"""Bulk changes: DynamoDB round trips per ticket changed, and the time of one bulk change of 100
tickets against 100 single PATCHes of other tickets in the same run (in-process moto: the ratio
means more than the seconds), both through the API by an agent of the tickets' department, the
bulk change under an Idempotency-Key as a client retrying it would send it.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

from bench.harness import BENCH_TICKET, BenchDesk, DynamoCalls, Row, emulated_system
from services.tickets.logic.bulk_change import MAX_TICKETS

LAMBDA_TIMEOUT_SECONDS = 30


def run() -> list[Row]:
    with emulated_system() as system, tempfile.TemporaryDirectory() as folder:
        call = BenchDesk(system, Path(folder)).call
        in_bulk = [call("POST", "/tickets", BENCH_TICKET)["id"] for _ in range(MAX_TICKETS)]
        alone = [call("POST", "/tickets", BENCH_TICKET)["id"] for _ in range(MAX_TICKETS)]
        changes = {"status": "in_progress", "priority": "high", "tags_add": ["bench"]}

        with DynamoCalls() as bulk_calls:
            started = time.perf_counter()
            answer = call(
                "POST",
                "/tickets/bulk",
                {"ticket_ids": in_bulk, "changes": changes},
                key=str(uuid.uuid4()),
            )
            bulk_seconds = time.perf_counter() - started
        assert all(item["status"] == 200 for item in answer["items"]), answer
        single_patch = {"status": "in_progress", "priority": "high", "tags": ["bench"]}
        with DynamoCalls() as single_calls:
            started = time.perf_counter()
            for ticket_id in alone:
                call("PATCH", f"/tickets/{ticket_id}", single_patch)
            single_seconds = time.perf_counter() - started

        per_bulk_ticket = len(bulk_calls.operations) / MAX_TICKETS
        per_single = len(single_calls.operations) / MAX_TICKETS
        return [
            Row(
                "bulk change of 100: DynamoDB round trips per ticket changed",
                f"{per_bulk_ticket:.2f}",
                f"<= {per_single:.2f} (a single PATCH's)",
            ),
            Row(
                "bulk change of 100: time (x 100 single PATCHes)",
                f"{bulk_seconds:.2f} s "
                f"({bulk_seconds / single_seconds:.2f}x of {single_seconds:.2f} s)",
                f"<= 1x, well inside the {LAMBDA_TIMEOUT_SECONDS} s Lambda timeout",
            ),
        ]
