"""The edge stack: one address for every service's API, and the operators' dashboard.

A CloudFront distribution routes each path to the API of the service that owns its first segment
(`/tickets`, `/departments`, `/agents` → tickets; `/sla` → sla; ...), as the local gateway does.
We chose CloudFront over a custom domain with base-path mappings because a mapping strips its
base path (the tickets API would see `/42` for `/tickets/42`) and needs a domain and certificate
before anything works; the distribution gives a working https address at once, can take a custom
domain later, and serves the agent console from the same origin (`infra.console_stack`), so the
console needs no CORS. Nothing of the APIs is cached (every answer depends on the agent's token),
and every header but Host reaches them. Every other path is the console's: its bucket is the
default origin, `/` is its index.html. The files of messages are served from the mail bucket
under their own prefixes, for links the tickets API signs (`infra.file_links`).
"""

from __future__ import annotations

import json
from typing import Any

from chalice.app import Chalice

from infra.console_stack import edge_behaviour, edge_origin, edge_resources
from infra.file_links import (
    FILE_PREFIXES,
    edge_file_behaviours,
    edge_file_origin,
    edge_file_outputs,
    edge_file_parameters,
    edge_file_resources,
)
from infra.parameters import stage_parameter, substitute
from infra.service_stack import (
    API_STAGE,
    api_export,
    api_name,
    app_of,
    function_name,
    function_names,
)
from infra.stacks import SERVICES, ServiceStack
from infra.templates import Template, service_resources
from shared.settings import Settings

# AWS's managed policies: no caching at all; all viewer headers but Host go to the origin (API
# Gateway routes by its own Host), which with caching off includes Authorization.
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]


def path_segments(app: Chalice) -> list[str]:
    """The first path segments an app's routes use: the edge sends those paths to it."""
    return sorted({route.strip("/").split("/")[0] for route in app.routes})


def edge_stack(settings: Settings) -> Template:
    origins, behaviours = [edge_file_origin(settings)], edge_file_behaviours(CACHING_DISABLED)
    file_segments = {prefix.rstrip("/") for prefix in FILE_PREFIXES}
    for stack in SERVICES:
        app = app_of(stack)
        if not app.routes:
            continue
        if clash := file_segments & set(path_segments(app)):
            raise ValueError(f"{stack.service} routes {sorted(clash)}: the edge serves files there")
        origins.append(
            {
                "Id": stack.service,
                "DomainName": {"Fn::ImportValue": api_export(stack, settings)},
                "OriginPath": f"/{API_STAGE}",
                "CustomOriginConfig": {
                    "OriginProtocolPolicy": "https-only",
                    "OriginSSLProtocols": ["TLSv1.2"],
                },
            }
        )
        for segment in path_segments(app):
            for pattern in (f"/{segment}", f"/{segment}/*"):
                behaviours.append(_behaviour(stack.service, pattern))
    # Paths of no service are the console's: its files, from its bucket (S3 answers 403 for a
    # file it does not have). The console routes in the URL's fragment, never in its path.
    origins.append(edge_origin(settings))
    template: Template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Helpdesk edge: one address for the console and every API, and the "
        "dashboard",
        "Parameters": {
            **stage_parameter(),
            "PriceClass": {
                "Type": "String",
                "Description": "Where CloudFront serves from (PriceClass_100: North America "
                "and Europe, the cheapest)",
                "Default": "PriceClass_100",
                "AllowedValues": ["PriceClass_100", "PriceClass_200", "PriceClass_All"],
            },
            **edge_file_parameters(),
        },
        "Resources": {
            "Distribution": {
                "Type": "AWS::CloudFront::Distribution",
                "Properties": {
                    "DistributionConfig": {
                        "Comment": f"{settings.resource_prefix}-{settings.stage} console and API",
                        "Enabled": True,
                        "DefaultRootObject": "index.html",
                        "HttpVersion": "http2and3",
                        "IPV6Enabled": True,
                        "PriceClass": {"Ref": "PriceClass"},
                        "Origins": origins,
                        "DefaultCacheBehavior": edge_behaviour(),
                        "CacheBehaviors": behaviours,
                    }
                },
            },
            **edge_resources(settings),
            **edge_file_resources(settings),
            "ForwardHost": {
                "Type": "AWS::CloudFront::Function",
                "Properties": {
                    "Name": f"{settings.resource_prefix}-{settings.stage}-forward-host",
                    "AutoPublish": True,
                    "FunctionCode": FORWARD_HOST,
                    "FunctionConfig": {
                        "Comment": "The edge's host, for signatures over the called URL",
                        "Runtime": "cloudfront-js-2.0",
                    },
                },
            },
            "Dashboard": {
                "Type": "AWS::CloudWatch::Dashboard",
                "Properties": {
                    "DashboardName": f"{settings.resource_prefix}-{settings.stage}",
                    "DashboardBody": json.dumps(dashboard(settings)),
                },
            },
        },
        "Outputs": {
            "BaseUrl": {
                "Description": "The one address of the API, for frontends and webhooks",
                "Value": "https://${Distribution.DomainName}",
            },
            "ConsoleUrl": {
                "Description": "Where agents open the console",
                "Value": "https://${Distribution.DomainName}/",
            },
            "DistributionId": {
                "Description": "The distribution, for invalidating the console's index",
                "Value": {"Ref": "Distribution"},
            },
            **edge_file_outputs(),
        },
    }
    return substitute(template)  # type: ignore[no-any-return]


