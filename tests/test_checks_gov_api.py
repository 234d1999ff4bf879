"""GOV (account guardrails, SCPs) and API (API Gateway stages) checks over built snapshots."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import pytest_prr.checks.api
import pytest_prr.checks.guardrails  # noqa: F401 (registration)
from pytest_prr.catalog import builtin_catalog
from pytest_prr.checks.base import REGISTRY, run_check
from pytest_prr.checks.scp import denies
from pytest_prr.results.model import Result
from snapshots import ACCOUNT_ID, REGION, build_snapshot, failed_read, function_arn

TUNABLES = {t.name: t.default for c in builtin_catalog() for t in c.tunables}
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/main"
FSBP_ARN = (
    f"arn:aws:securityhub:{REGION}::standards/aws-foundational-security-best-practices/v/1.0.0"
)
LAMBDA_DATA = [
    {
        "Name": "lambda",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::Lambda::Function"]},
        ],
    }
]


def trail(**fields: Any) -> dict[str, Any]:
    entry = {
        "Name": "main",
        "HomeRegion": REGION,
        "IsMultiRegionTrail": True,
        "IsOrganizationTrail": False,
        "LogFileValidationEnabled": True,
        "IsLogging": True,
        "EventSelectors": [],
        "AdvancedEventSelectors": LAMBDA_DATA,
    }
    entry.update(fields)
    return entry


def guardrails(**parts: Any) -> dict[str, Any]:
    """A region where every guardrail is in force; ``parts`` replace a service's data."""
    section = {
        "cloudtrail": {TRAIL_ARN: trail()},
        "config": {
            "recorders": {"default": {"recordingGroup": {"allSupported": True}, "recording": True}},
            "conformance_packs": ["lambda-prr"],
        },
        "securityhub": {
            "enabled": True,
            "hub_arn": "arn:hub",
            "standards": [{"StandardsArn": FSBP_ARN, "StandardsStatus": "READY"}],
        },
        "guardduty": {
            "detectors": {
                "d1": {
                    "Status": "ENABLED",
                    "Features": [{"Name": "LAMBDA_NETWORK_LOGS", "Status": "ENABLED"}],
                }
            }
        },
    }
    section.update(parts)
    return section


def run(control: str, **snapshot: Any) -> Result:
    (finding,) = run_check(REGISTRY[control], build_snapshot(**snapshot), TUNABLES)
    return finding


def run_region(control: str, **parts: Any) -> Result:
    return run(control, guardrails=guardrails(**parts))


def assert_error(finding: Result, operation: str) -> None:
    assert finding.status == "error"
    assert operation in finding.message


# --- GOV-01 / GOV-02: CloudTrail ------------------------------------------------------------


@pytest.mark.parametrize("control", ["GOV-01", "GOV-02"])
def test_trail_in_force_passes(control: str) -> None:
    finding = run_region(control)
    assert finding.status == "pass" and "main" in finding.message
    assert finding.resource_id == f"{ACCOUNT_ID}/{REGION}"


@pytest.mark.parametrize(
    ("control", "fields"),
    [
        ("GOV-01", {"IsMultiRegionTrail": False}),
        ("GOV-01", {"LogFileValidationEnabled": False}),
        ("GOV-01", {"IsLogging": False}),
        ("GOV-02", {"IsLogging": False}),
        ("GOV-02", {"AdvancedEventSelectors": []}),
        (
            "GOV-02",
            {
                "AdvancedEventSelectors": [
                    {
                        "Name": "s3",
                        "FieldSelectors": [
                            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}
                        ],
                    }
                ]
            },
        ),
    ],
)
def test_trail_falling_short_fails(control: str, fields: dict[str, Any]) -> None:
    finding = run_region(control, cloudtrail={TRAIL_ARN: trail(**fields)})
    assert finding.status == "fail"
    assert REGION in finding.message and "main" in finding.message


@pytest.mark.parametrize("control", ["GOV-01", "GOV-02"])
def test_no_trail_fails(control: str) -> None:
    finding = run_region(control, cloudtrail={})
    assert finding.status == "fail" and "trails: none" in finding.message


