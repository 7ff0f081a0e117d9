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

from infra.file_links import (
    mail_bucket_file_statement,
    shared_file_conditions,
    shared_file_parameters,
)
from infra.parameters import service_parameters, stage_parameter, substitute, template_settings
from infra.stacks import (
    DEAD_LETTER_RETENTION_SECONDS,
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
from services.channels.logic.uploads import (
    UNNAMED_UPLOAD_DAYS,
    UNNAMED_UPLOAD_TAG,
    UPLOADS_PREFIX,
)
from shared.events.consumer import CONSUMER_FUNCTION
from shared.events.outbox import OUTBOX_PREFIX, RELAY_FUNCTION
from shared.settings import Settings

Template = dict[str, Any]
TTL_ATTRIBUTE = "expires_at"
MAIL_PREFIX = "inbound/"
MAIL_DEAD_LETTERS = "mail-dlq"  # the purpose in the queue's name
ADMIN_GROUP = "admin"
# What the tickets service does with the user pool: list, invite, disable and enable agents, and
# grant or take away admin.
AGENT_ACTIONS = (
    "ListUsers",
    "ListUsersInGroup",
    "AdminGetUser",
    "AdminCreateUser",
    "AdminDisableUser",
    "AdminEnableUser",
    "AdminAddUserToGroup",
    "AdminRemoveUserFromGroup",
    "AdminListGroupsForUser",
)
# Data outlives its stack: deleting the stack, or a change that would replace the resource, keeps
# it (a table that is gone takes every ticket with it).
RETAIN = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}


def _template(description: str, resources: dict[str, Any]) -> Template:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": description,
        "Resources": resources,
    }


def export_name(settings: Settings, output: str) -> str:
    """The name under which the shared stack exports an output (`helpdesk-prod-UserPoolArn`)."""
    return f"{settings.resource_prefix}-{settings.stage}-{output}"


def shared_stack(settings: Settings) -> Template:
    """The bus, the mail bucket and domain, the user pool and the alerts that every service uses.

    What service stacks use is exported: CloudFormation then refuses to delete it under them."""
    template = _template(
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
                    # useful to look at (quarantine, support), then forget it. An upload that
                    # still carries the tag its form gave it was named by no message.
                    "LifecycleConfiguration": {
                        "Rules": [
                            {
                                "Id": "ForgetReceivedMail",
                                "Status": "Enabled",
                                "Prefix": MAIL_PREFIX,
                                "ExpirationInDays": {"Ref": "RawMailDays"},
                            },
                            {
                                "Id": "ForgetUnnamedUploads",
                                "Status": "Enabled",
                                "Prefix": UPLOADS_PREFIX,
                                "TagFilters": [
                                    {"Key": UNNAMED_UPLOAD_TAG[0], "Value": UNNAMED_UPLOAD_TAG[1]}
                                ],
                                "ExpirationInDays": UNNAMED_UPLOAD_DAYS,
                            },
                        ]
                    },
                    # Agents' browsers upload reply attachments with presigned POSTs, from the
                    # console's address (the API's, or HELPDESK_CONSOLE_ORIGIN: not known when
                    # this stack is made, so any origin). The signed form is what lets a file
                    # in; CORS only lets the browser read S3's answer, and only for a POST.
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
            "ArtifactsBucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "BucketName": settings.artifacts_bucket,
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                    "VersioningConfiguration": {"Status": "Enabled"},
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
                            },
                            # The edge is deployed last: it is named here once it exists.
                            mail_bucket_file_statement(settings),
                        ]
                    },
                },
            },
            "ReceiptRuleSet": {
                "Type": "AWS::SES::ReceiptRuleSet",
                "Properties": {"RuleSetName": f"{settings.resource_prefix}-{settings.stage}"},
            },
            **_mail_reports(settings),
            **_user_pool(settings),
            **_mail_domain(settings),
        },
    )
    template["Parameters"] = {
        **stage_parameter(),
        "MailDomain": {
            "Type": "String",
            "Description": "Domain of the support addresses (support@<domain>); SES receives its "
            "mail and sends from it",
        },
        "RawMailDays": service_parameters()["RawMailDays"],
        **shared_file_parameters(),
    }
    template["Conditions"] = shared_file_conditions()
    template["Outputs"] = (
        _exports(
            settings,
            {
                "BusArn": {"Fn::GetAtt": ["Bus", "Arn"]},
                "AlertsTopicArn": {"Ref": "Alerts"},
                "MailReportsTopicArn": {"Ref": "MailReports"},
                "MailBucketName": {"Ref": "MailBucket"},
                "UserPoolId": {"Ref": "UserPool"},
                "UserPoolArn": {"Fn::GetAtt": ["UserPool", "Arn"]},
                "UserPoolClientId": {"Ref": "ConsoleClient"},
            },
        )
        | _mail_domain_records()
    )
    return template


