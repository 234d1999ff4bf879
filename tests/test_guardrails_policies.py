"""What the shipped SCP and permissions boundary decide for concrete requests, by the
reference evaluator of ``policy_eval`` (AWS's documented logic, independent of the checks)."""

from __future__ import annotations

import copy

import pytest

from policy_eval import FULL_AWS_ACCESS, Request, decide
from pytest_prr.checks.scp import denies
from pytest_prr.guardrails import artifact

SCP = "scp-lambda-prr.json"
BOUNDARY = "permission-boundary-lambda.json"
CSC = "arn:aws:lambda:eu-west-1:111122223333:code-signing-config:csc-0a1b2c3d4e5f67890"
BOUNDARY_ARN = "arn:aws:iam::111122223333:policy/prr-lambda-boundary"
ROLE_ARN = "arn:aws:iam::111122223333:role/orders-fn"


def _scp_decides(request: Request) -> tuple[str, str | None]:
    return decide([FULL_AWS_ACCESS, artifact(SCP).document()], request)


NONE_URL = {"lambda:FunctionUrlAuthType": "NONE"}


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (Request("lambda:CreateFunction"), ("deny", "DenyFunctionsWithoutCodeSigning")),
        (
            Request("lambda:CreateFunction", context={"lambda:CodeSigningConfigArn": CSC}),
            ("allow", "FullAWSAccess"),
        ),
        (Request("lambda:DeleteFunctionCodeSigningConfig"), ("deny", "DenyRemovingCodeSigning")),
        (
            Request(
                "lambda:PutFunctionCodeSigningConfig", context={"lambda:CodeSigningConfigArn": CSC}
            ),
            ("allow", "FullAWSAccess"),
        ),
        (
            Request("lambda:CreateFunctionUrlConfig", context=NONE_URL),
            ("deny", "DenyPublicFunctionUrls"),
        ),
        (
            Request("lambda:UpdateFunctionUrlConfig", context=NONE_URL),
            ("deny", "DenyPublicFunctionUrls"),
        ),
        (Request("lambda:AddPermission", context=NONE_URL), ("deny", "DenyPublicFunctionUrls")),
        (
            Request(
                "lambda:CreateFunctionUrlConfig", context={"lambda:FunctionUrlAuthType": "AWS_IAM"}
            ),
            ("allow", "FullAWSAccess"),
        ),
        (Request("lambda:UpdateFunctionUrlConfig"), ("allow", "FullAWSAccess")),
        (Request("lambda:AddPermission"), ("allow", "FullAWSAccess")),
        (Request("lambda:UpdateFunctionCode"), ("allow", "FullAWSAccess")),
        (
            Request("s3:GetObject", resource="arn:aws:s3:::orders/2026/11/28.json"),
            ("allow", "FullAWSAccess"),
        ),
    ],
)
def test_the_scp_denies_unsigned_functions_and_public_urls_only(
    request_: Request, expected: tuple[str, str | None]
) -> None:
    assert _scp_decides(request_) == expected


def test_a_break_glass_exemption_keeps_the_scp_credited() -> None:
    """What the README promises: an ``ArnNotLike`` exemption on the principal exempts that
    role only, and GOV-06/07 (``checks.scp``) still credit the statement."""
    document = artifact(SCP).document()
    break_glass = "arn:aws:iam::*:role/break-glass"
    for statement in document["Statement"]:
        statement.setdefault("Condition", {})["ArnNotLike"] = {"aws:PrincipalArn": break_glass}
    signing, urls = document["Statement"][0], document["Statement"][2]
    assert denies(signing, "lambda:CreateFunction", {"lambda:CodeSigningConfigArn": None}, "1" * 12)
    assert denies(urls, "lambda:UpdateFunctionUrlConfig", NONE_URL, "1" * 12)
    pipeline = {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/pipeline"}
    rescue = {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/break-glass"}
    scp = [FULL_AWS_ACCESS, document]
    assert decide(scp, Request("lambda:CreateFunction", context=pipeline))[0] == "deny"
    assert decide(scp, Request("lambda:CreateFunction", context=rescue))[0] == "allow"


@pytest.mark.parametrize(
    ("action", "resource", "expected"),
    [
        (
            "logs:PutLogEvents",
            "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/orders",
            ("allow", "AllowRuntimeTelemetry"),
        ),
        ("xray:PutTraceSegments", "*", ("allow", "AllowRuntimeTelemetry")),
        ("ec2:CreateNetworkInterface", "*", ("allow", "AllowVpcNetworkInterfaces")),
        (
            "sqs:ReceiveMessage",
            "arn:aws:sqs:eu-west-1:111122223333:orders",
            ("allow", "AllowEventSourcesAndDestinations"),
        ),
        (
            "dynamodb:GetItem",
            "arn:aws:dynamodb:eu-west-1:111122223333:table/orders",
            ("allow", "AllowApplicationData"),
        ),
        ("secretsmanager:GetSecretValue", "*", ("allow", "AllowSecretsConfigurationAndKeys")),
        ("kms:Decrypt", "*", ("allow", "AllowSecretsConfigurationAndKeys")),
        ("iam:CreateUser", "*", ("deny", "DenyIdentityAndOrganizationAdministration")),
        (
            "iam:DeleteRolePermissionsBoundary",
            ROLE_ARN,
            ("deny", "DenyIdentityAndOrganizationAdministration"),
        ),
        (
            "iam:PutRolePermissionsBoundary",
            ROLE_ARN,
            ("deny", "DenyIdentityAndOrganizationAdministration"),
        ),
        (
            "iam:CreatePolicyVersion",
            BOUNDARY_ARN,
            ("deny", "DenyIdentityAndOrganizationAdministration"),
        ),
        ("iam:PassRole", ROLE_ARN, ("deny", "DenyIdentityAndOrganizationAdministration")),
        (
            "organizations:LeaveOrganization",
            "*",
            ("deny", "DenyIdentityAndOrganizationAdministration"),
        ),
        ("cloudtrail:StopLogging", "*", ("deny", "DenyAuditAndGuardrailTampering")),
        ("logs:DeleteLogGroup", "*", ("deny", "DenyAuditAndGuardrailTampering")),
        ("lambda:DeleteFunctionCodeSigningConfig", "*", ("deny", "DenyAuditAndGuardrailTampering")),
        ("lambda:UpdateFunctionCode", "*", ("implicit deny", None)),
        ("s3:PutBucketPolicy", "arn:aws:s3:::orders", ("implicit deny", None)),
        ("sts:AssumeRole", "*", ("implicit deny", None)),
    ],
)
def test_the_boundary_allows_function_work_and_denies_escalation(
    action: str, resource: str, expected: tuple[str, str | None]
) -> None:
    assert decide([artifact(BOUNDARY).document()], Request(action, resource)) == expected


def test_the_boundary_still_denies_escalation_when_its_allow_list_is_widened() -> None:
    document = artifact(BOUNDARY).document()
    widened = copy.deepcopy(document)
    widened["Statement"].append(
        {"Sid": "TooWide", "Effect": "Allow", "Action": "*", "Resource": "*"}
    )
    assert decide([widened], Request("iam:AttachRolePolicy", ROLE_ARN))[0] == "deny"
    assert decide([widened], Request("cloudtrail:DeleteTrail"))[0] == "deny"
    assert decide([document], Request("iam:AttachRolePolicy", ROLE_ARN))[0] == "deny"
