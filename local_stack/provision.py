"""Create every stack's resources in the emulator from the same templates AWS gets."""

from __future__ import annotations

import json
from typing import Any

from infra.emulator import for_emulator
from infra.stacks import SERVICES
from infra.templates import service_data, service_resources, shared_stack
from shared.aws import client
from shared.settings import Settings

LOCAL_MAIL_DOMAIN = "example.com"  # the emulator's SES sends only from verified identities


def stack_templates(settings: Settings) -> list[tuple[str, dict[str, Any]]]:
    prefix = f"{settings.resource_prefix}-{settings.stage}"
    stacks = [(f"{prefix}-shared", shared_stack(settings))]
    for stack in SERVICES:
        name = f"{prefix}-{stack.service.replace('_', '-')}"
        for suffix, template in (
            ("-data", service_data(stack, settings)),
            ("", service_resources(stack, settings)),
        ):
            if template["Resources"]:
                stacks.append((name + suffix, template))
    return stacks


def local_parameters(settings: Settings) -> dict[str, str]:
    """The stack parameters of the local stack (the others keep their defaults)."""
    return {
        "Stage": settings.stage,
        "MailDomain": LOCAL_MAIL_DOMAIN,
        "RawMailDays": str(settings.raw_mail_days),
    }


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
        cloudformation.create_stack(
            StackName=name,
            TemplateBody=json.dumps(for_emulator(template)),
            Parameters=[
                {"ParameterKey": key, "ParameterValue": value}
                for key, value in local_parameters(settings).items()
                if key in template.get("Parameters", {})
            ],
        )
        status = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        if status != "CREATE_COMPLETE":
            raise RuntimeError(f"stack {name} ended {status}")
        _subscribe_queues(template, settings)
        _give_buckets_their_cors(template)
        created.append(name)
    return created


def _subscribe_queues(template: dict[str, Any], settings: Settings) -> None:
    """Make the topic subscriptions the emulator's CloudFormation skips (it knows no
    AWS::SNS::Subscription): a queue of the template, subscribed to a topic another stack
    exports."""
    resources = template["Resources"]
    subscriptions = [r for r in resources.values() if r["Type"] == "AWS::SNS::Subscription"]
    if not subscriptions:
        return
    exports = {
        export["Name"]: export["Value"]
        for page in client("cloudformation").get_paginator("list_exports").paginate()
        for export in page["Exports"]
    }
    for resource in subscriptions:
        properties = resource["Properties"]
        topic_arn = exports[properties["TopicArn"]["Fn::ImportValue"]]
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


def _give_buckets_their_cors(template: dict[str, Any]) -> None:
    """Put the template's CORS rules on its buckets, which the emulator's CloudFormation skips.
    The emulator's server adds CORS headers to every answer, but it judges a browser's preflight
    (an upload that reports its progress) by the bucket's rules, as S3 does."""
    for resource in template["Resources"].values():
        cors = resource.get("Properties", {}).get("CorsConfiguration")
        if resource["Type"] != "AWS::S3::Bucket" or not cors:
            continue
        rules = [
            {
                "AllowedMethods": rule["AllowedMethods"],
                "AllowedOrigins": rule["AllowedOrigins"],
                "AllowedHeaders": rule.get("AllowedHeaders", []),
                "MaxAgeSeconds": rule.get("MaxAge", 0),
            }
            for rule in cors["CorsRules"]
        ]
        client("s3").put_bucket_cors(
            Bucket=resource["Properties"]["BucketName"], CORSConfiguration={"CORSRules": rules}
        )
