"""The infrastructure definitions are the one source of names, keys, indexes and subscriptions."""

from __future__ import annotations

from pathlib import Path

import pytest
from chalice import Chalice

from infra.stacks import SERVICES
from infra.templates import (
    function_policy,
    import_value,
    service_data,
    service_resources,
    service_wiring,
    shared_stack,
)
from local_stack.provision import local_parameters
from local_stack.system import LocalSystem, _every
from shared.events.catalogue import CATALOGUE, render_markdown, render_schemas
from shared.settings import Settings

pytestmark = pytest.mark.infra
REPO = Path(__file__).resolve().parents[2]


def test_every_index_a_table_class_declares_is_in_its_template() -> None:
    settings = Settings()
    for stack in SERVICES:
        if stack.table_class is None:
            continue
        table = service_data(stack, settings)["Resources"]["Table"]["Properties"]
        declared = {
            index.Meta.index_name
            for entity in _entities(stack.table_class)
            for index in entity._indexes.values()
        }
        rendered = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
        assert rendered == declared
        defined = {d["AttributeName"] for d in table["AttributeDefinitions"]}
        for index in table.get("GlobalSecondaryIndexes", []):
            assert {k["AttributeName"] for k in index["KeySchema"]} <= defined
        assert table["TableName"] == settings.table_name(stack.service)
        assert ("StreamSpecification" in table) == stack.outbox


def _entities(table: type) -> list[type]:
    found, pending = [], [table]
    while pending:
        model = pending.pop()
        found.append(model)
        pending.extend(model.__subclasses__())
    return found


def test_each_rule_matches_exactly_what_its_consumer_handles() -> None:
    settings = Settings()
    for stack in SERVICES:
        resources = service_resources(stack, settings)["Resources"]
        consumer = stack.event_consumer
        if consumer is None:
            assert "EventRule" not in resources
            continue
        pattern = resources["EventRule"]["Properties"]["EventPattern"]
        handled = consumer.subscriptions()
        assert set(pattern["source"]) == {source for source, _ in handled}
        assert set(pattern["detail-type"]) == {name for _, name in handled}
        queue = resources["EventQueue"]["Properties"]
        assert queue["RedrivePolicy"]["maxReceiveCount"] >= 1  # failing events end in the DLQ


def test_wiring_points_at_functions_the_apps_define() -> None:
    settings = Settings()
    system = LocalSystem(settings)
    for stack in SERVICES:
        app = system.apps[stack.service]
        functions = {f.name for f in app.pure_lambda_functions}
        for resource in service_wiring(stack, settings)["Resources"].values():
            if resource["Type"] == "AWS::Lambda::EventSourceMapping":
                target = resource["Properties"]["FunctionName"]["Ref"]
                assert target in {"".join(p.title() for p in f.split("_")) for f in functions}
                assert resource["Properties"]["FunctionResponseTypes"] == [
                    "ReportBatchItemFailures"
                ]


def test_the_shared_stack_has_the_bus_bucket_and_user_pool() -> None:
    settings = Settings()
    resources = shared_stack(settings)["Resources"]
    assert resources["Bus"]["Properties"]["Name"] == settings.bus_name
    assert resources["MailBucket"]["Properties"]["PublicAccessBlockConfiguration"]
    assert resources["UserPool"]["Type"] == "AWS::Cognito::UserPool"


def test_received_mail_is_forgotten_after_the_days_the_setting_gives() -> None:
    # Given the shared stack, and a laptop keeping raw mail 30 days
    template = shared_stack(Settings())
    # Then the bucket expires what SES stored under inbound/, and nothing else, after the days
    # of the stack's parameter, which is the setting's (its default, and the local stack's value)
    bucket = template["Resources"]["MailBucket"]["Properties"]
    [rule] = [
        r for r in bucket["LifecycleConfiguration"]["Rules"] if r["Id"] == "ForgetReceivedMail"
    ]
    assert (rule["Prefix"], rule["ExpirationInDays"], rule["Status"]) == (
        "inbound/",
        {"Ref": "RawMailDays"},
        "Enabled",
    )
    assert template["Parameters"]["RawMailDays"]["Default"] == str(Settings().raw_mail_days)
    assert local_parameters(Settings(raw_mail_days=30))["RawMailDays"] == "30"


