"""Seeding moto with real boto3 calls, shared by the collector tests."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto import mock_aws

from pytest_prr.snapshot.collect.lambda_ import collect_lambda
from pytest_prr.snapshot.collect.reader import Reader

REGION = "us-east-1"
ACCOUNT = "123456789012"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
Collector = Callable[..., dict[str, Any]]


def lambda_zip() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as package:
        package.writestr("app.py", "def handler(event, context):\n    return None\n")
    return archive.getvalue()


@contextmanager
def mocked_account() -> Iterator[boto3.Session]:
    """A moto account with the execution role ``fn`` (the root conftest keeps the machine's
    AWS setup out of it)."""
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        session.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(TRUST))
        yield session


def function(session: boto3.Session, name: str, region: str = REGION, **config: Any) -> str:
    """A deployed function's ARN; ``config`` as CreateFunction takes it."""
    return session.client("lambda", region_name=region).create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=f"arn:aws:iam::{ACCOUNT}:role/fn",
        Handler="app.handler",
        Code={"ZipFile": lambda_zip()},
        **config,
    )["FunctionArn"]


def collect(
    collector: Collector,
    session: boto3.Session,
    region: str = REGION,
    extra: dict[str, Any] | None = None,
    **options: Any,
) -> tuple[dict[str, Any], dict[str, int]]:
    """``collector`` over the Lambda section read now, with the calls it made itself."""
    section = {"lambda": collect_lambda(Reader(session), region), **(extra or {})}
    reader = Reader(session)
    return collector(reader, region, section, **options), dict(reader.calls)


def protect_stage(
    session: boto3.Session, api_id: str, stage: str, access_log_arn: str, *, waf: bool = True
) -> str | None:
    """Give a REST API stage what API-01/02/04 ask for: access logs, default method
    throttling (100/s, burst 50) and, unless ``waf`` is False (an emulator without AWS WAF),
    a regional web ACL; the ACL's ARN."""
    session.client("apigateway").update_stage(
        restApiId=api_id,
        stageName=stage,
        patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "100"},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "50"},
            {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": access_log_arn},
            {"op": "replace", "path": "/accessLogSettings/format", "value": "$context.requestId"},
        ],
    )
    if not waf:
        return None
    wafv2 = session.client("wafv2")
    acl = wafv2.create_web_acl(
        Name="edge",
        Scope="REGIONAL",
        DefaultAction={"Allow": {}},
        VisibilityConfig={
            "SampledRequestsEnabled": False,
            "CloudWatchMetricsEnabled": False,
            "MetricName": "edge",
        },
    )["Summary"]["ARN"]
    stage_arn = f"arn:aws:apigateway:{session.region_name}::/restapis/{api_id}/stages/{stage}"
    wafv2.associate_web_acl(WebACLArn=acl, ResourceArn=stage_arn)
    return acl
