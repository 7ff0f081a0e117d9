"""Deploy the helpdesk to an AWS account, or take part of it away: `make deploy`, `make destroy`.

    python -m infra.deploy deploy --stage prod [--service tickets ...] [--no-deps] [--emulator]
    python -m infra.deploy destroy --stage prod --service tickets [--data]

The stacks go up in order: `<prefix>-<stage>-shared` (bus, mail bucket and domain, user pool,
alerts, the artifacts bucket), the console's (the bucket of its built files), then per service its
data stack (tables) and its service stack (functions, API, queues, alarms), then the edge (one
address for the console, the APIs and the files of messages, the dashboard). The key pair that
signs links to files is made once per stage: its private half in an SSM SecureString, its public
half a parameter of the edge. Once the edge exists, its address and the key's id are stored for the
tickets functions, and the shared stack is told the distribution that may read the mail bucket's
files (on a first deployment that changes the shared stack a second time). Last, the console is
built and its files and `config.json` uploaded to its bucket (`infra.console_upload`). Service
templates are SAM, which CloudFormation transforms (an emulator has no transform:
aws-sam-translator does it here); their code is uploaded to the artifacts bucket under its content
hash. A new stack is created; an existing one is changed through a change set, and a change set
without changes is dropped, so a second deploy with nothing changed changes nothing.

Parameter values come from the environment, named as the functions name their settings: stack
parameter `TicketPrefix` ← `HELPDESK_TICKET_PREFIX`, `MailDomain` ← `HELPDESK_MAIL_DOMAIN`. A
parameter not given keeps its value on an existing stack and its default on a new one.

`--emulator` deploys to an emulated account (AWS_ENDPOINT_URL): what it cannot create is left out
(`infra.emulator`). `--service console` deploys the console alone.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError, WaiterError

from infra import console_build, console_upload
from infra.console_stack import console_bucket, console_stack
from infra.edge import edge_stack
from infra.emulator import STAND_IN, for_emulator
from infra.file_links import (
    DISTRIBUTION_PARAMETER,
    KEY_ID_OUTPUT,
    PUBLIC_KEY_PARAMETER,
    new_private_key,
    public_key,
)
from infra.package import REPO, Packaged, package
from infra.parameters import environment_variable, substitute, template_settings
from infra.stacks import SERVICES, ServiceStack
from infra.templates import service_data, shared_stack
from shared.aws import client
from shared.settings import Settings

BUILD = REPO / "build"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
# CloudFormation takes a template of at most this size in the request; larger ones go by S3.
TEMPLATE_BODY_LIMIT = 51_200
# What the operator is shown after a deployment, from the outputs of these stacks.
SHOWN_OUTPUTS = {
    "edge": ("ConsoleUrl", "BaseUrl"),
    "shared": (
        "UserPoolId",
        "UserPoolClientId",
        "MailMxRecord",
        "MailDkimRecord1",
        "MailDkimRecord2",
        "MailDkimRecord3",
    ),
}
CONSOLE = "console"  # the console's stack, and the name `--service` knows it by


class DeployError(RuntimeError):
    """A stack did not reach a complete state; the message says which and why."""


@dataclass(frozen=True)
class StackPlan:
    """One stack to deploy: its name, what it is, and the service it belongs to."""

    name: str
    part: str  # shared, console, data, service, edge
    service: ServiceStack | None = None


def stack_name(settings: Settings, part: str, stack: ServiceStack | None = None) -> str:
    service = f"-{stack.service.replace('_', '-')}" if stack else ""
    suffix = {"data": "-data", "service": ""}.get(part, f"-{part}") if stack else f"-{part}"
    return f"{settings.resource_prefix}-{settings.stage}{service}{suffix}"


@dataclass
class Deployment:
    stage: str
    emulator: bool = False
    with_deps: bool = True
    environment: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    log: Callable[[str], None] = print
    build: Path = BUILD

    @cached_property
    def settings(self) -> Settings:
        """Real names of this stage on this account, to find its stacks and buckets."""
        return Settings(
            stage=self.stage,
            resource_prefix=template_settings().resource_prefix,
            account_id=client("sts").get_caller_identity()["Account"],
            AWS_DEFAULT_REGION=client("cloudformation").meta.region_name,
        )

    def plan(self, services: Sequence[str] = ()) -> list[StackPlan]:
        """The stacks in the order they go up: all of them, or the named services'."""
        real = self.settings
        plans = [] if services else [StackPlan(stack_name(real, "shared"), "shared")]
        if not services or CONSOLE in services:
            plans.append(StackPlan(stack_name(real, CONSOLE), CONSOLE))
        for stack in SERVICES:
            if not services or stack.service in services:
                plans.append(StackPlan(stack_name(real, "data", stack), "data", stack))
                plans.append(StackPlan(stack_name(real, "service", stack), "service", stack))
        if not services:
            plans.append(StackPlan(stack_name(real, "edge"), "edge"))
        return plans

    def deploy(self, services: Sequence[str] = ()) -> dict[str, str]:
        """Deploy the stacks in order; returns what the operator needs (address, ids, DNS)."""
        plans = self.plan(services)
        with_console = any(plan.part == CONSOLE for plan in plans)
        if with_console:
            console_build.build()  # before any stack changes: a build that fails stops here
        functions = [name for name in services if name != CONSOLE]
        packaged = (
            {
                result.service: result
                for result in package(self.build, functions, with_deps=self.with_deps)
                if isinstance(result, Packaged)
            }
            if functions or not services
            else {}
        )
        given: dict[str, dict[str, str]] = {}
        for plan in plans:
            template = self._template(plan, packaged)
            if template is not None:
                given[plan.part] = self.given_parameters(plan.part)
                self.log(f"{plan.name}: {self.apply(plan.name, template, given[plan.part])}")
        if any(plan.part == "edge" for plan in plans):
            self.store_edge_addresses()
            if "shared" in given and (now := self.given_parameters("shared")) != given["shared"]:
                # A new edge: the mail bucket's policy names the distribution that reads files.
                name = stack_name(self.settings, "shared")
                template = substitute(shared_stack(template_settings()))
                self.log(f"{name}: {self.apply(name, template, now)}")
        if with_console:
            self.publish_console()
        return self.outputs()

    def given_parameters(self, part: str) -> dict[str, str]:
        """Parameter values a stack gets from the deployment itself rather than the operator."""
        if part == "shared":
            distribution = self.stack_outputs("edge").get("DistributionId")
            return {DISTRIBUTION_PARAMETER: distribution} if distribution else {}
        if part == "edge":
            return {PUBLIC_KEY_PARAMETER: public_key(self.file_link_key())}
        return {}

    def file_link_key(self) -> str:
        """The stage's private key for links to files: made the first time, then kept."""
        ssm = client("ssm")
        name = self.settings.file_link_key_parameter
        try:
            return str(ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])
        except ssm.exceptions.ParameterNotFound:
            key = new_private_key()
            ssm.put_parameter(Name=name, Value=key, Type="SecureString")
            return key

    def store_edge_addresses(self) -> None:
        """Keep what the functions read of the edge, known only now (the edge goes up after
        the services): the console's address for the channels functions (their mail to agents
        links to it; the one an operator set, else the edge's), and for the tickets functions
        the edge's own address and the id of the key their links to files are signed for."""
        edge = self.stack_outputs("edge")
        values = {
            self.settings.console_url_parameter: self.settings.console_url
            or edge.get("ConsoleUrl"),
            self.settings.edge_url_parameter: edge.get("BaseUrl"),
            self.settings.file_link_key_id_parameter: edge.get(KEY_ID_OUTPUT),
        }
        for name, value in values.items():
            if value:
                client("ssm").put_parameter(
                    Name=name, Value=value.rstrip("/"), Type="String", Overwrite=True
                )

    def publish_console(self, dist: Path = console_build.DIST) -> console_upload.Published:
        """Upload the built console and its config.json to its bucket, then have the edge
        forget the copies of index.html and config.json it holds."""
        shared = self.stack_outputs("shared")
        if not shared:
            name = stack_name(self.settings, "shared")
            raise DeployError(f"{name} does not exist: deploy the whole stage first")
        config = console_upload.config_file(
            self.settings.region,
            self._pool_output(shared, "UserPoolId"),
            self._pool_output(shared, "UserPoolClientId"),
        )
        bucket = console_bucket(self.settings)
        published = console_upload.publish(bucket, [*console_upload.built_files(dist), config])
        changed = len(published.uploaded) + len(published.removed)
        self.log(
            f"{bucket}: {len(published.uploaded)} files uploaded, {len(published.removed)} removed"
            if changed
            else f"{bucket}: unchanged"
        )
        # The emulator has no distribution (infra.emulator): nothing holds a copy there.
        distribution = self.stack_outputs("edge").get("DistributionId")
        if distribution and published.stale_paths():
            console_upload.invalidate(distribution, published.stale_paths())
        return published

    def _pool_output(self, outputs: dict[str, str], key: str) -> str:
        if key in outputs:
            return outputs[key]
        if self.emulator:
            return STAND_IN  # the emulator creates no user pool
        raise DeployError(f"{stack_name(self.settings, 'shared')} has no output {key}")

    def _template(self, plan: StackPlan, packaged: dict[str, Packaged]) -> dict[str, Any] | None:
        names = template_settings()
        if plan.part == "shared":
            return substitute(shared_stack(names))  # type: ignore[no-any-return]
        if plan.part == CONSOLE:
            return console_stack(names)
        if plan.part == "edge":
            return edge_stack(names)
        assert plan.service is not None
        if plan.part == "data":
            return substitute(service_data(plan.service, names))  # type: ignore[no-any-return]
        if plan.service.service not in packaged:
            return None  # an app with no functions yet: nothing to deploy
        template = self._service_template(packaged[plan.service.service])
        # The emulator has no SAM transform: translate here, as CloudFormation does in AWS.
        return translate(template, self.settings.region) if self.emulator else template

    def _service_template(self, packaged: Packaged) -> dict[str, Any]:
        sam = json.loads((packaged.sam_dir / "sam.json").read_text())
        for resource in sam["Resources"].values():
            properties = resource.get("Properties", {})
            for key in ("CodeUri", "ContentUri"):
                if isinstance(properties.get(key), str) and properties[key].startswith("./"):
                    properties[key] = self._upload(
                        packaged.sam_dir / properties[key], packaged.service
                    )
        return sam  # type: ignore[no-any-return]

    def _upload(self, path: Path, folder: str) -> dict[str, str]:
        """Put a file in the artifacts bucket under its content hash (once)."""
        data = path.read_bytes()
        key = f"{folder}/{_digest(data)}{path.suffix}"
        bucket = self.settings.artifacts_bucket
        try:
            client("s3").head_object(Bucket=bucket, Key=key)
        except ClientError:
            client("s3").put_object(Bucket=bucket, Key=key, Body=data)
        return {"Bucket": bucket, "Key": key}

    def apply(
        self, name: str, template: dict[str, Any], given: dict[str, str] | None = None
    ) -> str:
        """Create the stack, or change it through a change set; 'unchanged' when nothing would.
        `given`: parameter values of the deployment's own, beside the operator's."""
        if self.emulator:
            exports = {
                export["Name"]
                for page in client("cloudformation").get_paginator("list_exports").paginate()
                for export in page["Exports"]
            }
            template = for_emulator(template, {"Stage": self.stage}, exports)
        cloudformation = client("cloudformation")
        existing = self._status(name)
        if existing in ("ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS"):
            # A first creation that failed leaves a stack that can only be deleted.
            cloudformation.delete_stack(StackName=name)
            cloudformation.get_waiter("stack_delete_complete").wait(StackName=name)
            existing = None
        source = self._template_source(name, template)
        parameters = self._parameters(template, update=existing is not None, given=given or {})
        if existing is None:
            cloudformation.create_stack(
                StackName=name,
                Parameters=parameters,
                Capabilities=CAPABILITIES,
                OnFailure="ROLLBACK",
                **source,
            )
            self._wait(name, "stack_create_complete")
            return "created"
        try:
            change_set = cloudformation.create_change_set(
                StackName=name,
                ChangeSetName=f"deploy-{_digest(json.dumps(template))[:16]}",
                ChangeSetType="UPDATE",
                Parameters=parameters,
                Capabilities=CAPABILITIES,
                **source,
            )
        except ClientError as error:
            if any(reason in str(error) for reason in NO_CHANGES):
                return "unchanged"
            raise
        described = cloudformation.describe_change_set(ChangeSetName=change_set["Id"])
        while described["Status"] in ("CREATE_PENDING", "CREATE_IN_PROGRESS"):
            # The waiter gives up on a change set that fails; its status says why, below.
            with contextlib.suppress(WaiterError):
                cloudformation.get_waiter("change_set_create_complete").wait(
                    ChangeSetName=change_set["Id"]
                )
            described = cloudformation.describe_change_set(ChangeSetName=change_set["Id"])
        if described["Status"] == "FAILED":
            if any(reason in (described.get("StatusReason") or "") for reason in NO_CHANGES):
                cloudformation.delete_change_set(ChangeSetName=change_set["Id"])
                return "unchanged"
            raise DeployError(f"{name}: change set failed: {described.get('StatusReason')}")
        cloudformation.execute_change_set(ChangeSetName=change_set["Id"])
        self._wait(name, "stack_update_complete")
        return f"updated ({len(described.get('Changes', []))} changes)"

    def _template_source(self, name: str, template: dict[str, Any]) -> dict[str, str]:
        body = json.dumps(template)
        # The emulator has no size limit, and tells an unchanged stack only by its inline body
        # (given a URL, it makes a change set of nothing).
        if len(body) <= TEMPLATE_BODY_LIMIT or self.emulator:
            return {"TemplateBody": body}
        location = self._upload_text(body, f"templates/{name}")
        return {"TemplateURL": location}

    def _upload_text(self, body: str, folder: str) -> str:
        bucket = self.settings.artifacts_bucket
        key = f"{folder}/{_digest(body)}.json"
        client("s3").put_object(Bucket=bucket, Key=key, Body=body.encode())
        region = self.settings.region
        return f"https://{bucket}.s3.{region}.amazonaws.com/{key}"

    def _parameters(
        self, template: dict[str, Any], *, update: bool, given: dict[str, str]
    ) -> list[dict[str, Any]]:
        given = (
            {
                name: value
                for name in template.get("Parameters", {})
                if (value := self.environment.get(environment_variable(_snake(name)))) is not None
            }
            | given
            | {"Stage": self.stage}  # the command's, whatever HELPDESK_STAGE says
        )
        parameters: list[dict[str, Any]] = [
            {"ParameterKey": key, "ParameterValue": value} for key, value in given.items()
        ]
        missing = [
            environment_variable(_snake(name))
            for name, declared in template.get("Parameters", {}).items()
            if "Default" not in declared and name not in given
        ]
        if missing and not update:
            raise DeployError(f"set {', '.join(missing)}: the first deployment needs it")
        if update:
            parameters += [
                {"ParameterKey": name, "UsePreviousValue": True}
                for name in template.get("Parameters", {})
                if name not in given
            ]
        return parameters

    def _status(self, name: str) -> str | None:
        try:
            stacks = client("cloudformation").describe_stacks(StackName=name)["Stacks"]
        except ClientError as error:
            if "does not exist" in str(error):
                return None
            raise
        status = str(stacks[0]["StackStatus"])
        return None if status == "DELETE_COMPLETE" else status

    def _wait(self, name: str, waiter: str) -> None:
        try:
            client("cloudformation").get_waiter(waiter).wait(
                StackName=name, WaiterConfig={"Delay": 5, "MaxAttempts": 720}
            )
        except WaiterError as error:
            raise DeployError(f"{name}: {self._status(name)}: {self._failure(name)}") from error

    def _failure(self, name: str) -> str:
        events = client("cloudformation").describe_stack_events(StackName=name)["StackEvents"]
        reasons = [
            f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}"
            for e in events
            if e["ResourceStatus"].endswith("FAILED")
        ]
        return "; ".join(reasons[:5]) or "no reason given"

    def outputs(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for part, names in SHOWN_OUTPUTS.items():
            values = self.stack_outputs(part)
            found |= {key: values[key] for key in names if key in values}
        return found

    def stack_outputs(self, part: str) -> dict[str, str]:
        """The outputs of this stage's `part` stack (shared, console, edge); none if it is not
        there."""
        name = stack_name(self.settings, part)
        if self._status(name) is None:
            return {}
        stack = client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
        return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    def destroy(self, services: Sequence[str] = (), *, data: bool = False) -> list[str]:
        """Delete stacks, last deployed first. Tables are kept whatever happens (Retain); their
        data stacks go only when asked."""
        removed = []
        for plan in reversed(self.plan(services)):
            if plan.part == "data" and not data:
                continue
            if self._status(plan.name) is None:
                continue
            if plan.part == CONSOLE:
                self._empty_console()
            client("cloudformation").delete_stack(StackName=plan.name)
            self._wait(plan.name, "stack_delete_complete")
            self.log(f"{plan.name}: deleted")
            removed.append(plan.name)
        return removed

    def _empty_console(self) -> None:
        """CloudFormation deletes only an empty bucket; but while the edge serves the console,
        emptying it would leave agents a blank page, and the edge's import keeps the stack."""
        edge = stack_name(self.settings, "edge")
        if self._status(edge) is not None:
            raise DeployError(f"{edge} serves the console: destroy the whole stage to remove it")
        console_upload.empty(console_bucket(self.settings))


def _digest(content: str | bytes) -> str:
    return hashlib.sha256(content.encode() if isinstance(content, str) else content).hexdigest()


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def translate(sam: dict[str, Any], region: str) -> dict[str, Any]:
    """The SAM template as plain CloudFormation, translated here as CloudFormation's transform
    would (offline: the managed policies come with the translator)."""
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    translator = Translator(
        managed_policy_map=None,
        sam_parser=Parser(),
        boto_session=boto3.session.Session(region_name=region),
    )
    try:
        translated: dict[str, Any] = translator.translate(
            sam_template=sam, parameter_values={}, get_managed_policy_map=lambda: {}
        )
    except InvalidDocumentException as error:
        raise DeployError("; ".join(str(cause) for cause in error.causes)) from error
    return translated


def _services(values: Sequence[str]) -> Iterator[str]:
    known = {stack.service for stack in SERVICES} | {CONSOLE}
    for value in values:
        for name in value.replace(",", " ").split():
            if name not in known:
                raise SystemExit(f"unknown service {name!r}: one of {', '.join(sorted(known))}")
            yield name


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for command in ("deploy", "destroy"):
        sub = commands.add_parser(command)
        sub.add_argument("--stage", required=True, help="dev, prod, ... (a-z, 0-9)")
        sub.add_argument(
            "--service", action="append", default=[], help="only this service (or console)"
        )
        sub.add_argument("--emulator", action="store_true", help="an emulated account")
    commands.choices["deploy"].add_argument(
        "--no-deps", action="store_true", help="ship no dependency layer (emulator, tests)"
    )
    commands.choices["deploy"].add_argument(
        "--build", type=Path, default=BUILD, help="where the packages are written (build/)"
    )
    commands.choices["destroy"].add_argument(
        "--data", action="store_true", help="also delete the data stacks (tables are kept)"
    )
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[a-z][a-z0-9]{0,11}", args.stage):
        parser.error("--stage is a-z then a-z or 0-9, at most 12 characters")
    deployment = Deployment(
        args.stage,
        emulator=args.emulator,
        with_deps=not getattr(args, "no_deps", False),
        build=getattr(args, "build", BUILD),
    )
    services = list(_services(args.service))
    try:
        if args.command == "destroy":
            deployment.destroy(services, data=args.data)
            return 0
        outputs = deployment.deploy(services)
    except DeployError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for key, value in outputs.items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