def test_schedules_are_found_in_the_apps_and_run_at_their_rate() -> None:
    assert _every("rate(1 minute)").total_seconds() == 60
    assert _every("rate(2 hours)").total_seconds() == 7200
    with pytest.raises(ValueError, match="rate"):
        _every("cron(0 12 * * ? *)")
    system = LocalSystem(Settings())
    probe = Chalice("probe")
    ran: list[str] = []

    @probe.schedule("rate(5 minutes)", name="sweep")
    def sweep(event: object) -> None:
        ran.append("sweep")

    system.apps["probe"] = probe
    schedule = next(s for s in system.schedules() if s.service == "probe")
    assert (schedule.name, schedule.every.total_seconds()) == ("sweep", 300)
    schedule.run()
    assert ran == ["sweep"]


def test_every_minute_sweeps_run_locally_as_often_as_the_settings_say() -> None:
    fast = LocalSystem(Settings(sla_sweep_seconds=1)).schedules()
    every = {
        (s.service, s.name): (s.every.total_seconds(), s.aws_every.total_seconds()) for s in fast
    }
    assert every[("sla", "sweep_sla")] == (1, 60)
    assert every[("channels", "send_grouped_notifications")] == (1, 60)
    assert every[("crm_sync", "poll_crm")] == (300, 300)  # the others keep their AWS rate


def test_the_event_catalogue_is_generated_and_current() -> None:
    assert {event.event_name for event in CATALOGUE} >= {"TicketCreated", "EmailReceived"}
    assert (REPO / "docs" / "events.md").read_text() == render_markdown(), "run `make docs`"
    assert (REPO / "docs" / "events.schema.json").read_text() == render_schemas(), "run `make docs`"


def test_every_dead_letter_queue_raises_an_alarm_to_the_alerts_topic() -> None:
    # Given every service's resources, and the shared stack's alerts topic
    settings = Settings()
    assert shared_stack(settings)["Resources"]["Alerts"]["Properties"]["TopicName"] == (
        settings.alerts_topic
    )
    for stack in SERVICES:
        resources = service_resources(stack, settings)["Resources"]
        dead_letters = {
            logical_id: resource["Properties"]["QueueName"]
            for logical_id, resource in resources.items()
            if resource["Type"] == "AWS::SQS::Queue" and logical_id.endswith("DeadLetters")
        }
        # Then each dead-letter queue has an alarm on its first waiting message
        for logical_id, name in dead_letters.items():
            alarm = resources[f"{logical_id}Alarm"]["Properties"]
            assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": name}]
            assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
            assert alarm["AlarmActions"] == [import_value(settings, "AlertsTopicArn")]
        # And every queue that takes failures is one of them
        assert all(name.endswith("-dlq") for name in dead_letters.values())


def test_mail_the_mail_function_fails_on_is_parked_not_dropped() -> None:
    # Given the channels service, whose mail function SES invokes asynchronously
    settings = Settings()
    [channels] = [stack for stack in SERVICES if stack.mail_function is not None]
    wiring = service_wiring(channels, settings)["Resources"]
    # Then an invocation that still fails after Lambda's retries goes to the mail DLQ
    failures = wiring["MailFunctionFailures"]["Properties"]
    destination = failures["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == {"Fn::GetAtt": ["MailDeadLetters", "Arn"]}
    assert "MailDeadLetters" in service_resources(channels, settings)["Resources"]
    # And the function may send there
    dead_letters = settings.queue_name(channels.service, "mail-dlq")
    assert any(
        statement["Action"] == "sqs:SendMessage" and statement["Resource"].endswith(dead_letters)
        for statement in function_policy(channels, settings)["Statement"]
    )
