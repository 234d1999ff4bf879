"""IAM: least privilege of the execution role (IAM-01..IAM-06).

A function whose role is not in the snapshot's roles (deleted, or the snapshot was edited)
fails IAM-02..06: what the role allows cannot be confirmed, and a control never passes on
data it does not have.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from typing import Any

from pytest_prr.checks.base import (
    NOT_IN_SNAPSHOT,
    Context,
    Verdict,
    failed,
    function_check,
    listed,
    passed,
)
from pytest_prr.checks.iam_policy import (
    Grant,
    action_matches,
    as_list,
    database_version,
    risky_grants,
    statements,
    unknown_actions,
    wildcard_grants,
)
from pytest_prr.snapshot.guarded import unwrap
from pytest_prr.snapshot.model import DataUnavailable, require

LAMBDA_SERVICE = "lambda.amazonaws.com"
ASSUME_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML")
PRIVILEGED_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
#: How many offending grants a message names; the evidence keeps up to EVIDENCE_ITEMS.
SHOWN = 5


class _NoRole(Exception):
    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict


def _role(function: Mapping[str, Any], context: Context) -> Mapping[str, Any]:
    role = context.role_of(function)
    if role is None:
        raise _NoRole(
            failed(
                f"{function['FunctionName']}: execution role {function['Role']} is not among "
                "the account's roles; cannot confirm its permissions",
                Role=function["Role"],
            )
        )
    return role


def _role_check(control_id: str) -> Any:
    """Register a check of the function's role; a missing role fails it (see above)."""

    def decorate(check: Any) -> Any:
        @functools.wraps(check)
        def run(function: Mapping[str, Any], context: Context) -> Verdict:
            try:
                return check(function, _role(function, context), context)
            except _NoRole as missing:
                return missing.verdict

        function_check(control_id)(run)
        return check

    return decorate


def _documents(role: Mapping[str, Any], context: Context) -> Iterator[tuple[str, Any]]:
    """(name, document) of every inline and attached policy of the role."""
    for name, document in require(role["InlinePolicies"]).items():
        yield f"inline {name}", require(document)
    attached = require(role["AttachedManagedPolicies"])
    if not attached:
        return
    policies = require(require(context.snapshot.account_wide["iam"])["policies"])
    for entry in attached:
        arn = entry["PolicyArn"]
        policy = require(policies.get(arn) or _missing(arn))
        document = require(policy.get("Document"))
        if document is None:
            _missing(arn)
        yield arn, document


def _missing(arn: str) -> Any:
    raise DataUnavailable(
        "iam:GetPolicyVersion", NOT_IN_SNAPSHOT, f"the document of {arn} is not in the snapshot"
    )


def _show(items: list[str]) -> str:
    more = f" and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more


@function_check("IAM-01")
def dedicated_execution_role(function: Mapping[str, Any], context: Context) -> Verdict:
    """Functions sharing a role each get the union of their permissions, so the weakest
    one exposes the data of the most critical, and CloudTrail attribution blurs."""
    role = function["Role"]
    by_role = context.snapshot.indexed("functions by role", lambda: _functions_by_role(context))
    own = function["FunctionArn"]
    sharing = [arn for arn in by_role[role] if arn != own]
    if sharing:
        return failed(
            f"{function['FunctionName']} shares execution role {role} with {_show(sharing)}",
            Role=role,
            **listed("shared_with", sharing),
        )
    return passed(f"{function['FunctionName']} has a dedicated execution role {role}", Role=role)


def _functions_by_role(context: Context) -> dict[str, list[str]]:
    """Every function's ARN, sorted, by execution role, across the snapshot's regions."""
    by_role: dict[str, list[str]] = {}
    for _, function in context.snapshot.functions():
        by_role.setdefault(function["Role"], []).append(function["FunctionArn"])
    return {role: sorted(arns) for role, arns in by_role.items()}


def _describe(grants: list[Grant]) -> list[str]:
    return [f"{g.action} ({g.policy}, statement {g.statement})" for g in grants]


@_role_check("IAM-02")
def no_wildcard_actions(
    function: Mapping[str, Any], role: Mapping[str, Any], context: Context
) -> Verdict:
    """A wildcard grants every present and future action of a service, so one flaw in the
    function becomes control of that service or, with ``*``, of the account."""
    grants = [g for name, doc in _documents(role, context) for g in wildcard_grants(name, doc)]
    if grants:
        found = _describe(grants)
        return failed(
            f"{function['FunctionName']}: role {role['RoleName']} allows wildcard actions "
            f"{_show(found)}",
            Role=role["Arn"],
            **listed("wildcard_grants", found),
        )
    return passed(
        f"{function['FunctionName']}: role {role['RoleName']} allows no wildcard action",
        Role=role["Arn"],
    )


@functools.lru_cache(maxsize=512)
def _risky(name: str, document_json: str) -> tuple[list[str], list[str]]:
    """IAM-03's findings in one policy, cached: the same managed policy is attached to many
    roles, and matching it against the action database is the costly part."""
    document = json.loads(document_json)
    found = risky_grants(name, document)
    risky = [
        f"{text} [{level}]"
        for text, (_, level) in zip(_describe([g for g, _ in found]), found, strict=True)
    ]
    return risky, _describe(unknown_actions(name, document))


#: AWS's managed policy that grants a function's log actions on every resource.
BASIC_EXECUTION = "AWSLambdaBasicExecutionRole"


