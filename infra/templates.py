"""CloudFormation templates rendered from the stack declarations in `infra.stacks`.

Each service has two parts: `resources` (tables, queues, rules: created as they are by the local
stack in the emulator) and `wiring` (event source mappings, SES rule, permissions: merged into the
template `chalice package` writes, since they point at its functions). `python -m infra.templates`
writes every template under infra/build/.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from chalice.utils import to_cfn_resource_name

from infra.stacks import (
    QUEUE_MAX_RECEIVES,
    QUEUE_VISIBILITY_SECONDS,
    SERVICES,
    SQS_BATCH_SIZE,
    STREAM_BATCH_SIZE,
    STREAM_MAX_RETRIES,
    WORK_QUEUE,
    ServiceStack,
)
from services.channels.data.mail_bucket import ATTACHMENTS_PREFIX
from services.channels.logic.uploads import UPLOADS_PREFIX
from shared.events.consumer import CONSUMER_FUNCTION
from shared.events.outbox import OUTBOX_PREFIX, RELAY_FUNCTION
from shared.settings import Settings

Template = dict[str, Any]
TTL_ATTRIBUTE = "expires_at"
MAIL_PREFIX = "inbound/"
MAIL_DEAD_LETTERS = "mail-dlq"  # the purpose in the queue's name
ADMIN_GROUP = "admin"


def _template(description: str, resources: dict[str, Any]) -> Template:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": description,
        "Resources": resources,
    }


def shared_stack(settings: Settings) -> Template:
    """The bus, the mail bucket, the SES rule set and the user pool that every service uses."""
    return _template(
        "Helpdesk shared resources",
        {
            "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": settings.bus_name}},
            "Alerts": {
                "Type": "AWS::SNS::Topic",
                "Properties": {"TopicName": settings.alerts_topic},
            },
            "MailBucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "BucketName": settings.mail_bucket,
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                    # Received mail is read once, on arrival: keep it only as long as it is
                    # useful to look at (quarantine, support), then forget it.
                    "LifecycleConfiguration": {
                        "Rules": [
                            {
                                "Id": "ForgetReceivedMail",
                                "Status": "Enabled",
                                "Prefix": MAIL_PREFIX,
                                "ExpirationInDays": settings.raw_mail_days,
                            }
                        ]
                    },
                    # Agents' browsers upload reply attachments with presigned POSTs.
                    "CorsConfiguration": {
                        "CorsRules": [
                            {
                                "AllowedMethods": ["POST"],
                                "AllowedOrigins": ["*"],
                                "AllowedHeaders": ["*"],
                                "MaxAge": 3600,
                            }
                        ]
                    },
                },
            },
            "MailBucketPolicy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": settings.mail_bucket,
                    "PolicyDocument": {
                        "Statement": [
                            {
                                "Sid": "SesStoresReceivedMail",
                                "Effect": "Allow",
                                "Principal": {"Service": "ses.amazonaws.com"},
                                "Action": "s3:PutObject",
                                "Resource": f"arn:aws:s3:::{settings.mail_bucket}/{MAIL_PREFIX}*",
                                "Condition": {
                                    "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
                                },
                            }
                        ]
                    },
                },
            },
            "ReceiptRuleSet": {
                "Type": "AWS::SES::ReceiptRuleSet",
                "Properties": {"RuleSetName": f"{settings.resource_prefix}-{settings.stage}"},
            },
            **_mail_reports(settings),
            "UserPool": {
                "Type": "AWS::Cognito::UserPool",
                "Properties": {
                    "UserPoolName": f"{settings.resource_prefix}-{settings.stage}-agents",
                    "UsernameAttributes": ["email"],
                    "AutoVerifiedAttributes": ["email"],
                    "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
                },
            },
            "AdminGroup": {
                "Type": "AWS::Cognito::UserPoolGroup",
                "Properties": {"GroupName": ADMIN_GROUP, "UserPoolId": {"Ref": "UserPool"}},
            },
        },
    )


def _mail_reports(settings: Settings) -> dict[str, Any]:
    """SES's reports on the mail we send: a configuration set publishing them to a topic."""
    return {
        "MailReports": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": settings.mail_notifications_topic},
        },
        "MailReportsPolicy": {
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {
                "Topics": [{"Ref": "MailReports"}],
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ses.amazonaws.com"},
                            "Action": "sns:Publish",
                            "Resource": {"Ref": "MailReports"},
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
                            },
                        }
                    ]
                },
            },
        },
        "MailConfigurationSet": {
            "Type": "AWS::SES::ConfigurationSet",
            "Properties": {"Name": settings.mail_configuration_set},
        },
        "MailReportsDestination": {
            "Type": "AWS::SES::ConfigurationSetEventDestination",
            "Properties": {
                "ConfigurationSetName": {"Ref": "MailConfigurationSet"},
                "EventDestination": {
                    "Name": "reports",
                    "Enabled": True,
                    "MatchingEventTypes": ["delivery", "bounce", "complaint", "reject"],
                    "SnsDestination": {"TopicARN": {"Ref": "MailReports"}},
                },
            },
        },
    }


