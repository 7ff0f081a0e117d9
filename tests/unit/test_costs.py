"""The cost model's arithmetic (bench/costs.py), and `make bench` printing only its table."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest

from bench import costs
from bench.costs import Measured, Size, Usage, monthly_cost
from bench.harness import item_size

NOTHING = Measured(
    opened_by_mail=Usage(),
    agent_reply=Usage(),
    client_reply=Usage(),
    note=Usage(),
    change=Usage(),
    resolve=Usage(),
    view=Usage(),
    poll=Usage(),
    schedules={},
    stored_bytes_per_ticket=0,
    queues=0,
)
NO_AGENTS = Size("test", 1_000, 0, 0, 0, 0, 0, 0, 0, 0)


def test_a_million_write_units_cost_the_list_price() -> None:
    # Given tickets each opened with 1,000 write units, and nothing else
    measured = replace(NOTHING, opened_by_mail=Usage(write_units=1_000))
    # When 1,000 tickets are priced
    cost = monthly_cost(measured, NO_AGENTS)
    # Then a million write units cost what the price list says, and nothing else costs
    assert cost["DynamoDB"] == pytest.approx(costs.DYNAMODB_PER_MILLION_WRITE_UNITS)
    assert sum(cost.values()) == pytest.approx(costs.DYNAMODB_PER_MILLION_WRITE_UNITS)


def test_a_small_helpdesk_by_hand() -> None:
    # One ticket: one API request answered with 1 KB, one invocation of 2 GB-s; one agent
    measured = replace(
        NOTHING,
        opened_by_mail=Usage(
            api_requests=1, response_bytes=1024, lambda_invocations=1, lambda_gb_seconds=2
        ),
    )
    size = replace(NO_AGENTS, tickets=1, agents=1)
    cost = monthly_cost(measured, size)
    assert cost["Lambda"] == pytest.approx(2 * 0.0000166667 + 0.20 / 1e6)
    # the agent's console loads once a working day (10 requests of 20 KB each, through CloudFront)
    assert cost["API Gateway"] == pytest.approx(3.50 / 1e6)
    requests = 1 + 22 * costs.CONSOLE_LOAD_REQUESTS
    gigabytes = (1024 + 22 * costs.CONSOLE_LOAD_BYTES) / 1024**3
    assert cost["CloudFront"] == pytest.approx(requests * 0.012 / 1e4 + gigabytes * 0.085)
    assert cost["Cognito"] == pytest.approx(0.015)
    assert cost["CloudWatch Logs"] == pytest.approx(1000 / 1024**3 * 0.57)


def test_doubling_tickets_doubles_what_tickets_cost() -> None:
    measured = replace(
        NOTHING,
        opened_by_mail=Usage(write_units=10, read_units=5, events=3, lambda_invocations=4),
        agent_reply=Usage(mail_sent=1, write_units=4),
        poll=Usage(api_requests=3, read_units=2),
        stored_bytes_per_ticket=5_000,
    )
    size = replace(costs.SIZES[1], agents=0)
    once, twice = (
        sum(monthly_cost(measured, replace(size, tickets=n)).values())
        for n in (size.tickets, 2 * size.tickets)
    )
    assert twice == pytest.approx(2 * once)
    # while the agents' consoles cost the same however many tickets there are
    agents = replace(size, agents=10)
    fixed = sum(monthly_cost(measured, agents).values()) - once
    doubled = sum(monthly_cost(measured, replace(agents, tickets=2 * size.tickets)).values())
    assert doubled - 2 * once == pytest.approx(fixed)


def test_item_sizes_count_names_and_values() -> None:
    item = {"pk": {"S": "TICKET#1"}, "n": {"N": "123"}, "ok": {"BOOL": True}}
    assert item_size(item) == (2 + 8) + (1 + 3) + (2 + 1)


def test_the_bench_prints_nothing_but_its_table() -> None:
    # Given the bench's emulated system, provisioned from every template (moto skips policies,
    # SES rules and Cognito) and running a scheduled function that records no metric
    program = (
        "from bench.harness import emulated_system\n"
        "with emulated_system() as system:\n"
        "    [s.run() for s in system.schedules() if s.service == 'sla']\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=300, check=True
    )
    # Then neither the emulator nor powertools said anything
    assert (ran.stdout, ran.stderr) == ("", "")
