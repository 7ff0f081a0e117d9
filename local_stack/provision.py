"""Create every stack's resources in the emulator from the same templates AWS gets."""

from __future__ import annotations

import json
import re
from typing import Any

from infra.stacks import SERVICES
from infra.templates import service_resources, shared_stack
from shared.aws import client
from shared.settings import Settings


def stack_templates(settings: Settings) -> list[tuple[str, dict[str, Any]]]:
    prefix = f"{settings.resource_prefix}-{settings.stage}"
    stacks = [(f"{prefix}-shared", shared_stack(settings))]
    for stack in SERVICES:
        template = service_resources(stack, settings)
        if template["Resources"]:
            stacks.append((f"{prefix}-{stack.service.replace('_', '-')}", template))
    return stacks


def provision(settings: Settings) -> list[str]:
    """Create the stacks (skipping ones that exist); returns the names created."""
    cloudformation = client("cloudformation")
    existing = {
        summary["StackName"]
        for page in cloudformation.get_paginator("list_stacks").paginate(
            StackStatusFilter=["CREATE_COMPLETE", "UPDATE_COMPLETE"]
        )
        for summary in page["StackSummaries"]
    }
    created = []
    for name, template in stack_templates(settings):
        if name in existing:
            continue
        cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))
        status = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        if status != "CREATE_COMPLETE":
            raise RuntimeError(f"stack {name} ended {status}")
        _subscribe_queues(template, settings)
        created.append(name)
    return created


def _subscribe_queues(template: dict[str, Any], settings: Settings) -> None:
    """Make the topic subscriptions the emulator's CloudFormation skips (it knows no
    AWS::SNS::Subscription): a queue of the template, subscribed to a topic by ARN."""
    resources = template["Resources"]
    subscriptions = [r for r in resources.values() if r["Type"] == "AWS::SNS::Subscription"]
    if not subscriptions:
        return
    account = client("sts").get_caller_identity()["Account"]
    names = {"AWS::Partition": "aws", "AWS::Region": settings.region, "AWS::AccountId": account}
    for resource in subscriptions:
        properties = resource["Properties"]
        topic_arn = re.sub(
            r"\$\{([^}]+)\}", lambda m: names[m.group(1)], properties["TopicArn"]["Fn::Sub"]
        )
        queue_resource = properties["Endpoint"]["Fn::GetAtt"][0]
        queue_url = client("sqs").get_queue_url(
            QueueName=resources[queue_resource]["Properties"]["QueueName"]
        )["QueueUrl"]
        queue_arn = client("sqs").get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        client("sns").subscribe(
            TopicArn=topic_arn, Protocol=properties["Protocol"], Endpoint=queue_arn
        )