# The API sees its own host, not the edge's: signed webhooks are signed over the URL the CRM
# called, so the edge tells the API which host that was.
FORWARD_HOST = """function handler(event) {
  var request = event.request;
  request.headers['x-forwarded-host'] = {value: request.headers.host.value};
  return request;
}"""


def _behaviour(origin: str, pattern: str) -> dict[str, Any]:
    return {
        "FunctionAssociations": [
            {
                "EventType": "viewer-request",
                "FunctionARN": {"Fn::GetAtt": ["ForwardHost", "FunctionARN"]},
            }
        ],
        "PathPattern": pattern,
        "TargetOriginId": origin,
        "ViewerProtocolPolicy": "https-only",
        "AllowedMethods": ALL_METHODS,
        "CachedMethods": ["GET", "HEAD"],
        "CachePolicyId": CACHING_DISABLED,
        "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST,
        "Compress": True,
    }


def dashboard(settings: Settings) -> dict[str, Any]:
    """One page for the operator: the APIs, every function, the queues and the mail."""
    region = "${AWS::Region}"
    widgets: list[dict[str, Any]] = []

    def add(title: str, metrics: list[list[Any]], stat: str = "Sum") -> None:
        widgets.append(
            {
                "type": "metric",
                "width": 12,
                "height": 6,
                "properties": {
                    "title": title,
                    "region": region,
                    "stat": stat,
                    "period": 300,
                    "metrics": metrics,
                },
            }
        )

    apis = [stack for stack in SERVICES if app_of(stack).routes]
    for metric, stat in (("5XXError", "Sum"), ("4XXError", "Sum"), ("Latency", "p90")):
        add(
            f"API {metric} ({stat})",
            [
                ["AWS/ApiGateway", metric, "ApiName", api_name(s, settings), "Stage", API_STAGE]
                for s in apis
            ],
            stat,
        )
    for metric in ("Errors", "Throttles"):
        add(
            f"Function {metric.lower()}",
            [
                ["AWS/Lambda", metric, "FunctionName", function_name(stack, settings, handler)]
                for stack in SERVICES
                for handler in function_names(app_of(stack))
            ],
        )
    add(
        "Outbox relay: age of the oldest event (ms)",
        [
            [
                "AWS/Lambda",
                "IteratorAge",
                "FunctionName",
                function_name(s, settings, "relay_outbox"),
            ]
            for s in SERVICES
            if s.outbox
        ],
        "Maximum",
    )
    add(
        "Events waiting in dead-letter queues",
        [
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue]
            for stack in SERVICES
            for queue in dead_letter_queues(stack, settings)
        ],
        "Maximum",
    )
    add(
        "Scheduled work done",
        [
            ["Helpdesk", s.heartbeat_metric, "service", s.service]
            for s in SERVICES
            if s.heartbeat_metric
        ],
    )
    add(
        "Mail reputation (bounce and complaint rates)",
        [
            ["AWS/SES", "Reputation.BounceRate"],
            ["AWS/SES", "Reputation.ComplaintRate"],
        ],
        "Maximum",
    )
    return {"widgets": widgets}


def dead_letter_queues(stack: ServiceStack, settings: Settings) -> list[str]:
    return [
        resource["Properties"]["QueueName"]
        for resource in service_resources(stack, settings)["Resources"].values()
        if resource["Type"] == "AWS::SQS::Queue"
        and resource["Properties"]["QueueName"].endswith("-dlq")
    ]
