"""Ticket search on DynamoDB: writes per indexed message, and the round trips and latency of a
two-word query by an agent over an index of up to 100,000 messages, beside a bare GetItem in the
same run (in-process moto: the ratio means more than the milliseconds; its Query reads one
partition, as DynamoDB's does, by `local_stack.emulator_patches.partition_queries`).

Writes are measured first, on messages indexed one by one through the use case, as the consumer
does. The big index is then written through the adapter's batch path (nothing races a build), with
its tickets, and queried through the use case.
"""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, datetime, timedelta

from pynamodb.models import BatchWrite

from bench.harness import DynamoCalls, Row, emulated_system, median_ms
from services.tickets.data.dynamodb import DynamoTicketRepository, ticket_item
from services.tickets.data.search_dynamodb import DynamoSearchIndex
from services.tickets.data.tables import MemberItem, TicketItem
from services.tickets.handlers.wiring import dependencies
from services.tickets.logic.search import (
    SearchDoc,
    index_message,
    position_of,
    reindex_ticket,
    search_tickets,
)
from services.tickets.logic.search_text import Terms
from services.tickets.logic.ticket import Ticket
from shared.clock import get_clock
from shared.events.catalogue import Person
from shared.identity import Caller

# 100,000 takes moto about ten minutes to hold (it sizes every item it stores, set by set); the
# figures do not move with the size (each query reads 50 postings), so `make bench` builds fewer
# unless asked: HELPDESK_BENCH_SEARCH_MESSAGES=100000 make bench.
MESSAGES = int(os.environ.get("HELPDESK_BENCH_SEARCH_MESSAGES", "20000"))
PER_TICKET = 25
WORDS_PER_MESSAGE = 20
SAMPLE = 100  # messages indexed one by one for the write count
REPEAT = 10
AGENT = Caller(email="bench@example.com", role="agent")
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
SYLLABLES = ["pri", "nt", "er", "ja", "m", "ro", "ut", "sca", "nn", "ta", "ble", "in", "vo", "ice"]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _vocabulary(size: int, rng: random.Random) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def _text(vocabulary: list[str], rng: random.Random) -> str:
    # Zipf-like: a few words are everywhere, most are rare, as in support mail.
    picks = [int(len(vocabulary) * rng.random() ** 3) for _ in range(WORDS_PER_MESSAGE)]
    return " ".join(vocabulary[i] for i in picks)


def _ticket(n: int) -> Ticket:
    at = T0 + timedelta(minutes=n)
    return Ticket(
        id=f"t{n:06d}",
        number=f"TKT-{n:06d}",
        subject=f"Ticket {n}",
        department_id="bench" if n % 2 else "other",
        requester=Person(email=f"client{n}@example.org", name=f"Client {n}"),
        created_at=at,
        updated_at=at,
    )


def run() -> list[Row]:
    rng = random.Random(7)
    vocabulary = _vocabulary(5_000, rng)
    with emulated_system():
        deps = dependencies()
        index = DynamoSearchIndex()
        MemberItem(
            f"MEMBER#{AGENT.email}", "DEPT#bench", email=AGENT.email, department_id="bench"
        ).save()

        # Writes per message, indexed as the consumer does (a reply's event carries its text).
        sample = [_ticket(MESSAGES + n) for n in range(SAMPLE // PER_TICKET)]
        with BatchWrite(TicketItem) as batch:
            for ticket in sample:
                batch.save(ticket_item(ticket))
        writes: list[int] = []
        for ticket in sample:
            reindex_ticket(ticket.id, deps, index)
            for m in range(PER_TICKET):
                with DynamoCalls() as calls:
                    index_message(
                        ticket.id, f"{ticket.id}-m{m}", _text(vocabulary, rng), deps, index
                    )
                writes.append(sum(op in WRITES for op in calls.operations))

        # The big index: MESSAGES messages, PER_TICKET to a ticket, written in batches.
        started = time.perf_counter()
        docs: list[SearchDoc] = []
        with BatchWrite(TicketItem) as batch:
            for n in range(MESSAGES // PER_TICKET):
                ticket = _ticket(n)
                batch.save(ticket_item(ticket))
                doc = SearchDoc(ticket.id, position_of(ticket), Terms.empty())
                for m in range(PER_TICKET):
                    doc.add_message(f"{ticket.id}-m{m}", _text(vocabulary, rng))
                docs.append(doc)
        for start in range(0, len(docs), 500):
            index.store_new(docs[start : start + 500])
        build_s = time.perf_counter() - started

        # A two-word query an agent types: two common words (long lists to read).
        query = f"{vocabulary[3]} {vocabulary[5]}"
        with DynamoCalls() as calls:
            found = search_tickets(query, AGENT, deps, index, 20, None)
        round_trips = len(calls.operations)
        assert found.items, "the benchmark's query finds nothing"
        search_ms = median_ms(lambda: search_tickets(query, AGENT, deps, index, 20, None), REPEAT)
        dynamodb = DynamoTicketRepository(get_clock())
        get_ms = median_ms(lambda: dynamodb.get(sample[0].id), REPEAT)

    return [
        Row("search: round trips of a two-word query (agent)", str(round_trips), "<= 3"),
        Row(
            "search: writes per indexed message (mean / max)",
            f"{sum(writes) / len(writes):.2f} / {max(writes)}",
            "<= 2",
        ),
        Row(
            f"search: two-word query vs bare GetItem ({MESSAGES:,} messages)",
            f"{search_ms:.1f} ms vs {get_ms:.1f} ms",
            "-",
        ),
        Row(f"search: building the {MESSAGES:,}-message index in moto", f"{build_s:.0f} s", "-"),
    ]