def _exports(settings: Settings, values: dict[str, Any]) -> dict[str, Any]:
    return {
        name: {"Value": value, "Export": {"Name": export_name(settings, name)}}
        for name, value in values.items()
    }


def import_value(settings: Settings, output: str) -> dict[str, Any]:
    return {"Fn::ImportValue": export_name(settings, output)}


def _user_pool(settings: Settings) -> dict[str, Any]:
    """Agents sign in here. Only admins create accounts (invitations by mail), and an email is
    the agent's identity: a user cannot change theirs (the console's client may not write it),
    and a change made by an admin counts only once the new address is verified."""
    return {
        "UserPool": {
            "Type": "AWS::Cognito::UserPool",
            # Agents' accounts are data: a removed stack keeps the pool.
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "UserPoolName": f"{settings.resource_prefix}-{settings.stage}-agents",
                "UsernameAttributes": ["email"],
                "AutoVerifiedAttributes": ["email"],
                "UserAttributeUpdateSettings": {
                    "AttributesRequireVerificationBeforeUpdate": ["email"]
                },
                "AdminCreateUserConfig": {
                    "AllowAdminCreateUserOnly": True,
                    "InviteMessageTemplate": {
                        "EmailSubject": "You are invited to the helpdesk",
                        "EmailMessage": "Sign in to the helpdesk as {username} with the "
                        "temporary password {####} and choose your own.",
                    },
                },
                "AccountRecoverySetting": {
                    "RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]
                },
                "Policies": {
                    "PasswordPolicy": {
                        "MinimumLength": 12,
                        "RequireLowercase": True,
                        "RequireUppercase": True,
                        "RequireNumbers": True,
                        "RequireSymbols": False,
                        "TemporaryPasswordValidityDays": 7,
                    }
                },
                "DeletionProtection": "ACTIVE",
            },
        },
        "ConsoleClient": {
            "Type": "AWS::Cognito::UserPoolClient",
            "Properties": {
                "UserPoolId": {"Ref": "UserPool"},
                "ClientName": "console",
                # A browser app keeps no secret: SRP proves the password without sending it.
                "GenerateSecret": False,
                "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                "PreventUserExistenceErrors": "ENABLED",
                "EnableTokenRevocation": True,
                "ReadAttributes": ["email", "email_verified", "name"],
                "WriteAttributes": ["name"],
                "IdTokenValidity": 60,
                "AccessTokenValidity": 60,
                "RefreshTokenValidity": 30,
                "TokenValidityUnits": {
                    "IdToken": "minutes",
                    "AccessToken": "minutes",
                    "RefreshToken": "days",
                },
            },
        },
        "AdminGroup": {
            "Type": "AWS::Cognito::UserPoolGroup",
            "Properties": {
                "GroupName": ADMIN_GROUP,
                "Description": "Helpdesk administrators",
                "UserPoolId": {"Ref": "UserPool"},
            },
        },
    }


