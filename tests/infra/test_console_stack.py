"""The agent console in AWS: a private bucket of its own stack, served by the edge on the APIs'
address with security headers, and filled by the deployment.

The emulator creates no CloudFront, so what the edge does is read off its template; the bucket,
the upload and the removal are run against the emulator.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra import console_build
from infra.console_stack import CACHING_OPTIMIZED, console_stack
from infra.console_upload import (
    IMMUTABLE,
    INDEX,
    MANIFEST,
    NEVER_STORE,
    REVALIDATE,
    File,
    built_files,
    config_file,
    publish,
)
from infra.deploy import DeployError, Deployment, main, stack_name
from infra.edge import edge_stack, path_segments
from infra.file_links import FILES_ORIGIN
from infra.parameters import substitute, template_settings
from infra.service_stack import app_of
from infra.stacks import SERVICES
from infra.templates import shared_stack
from shared.aws import client, reset_process_state
from tests.infra.test_deploy import CONSOLE, CONSOLE_BUCKET, SHARED, STAGE
from tests.infra.test_stacks import CFN_LINT

pytestmark = pytest.mark.infra
NAMES = template_settings()
COGNITO = "https://cognito-idp.${AWS::Region}.amazonaws.com"
# Reply attachments are posted to the mail bucket, and a mail's inline images read from it, by
# either of its addresses.
MAIL_BUCKET = "helpdesk-${Stage}-mail-${AWS::AccountId}-${AWS::Region}"
UPLOADS = [
    f"https://{MAIL_BUCKET}.s3.amazonaws.com",
    f"https://{MAIL_BUCKET}.s3.${{AWS::Region}}.amazonaws.com",
]
# What the shared stack's user pool outputs would be: the emulator creates no user pool.
POOL = {"UserPoolId": "eu-west-1_Agents", "UserPoolClientId": "console-client"}


@pytest.fixture(scope="module")
def dist() -> Path:
    """The console as `make deploy` builds it."""
    try:
        console_build.build()
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"the console cannot be built here (Node 20+ and npm are needed): {error}")
    return console_build.DIST


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {n: r for n, r in template["Resources"].items() if r["Type"] == kind}


def _distribution() -> dict[str, Any]:
    resource = edge_stack(NAMES)["Resources"]["Distribution"]
    return resource["Properties"]["DistributionConfig"]  # type: ignore[no-any-return]


def _csp() -> dict[str, list[str]]:
    policy = edge_stack(NAMES)["Resources"]["ConsoleHeaders"]
    security = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    text = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    directives = [d.split() for d in text.split(";")]
    return {name: sources for name, *sources in directives}


def test_the_console_stack_passes_cfn_lint_and_its_bucket_is_private(tmp_path: Path) -> None:
    template = console_stack(NAMES)
    path = tmp_path / "console.json"
    path.write_text(json.dumps(template))
    linted = subprocess.run(
        [CFN_LINT, "--format", "parseable", str(path)], capture_output=True, text=True, check=False
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr
    # It imports nothing: it goes up before the edge, which imports its bucket
    assert "Fn::ImportValue" not in json.dumps(template)
    [bucket] = _resources(template, "AWS::S3::Bucket").values()
    properties = bucket["Properties"]
    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(properties["PublicAccessBlockConfiguration"]) == 4
    assert properties["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert properties["BucketName"] == {
        "Fn::Sub": "helpdesk-${Stage}-console-${AWS::AccountId}-${AWS::Region}"
    }
    assert bucket["DeletionPolicy"] == "Delete"  # built files only: the deploy empties it first
    assert not _resources(template, "AWS::S3::BucketPolicy")
    assert "WebsiteConfiguration" not in properties


def test_the_edge_serves_the_console_through_access_control_and_the_apis_as_before() -> None:
    config = _distribution()
    origins = {origin["Id"]: origin for origin in config["Origins"]}
    default = config["DefaultCacheBehavior"]
    # The default behaviour (/, /index.html, /assets/*, /config.json) is the console's bucket
    assert config["DefaultRootObject"] == "index.html"
    console = origins[default["TargetOriginId"]]
    assert console["DomainName"] == {
        "Fn::ImportValue": {"Fn::Sub": "helpdesk-${Stage}-ConsoleBucketDomain"}
    }
    assert console["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    access = edge_stack(NAMES)["Resources"][console["OriginAccessControlId"]["Fn::GetAtt"][0]]
    assert access["Type"] == "AWS::CloudFront::OriginAccessControl"
    signing = access["Properties"]["OriginAccessControlConfig"]
    assert (signing["SigningProtocol"], signing["SigningBehavior"]) == ("sigv4", "always")
    assert signing["OriginAccessControlOriginType"] == "s3"
    assert default["ResponseHeadersPolicyId"] == {"Ref": "ConsoleHeaders"}
    assert default["CachePolicyId"] == CACHING_OPTIMIZED
    assert set(default["AllowedMethods"]) == {"GET", "HEAD"}
    # And every API path still goes to its own API, uncached, with the forwarded host
    routed = {
        b["PathPattern"]: b for b in config["CacheBehaviors"] if b["TargetOriginId"] != FILES_ORIGIN
    }
    expected = {}
    for stack in SERVICES:
        for segment in path_segments(app_of(stack)):
            expected |= {f"/{segment}": stack.service, f"/{segment}/*": stack.service}
    assert {pattern: b["TargetOriginId"] for pattern, b in routed.items()} == expected
    for behaviour in routed.values():
        assert "CustomOriginConfig" in origins[behaviour["TargetOriginId"]]
        assert "ResponseHeadersPolicyId" not in behaviour
        assert behaviour["FunctionAssociations"]


def test_only_the_distribution_may_read_the_console_bucket() -> None:
    [policy] = _resources(edge_stack(NAMES), "AWS::S3::BucketPolicy").values()
    properties = policy["Properties"]
    imported = {"Fn::ImportValue": {"Fn::Sub": "helpdesk-${Stage}-ConsoleBucketName"}}
    assert properties["Bucket"] == imported
    [statement] = properties["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Action"] == "s3:GetObject"
    assert statement["Resource"] == {"Fn::Sub": ["arn:aws:s3:::${Bucket}/*", {"Bucket": imported}]}
    assert statement["Condition"] == {
        "StringEquals": {
            "AWS:SourceArn": {
                "Fn::Sub": "arn:aws:cloudfront::${AWS::AccountId}:distribution/${Distribution}"
            }
        }
    }


def test_the_console_may_call_only_itself_its_user_pool_and_the_mail_bucket() -> None:
    csp = _csp()
    assert csp["connect-src"] == ["'self'", COGNITO, *UPLOADS]
    # A mail's inline images load by the links the API signs, on the edge's own address: never
    # from the bucket itself
    assert csp["img-src"] == ["'self'", "data:", "blob:"]
    assert not {"frame-src", "child-src"} & csp.keys()  # the mail's frame is a srcdoc
    assert csp["default-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]  # no inline styles, nor scripts (default-src)
    assert csp["object-src"] == csp["frame-ancestors"] == csp["base-uri"] == ["'none'"]
    # Nothing from another host: no CDN, no script or style from anywhere else
    allowed = {"'self'", "'none'", "data:", "blob:", COGNITO, *UPLOADS}
    assert {source for sources in csp.values() for source in sources} <= allowed
    policy = edge_stack(NAMES)["Resources"]["ConsoleHeaders"]
    security = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31_536_000
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert "ContentTypeOptions" in security
    assert all(header["Override"] for header in security.values())


@pytest.fixture
def bucket() -> Iterator[str]:
    """An empty bucket in an in-process emulator."""
    with mock_aws():
        reset_process_state()
        client("s3").create_bucket(
            Bucket="console", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        yield "console"
    reset_process_state()


def _build(tmp_path: Path, name: str, chunk: str) -> list[File]:
    dist = tmp_path / name
    (dist / "assets").mkdir(parents=True)
    (dist / ".built-from").write_text("digest")  # the build's own bookkeeping
    (dist / "index.html").write_text(f'<script src="/assets/{chunk}.js"></script>')
    (dist / "assets" / f"{chunk}.js").write_text(f"// {chunk}")
    (dist / "assets" / "style-same.css").write_text("body {}")
    return [*built_files(dist), config_file("eu-west-1", "pool", "client")]


def _stored(bucket: str) -> dict[str, dict[str, Any]]:
    s3 = client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {key: s3.head_object(Bucket=bucket, Key=key) for key in keys}


def test_an_unchanged_build_uploads_nothing_and_the_index_goes_last(
    bucket: str, tmp_path: Path
) -> None:
    # When a build is published
    files = _build(tmp_path, "first", "index-aaa")
    first = publish(bucket, files)

    # Then every file is there, the index last, and nothing of the build's own bookkeeping
    assert first.uploaded[-1] == INDEX
    assert sorted(first.uploaded) == sorted(file.key for file in files)
    assert set(_stored(bucket)) == {*first.uploaded, MANIFEST}
    assert first.stale_paths() == ["/", "/config.json", "/index.html"]

    # When the same build is published again, nothing is uploaded, removed or invalidated
    again = publish(bucket, _build(tmp_path, "again", "index-aaa"))
    assert (again.uploaded, again.removed, again.stale_paths()) == ([], [], [])


def test_the_previous_build_stays_for_open_tabs_and_older_ones_go(
    bucket: str, tmp_path: Path
) -> None:
    publish(bucket, _build(tmp_path, "one", "index-one"))
    # A new build keeps what the open tabs of the previous one still load
    second = publish(bucket, _build(tmp_path, "two", "index-two"))
    assert second.uploaded == ["assets/index-two.js", INDEX]
    assert second.removed == []
    assert "assets/index-one.js" in _stored(bucket)
    # The one after removes the first build's chunk, but not the previous one's
    third = publish(bucket, _build(tmp_path, "three", "index-three"))
    assert third.removed == ["assets/index-one.js"]
    assert {"assets/index-two.js", "assets/index-three.js"} <= set(_stored(bucket))
    # Hashed assets need no invalidation, the index does
    assert third.stale_paths() == ["/", "/index.html"]


def test_deploy_uploads_the_built_console_and_its_config_and_destroy_removes_it(
    account: str,
    dist: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the shared stack is up, its user pool's outputs standing in for the emulator's
    deployment = Deployment(STAGE, emulator=True, with_deps=False, log=lambda _: None)
    deployment.apply(SHARED, substitute(shared_stack(NAMES)))
    outputs = Deployment.stack_outputs

    def with_pool(self: Deployment, part: str) -> dict[str, str]:
        found = outputs(self, part)
        return found | POOL if part == "shared" and found else found

    monkeypatch.setattr(Deployment, "stack_outputs", with_pool)

    # When the operator deploys the console alone
    arguments = ["deploy", "--stage", STAGE, "--emulator", "--no-deps", "--service", "console"]
    assert main([*arguments, "--build", str(tmp_path / "build")]) == 0

    # Then its stack is created, and every built file is in its bucket with its type and caching
    printed = capsys.readouterr().out
    assert f"{CONSOLE}: created" in printed
    stored = _stored(CONSOLE_BUCKET)
    built = {
        path.relative_to(dist).as_posix()
        for path in dist.rglob("*")
        if path.is_file() and not path.name.startswith(".")
    }
    assert INDEX in built
    assert built | {"config.json"} <= set(stored)
    for key in built:
        kind, cache = stored[key]["ContentType"], stored[key]["CacheControl"]
        if key == INDEX:
            assert (kind, cache) == ("text/html; charset=utf-8", REVALIDATE)
        elif key.endswith(".js"):
            assert (kind, cache) == ("text/javascript; charset=utf-8", IMMUTABLE), key
        elif key.endswith(".css"):
            assert (kind, cache) == ("text/css; charset=utf-8", IMMUTABLE), key
    # And config.json signs agents in with the shared stack's user pool, by SRP
    config_object = client("s3").get_object(Bucket=CONSOLE_BUCKET, Key="config.json")
    assert config_object["CacheControl"] == NEVER_STORE
    assert config_object["ContentType"].startswith("application/json")
    config = json.loads(config_object["Body"].read())
    assert config == {
        "api_base": "",
        "user_pool": {
            "region": "eu-west-1",
            "pool_id": POOL["UserPoolId"],
            "client_id": POOL["UserPoolClientId"],
            "endpoint": None,
            "auth_flow": "USER_SRP_AUTH",
        },
        "dev_tokens": False,
        "local": False,
        "poll_seconds": 30,
    }

    # When they deploy it again with nothing changed, nothing is uploaded
    said: list[str] = []
    Deployment(STAGE, emulator=True, with_deps=False, log=said.append).deploy(["console"])
    assert said == [f"{CONSOLE}: unchanged", f"{CONSOLE_BUCKET}: unchanged"]

    # When they remove the console, its bucket is emptied and deleted with its stack
    assert main(["destroy", "--stage", STAGE, "--emulator", "--service", "console"]) == 0
    assert CONSOLE_BUCKET not in {b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]}
    names = {s["StackName"] for s in boto3.client("cloudformation").describe_stacks()["Stacks"]}
    assert CONSOLE not in names


def test_the_console_is_not_emptied_while_the_edge_serves_it(
    account: str, dist: Path, tmp_path: Path
) -> None:
    deployment = Deployment(STAGE, emulator=True, with_deps=False, log=lambda _: None)
    # Given a stage whose edge serves the console
    for part, template in (
        ("shared", substitute(shared_stack(NAMES))),
        ("console", console_stack(NAMES)),
        ("edge", edge_stack(NAMES)),
    ):
        name = stack_name(deployment.settings, part)
        deployment.apply(name, template, deployment.given_parameters(part))
    client("s3").put_object(Bucket=CONSOLE_BUCKET, Key=INDEX, Body=b"<html>")

    # When the operator removes the console alone, they are told why not, and agents keep it
    with pytest.raises(DeployError, match="serves the console"):
        deployment.destroy(["console"])
    assert INDEX in _stored(CONSOLE_BUCKET)
