"""The files of messages, served by the edge: what the edge stack declares for them, the mail
bucket's grant to its distribution, what the tickets functions may read, and the stage's key.

The emulator creates no CloudFront, so the edge is read off its template (cfn-lint checks every
template in test_stacks.py); the key a deployment makes is checked on the emulated account."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.deploy import Deployment
from infra.edge import CACHING_DISABLED, edge_stack, path_segments
from infra.file_links import FILE_HEADERS, FILES_ORIGIN, RESPONSE_OVERRIDES, public_key
from infra.parameters import substitute, template_settings
from infra.service_stack import app_of
from infra.stacks import SERVICES, service
from infra.templates import function_policy, shared_stack

pytestmark = pytest.mark.infra
NAMES = template_settings()
STAGE = "ci"


def _edge() -> dict[str, Any]:
    return edge_stack(NAMES)["Resources"]  # type: ignore[no-any-return]


def _file_behaviours() -> dict[str, dict[str, Any]]:
    config = _edge()["Distribution"]["Properties"]["DistributionConfig"]
    return {
        b["PathPattern"]: b for b in config["CacheBehaviors"] if b["TargetOriginId"] == FILES_ORIGIN
    }


def test_the_edge_serves_the_file_prefixes_from_the_mail_bucket_through_access_control() -> None:
    behaviours = _file_behaviours()
    assert set(behaviours) == {"/attachments/*", "/uploads/*"}
    # No API routes there
    segments = {s for stack in SERVICES for s in path_segments(app_of(stack))}
    assert not segments & {"attachments", "uploads"}
    config = _edge()["Distribution"]["Properties"]["DistributionConfig"]
    [origin] = [o for o in config["Origins"] if o["Id"] == FILES_ORIGIN]
    assert origin["DomainName"] == {
        "Fn::Sub": "helpdesk-${Stage}-mail-${AWS::AccountId}-${AWS::Region}.s3.${AWS::Region}"
        ".amazonaws.com"
    }
    assert origin.get("OriginPath", "") == ""  # the path is the object's key
    access = _edge()[origin["OriginAccessControlId"]["Fn::GetAtt"][0]]
    signing = access["Properties"]["OriginAccessControlConfig"]
    assert (signing["OriginAccessControlOriginType"], signing["SigningBehavior"]) == (
        "s3",
        "always",
    )
    for behaviour in behaviours.values():
        assert set(behaviour["AllowedMethods"]) == {"GET", "HEAD"}
        assert behaviour["CachePolicyId"] == CACHING_DISABLED
        assert behaviour["ViewerProtocolPolicy"] == "https-only"


def test_only_links_signed_with_the_stage_key_are_served() -> None:
    for behaviour in _file_behaviours().values():
        [group] = behaviour["TrustedKeyGroups"]
        keys = _edge()[group["Ref"]]
        assert keys["Type"] == "AWS::CloudFront::KeyGroup"
        [key] = keys["Properties"]["KeyGroupConfig"]["Items"]
        public = _edge()[key["Ref"]]
        assert public["Type"] == "AWS::CloudFront::PublicKey"
        assert public["Properties"]["PublicKeyConfig"]["EncodedKey"] == {"Ref": "FileLinkPublicKey"}
    outputs = edge_stack(NAMES)["Outputs"]
    assert outputs["FileLinkKeyId"]["Value"] == {"Ref": "FileLinkKey"}


def test_every_file_is_served_nosniff_sandboxed_with_only_the_signed_overrides_passed_on() -> None:
    [behaviour, *_] = _file_behaviours().values()
    headers = _edge()[behaviour["ResponseHeadersPolicyId"]["Ref"]]
    security = headers["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert security["ContentTypeOptions"] == {"Override": True}
    csp = security["ContentSecurityPolicy"]
    assert csp == {
        "ContentSecurityPolicy": FILE_HEADERS["Content-Security-Policy"],
        "Override": True,
    }
    assert "sandbox" in csp["ContentSecurityPolicy"]
    assert "default-src 'none'" in csp["ContentSecurityPolicy"]
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == FILE_HEADERS["Referrer-Policy"]
    # The one definition the local gateway sends too
    assert FILE_HEADERS["X-Content-Type-Options"] == "nosniff"
    requests = _edge()[behaviour["OriginRequestPolicyId"]["Ref"]]
    config = requests["Properties"]["OriginRequestPolicyConfig"]
    assert config["QueryStringsConfig"] == {
        "QueryStringBehavior": "whitelist",
        "QueryStrings": list(RESPONSE_OVERRIDES),
    }
    assert config["HeadersConfig"] == {"HeaderBehavior": "none"}
    assert config["CookiesConfig"] == {"CookieBehavior": "none"}


def test_only_the_edge_distribution_reads_the_mail_buckets_files_and_nothing_else() -> None:
    template = substitute(shared_stack(NAMES))
    policy = template["Resources"]["MailBucketPolicy"]["Properties"]["PolicyDocument"]
    [granted] = [s for s in policy["Statement"] if "Fn::If" in s]
    condition, statement, otherwise = granted["Fn::If"]
    assert (condition, otherwise) == ("EdgeServesFiles", {"Ref": "AWS::NoValue"})
    assert template["Conditions"]["EdgeServesFiles"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "EdgeDistributionId"}, ""]}]
    }
    assert template["Parameters"]["EdgeDistributionId"]["Default"] == ""
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Action"] == "s3:GetObject"
    bucket = "arn:aws:s3:::helpdesk-${Stage}-mail-${AWS::AccountId}-${AWS::Region}"
    assert statement["Resource"] == [
        {"Fn::Sub": f"{bucket}/attachments/*"},
        {"Fn::Sub": f"{bucket}/uploads/*"},
    ]
    assert statement["Condition"] == {
        "StringEquals": {
            "AWS:SourceArn": {
                "Fn::Sub": "arn:aws:cloudfront::${AWS::AccountId}:distribution/"
                "${EdgeDistributionId}"
            }
        }
    }


def test_the_tickets_functions_read_the_signing_key_and_the_edge_and_no_file() -> None:
    statements = function_policy(service("tickets"), NAMES)["Statement"]
    parameters = "arn:aws:ssm:${AWS::Region}:${AWS::AccountId}:parameter/helpdesk/${Stage}"
    reads = [s["Resource"] for s in statements if s["Action"] == "ssm:GetParameter"]
    assert [
        f"{parameters}/edge-url",
        f"{parameters}/file-links/key-id",
        f"{parameters}/file-links/private-key",
    ] in reads
    # Beside those, only the secret rating links are signed with
    assert [r for r in reads if isinstance(r, str)] == [f"{parameters}/reply-token-secret"]
    assert not [s for s in statements if "s3:GetObject" in str(s["Action"])]


def test_a_deployment_makes_the_stage_key_once_and_gives_the_edge_its_public_half(
    account: str, tmp_path: Path
) -> None:
    deployment = Deployment(
        STAGE, emulator=True, with_deps=False, log=lambda _: None, build=tmp_path / "build"
    )
    deployment.deploy()
    name = f"/helpdesk/{STAGE}/file-links/private-key"
    stored = boto3.client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]
    assert stored["Type"] == "SecureString"
    [edge] = boto3.client("cloudformation").describe_stacks(StackName=f"helpdesk-{STAGE}-edge")[
        "Stacks"
    ]
    given = {p["ParameterKey"]: p["ParameterValue"] for p in edge["Parameters"]}
    assert given["FileLinkPublicKey"] == public_key(stored["Value"])
    assert "PRIVATE" not in given["FileLinkPublicKey"]
    # A second deployment keeps the key, so links signed before still verify
    assert deployment.file_link_key() == stored["Value"]