def _mail_domain(settings: Settings) -> dict[str, Any]:
    """The support domain as an SES identity with Easy DKIM, and alarms on the reputation SES
    keeps for the account: past 10 % bounces or 0.5 % complaints SES may stop our sending."""
    return {
        "MailIdentity": {
            "Type": "AWS::SES::EmailIdentity",
            "Properties": {
                "EmailIdentity": {"Ref": "MailDomain"},
                "DkimSigningAttributes": {"NextSigningKeyLength": "RSA_2048_BIT"},
                "ConfigurationSetAttributes": {
                    "ConfigurationSetName": {"Ref": "MailConfigurationSet"}
                },
            },
        },
        **alarm(
            "BounceRateAlarm",
            "More than 5 % of the mail sent bounced (SES reviews accounts at 5 %, pauses at 10 %)",
            {"Namespace": "AWS/SES", "MetricName": "Reputation.BounceRate"},
            threshold=0.05,
            statistic="Maximum",
            alerts={"Ref": "Alerts"},
        ),
        **alarm(
            "ComplaintRateAlarm",
            "More than 0.1 % of the mail sent drew a complaint (SES pauses at 0.5 %)",
            {"Namespace": "AWS/SES", "MetricName": "Reputation.ComplaintRate"},
            threshold=0.001,
            statistic="Maximum",
            alerts={"Ref": "Alerts"},
        ),
    }


def _mail_domain_records() -> dict[str, Any]:
    """The DNS records the operator creates for the support domain, as stack outputs."""
    records: dict[str, Any] = {
        "MailMxRecord": {
            "Description": "MX record: SES receives the domain's mail",
            "Value": {"Fn::Sub": "${MailDomain} MX 10 inbound-smtp.${AWS::Region}.amazonaws.com"},
        }
    }
    for n in (1, 2, 3):
        records[f"MailDkimRecord{n}"] = {
            "Description": f"DKIM CNAME record {n} of 3: SES signs the mail it sends",
            "Value": {
                "Fn::Join": [
                    " ",
                    [
                        {"Fn::GetAtt": ["MailIdentity", f"DkimDNSTokenName{n}"]},
                        "CNAME",
                        {"Fn::GetAtt": ["MailIdentity", f"DkimDNSTokenValue{n}"]},
                    ],
                ]
            },
        }
    return records


def alarm(
    name: str,
    description: str,
    metric: dict[str, Any],
    *,
    threshold: float,
    alerts: dict[str, Any],
    statistic: str = "Sum",
    comparison: str = "GreaterThanThreshold",
    period: int = 300,
    missing_data: str = "notBreaching",
) -> dict[str, Any]:
    """An alarm that tells the alerts topic when it fires and when it is over."""
    return {
        name: {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmDescription": description,
                **metric,
                "Statistic": statistic,
                "Period": period,
                "EvaluationPeriods": 1,
                "Threshold": threshold,
                "ComparisonOperator": comparison,
                "TreatMissingData": missing_data,
                "AlarmActions": [alerts],
                "OKActions": [alerts],
            },
        }
    }


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
    return {"Type": "AWS::DynamoDB::Table", **RETAIN, "Properties": properties}


def service_data(stack: ServiceStack, settings: Settings) -> Template:
    """The service's tables, in a stack of their own that removing the service leaves alone.

    A service stack can be removed and deployed again at will: its data lives here. The tables
    are kept even if this stack is deleted or a change would replace them (Retain), and the
    outbox relay in the service stack reads the table's stream through an export."""
    resources: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
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
            outputs["TableStreamArn"] = {
                "Value": {"Fn::GetAtt": ["Table", "StreamArn"]},
                "Export": {"Name": table_stream_export(stack, settings)},
            }
    if stack.event_consumer is not None:
        resources["IdempotencyTable"] = {
            "Type": "AWS::DynamoDB::Table",
            **RETAIN,
            "Properties": {
                "TableName": settings.idempotency_table(stack.service),
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
            },
        }
    template = _template(f"Helpdesk {stack.service} service data", resources)
    template["Parameters"] = stage_parameter()
    if outputs:
        template["Outputs"] = outputs
    return template


def table_stream_export(stack: ServiceStack, settings: Settings) -> str:
    return f"{settings.resource_prefix}-{settings.stage}-{stack.service}-TableStreamArn"


