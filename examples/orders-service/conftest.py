"""Shared pytest setup for the orders service.

Two jobs:
1. Give the handler modules a Powertools configuration before any test imports them, so unit
   tests run offline: tracing off (no X-Ray daemon), a fixed metrics namespace and service.
   ``setdefault`` keeps any value the caller exported, and no AWS credentials are set here,
   so a live ``--prr-account`` run still uses the caller's real credentials.
2. Implement pytest-prr's ``pytest_prr_seed_account`` hook, so ``--prr-account=moto`` runs
   against a CloudFormation deployment of template.yaml (pytest-prr's ``pytest_prr.deploy``),
   after creating what the platform team provides outside the stack.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest

for _key, _value in {
    "POWERTOOLS_SERVICE_NAME": "orders",
    "POWERTOOLS_METRICS_NAMESPACE": "Orders",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "AWS_DEFAULT_REGION": "us-east-1",
}.items():
    os.environ.setdefault(_key, _value)

TEMPLATE = Path(__file__).parent / "template.yaml"
STAGE = "prod"
STACK_NAME = f"orders-{STAGE}"
#: The platform's boundary for workload roles: what any Lambda function may ever do here.
PERMISSIONS_BOUNDARY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "WorkloadServices",
            "Effect": "Allow",
            "Action": ["dynamodb:*", "sqs:*", "logs:*", "xray:*", "kms:Decrypt"],
            "Resource": "*",
        },
        {
            "Sid": "NoIdentityChanges",
            "Effect": "Deny",
            "Action": ["iam:*", "organizations:*", "sts:AssumeRole"],
            "Resource": "*",
        },
    ],
}


def platform_parameters(session: boto3.Session, region: str) -> dict[str, str]:
    """Create what the platform team provides outside this stack; return the parameters.

    In a real account the Signer profile and the permissions boundary exist before the
    first deployment of any workload; template.yaml takes them as parameters.
    """
    profile = session.client("signer", region_name=region).put_signing_profile(
        profileName="orders_pipeline", platformId="AWSLambda-SHA384-ECDSA"
    )
    boundary = session.client("iam").create_policy(
        PolicyName="lambda-workload-boundary", PolicyDocument=json.dumps(PERMISSIONS_BOUNDARY)
    )
    return {
        "Stage": STAGE,
        "SigningProfileVersionArn": profile["profileVersionArn"],
        "PermissionsBoundaryArn": boundary["Policy"]["Arn"],
    }


# optionalhook: without pytest-prr installed (plain unit-test runs) pytest would otherwise
# reject the unknown ``pytest_prr_*`` hook.
@pytest.hookimpl(optionalhook=True)
def pytest_prr_seed_account(session: boto3.Session, account: Any) -> None:
    """Deploy template.yaml into the moto account's primary region, as the pipeline does."""
    from pytest_prr.deploy import deploy_template

    region = account.regions[0]
    deploy_template(session, region, TEMPLATE, platform_parameters(session, region), STACK_NAME)