def mail_reports_topic_arn(settings: Settings) -> dict[str, Any]:
    return _topic_arn(settings.mail_notifications_topic)


def _topic_arn(name: str) -> dict[str, Any]:
    """A topic of the shared stack, named: the service stacks deploy after it, on their own."""
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:sns:${{AWS::Region}}:${{AWS::AccountId}}:{name}"}


def _table(name: str, key_schema: dict[str, Any], stream: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": key_schema["attribute_definitions"],
        "KeySchema": key_schema["key_schema"],
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "TimeToLiveSpecification": {"AttributeName": TTL_ATTRIBUTE, "Enabled": True},
    }
    indexes = [
        {
            "IndexName": index["index_name"],
            "KeySchema": index["key_schema"],
            "Projection": {
                key: value
                for key, value in (
                    ("ProjectionType", index["projection"]["ProjectionType"]),
                    ("NonKeyAttributes", index["projection"].get("NonKeyAttributes")),
                )
                if value
            },
        }
        for index in key_schema["global_secondary_indexes"]
    ]
    if indexes:
        properties["GlobalSecondaryIndexes"] = indexes
    if stream:
        properties["StreamSpecification"] = {"StreamViewType": "NEW_IMAGE"}
    return {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "Properties": properties}


def service_resources(stack: ServiceStack, settings: Settings) -> Template:
    """Tables, queues and rules of one service: everything but its functions."""
    resources: dict[str, Any] = {}
    if stack.table_class is not None:
        resources["Table"] = _table(
            settings.table_name(stack.service),
            {
                "attribute_definitions": index_attribute_definitions(stack),
                "key_schema": stack.table_class._get_schema()["key_schema"],
                "global_secondary_indexes": _index_schemas(stack),
            },
            stream=stack.outbox,
        )
    if stack.outbox:
        resources["OutboxDeadLetters"] = _queue(settings.queue_name(stack.service, "outbox-dlq"))
    consumer = stack.event_consumer
    if consumer is not None:
        queue = settings.queue_name(stack.service)
        resources["IdempotencyTable"] = {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": settings.idempotency_table(stack.service),
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
            },
        }
        resources.update(_fed_queue("Event", queue, "events.amazonaws.com"))
        subscriptions = consumer.subscriptions()
        resources["EventRule"] = {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Name": f"{queue}-rule",
                # A bus name, not a Ref: the emulator's CloudFormation fails on the Ref.
                "EventBusName": settings.bus_name,
                "EventPattern": {
                    "source": sorted({source for source, _ in subscriptions}),
                    "detail-type": sorted({detail_type for _, detail_type in subscriptions}),
                },
                "Targets": [{"Id": "queue", "Arn": {"Fn::GetAtt": ["EventQueue", "Arn"]}}],
            },
        }
    if stack.report_function is not None:
        resources.update(
            _report_queue(settings.queue_name(stack.service, "mail-reports"), settings)
        )
    if stack.work_function is not None:
        resources.update(_fed_queue("Work", settings.queue_name(stack.service, WORK_QUEUE)))
    if stack.mail_function is not None:
        # SES invokes the mail function asynchronously: what still fails after Lambda's retries
        # is parked here, not dropped (the raw mail is in the bucket; the event says which).
        resources["MailDeadLetters"] = _queue(settings.queue_name(stack.service, MAIL_DEAD_LETTERS))
    resources.update(_dead_letter_alarms(resources, settings))
    return _template(f"Helpdesk {stack.service} service resources", resources)


