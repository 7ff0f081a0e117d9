"""The least-privilege check: which IAM permissions a recorded AWS call needs, and whether a
service's policy grants them."""

from __future__ import annotations

from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID

from infra.least_privilege import (
    AwsCall,
    Permission,
    deployed_policy,
    grants,
    placeholder_values,
    refusals,
    required_permissions,
    resolve_placeholders,
    resource_parameters,
)
from shared.settings import Settings

pytestmark = pytest.mark.infra
REGION = "eu-west-1"
SETTINGS = Settings(stage="test", AWS_DEFAULT_REGION=REGION)
CRM_TABLE = SETTINGS.table_name("crm_sync")


def _table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{DEFAULT_ACCOUNT_ID}:table/{name}"


def _call(aws_service: str, operation: str, **parameters: Any) -> AwsCall:
    """A call crm_sync's functions made, recorded as the recorder keeps it."""
    return AwsCall("crm_sync", aws_service, operation, REGION, resource_parameters(parameters))


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action: str | list[str], resource: str | list[str]) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


TABLE_POLICY = _policy(
    _allow(
        ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:ConditionCheckItem"],
        [_table_arn(CRM_TABLE), f"{_table_arn(CRM_TABLE)}/index/*"],
    )
)


def test_a_call_on_the_service_table_is_granted_and_one_on_another_table_is_not() -> None:
    # Given a policy granting reads of the crm_sync table and its indexes
    # When the service queries its own table, one of its indexes, and another service's table
    own = _call("dynamodb", "Query", TableName=CRM_TABLE, KeyConditionExpression="pk = :p")
    index = _call("dynamodb", "Query", TableName=CRM_TABLE, IndexName="by_email")
    other = _call("dynamodb", "GetItem", TableName=SETTINGS.table_name("tickets"), Key={})
    # Then only the other table is refused, naming the action and the table's ARN
    assert refusals([own, index], TABLE_POLICY, DEFAULT_ACCOUNT_ID) == []
    [refused] = refusals([other], TABLE_POLICY, DEFAULT_ACCOUNT_ID)
    assert refused.permission == Permission(
        "dynamodb:GetItem", _table_arn(SETTINGS.table_name("tickets"))
    )
    assert required_permissions(index, DEFAULT_ACCOUNT_ID) == [
        Permission("dynamodb:Query", f"{_table_arn(CRM_TABLE)}/index/by_email")
    ]


def test_a_write_transaction_needs_each_item_s_action_on_the_item_s_table() -> None:
    # Given a transaction that puts, updates and checks on two tables
    idempotency = SETTINGS.idempotency_table("crm_sync")
    call = _call(
        "dynamodb",
        "TransactWriteItems",
        TransactItems=[
            {"Put": {"TableName": CRM_TABLE, "Item": {"pk": {"S": "a"}}}},
            {"Update": {"TableName": idempotency, "Key": {"id": {"S": "b"}}}},
            {"ConditionCheck": {"TableName": CRM_TABLE, "Key": {"pk": {"S": "c"}}}},
        ],
    )
    # Then each item needs its own action, on its own table
    assert required_permissions(call, DEFAULT_ACCOUNT_ID) == [
        Permission("dynamodb:PutItem", _table_arn(CRM_TABLE)),
        Permission("dynamodb:UpdateItem", _table_arn(idempotency)),
        Permission("dynamodb:ConditionCheckItem", _table_arn(CRM_TABLE)),
    ]
    # And a policy granting those on the crm_sync table only refuses the update of the other
    assert [r.permission for r in refusals([call], TABLE_POLICY, DEFAULT_ACCOUNT_ID)] == [
        Permission("dynamodb:UpdateItem", _table_arn(idempotency))
    ]


