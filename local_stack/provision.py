"""Create every stack's resources in the emulator from the same templates AWS gets."""

from __future__ import annotations

import json
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
        created.append(name)
    return created