def _dead_letter_alarms(resources: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """An alarm on every dead-letter queue: work parked there waits for a person, who must hear
    of it (through the shared stack's alerts topic)."""
    alarms = {}
    for logical_id, resource in resources.items():
        name = resource["Properties"].get("QueueName", "")
        if resource["Type"] != "AWS::SQS::Queue" or not name.endswith("-dlq"):
            continue
        alarms[f"{logical_id}Alarm"] = {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": name,
                "AlarmDescription": f"Messages wait in {name}: look at them, then redrive them.",
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": name}],
                "Statistic": "Maximum",
                "Period": 60,
                "EvaluationPeriods": 1,
                "Threshold": 0,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [_topic_arn(settings.alerts_topic)],
            },
        }
    return alarms


def _fed_queue(
    kind: str, name: str, sender: str | None = None, condition: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A queue with its dead-letter queue: `<kind>Queue`, `<kind>DeadLetters`, and, when an AWS
    service (`sender`) feeds it, `<kind>QueuePolicy` (the service's own functions need none:
    their role allows them)."""
    queue = f"{kind}Queue"
    resources = {
        f"{kind}DeadLetters": _queue(f"{name}-dlq"),
        queue: _queue(
            name,
            VisibilityTimeout=QUEUE_VISIBILITY_SECONDS,
            RedrivePolicy={
                "deadLetterTargetArn": {"Fn::GetAtt": [f"{kind}DeadLetters", "Arn"]},
                "maxReceiveCount": QUEUE_MAX_RECEIVES,
            },
        ),
    }
    if sender is None:
        return resources
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": sender},
        "Action": "sqs:SendMessage",
        "Resource": {"Fn::GetAtt": [queue, "Arn"]},
    }
    if condition:
        statement["Condition"] = condition
    return {
        **resources,
        f"{queue}Policy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [{"Ref": queue}],
                "PolicyDocument": {"Statement": [statement]},
            },
        },
    }


def _report_queue(name: str, settings: Settings) -> dict[str, Any]:
    """The queue SES's reports reach through the shared topic, with its dead-letter queue."""
    topic = mail_reports_topic_arn(settings)
    return {
        **_fed_queue("Report", name, "sns.amazonaws.com", {"ArnEquals": {"aws:SourceArn": topic}}),
        "ReportSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Properties": {
                "TopicArn": topic,
                "Protocol": "sqs",
                "Endpoint": {"Fn::GetAtt": ["ReportQueue", "Arn"]},
            },
        },
    }


def _index_schemas(stack: ServiceStack) -> list[dict[str, Any]]:
    """Indexes are declared on entity classes; gather them from every entity of the table."""
    table = stack.table_class
    assert table is not None
    indexes: dict[str, Any] = {}
    pending: list[type[Any]] = [table]
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        for index in model._indexes.values():
            schema: dict[str, Any] = {
                "attribute_definitions": [],
                "key_schema": [],
                "global_secondary_indexes": [],
                "local_secondary_indexes": [],
            }
            index._update_model_schema(schema)
            indexes.update({i["index_name"]: i for i in schema["global_secondary_indexes"]})
    return [indexes[name] for name in sorted(indexes)]


def index_attribute_definitions(stack: ServiceStack) -> list[dict[str, str]]:
    """Key attributes of the table and of all its indexes (DynamoDB wants each declared)."""
    table = stack.table_class
    assert table is not None
    definitions = {
        a["AttributeName"]: a["AttributeType"] for a in table._get_schema()["attribute_definitions"]
    }
    pending: list[type[Any]] = [table]
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        for index in model._indexes.values():
            for attribute in index.Meta.attributes.values():
                if attribute.is_hash_key or attribute.is_range_key:
                    definitions[attribute.attr_name] = attribute.attr_type
    return [{"AttributeName": k, "AttributeType": v} for k, v in sorted(definitions.items())]


def _queue(name: str, **properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::SQS::Queue",
        "Properties": {"QueueName": name, "SqsManagedSseEnabled": True, **properties},
    }


