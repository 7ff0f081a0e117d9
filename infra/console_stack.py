"""The agent console in AWS: its own stack holds the bucket of its built files, and the edge
serves them from that bucket on the APIs' address.

The console stack holds only a private bucket, exported by name and regional domain, so it goes
up before the edge and never needs it. The edge reads the bucket through an Origin Access
Control, and holds the bucket policy that lets only its own distribution read it: the edge can
point at both the imported bucket and the distribution, the console stack at neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infra.parameters import stage_parameter, substitute
from infra.templates import Template, export_name, import_value
from shared.settings import Settings

ORIGIN = "console"
# AWS's managed CachingOptimized policy (MinTTL 1 s): hashed assets are cached for a year, while
# index.html and config.json are uploaded `no-cache`/`no-store`, so CloudFront keeps them at most
# a second, and the deployment invalidates them besides.
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
HSTS_SECONDS = 31_536_000
BUCKET_NAME_OUTPUT = "ConsoleBucketName"
BUCKET_DOMAIN_OUTPUT = "ConsoleBucketDomain"


def console_bucket(settings: Settings) -> str:
    """The bucket of the console's files; the account and region make the name ours."""
    prefix = f"{settings.resource_prefix}-{settings.stage}"
    return f"{prefix}-console-{settings.account_id}-{settings.region}"


def content_security_policy(connect: Sequence[str], files: Sequence[str] = ()) -> str:
    """What the console's pages may load and call: their own address (the API, and in AWS the
    signed links to files, which the edge serves) and the hosts of `connect`; images from the
    hosts of `files` too, where links to files name another address (a mail's inline images, in
    the sandboxed frame that shows the mail: a srcdoc frame inherits this policy and fetches
    nothing itself, so frames need no source); nothing from any other host, no inline code, no
    framing. The local stack sends the same policy with its own addresses."""
    return "; ".join(
        (
            "default-src 'self'",
            f"connect-src 'self' {' '.join(connect)}",
            " ".join(("img-src 'self' data: blob:", *files)),
            "style-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        )
    )


def mail_bucket_hosts(settings: Settings) -> tuple[str, ...]:
    """The mail bucket's addresses: the one a presigned form or link names, or the region's that
    S3 may redirect to."""
    region, mail = settings.region, settings.mail_bucket
    return f"https://{mail}.s3.amazonaws.com", f"https://{mail}.s3.{region}.amazonaws.com"


def connected_hosts(settings: Settings) -> tuple[str, ...]:
    """What the console calls in AWS besides its own address: the user pool's endpoint in the
    region, and the mail bucket that reply attachments are posted to."""
    return f"https://cognito-idp.{settings.region}.amazonaws.com", *mail_bucket_hosts(settings)


def console_stack(settings: Settings) -> Template:
    template: Template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Helpdesk agent console: the bucket of its built files",
        "Parameters": stage_parameter(),
        "Resources": {
            "ConsoleBucket": {
                "Type": "AWS::S3::Bucket",
                # Every file is built from the repository and uploaded again by each deployment:
                # nothing here is data, so removing the stack may remove the bucket (the
                # deployment empties it first, as CloudFormation removes only empty buckets).
                "DeletionPolicy": "Delete",
                "UpdateReplacePolicy": "Delete",
                "Properties": {
                    "BucketName": console_bucket(settings),
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [
                            # S3's own keys: CloudFront's access control reads them without a
                            # key policy, which a KMS key would need.
                            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                        ]
                    },
                },
            }
        },
        "Outputs": {
            BUCKET_NAME_OUTPUT: {
                "Value": {"Ref": "ConsoleBucket"},
                "Export": {"Name": export_name(settings, BUCKET_NAME_OUTPUT)},
            },
            BUCKET_DOMAIN_OUTPUT: {
                "Value": {"Fn::GetAtt": ["ConsoleBucket", "RegionalDomainName"]},
                "Export": {"Name": export_name(settings, BUCKET_DOMAIN_OUTPUT)},
            },
        },
    }
    return substitute(template)  # type: ignore[no-any-return]


def edge_origin(settings: Settings) -> dict[str, Any]:
    """The console's bucket as an origin of the edge, read through the access control."""
    return {
        "Id": ORIGIN,
        "DomainName": import_value(settings, BUCKET_DOMAIN_OUTPUT),
        "S3OriginConfig": {"OriginAccessIdentity": ""},  # empty: the access control signs
        "OriginAccessControlId": {"Fn::GetAtt": ["ConsoleAccess", "Id"]},
    }


def edge_behaviour() -> dict[str, Any]:
    """The edge's default behaviour: whatever is not an API path is the console's."""
    return {
        "TargetOriginId": ORIGIN,
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": ["GET", "HEAD"],
        "CachedMethods": ["GET", "HEAD"],
        "CachePolicyId": CACHING_OPTIMIZED,
        "ResponseHeadersPolicyId": {"Ref": "ConsoleHeaders"},
        "Compress": True,
    }


def edge_resources(settings: Settings) -> dict[str, Any]:
    """What the edge adds for the console: the access control, the security headers of the
    console's answers, and the policy that lets only this distribution read the bucket."""
    name = f"{settings.resource_prefix}-{settings.stage}-console"
    return {
        "ConsoleAccess": {
            "Type": "AWS::CloudFront::OriginAccessControl",
            "Properties": {
                "OriginAccessControlConfig": {
                    "Name": name,
                    "Description": "The edge reads the console's bucket, signing every request",
                    "OriginAccessControlOriginType": "s3",
                    "SigningBehavior": "always",
                    "SigningProtocol": "sigv4",
                }
            },
        },
        "ConsoleHeaders": {
            "Type": "AWS::CloudFront::ResponseHeadersPolicy",
            "Properties": {
                "ResponseHeadersPolicyConfig": {
                    "Name": name,
                    "Comment": "Security headers of the agent console",
                    "SecurityHeadersConfig": {
                        "ContentSecurityPolicy": {
                            "ContentSecurityPolicy": content_security_policy(
                                connected_hosts(settings)
                            ),
                            "Override": True,
                        },
                        "StrictTransportSecurity": {
                            "AccessControlMaxAgeSec": HSTS_SECONDS,
                            # A custom domain given later may have sibling hosts we do not own.
                            "IncludeSubdomains": False,
                            "Override": True,
                        },
                        "ContentTypeOptions": {"Override": True},
                        "ReferrerPolicy": {"ReferrerPolicy": "no-referrer", "Override": True},
                        "FrameOptions": {"FrameOption": "DENY", "Override": True},
                    },
                }
            },
        },
        "ConsoleBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": import_value(settings, BUCKET_NAME_OUTPUT),
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "OnlyThisDistributionReads",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudfront.amazonaws.com"},
                            "Action": "s3:GetObject",
                            "Resource": substitute(
                                "arn:aws:s3:::${Bucket}/*",
                                {"Bucket": import_value(settings, BUCKET_NAME_OUTPUT)},
                            ),
                            "Condition": {
                                "StringEquals": {
                                    "AWS:SourceArn": "arn:aws:cloudfront::${AWS::AccountId}:"
                                    "distribution/${Distribution}"
                                }
                            },
                        }
                    ],
                },
            },
        },
    }