def _scoped_logs_remedy(function: Mapping[str, Any], risky: list[str]) -> str:
    """For a role whose risky grants come from AWSLambdaBasicExecutionRole, the statement
    that replaces it, scoped to this function's own log group."""
    if not any(BASIC_EXECUTION in grant for grant in risky):
        return ""
    region, account = function["FunctionArn"].split(":")[3:5]
    group = f"/aws/lambda/{function['FunctionName']}"
    return (
        f"; replace {BASIC_EXECUTION} with an inline policy allowing logs:CreateLogStream and "
        f"logs:PutLogEvents on arn:aws:logs:{region}:{account}:log-group:{group}:*"
    )


@_role_check("IAM-03")
def no_risky_actions_on_all_resources(
    function: Mapping[str, Any], role: Mapping[str, Any], context: Context
) -> Verdict:
    """Write and permissions-management on ``*`` let a compromised function alter every
    resource of a type or grant itself more access; tagging on ``*`` defeats ABAC."""
    risky: list[str] = []
    unknown: list[str] = []
    for name, document in _documents(role, context):
        found, unrecognised = _risky(name, json.dumps(unwrap(document), sort_keys=True))
        risky += found
        unknown += unrecognised
    evidence = {"Role": role["Arn"], "action_database": database_version()}
    if risky:
        return failed(
            f"{function['FunctionName']}: role {role['RoleName']} allows write, permissions-"
            f"management or tagging actions on all resources: {_show(risky)}"
            f"{_scoped_logs_remedy(function, risky)}",
            **evidence,
            **listed("risky_grants", risky),
            **listed("unknown_actions", unknown),
        )
    if unknown:
        return failed(
            f"{function['FunctionName']}: role {role['RoleName']} allows actions on all "
            f"resources whose access level is unknown to the IAM action database: "
            f"{_show(unknown)}",
            **evidence,
            **listed("unknown_actions", unknown),
        )
    return passed(
        f"{function['FunctionName']}: role {role['RoleName']} allows no write, permissions-"
        "management or tagging action on all resources",
        **evidence,
    )


@_role_check("IAM-04")
def permission_boundary_attached(
    function: Mapping[str, Any], role: Mapping[str, Any], context: Context
) -> Verdict:
    """A boundary caps what the role can ever be granted, whatever is attached later by
    mistake or by a compromised pipeline."""
    boundary = require(role.get("PermissionsBoundary"))
    wanted = str(context.tunables["prr_permission_boundary"] or "")
    evidence = {"Role": role["Arn"], "PermissionsBoundary": boundary, "required": wanted or None}
    name = f"{function['FunctionName']}: role {role['RoleName']}"
    if not boundary:
        return failed(f"{name} has no permissions boundary", **evidence)
    matches = (
        boundary == wanted if wanted.startswith("arn:") else boundary.rsplit("/", 1)[-1] == wanted
    )
    if wanted and not matches:
        return failed(f"{name} has permissions boundary {boundary}, not {wanted}", **evidence)
    return passed(f"{name} has permissions boundary {boundary}", **evidence)


def _trusted_principals(document: Any) -> list[str]:
    """Principals that an ``Allow`` statement of the trust policy lets assume the role."""
    found: list[str] = []
    for statement in statements(document):
        if statement.get("Effect") != "Allow":
            continue
        if "Action" in statement:
            actions = [str(a) for a in as_list(statement["Action"])]
            if not any(action_matches(a, x) for a in actions for x in ASSUME_ACTIONS):
                continue
        if "NotPrincipal" in statement:
            found.append(f"everyone except {json.dumps(unwrap(statement['NotPrincipal']))}")
        principal = statement.get("Principal")
        if isinstance(principal, Mapping):
            found += [f"{k}:{v}" for k, values in principal.items() for v in as_list(values)]
        elif principal is not None:
            found += [f"AWS:{v}" for v in as_list(principal)]
    return found


@_role_check("IAM-05")
def trust_policy_limited_to_lambda(
    function: Mapping[str, Any], role: Mapping[str, Any], context: Context
) -> Verdict:
    """Whoever else the role trusts can take its credentials and use the function's data
    outside the function, bypassing its code and logging."""
    principals = _trusted_principals(require(role["AssumeRolePolicyDocument"]))
    others = [p for p in principals if p != f"Service:{LAMBDA_SERVICE}"]
    name = f"{function['FunctionName']}: role {role['RoleName']}"
    if others:
        return failed(
            f"{name} can be assumed by {_show(others)}", Role=role["Arn"], principals=principals
        )
    return passed(f"{name} can be assumed only by {LAMBDA_SERVICE}", Role=role["Arn"])


def _privileged(arn: str) -> bool:
    parts = arn.split(":")
    if len(parts) < 6 or parts[4] != "aws" or not parts[5].startswith("policy/"):
        return False
    name = parts[5].rsplit("/", 1)[-1]
    return name in PRIVILEGED_POLICIES or name.endswith("FullAccess")


@_role_check("IAM-06")
def no_privileged_managed_policies(
    function: Mapping[str, Any], role: Mapping[str, Any], context: Context
) -> Verdict:
    """These AWS managed policies grant service- or account-wide power, turning any code
    execution flaw into account takeover, and AWS changes them over time."""
    attached = [p["PolicyArn"] for p in require(role["AttachedManagedPolicies"])]
    privileged = [arn for arn in attached if _privileged(arn)]
    name = f"{function['FunctionName']}: role {role['RoleName']}"
    if privileged:
        return failed(
            f"{name} has privileged AWS managed policies {_show(privileged)}",
            Role=role["Arn"],
            privileged_policies=privileged,
        )
    return passed(
        f"{name} has no privileged AWS managed policy", Role=role["Arn"], attached=attached
    )