def service_resources(stack: ServiceStack, settings: Settings) -> Template:
    """Queues, rules and alarms of one service: everything but its tables and functions."""
    resources: dict[str, Any] = {}
    if stack.outbox:
        resources["OutboxDeadLetters"] = _dead_letter_queue(
            settings.queue_name(stack.service, "outbox-dlq")
        )
    consumer = stack.event_consumer
    if consumer is not None:
        queue = settings.queue_name(stack.service)
        # Only this rule may send to the queue: another rule on the bus cannot slip events in.
        resources.update(
            _fed_queue(
                "Event",
                queue,
                "events.amazonaws.com",
                {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["EventRule", "Arn"]}}},
            )
        )
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
        resources["MailDeadLetters"] = _dead_letter_queue(
            settings.queue_name(stack.service, MAIL_DEAD_LETTERS)
        )
    resources.update(_dead_letter_alarms(resources, settings))
    template = _template(f"Helpdesk {stack.service} service resources", resources)
    template["Parameters"] = stage_parameter()
    return template


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
                "AlarmActions": [import_value(settings, "AlertsTopicArn")],
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
        f"{kind}DeadLetters": _dead_letter_queue(f"{name}-dlq"),
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
    topic = import_value(settings, "MailReportsTopicArn")
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


def _dead_letter_queue(name: str) -> dict[str, Any]:
    return _queue(name, MessageRetentionPeriod=DEAD_LETTER_RETENTION_SECONDS)


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
                "EventSourceArn": {"Fn::ImportValue": table_stream_export(stack, settings)},
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
    """The IAM policy of the service's functions, written out (chalice cannot infer it).

    Every data action names its resources (this account, this region, this stage); logs are
    granted per function, on its own log group, where the functions are known
    (`infra.service_stack`). The tests record every call the functions make and check it here."""
    region, account = settings.region, settings.account_id
    prefix = f"{settings.resource_prefix}-{settings.stage}"
    table_arn = f"arn:aws:dynamodb:{region}:{account}:table/{settings.table_name(stack.service)}"
    statements: list[dict[str, Any]] = []
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
                    *(f"dynamodb:{action}" for action in stack.extra_table_actions),
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
                "Resource": f"arn:aws:events:{region}:{account}:event-bus/{settings.bus_name}",
            },
            {
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": f"arn:aws:sqs:{region}:{account}:{prefix}-{stack.service}-outbox-dlq",
            },
        ]
    if stack.event_consumer is not None:
        idempotency = settings.idempotency_table(stack.service)
        statements += [
            {
                "Effect": "Allow",
                "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                "Resource": f"arn:aws:sqs:{region}:{account}:{settings.queue_name(stack.service)}",
            },
            {
                "Effect": "Allow",
                "Action": [
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                ],
                "Resource": f"arn:aws:dynamodb:{region}:{account}:table/{idempotency}",
            },
        ]
    if stack.report_function is not None:
        reports = settings.queue_name(stack.service, "mail-reports")
        statements.append(
            {
                "Effect": "Allow",
                "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                "Resource": f"arn:aws:sqs:{region}:{account}:{reports}",
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
                "Resource": f"arn:aws:sqs:{region}:{account}:{work}",
            }
        )
    if stack.secrets_path is not None:
        path = f"{settings.resource_prefix}/{settings.stage}/{stack.secrets_path}"
        statements += [
            {
                "Effect": "Allow",
                "Action": "ssm:GetParameter",
                "Resource": f"arn:aws:ssm:{region}:{account}:parameter/{path}/*",
            },
            {
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": f"arn:aws:secretsmanager:{region}:{account}:secret:{path}/*",
            },
        ]
    if stack.mail_function is not None:
        mail_dead_letters = settings.queue_name(stack.service, MAIL_DEAD_LETTERS)
        statements += [
            {
                # Received mail, and the files replies carry: uploads, or forwarded attachments.
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": [
                    f"arn:aws:s3:::{settings.mail_bucket}/{prefix}*"
                    for prefix in (MAIL_PREFIX, ATTACHMENTS_PREFIX, UPLOADS_PREFIX)
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
            {
                # Named uploads lose the tag that expires them; uploads' forms carry that tag.
                "Effect": "Allow",
                "Action": "s3:PutObjectTagging",
                "Resource": f"arn:aws:s3:::{settings.mail_bucket}/{UPLOADS_PREFIX}*",
            },
            {
                # Erasing a person deletes the mail they sent and the files taken out of it.
                "Effect": "Allow",
                "Action": "s3:DeleteObject",
                "Resource": [
                    f"arn:aws:s3:::{settings.mail_bucket}/{prefix}*"
                    for prefix in (MAIL_PREFIX, ATTACHMENTS_PREFIX)
                ],
            },
            {
                # To find those files: listing the attachments of one mail, or the files of an
                # upload folder a note names, nothing else.
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": f"arn:aws:s3:::{settings.mail_bucket}",
                "Condition": {
                    "StringLike": {"s3:prefix": [f"{ATTACHMENTS_PREFIX}*", f"{UPLOADS_PREFIX}*"]}
                },
            },
            {
                # Only from the support domain, and only through the configuration set that
                # reports deliveries and bounces.
                "Effect": "Allow",
                "Action": "ses:SendRawEmail",
                "Resource": [
                    f"arn:aws:ses:{region}:{account}:identity/${{MailDomain}}",
                    f"arn:aws:ses:{region}:{account}:configuration-set/"
                    f"{settings.mail_configuration_set}",
                ],
            },
            {
                "Effect": "Allow",
                "Action": "ssm:GetParameter",
                "Resource": [
                    f"arn:aws:ssm:{region}:{account}:parameter{parameter}"
                    for parameter in (
                        settings.reply_token_parameter,
                        settings.console_url_parameter,
                        settings.edge_url_parameter,
                    )
                ],
            },
            {
                # Lambda parks a failed SES invocation there with the function's rights.
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": f"arn:aws:sqs:{region}:{account}:{mail_dead_letters}",
            },
        ]
    if stack.serves_files:
        statements.append(
            {
                # What signs links to files for the edge: its address, the key's id, the key.
                # The edge reads the files itself, so the functions may read none.
                "Effect": "Allow",
                "Action": "ssm:GetParameter",
                "Resource": [
                    f"arn:aws:ssm:{region}:{account}:parameter{parameter}"
                    for parameter in (
                        settings.edge_url_parameter,
                        settings.file_link_key_id_parameter,
                        settings.file_link_key_parameter,
                    )
                ],
            }
        )
    if stack.checks_rating_links:
        statements.append(
            {
                # The secret rating links are signed with (the reply-token secret).
                "Effect": "Allow",
                "Action": "ssm:GetParameter",
                "Resource": f"arn:aws:ssm:{region}:{account}:parameter"
                f"{settings.reply_token_parameter}",
            }
        )
    if stack.manages_agents:
        statements.append(
            {
                "Effect": "Allow",
                "Action": [f"cognito-idp:{action}" for action in AGENT_ACTIONS],
                "Resource": f"arn:aws:cognito-idp:{region}:{account}:userpool/${{UserPoolId}}",
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def write_all(folder: Path, settings: Settings) -> list[Path]:
    """Every template but the packaged services' (`make package`), as a deployment gets them."""
    folder.mkdir(parents=True, exist_ok=True)
    parts: list[tuple[str, Template]] = [("shared", shared_stack(settings))]
    for stack in SERVICES:
        parts += [
            (f"{stack.service}.data", service_data(stack, settings)),
            (f"{stack.service}.resources", service_resources(stack, settings)),
            (f"{stack.service}.wiring", service_wiring(stack, settings)),
        ]
    written = []
    for name, template in parts:
        path = folder / f"{name}.json"
        path.write_text(json.dumps(substitute(template), indent=2) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "infra/build")
    for path in write_all(folder, template_settings()):
        print(path)
