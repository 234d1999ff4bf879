"""Execution roles with their trust policy, boundary and every policy document resolved.

IAM is global, so it is read once per account, in bulk (the roles kept are those of the
functions and every other role Lambda may assume): ``GetAccountAuthorizationDetails``
returns every role with its inline policies and every customer-managed policy with its
versions in a few pages. AWS-managed policies are fetched one by one, and only those
attached to an execution role, because the bulk form of them is the whole AWS catalogue.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from pytest_prr.snapshot.collect.reader import Reader
from pytest_prr.snapshot.model import is_error

IAM_REGION = "us-east-1"


def collect_iam(reader: Reader, role_arns: Iterable[str]) -> dict[str, Any]:
    wanted = set(role_arns)
    roles = reader.pages(
        "iam",
        IAM_REGION,
        "get_account_authorization_details",
        "RoleDetailList",
        Filter=["Role"],
    )
    managed = reader.pages(
        "iam",
        IAM_REGION,
        "get_account_authorization_details",
        "Policies",
        Filter=["LocalManagedPolicy"],
    )
    if is_error(roles):
        return {"roles": roles, "policies": managed}
    role_map = {
        role["Arn"]: _role(role)
        for role in roles
        if role["Arn"] in wanted or _trusts_lambda(role.get("AssumeRolePolicyDocument"))
    }
    policies: dict[str, Any] = {}
    if not is_error(managed):
        policies.update({policy["Arn"]: _managed_policy(policy) for policy in managed})
    attached = {
        policy["PolicyArn"]
        for role in role_map.values()
        for policy in role["AttachedManagedPolicies"]
    }
    missing = sorted(arn for arn in attached if arn not in policies and ":aws:policy/" in arn)
    for arn, policy in zip(
        missing, reader.map(lambda a: _aws_policy(reader, a), missing), strict=True
    ):
        policies[arn] = policy
    if is_error(managed):
        for arn in attached - set(policies):
            policies[arn] = managed
    return {"roles": role_map, "policies": policies}


def _trusts_lambda(document: Any) -> bool:
    """Whether Lambda may assume the role: every execution role, including those of
    functions whose listing failed, so that a failed listing cannot shrink this map."""
    return "lambda.amazonaws.com" in json.dumps(_document(document))


def _role(detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "RoleName": detail["RoleName"],
        "Arn": detail["Arn"],
        "AssumeRolePolicyDocument": _document(detail.get("AssumeRolePolicyDocument")),
        "PermissionsBoundary": detail.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn"),
        "InlinePolicies": {
            policy["PolicyName"]: _document(policy["PolicyDocument"])
            for policy in detail.get("RolePolicyList", [])
        },
        "AttachedManagedPolicies": detail.get("AttachedManagedPolicies", []),
        "Tags": {tag["Key"]: tag["Value"] for tag in detail.get("Tags", [])},
    }


def _managed_policy(policy: dict[str, Any]) -> dict[str, Any]:
    default = next(
        (v for v in policy.get("PolicyVersionList", []) if v.get("IsDefaultVersion")), None
    )
    return {
        # The name ends the ARN; moto 5 omits PolicyName here, AWS always sends it.
        "PolicyName": policy.get("PolicyName") or policy["Arn"].rsplit("/", 1)[-1],
        "Arn": policy["Arn"],
        "Document": _document(default["Document"]) if default else None,
    }


def _aws_policy(reader: Reader, arn: str) -> Any:
    policy = reader.call("iam", IAM_REGION, "get_policy", PolicyArn=arn)
    if is_error(policy):
        return policy
    version = reader.call(
        "iam",
        IAM_REGION,
        "get_policy_version",
        PolicyArn=arn,
        VersionId=policy["Policy"]["DefaultVersionId"],
    )
    if is_error(version):
        return version
    return {
        "PolicyName": policy["Policy"]["PolicyName"],
        "Arn": arn,
        "Document": _document(version["PolicyVersion"]["Document"]),
    }


def _document(document: Any) -> Any:
    """IAM returns policy documents URL-encoded where the SDK does not decode them."""
    if isinstance(document, str):
        return json.loads(unquote(document))
    return document
