"""Snapshots built in tests, for checks whose compliant case moto cannot create.

``build_snapshot`` returns a complete ``prr-snapshot/1`` document with every section empty,
then the functions, roles and sections a test gives; a check test states only what its
rule reads.
"""

from __future__ import annotations

import copy
from typing import Any

from pytest_prr.snapshot.model import Snapshot, error_marker

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/app"


def function_arn(name: str, region: str = REGION) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}"


def make_function(name: str = "app", **fields: Any) -> dict[str, Any]:
    """A Lambda function as the snapshot holds it, with defaults for every field."""
    function: dict[str, Any] = {
        "FunctionName": name,
        "FunctionArn": function_arn(name),
        "Runtime": "python3.12",
        "Role": ROLE_ARN,
        "Handler": "app.handler",
        "Timeout": 10,
        "MemorySize": 256,
        "PackageType": "Zip",
        "Architectures": ["arm64"],
        "TracingConfig": {"Mode": "Active"},
        "Environment": {},
        "Tags": {},
        "Policy": None,
        "FunctionUrl": None,
        "CodeSigningConfigArn": None,
        "ReservedConcurrentExecutions": None,
        "Aliases": [],
        "Versions": [],
        "EventInvokeConfigs": [],
        "event_source_mappings": [],
    }
    function.update(fields)
    return function


def make_role(arn: str = ROLE_ARN, **fields: Any) -> dict[str, Any]:
    role: dict[str, Any] = {
        "RoleName": arn.rsplit("/", 1)[1],
        "Arn": arn,
        "AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
        "PermissionsBoundary": None,
        "InlinePolicies": {},
        "AttachedManagedPolicies": [],
        "Tags": {},
    }
    role.update(fields)
    return role


EMPTY_REGION: dict[str, Any] = {
    "lambda": {
        "functions": {},
        "layer_policies": {},
        "event_source_mappings": [],
        "code_signing_configs": {},
    },
    "logs": {"log_groups": {}},
    "cloudwatch": {"alarms": [], "metrics": {}},
    "sqs": {"queues": {}},
    "sns": {"subscriptions": [], "topics": {}},
    "events": {"targets": []},
    "scheduler": {"targets": []},
    "s3": {"notifications": []},
    "secrets": {"secrets": {}},
    "kms": {"keys": {}},
    "ec2": {"security_groups": {}, "subnets": {}},
    "deploy": {"deployment_groups": [], "signing_profiles": {}},
    "apigw": {"stages": []},
    "guardrails": {},
}


def build_snapshot(
    functions: list[dict[str, Any]] | None = None,
    roles: list[dict[str, Any]] | None = None,
    policies: dict[str, Any] | None = None,
    organizations: dict[str, Any] | None = None,
    **sections: Any,
) -> Snapshot:
    """A snapshot of one region; ``sections`` replace whole region sections by name, e.g.
    ``logs={"log_groups": {...}}``. Functions default to one compliant-looking function,
    roles to the role of the functions."""
    region = copy.deepcopy(EMPTY_REGION)
    functions = [make_function()] if functions is None else functions
    region["lambda"]["functions"] = {f["FunctionArn"]: f for f in functions}
    region.update(sections)
    roles = [make_role()] if roles is None else roles
    return Snapshot(
        {
            "schema": "prr-snapshot/1",
            "taken_at": "2026-11-28T12:00:00Z",
            "tool": {"name": "pytest-prr", "version": "test"},
            "account": {
                "name": "test",
                "account_id": ACCOUNT_ID,
                "mode": "moto",
                "regions": [REGION],
            },
            "global": {
                "iam": {"roles": {r["Arn"]: r for r in roles}, "policies": policies or {}},
                "organizations": organizations or {"member": False},
            },
            "regions": {REGION: region},
            "calls": {},
        }
    )


def failed_read(operation: str) -> dict[str, Any]:
    """The error marker a failed ``operation`` leaves in a snapshot."""
    return error_marker(operation, "AccessDeniedException", "not authorized")