def test_basic_data_event_selector_counts_for_gov_02() -> None:
    selectors = [
        {"DataResources": [{"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]}]}
    ]
    finding = run_region(
        "GOV-02",
        cloudtrail={TRAIL_ARN: trail(EventSelectors=selectors, AdvancedEventSelectors=[])},
    )
    assert finding.status == "pass"


def test_shadow_trail_of_another_region_counts() -> None:
    shadow = trail(Name="org", HomeRegion="eu-west-1", IsOrganizationTrail=True)
    finding = run_region("GOV-01", cloudtrail={"arn:shadow": shadow})
    assert finding.status == "pass" and "org" in finding.message


@pytest.mark.parametrize(
    ("control", "cloudtrail", "operation"),
    [
        ("GOV-01", failed_read("cloudtrail:DescribeTrails"), "cloudtrail:DescribeTrails"),
        (
            "GOV-01",
            {TRAIL_ARN: trail(IsLogging=failed_read("cloudtrail:GetTrailStatus"))},
            "cloudtrail:GetTrailStatus",
        ),
        ("GOV-02", failed_read("cloudtrail:DescribeTrails"), "cloudtrail:DescribeTrails"),
        (
            "GOV-02",
            {
                TRAIL_ARN: trail(
                    EventSelectors=failed_read("cloudtrail:GetEventSelectors"),
                    AdvancedEventSelectors=failed_read("cloudtrail:GetEventSelectors"),
                )
            },
            "cloudtrail:GetEventSelectors",
        ),
    ],
)
def test_unreadable_trails_are_errors(control: str, cloudtrail: Any, operation: str) -> None:
    assert_error(run_region(control, cloudtrail=cloudtrail), operation)


def test_unreadable_trail_does_not_hide_a_compliant_one() -> None:
    broken = trail(Name="other", IsLogging=failed_read("cloudtrail:GetTrailStatus"))
    finding = run_region("GOV-01", cloudtrail={"arn:other": broken, TRAIL_ARN: trail()})
    assert finding.status == "pass"


# --- GOV-03 / GOV-04: AWS Config ------------------------------------------------------------


def config(recorders: Any = None, packs: Any = None) -> dict[str, Any]:
    section = guardrails()["config"]
    return {
        "recorders": section["recorders"] if recorders is None else recorders,
        "conformance_packs": section["conformance_packs"] if packs is None else packs,
    }


@pytest.mark.parametrize(
    "group",
    [
        {"allSupported": True},
        {"allSupported": False, "resourceTypes": ["AWS::Lambda::Function"]},
        {
            "allSupported": False,
            "recordingStrategy": {"useOnly": "EXCLUSION_BY_RESOURCE_TYPES"},
            "exclusionByResourceTypes": {"resourceTypes": ["AWS::EC2::Instance"]},
        },
    ],
)
def test_recorder_covering_lambda_passes(group: dict[str, Any]) -> None:
    finding = run_region(
        "GOV-03", config=config({"default": {"recordingGroup": group, "recording": True}})
    )
    assert finding.status == "pass" and "default" in finding.message


@pytest.mark.parametrize(
    ("group", "recording"),
    [
        ({"allSupported": True}, False),
        ({"allSupported": False, "resourceTypes": ["AWS::S3::Bucket"]}, True),
        (
            {
                "allSupported": False,
                "recordingStrategy": {"useOnly": "EXCLUSION_BY_RESOURCE_TYPES"},
                "exclusionByResourceTypes": {"resourceTypes": ["AWS::Lambda::Function"]},
            },
            True,
        ),
    ],
)
def test_recorder_not_recording_lambda_fails(group: dict[str, Any], recording: bool) -> None:
    recorders = {"default": {"recordingGroup": group, "recording": recording}}
    finding = run_region("GOV-03", config=config(recorders))
    assert finding.status == "fail"
    assert "default" in finding.message and REGION in finding.message


def test_no_recorder_fails() -> None:
    finding = run_region("GOV-03", config=config({}))
    assert finding.status == "fail" and "recorders: none" in finding.message


@pytest.mark.parametrize(
    ("recorders", "operation"),
    [
        (failed_read("config:DescribeConfigurationRecorders"), "DescribeConfigurationRecorders"),
        (
            {
                "default": {
                    "recordingGroup": {"allSupported": True},
                    "recording": failed_read("config:DescribeConfigurationRecorderStatus"),
                }
            },
            "DescribeConfigurationRecorderStatus",
        ),
    ],
)
def test_unreadable_recorders_are_errors(recorders: Any, operation: str) -> None:
    assert_error(run_region("GOV-03", config=config(recorders)), f"config:{operation}")


def test_conformance_pack_deployed_passes() -> None:
    finding = run_region("GOV-04", config=config(packs=["other", "lambda-prr"]))
    assert finding.status == "pass" and "lambda-prr" in finding.message


def test_conformance_pack_missing_fails() -> None:
    finding = run_region("GOV-04", config=config(packs=["other"]))
    assert finding.status == "fail"
    assert "lambda-prr" in finding.message and "other" in finding.message


def test_conformance_pack_name_is_tunable() -> None:
    snapshot = build_snapshot(guardrails=guardrails(config=config(packs=["custom"])))
    (finding,) = run_check(
        REGISTRY["GOV-04"], snapshot, {**TUNABLES, "prr_conformance_pack": "custom"}
    )
    assert finding.status == "pass"


def test_unreadable_conformance_packs_are_an_error() -> None:
    packs = failed_read("config:DescribeConformancePacks")
    assert_error(
        run_region("GOV-04", config=config(packs=packs)), "config:DescribeConformancePacks"
    )


# --- GOV-05: Security Hub -------------------------------------------------------------------


def test_security_hub_with_fsbp_passes() -> None:
    finding = run_region("GOV-05")
    assert finding.status == "pass" and REGION in finding.message


@pytest.mark.parametrize(
    ("hub", "expected"),
    [
        ({"enabled": False}, "Security Hub is not enabled"),
        ({"enabled": True, "standards": []}, "is not enabled"),
        (
            {
                "enabled": True,
                "standards": [{"StandardsArn": FSBP_ARN, "StandardsStatus": "FAILED"}],
            },
            "is FAILED",
        ),
        (
            {
                "enabled": True,
                "standards": [{"StandardsArn": "arn:cis", "StandardsStatus": "READY"}],
            },
            "is not enabled",
        ),
    ],
)
def test_security_hub_without_fsbp_fails(hub: dict[str, Any], expected: str) -> None:
    finding = run_region("GOV-05", securityhub=hub)
    assert finding.status == "fail"
    assert expected in finding.message and REGION in finding.message


@pytest.mark.parametrize(
    ("hub", "operation"),
    [
        (failed_read("securityhub:DescribeHub"), "securityhub:DescribeHub"),
        (
            {"enabled": True, "standards": failed_read("securityhub:GetEnabledStandards")},
            "securityhub:GetEnabledStandards",
        ),
    ],
)
def test_unreadable_security_hub_is_an_error(hub: Any, operation: str) -> None:
    assert_error(run_region("GOV-05", securityhub=hub), operation)


# --- GOV-08: GuardDuty ----------------------------------------------------------------------


def detector(status: str = "ENABLED", feature: str = "ENABLED") -> dict[str, Any]:
    return {"Status": status, "Features": [{"Name": "LAMBDA_NETWORK_LOGS", "Status": feature}]}


def test_guardduty_lambda_protection_passes() -> None:
    finding = run_region("GOV-08")
    assert finding.status == "pass" and "d1" in finding.message


@pytest.mark.parametrize(
    ("detectors", "expected"),
    [
        ({}, "no detector"),
        ({"d1": detector(feature="DISABLED")}, "d1"),
        ({"d1": detector(status="DISABLED")}, "d1"),
    ],
)
def test_guardduty_without_lambda_protection_fails(
    detectors: dict[str, Any], expected: str
) -> None:
    finding = run_region("GOV-08", guardduty={"detectors": detectors})
    assert finding.status == "fail"
    assert expected in finding.message and REGION in finding.message


@pytest.mark.parametrize(
    ("detectors", "operation"),
    [
        (failed_read("guardduty:ListDetectors"), "guardduty:ListDetectors"),
        ({"d1": failed_read("guardduty:GetDetector")}, "guardduty:GetDetector"),
    ],
)
def test_unreadable_guardduty_is_an_error(detectors: Any, operation: str) -> None:
    assert_error(run_region("GOV-08", guardduty={"detectors": detectors}), operation)


def test_unreadable_guardrails_section_is_an_error() -> None:
    finding = run("GOV-08", guardrails=failed_read("guardduty:ListDetectors"))
    assert_error(finding, "guardduty:ListDetectors")


# --- GOV-06 / GOV-07: SCPs ------------------------------------------------------------------

SIGNING = {
    "Sid": "RequireSigning",
    "Effect": "Deny",
    "Action": "lambda:CreateFunction",
    "Resource": "*",
    "Condition": {"Null": {"lambda:CodeSigningConfigArn": "true"}},
}
URLS = {
    "Sid": "NoPublicUrls",
    "Effect": "Deny",
    "Action": ["lambda:CreateFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig"],
    "Resource": "*",
    "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
}
FULL_ACCESS = {"Effect": "Allow", "Action": "*", "Resource": "*"}


def signing(without: str = "", **fields: Any) -> dict[str, Any]:
    """The code-signing denial without the element ``without``, with ``fields`` replaced."""
    return {k: v for k, v in SIGNING.items() if k != without} | fields


def organization(*statements: dict[str, Any], on: str = "ou") -> dict[str, Any]:
    """A member account under one OU; the SCP holding ``statements`` attached to ``on``."""
    targets = [
        {"Id": ACCOUNT_ID, "Type": "ACCOUNT", "PolicyIds": ["p-full"]},
        {"Id": "ou-1", "Type": "ORGANIZATIONAL_UNIT", "PolicyIds": ["p-full"]},
        {"Id": "r-1", "Type": "ROOT", "PolicyIds": ["p-full"]},
    ]
    index = {"account": 0, "ou": 1, "root": 2}[on]
    targets[index]["PolicyIds"].append("p-guard")
    return {
        "member": True,
        "organization_id": "o-1",
        "management_account_id": "999988887777",
        "feature_set": "ALL",
        "targets": targets,
        "policies": {
            "p-full": {"Name": "FullAWSAccess", "Content": {"Statement": [FULL_ACCESS]}},
            "p-guard": {
                "Name": "guardrails",
                "Content": {"Version": "2012-10-17", "Statement": list(statements)},
            },
        },
    }


@pytest.mark.parametrize(("control", "statements"), [("GOV-06", [SIGNING]), ("GOV-07", [URLS])])
def test_management_account_fails_because_scps_never_apply_there(
    control: str, statements: list[dict[str, Any]]
) -> None:
    org = {**organization(*statements, on="root"), "management_account_id": ACCOUNT_ID}
    finding = run(control, organizations=org)
    assert finding.status == "fail"
    assert "management account, where SCPs never apply" in finding.message


@pytest.mark.parametrize(
    ("control", "statements"),
    [
        ("GOV-06", [SIGNING]),
        ("GOV-06", [{**SIGNING, "Action": "lambda:Create*"}]),
        (
            "GOV-06",
            [
                {
                    **SIGNING,
                    "Action": "*",
                    "Condition": {"null": {"lambda:codesigningconfigarn": True}},
                }
            ],
        ),
        ("GOV-06", [{**SIGNING, "Resource": "arn:aws:lambda:*:*:function:*"}]),
        ("GOV-07", [URLS]),
        (
            "GOV-07",
            [
                {**URLS, "Action": "lambda:CreateFunctionUrlConfig"},
                {**URLS, "Action": "lambda:UpdateFunctionUrlConfig"},
            ],
        ),
        ("GOV-07", [{**URLS, "Action": "lambda:*FunctionUrlConfig"}]),
    ],
)
@pytest.mark.parametrize("on", ["account", "ou", "root"])
def test_scp_denial_passes(control: str, statements: list[dict[str, Any]], on: str) -> None:
    finding = run(control, organizations=organization(*statements, on=on))
    assert finding.status == "pass" and "guardrails" in finding.message
    assert finding.resource_id == ACCOUNT_ID and finding.region is None


@pytest.mark.parametrize(
    ("control", "statements"),
    [
        ("GOV-06", []),
        ("GOV-06", [{**SIGNING, "Effect": "Allow"}]),
        ("GOV-06", [{**SIGNING, "Action": "lambda:UpdateFunctionCode"}]),
        ("GOV-06", [signing("Action", NotAction="lambda:*")]),
        ("GOV-06", [{**SIGNING, "Resource": "arn:aws:lambda:*:*:function:prod-*"}]),
        ("GOV-06", [{**SIGNING, "Condition": {"Null": {"lambda:CodeSigningConfigArn": "false"}}}]),
        ("GOV-07", [{**URLS, "Action": "lambda:CreateFunctionUrlConfig"}]),
        (
            "GOV-07",
            [{**URLS, "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}}}],
        ),
        (
            "GOV-07",
            [
                URLS
                | {
                    "Condition": {
                        "StringEquals": {
                            "lambda:FunctionUrlAuthType": "NONE",
                            "aws:RequestedRegion": "eu-west-1",
                        }
                    }
                }
            ],
        ),
    ],
)
def test_scp_without_denial_fails(control: str, statements: list[dict[str, Any]]) -> None:
    finding = run(control, organizations=organization(*statements))
    assert finding.status == "fail"
    assert ACCOUNT_ID in finding.message and "guardrails" in finding.message


@pytest.mark.parametrize("control", ["GOV-06", "GOV-07"])
def test_not_in_an_organization_is_not_applicable(control: str) -> None:
    """GOV-07 as GOV-06 (spec v1.1; finding 10 of issue 12): SCPs cannot apply."""
    finding = run(control, organizations={"member": False})
    assert finding.status == "not_applicable"
    assert ACCOUNT_ID in finding.message and "not in an AWS Organization" in finding.message


@pytest.mark.parametrize("control", ["GOV-06", "GOV-07"])
def test_consolidated_billing_organization_fails(control: str) -> None:
    org = organization(SIGNING, URLS) | {"feature_set": "CONSOLIDATED_BILLING"}
    finding = run(control, organizations=org)
    assert finding.status == "fail" and "CONSOLIDATED_BILLING" in finding.message


def unreadable(part: str, operation: str) -> dict[str, Any]:
    org = organization()
    if part == "member":
        return {"member": failed_read(operation)}
    if part == "parent":
        org["targets"][1:] = [failed_read(operation)]
    elif part == "attachments":
        org["targets"][1]["PolicyIds"] = failed_read(operation)
    else:
        org["policies"]["p-guard"] = failed_read(operation)
        org["targets"][1]["PolicyIds"].append("p-guard")
    return org


@pytest.mark.parametrize("control", ["GOV-06", "GOV-07"])
@pytest.mark.parametrize(
    ("part", "operation"),
    [
        ("member", "organizations:DescribeOrganization"),
        ("parent", "organizations:ListParents"),
        ("attachments", "organizations:ListPoliciesForTarget"),
        ("policy", "organizations:DescribePolicy"),
    ],
)
def test_unreadable_organization_is_an_error(control: str, part: str, operation: str) -> None:
    assert_error(run(control, organizations=unreadable(part, operation)), operation)


def test_unreadable_policy_does_not_hide_a_denial() -> None:
    org = organization(SIGNING, on="account")
    org["targets"][2]["PolicyIds"] = failed_read("organizations:ListPoliciesForTarget")
    assert run("GOV-06", organizations=org).status == "pass"


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (SIGNING, True),
        ({**SIGNING, "Action": ["s3:*", "LAMBDA:createfunction"]}, True),
        (signing("Action", NotAction="s3:*"), True),
        (signing("Action", NotAction="lambda:*"), False),
        (signing("Resource", NotResource="arn:aws:s3:::*"), True),
        (signing("Resource", NotResource="*"), False),
        ({**SIGNING, "Resource": f"arn:aws:lambda:*:{ACCOUNT_ID}:function:*"}, True),
        ({**SIGNING, "Resource": "arn:aws:lambda:*:999999999999:function:*"}, False),
        ({**SIGNING, "Resource": "arn:aws:lambda:us-*:*:function:*"}, False),
        ({**SIGNING, "Condition": {"Null": {"lambda:CodeSigningConfigArn": ["true"]}}}, True),
        (signing("Condition"), True),
        (
            {
                **SIGNING,
                "Condition": {
                    **SIGNING["Condition"],
                    "ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/break-glass"},
                },
            },
            True,
        ),
        (
            {
                **SIGNING,
                "Condition": {**SIGNING["Condition"], "Bool": {"aws:ViaAWSService": "false"}},
            },
            False,
        ),
        (
            {
                **SIGNING,
                "Condition": {"ForAnyValue:StringEquals": {"lambda:CodeSigningConfigArn": "x"}},
            },
            False,
        ),
    ],
)
def test_scp_statement_matcher_for_code_signing(statement: dict[str, Any], expected: bool) -> None:
    request = {"lambda:CodeSigningConfigArn": None}
    assert denies(statement, "lambda:CreateFunction", request, ACCOUNT_ID) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}, True),
        ({"StringEquals": {"lambda:FunctionUrlAuthType": ["AWS_IAM", "NONE"]}}, True),
        ({"StringEqualsIgnoreCase": {"lambda:functionurlauthtype": "none"}}, True),
        ({"StringLike": {"lambda:FunctionUrlAuthType": "NO*"}}, True),
        ({"StringNotEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}}, True),
        ({"StringNotEquals": {"lambda:FunctionUrlAuthType": "NONE"}}, False),
        ({"StringEquals": {"lambda:FunctionUrlAuthType": "none"}}, False),
    ],
)
def test_scp_statement_matcher_for_function_urls(condition: dict[str, Any], expected: bool) -> None:
    statement = {**URLS, "Condition": condition}
    request = {"lambda:FunctionUrlAuthType": "NONE"}
    for action in ("lambda:CreateFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig"):
        assert denies(statement, action, request, ACCOUNT_ID) is expected