def test_batches_transactional_reads_queues_objects_and_buses_map_to_their_iam_actions() -> None:
    account = f"{REGION}:{DEFAULT_ACCOUNT_ID}"
    url = f"https://sqs.{REGION}.amazonaws.com/{DEFAULT_ACCOUNT_ID}/work"
    cases: list[tuple[AwsCall, list[Permission]]] = [
        (
            _call("dynamodb", "TransactGetItems", TransactItems=[{"Get": {"TableName": "t"}}]),
            [Permission("dynamodb:GetItem", _table_arn("t"))],
        ),
        (
            _call("dynamodb", "BatchGetItem", RequestItems={"t": {"Keys": []}}),
            [Permission("dynamodb:BatchGetItem", _table_arn("t"))],
        ),
        (
            _call("sqs", "SendMessageBatch", QueueUrl=url, Entries=[{"Id": "0"}]),
            [Permission("sqs:SendMessage", f"arn:aws:sqs:{account}:work")],
        ),
        (
            _call("s3", "PutObject", Bucket="mail", Key="attachments/a.pdf", Body=b"%PDF"),
            [Permission("s3:PutObject", "arn:aws:s3:::mail/attachments/a.pdf")],
        ),
        (
            _call("events", "PutEvents", Entries=[{"EventBusName": "bus"}, {"Detail": "{}"}]),
            [
                Permission("events:PutEvents", f"arn:aws:events:{account}:event-bus/bus"),
                Permission("events:PutEvents", f"arn:aws:events:{account}:event-bus/default"),
            ],
        ),
        (
            _call("cognito-idp", "ListUsers", UserPoolId="eu-west-1_abc"),
            [
                Permission(
                    "cognito-idp:ListUsers", f"arn:aws:cognito-idp:{account}:userpool/eu-west-1_abc"
                )
            ],
        ),
        (
            _call("ssm", "GetParameter", Name="/helpdesk/test/crm/token"),
            [
                Permission(
                    "ssm:GetParameter", f"arn:aws:ssm:{account}:parameter/helpdesk/test/crm/token"
                )
            ],
        ),
        (_call("dynamodb", "ListTables"), [Permission("dynamodb:ListTables", None)]),
    ]
    for call, needed in cases:
        assert required_permissions(call, DEFAULT_ACCOUNT_ID) == needed, call


def test_wildcards_match_actions_and_resources() -> None:
    policy = _policy(
        _allow("dynamodb:Get*", f"arn:aws:dynamodb:{REGION}:*:table/helpdesk-test-*"),
        _allow("s3:GetObject", "arn:aws:s3:::mail/inbound/*"),
        _allow("sqs:Send?essage", "*"),
    )
    granted = [
        Permission("dynamodb:GetItem", _table_arn("helpdesk-test-tickets")),
        Permission("DynamoDB:getitem", _table_arn("helpdesk-test-tickets")),  # actions: any case
        Permission("s3:GetObject", "arn:aws:s3:::mail/inbound/2024/05/mail.eml"),
        Permission("sqs:SendMessage", "arn:aws:sqs:eu-west-1:1:anything"),
        Permission("s3:GetObject", None),  # a call naming no resource: the action alone
    ]
    refused = [
        Permission("dynamodb:PutItem", _table_arn("helpdesk-test-tickets")),
        Permission("dynamodb:GetItem", _table_arn("helpdesk-prod-tickets")),
        Permission("s3:GetObject", "arn:aws:s3:::mail/attachments/a.pdf"),
        Permission("s3:GetObject", "arn:aws:s3:::MAIL/inbound/a.eml"),  # resources: exact case
        Permission("sqs:SendMessageBatch", "arn:aws:sqs:eu-west-1:1:anything"),
    ]
    assert [grants(policy, p) for p in granted] == [True] * len(granted)
    assert [grants(policy, p) for p in refused] == [False] * len(refused)