def service_wiring(stack: ServiceStack, settings: Settings) -> Template:
    """What connects the service's functions (from `chalice package`) to its resources."""
    resources: dict[str, Any] = {}
    if stack.event_consumer is not None:
        resources["EventQueueMapping"] = {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "FunctionName": {"Ref": to_cfn_resource_name(CONSUMER_FUNCTION)},
                "EventSourceArn": {"Fn::GetAtt": ["EventQueue", "Arn"]},
                "BatchSize": SQS_BATCH_SIZE,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
            },
        }
    if stack.outbox:
        resources["OutboxStreamMapping"] = {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "FunctionName": {"Ref": to_cfn_resource_name(RELAY_FUNCTION)},
                "EventSourceArn": {"Fn::GetAtt": ["Table", "StreamArn"]},
                "StartingPosition": "TRIM_HORIZON",
                "BatchSize": STREAM_BATCH_SIZE,
                "MaximumRetryAttempts": STREAM_MAX_RETRIES,
                "BisectBatchOnFunctionError": True,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "FilterCriteria": {
                    "Filters": [
                        {
                            "Pattern": json.dumps(
                                {
                                    "eventName": ["INSERT"],
                                    "dynamodb": {
                                        "NewImage": {"pk": {"S": [{"prefix": OUTBOX_PREFIX}]}}
                                    },
                                }
                            )
                        }
                    ]
                },
                "DestinationConfig": {
                    "OnFailure": {"Destination": {"Fn::GetAtt": ["OutboxDeadLetters", "Arn"]}}
                },
            },
        }
    if stack.report_function is not None:
        resources["ReportQueueMapping"] = _queue_mapping(stack.report_function, "ReportQueue")
    if stack.work_function is not None:
        resources["WorkQueueMapping"] = _queue_mapping(stack.work_function, "WorkQueue")
    if stack.mail_function is not None:
        function = to_cfn_resource_name(stack.mail_function)
        resources["MailFunctionFailures"] = {
            "Type": "AWS::Lambda::EventInvokeConfig",
            "Properties": {
                "FunctionName": {"Ref": function},
                "Qualifier": "$LATEST",
                "MaximumRetryAttempts": 2,
                "DestinationConfig": {
                    "OnFailure": {"Destination": {"Fn::GetAtt": ["MailDeadLetters", "Arn"]}}
                },
            },
        }
        resources["SesInvokesMailFunction"] = {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Ref": function},
                "Principal": "ses.amazonaws.com",
                "SourceAccount": {"Ref": "AWS::AccountId"},
            },
        }
        resources["MailReceiptRule"] = {
            "Type": "AWS::SES::ReceiptRule",
            "DependsOn": ["SesInvokesMailFunction"],
            "Properties": {
                "RuleSetName": f"{settings.resource_prefix}-{settings.stage}",
                "Rule": {
                    "Name": f"{settings.resource_prefix}-{settings.stage}-inbound",
                    "Enabled": True,
                    "ScanEnabled": True,
                    "Recipients": [{"Ref": "MailDomain"}],
                    "Actions": [
                        {
                            "S3Action": {
                                "BucketName": settings.mail_bucket,
                                "ObjectKeyPrefix": MAIL_PREFIX,
                            }
                        },
                        {
                            "LambdaAction": {
                                "FunctionArn": {"Fn::GetAtt": [function, "Arn"]},
                                "InvocationType": "Event",
                            }
                        },
                    ],
                },
            },
        }
    template = _template(f"Helpdesk {stack.service} service wiring", resources)
    if stack.mail_function is not None:
        template["Parameters"] = {
            "MailDomain": {"Type": "String", "Description": "domain of the support addresses"}
        }
    return template