# --- API-01..04: API Gateway stages ---------------------------------------------------------

PROD_ARN = f"arn:aws:apigateway:{REGION}::/restapis/a1/stages/prod"


def method(**fields: Any) -> dict[str, Any]:
    entry = {
        "resource_path": "/orders",
        "http_method": "POST",
        "authorization_type": "AWS_IAM",
        "api_key_required": False,
        "function_arn": function_arn("orders"),
    }
    entry.update(fields)
    return entry


def stage(**fields: Any) -> dict[str, Any]:
    """A compliant REST API stage."""
    entry = {
        "api_id": "a1",
        "api_name": "orders",
        "api_type": "REST",
        "stage": "prod",
        "stage_arn": PROD_ARN,
        "access_log_destination": f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:access",
        "throttling": {"rate_limit": 100.0, "burst_limit": 50},
        "web_acl_arn": f"arn:aws:wafv2:{REGION}:{ACCOUNT_ID}:regional/webacl/api/1",
        "methods": [method()],
    }
    entry.update(fields)
    return entry


def run_stage(control: str, **fields: Any) -> Result:
    return run(control, apigw={"stages": [stage(**fields)]})


@pytest.mark.parametrize("control", ["API-01", "API-02", "API-03", "API-04"])
def test_compliant_stage_passes(control: str) -> None:
    finding = run_stage(control)
    assert finding.status == "pass"
    assert "prod" in finding.message and "orders" in finding.message
    assert finding.resource_id == PROD_ARN