def test_cloudformation_placeholders_are_filled_in_before_matching() -> None:
    # Given a policy written with CloudFormation's placeholders, plain, in Fn::Sub and in Ref
    policy = _policy(
        _allow(
            "dynamodb:Query",
            {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/x"},
        ),
        _allow(
            "sqs:SendMessage", "arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:helpdesk-${Stage}-q"
        ),
        _allow(
            "ses:SendRawEmail",
            ["arn:aws:ses:${AWS::Region}:${AWS::AccountId}:identity/${MailDomain}"],
        ),
        _allow("sns:Publish", {"Ref": "AWS::Partition"}),
        _allow("cognito-idp:ListUsers", "arn:aws:cognito-idp:eu-west-1:1:userpool/${UserPoolId}"),
    )
    # When it is resolved with the settings and the stack's parameters
    resolved = resolve_placeholders(
        policy, placeholder_values(SETTINGS, {"MailDomain": "example.com"})
    )
    # Then the region, moto's account, the partition, the stage and the parameters are filled in
    assert SETTINGS.account_id == DEFAULT_ACCOUNT_ID
    account = f"{REGION}:{DEFAULT_ACCOUNT_ID}"
    queue = f"arn:aws:sqs:{account}:helpdesk-test-q"
    assert [statement["Resource"] for statement in resolved["Statement"][:4]] == [
        _table_arn("x"),
        queue,
        [f"arn:aws:ses:{account}:identity/example.com"],
        "aws",
    ]
    assert grants(resolved, Permission("sqs:SendMessage", queue))
    # And matching a placeholder that has no value (no user pool in these settings) is an error
    with pytest.raises(ValueError, match=r"\$\{UserPoolId\}"):
        grants(
            resolved,
            Permission("cognito-idp:ListUsers", "arn:aws:cognito-idp:eu-west-1:1:userpool/p"),
        )
    # While a statement for other actions does not need it
    assert not grants(resolved, Permission("cognito-idp:AdminCreateUser", None))


# crm_sync's policy before it granted its batch writes, as `function_policy` rendered it.
CRM_SYNC_POLICY_BEFORE = _policy(
    _allow(
        ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "arn:aws:logs:*:*:*"
    ),
    _allow(["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "*"),
    _allow(
        [
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:Query",
            "dynamodb:BatchGetItem",
            "dynamodb:ConditionCheckItem",
        ],
        [
            f"arn:aws:dynamodb:{REGION}:*:table/{CRM_TABLE}",
            f"arn:aws:dynamodb:{REGION}:*:table/{CRM_TABLE}/index/*",
        ],
    ),
    _allow(
        [
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
            "dynamodb:ListStreams",
        ],
        f"arn:aws:dynamodb:{REGION}:*:table/{CRM_TABLE}/stream/*",
    ),
    _allow("events:PutEvents", f"arn:aws:events:{REGION}:*:event-bus/helpdesk-test-bus"),
    _allow("sqs:SendMessage", f"arn:aws:sqs:{REGION}:*:{CRM_TABLE}-outbox-dlq"),
    _allow(
        ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
        f"arn:aws:sqs:{REGION}:*:{CRM_TABLE}-events",
    ),
    _allow(
        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
        f"arn:aws:dynamodb:{REGION}:*:table/{CRM_TABLE}-idempotency",
    ),
    _allow(
        [
            "sqs:SendMessage",
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:GetQueueUrl",
        ],
        f"arn:aws:sqs:{REGION}:*:{CRM_TABLE}-work",
    ),
    _allow("ssm:GetParameter", f"arn:aws:ssm:{REGION}:*:parameter/helpdesk/test/crm/*"),
    _allow(
        "secretsmanager:GetSecretValue",
        f"arn:aws:secretsmanager:{REGION}:*:secret:helpdesk/test/crm/*",
    ),
)


def test_crm_sync_batch_writes_were_refused_by_its_policy_and_are_granted_now() -> None:
    # Given the batch write crm_sync makes when it marks webhook events seen
    call = _call(
        "dynamodb",
        "BatchWriteItem",
        RequestItems={CRM_TABLE: [{"PutRequest": {"Item": {"pk": {"S": "HOOK#hubspot#1"}}}}]},
    )
    # When it is held against the policy crm_sync had
    [refused] = refusals([call], CRM_SYNC_POLICY_BEFORE, DEFAULT_ACCOUNT_ID)
    # Then BatchWriteItem on its table is refused
    assert refused.permission == Permission("dynamodb:BatchWriteItem", _table_arn(CRM_TABLE))
    # And the policy rendered today grants it
    policy = deployed_policy("crm_sync", SETTINGS, {})
    assert refusals([call], policy, DEFAULT_ACCOUNT_ID) == []