def _queue_mapping(function: str, queue: str) -> dict[str, Any]:
    """The function reads the queue in batches, reporting the messages that failed."""
    return {
        "Type": "AWS::Lambda::EventSourceMapping",
        "Properties": {
            "FunctionName": {"Ref": to_cfn_resource_name(function)},
            "EventSourceArn": {"Fn::GetAtt": [queue, "Arn"]},
            "BatchSize": SQS_BATCH_SIZE,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    }


def function_policy(stack: ServiceStack, settings: Settings) -> dict[str, Any]:
    """The IAM policy of the service's functions, written out (chalice cannot infer it)."""
    region, prefix = settings.region, f"{settings.resource_prefix}-{settings.stage}"
    table_arn = f"arn:aws:dynamodb:{region}:*:table/{settings.table_name(stack.service)}"
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "arn:aws:logs:*:*:*",
        },
        {
            "Effect": "Allow",
            "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            "Resource": "*",
        },
    ]
    if stack.table_class is not None:
        statements.append(
            {
                "Effect": "Allow",
                "Action": [
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:Query",
                    "dynamodb:BatchGetItem",
                    "dynamodb:ConditionCheckItem",
                ],
                "Resource": [table_arn, f"{table_arn}/index/*"],
            }
        )
    if stack.outbox:
        statements += [
            {
                "Effect": "Allow",
                "Action": [
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                    "dynamodb:ListStreams",
                ],
                "Resource": f"{table_arn}/stream/*",
            },
            {
                "Effect": "Allow",
                "Action": "events:PutEvents",
                "Resource": f"arn:aws:events:{region}:*:event-bus/{settings.bus_name}",
            },
            {
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": f"arn:aws:sqs:{region}:*:{prefix}-{stack.service}-outbox-dlq",
            },
        ]
    if stack.event_consumer is not None:
        idempotency = settings.idempotency_table(stack.service)
        statements += [
            {
                "Effect": "Allow",
                "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                "Resource": f"arn:aws:sqs:{region}:*:{settings.queue_name(stack.service)}",
            },
            {
                "Effect": "Allow",
                "Action": [
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                ],
                "Resource": f"arn:aws:dynamodb:{region}:*:table/{idempotency}",
            },
        ]
    if stack.report_function is not None:
        reports = settings.queue_name(stack.service, "mail-reports")
        statements.append(
            {
                "Effect": "Allow",
                "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                "Resource": f"arn:aws:sqs:{region}:*:{reports}",
            }
        )
    if stack.work_function is not None:
        work = settings.queue_name(stack.service, WORK_QUEUE)
        statements.append(
            {
                "Effect": "Allow",
                "Action": [
                    "sqs:SendMessage",
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                ],
                "Resource": f"arn:aws:sqs:{region}:*:{work}",
            }
        )
    if stack.secrets_path is not None:
        path = f"{settings.resource_prefix}/{settings.stage}/{stack.secrets_path}"
        statements += [
            {
                "Effect": "Allow",
                "Action": "ssm:GetParameter",
                "Resource": f"arn:aws:ssm:{region}:*:parameter/{path}/*",
            },
            {
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": f"arn:aws:secretsmanager:{region}:*:secret:{path}/*",
            },
        ]
    if stack.mail_function is not None:
        mail_dead_letters = settings.queue_name(stack.service, MAIL_DEAD_LETTERS)
        statements += [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": [
                    f"arn:aws:s3:::{settings.mail_bucket}/{prefix}*"
                    for prefix in (MAIL_PREFIX, UPLOADS_PREFIX)
                ],
            },
            {
                # Attachments taken out of received mail; uploads, through the presigned forms
                # the function signs (they act with its rights).
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": [
                    f"arn:aws:s3:::{settings.mail_bucket}/{prefix}*"
                    for prefix in (ATTACHMENTS_PREFIX, UPLOADS_PREFIX)
                ],
            },
            {"Effect": "Allow", "Action": "ses:SendRawEmail", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": "ssm:GetParameter",
                "Resource": f"arn:aws:ssm:{region}:*:parameter{settings.reply_token_parameter}",
            },
            {
                # Lambda parks a failed SES invocation there with the function's rights.
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": f"arn:aws:sqs:{region}:*:{mail_dead_letters}",
            },
        ]
    return {"Version": "2012-10-17", "Statement": statements}


def write_all(folder: Path, settings: Settings) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "shared.json"]
    written[0].write_text(json.dumps(shared_stack(settings), indent=2) + "\n")
    for stack in SERVICES:
        for part, render in (("resources", service_resources), ("wiring", service_wiring)):
            path = folder / f"{stack.service}.{part}.json"
            path.write_text(json.dumps(render(stack, settings), indent=2) + "\n")
            written.append(path)
    return written


if __name__ == "__main__":
    for path in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "infra/build"), Settings()):
        print(path)