@pytest.mark.parametrize(
    ("control", "fields", "expected"),
    [
        ("API-01", {"access_log_destination": None}, "no access log destination"),
        ("API-02", {"throttling": None}, "rate and burst"),
        ("API-02", {"throttling": {"rate_limit": 100.0, "burst_limit": None}}, "burst"),
        ("API-02", {"throttling": {"rate_limit": -1.0, "burst_limit": -1}}, "rate and burst"),
        ("API-03", {"methods": [method(authorization_type="NONE")]}, "POST /orders -> orders"),
        (
            "API-03",
            {
                "methods": [
                    method(),
                    method(http_method=None, resource_path="$default", authorization_type="NONE"),
                ]
            },
            "$default -> orders",
        ),
        ("API-04", {"web_acl_arn": None}, "no associated AWS WAF web ACL"),
        ("API-04", {"api_type": "HTTP", "web_acl_arn": None}, "cannot be associated with HTTP"),
    ],
)
def test_violating_stage_fails(control: str, fields: dict[str, Any], expected: str) -> None:
    finding = run_stage(control, **fields)
    assert finding.status == "fail"
    assert "stage prod" in finding.message and expected in finding.message


def test_api_key_counts_as_a_gate_for_api_03() -> None:
    methods = [method(authorization_type="NONE", api_key_required=True)]
    assert run_stage("API-03", methods=methods).status == "pass"


@pytest.mark.parametrize(("authorization", "status"), [("NONE", "fail"), ("CUSTOM", "pass")])
def test_api_03_websocket_routes_carry_the_connect_authorization(
    authorization: str, status: str
) -> None:
    route = method(
        http_method=None,
        resource_path="sendMessage",
        authorization_type=authorization,
        authorized_on="$connect",
    )
    finding = run_stage("API-03", api_type="WEBSOCKET", methods=[route])
    assert finding.status == status
    assert finding.evidence["methods"][0]["authorized_on"] == "$connect"


def test_api_03_names_every_open_function() -> None:
    methods = [
        method(authorization_type="NONE", function_arn=function_arn(f"fn{i}")) for i in range(5)
    ]
    finding = run_stage("API-03", methods=methods)
    assert finding.status == "fail" and "fn0" in finding.message and "2 more" in finding.message
    assert len(finding.evidence["methods"]) == 5


@pytest.mark.parametrize(
    ("control", "field", "operation"),
    [
        ("API-01", "access_log_destination", "apigateway:GetStages"),
        ("API-02", "throttling", "apigatewayv2:GetStages"),
        ("API-03", "methods", "apigateway:GetResources"),
        ("API-04", "web_acl_arn", "apigateway:GetStages"),
    ],
)
def test_unreadable_stage_data_is_an_error(control: str, field: str, operation: str) -> None:
    assert_error(run_stage(control, **{field: failed_read(operation)}), operation)


def unread_stages(**fields: Any) -> dict[str, Any]:
    """A REST or HTTP API whose stages could not be read (GetStages failed), as the
    collector records it: every stage field a marker, the methods read."""
    marker = failed_read("apigateway:GetStages")
    return stage(
        **{
            key: marker
            for key in ("stage", "stage_arn", "access_log_destination", "throttling", "web_acl_arn")
        },
        **fields,
    )


@pytest.mark.parametrize(
    ("control", "fields", "expected"),
    [
        ("API-03", {"methods": [method(authorization_type="NONE")]}, "POST /orders -> orders"),
        ("API-04", {"api_type": "HTTP"}, "cannot be associated with HTTP"),
    ],
)
def test_a_certain_failure_stands_when_the_stages_are_unreadable(
    control: str, fields: dict[str, Any], expected: str
) -> None:
    """Finding 7 of issue 12: what the API alone proves holds for each of its stages."""
    finding = run(control, apigw={"stages": [unread_stages(**fields)]})
    assert finding.status == "fail", finding.message
    assert "the stages (unread) of" in finding.message and expected in finding.message


@pytest.mark.parametrize("control", ["API-01", "API-02", "API-03", "API-04"])
def test_unreadable_stages_of_a_compliant_api_are_an_error(control: str) -> None:
    """A PASS needs to know which stage it speaks for."""
    assert_error(run(control, apigw={"stages": [unread_stages()]}), "apigateway:GetStages")


def test_unreadable_stage_listing_is_an_error() -> None:
    finding = run("API-01", apigw={"stages": [failed_read("apigateway:GetRestApis")]})
    assert_error(finding, "apigateway:GetRestApis")


def test_every_stage_is_evaluated() -> None:
    stages = [stage(), stage(stage="dev", stage_arn="arn:dev", access_log_destination=None)]
    findings = run_check(REGISTRY["API-01"], build_snapshot(apigw={"stages": stages}), TUNABLES)
    assert {(f.resource_id, f.status) for f in findings} == {
        (PROD_ARN, "pass"),
        ("arn:dev", "fail"),
    }


def test_checks_do_not_mutate_the_snapshot() -> None:
    snapshot = build_snapshot(guardrails=guardrails(), organizations=organization(SIGNING, URLS))
    before = copy.deepcopy(snapshot.data)
    for control in ("GOV-01", "GOV-02", "GOV-03", "GOV-05", "GOV-06", "GOV-07", "GOV-08"):
        run_check(REGISTRY[control], snapshot, TUNABLES)
    assert snapshot.data == before
