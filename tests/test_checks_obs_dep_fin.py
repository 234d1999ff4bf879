"""OBS, DEP and FIN checks over built snapshots: fail, pass, N/A and ERROR for each control."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_prr.catalog import builtin_catalog
from pytest_prr.checks import cost, deployment, observability  # noqa: F401 (registration)
from pytest_prr.checks.base import REGISTRY, run_check
from pytest_prr.results.model import Result
from pytest_prr.snapshot.model import Snapshot
from snapshots import REGION, build_snapshot, failed_read, function_arn, make_function

NAME = "orders"
TUNABLES = {t.name: t.default for c in builtin_catalog() for t in c.tunables}
CONTROLS = [
    *(f"OBS-0{i}" for i in range(1, 9)),
    *(f"DEP-0{i}" for i in range(1, 7)),
    "FIN-01",
    "FIN-02",
]


def fn(**fields: Any) -> dict[str, Any]:
    return make_function(NAME, **fields)


def snap(function: dict[str, Any] | None = None, **sections: Any) -> Snapshot:
    return build_snapshot([function or fn()], **sections)


def run(control: str, snapshot: Snapshot, **tunables: Any) -> Result:
    findings = run_check(REGISTRY[control], snapshot, {**TUNABLES, **tunables})
    assert len(findings) == 1
    return findings[0]


def check(control: str, snapshot: Snapshot, status: str, **tunables: Any) -> Result:
    finding = run(control, snapshot, **tunables)
    assert finding.status == status, finding.message
    if status in ("fail", "pass"):
        assert NAME in finding.message
    return finding


def check_error(control: str, snapshot: Snapshot, operation: str) -> None:
    finding = run(control, snapshot)
    assert finding.status == "error", finding.message
    assert operation in finding.message


def test_every_control_is_registered() -> None:
    assert all(REGISTRY[control].scope == "function" for control in CONTROLS)


@pytest.mark.parametrize("control", CONTROLS)
def test_unlisted_functions_are_an_error(control: str) -> None:
    snapshot = snap()
    snapshot.data["regions"][REGION]["lambda"]["functions"] = failed_read("lambda:ListFunctions")
    check_error(control, snapshot, "lambda:ListFunctions")


# --- OBS-01 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tracing", "status"),
    [({"Mode": "Active"}, "pass"), ({"Mode": "PassThrough"}, "fail"), (None, "fail")],
)
def test_obs01_tracing(tracing: Any, status: str) -> None:
    check("OBS-01", snap(fn(TracingConfig=tracing)), status)


# --- OBS-02 ---------------------------------------------------------------------------------


def logs(**groups: Any) -> dict[str, Any]:
    return {
        "log_groups": {
            name: {"retentionInDays": days, "kmsKeyId": None} for name, days in groups.items()
        }
    }


@pytest.mark.parametrize(
    ("groups", "status"),
    [
        ({"/aws/lambda/orders": 365}, "pass"),
        ({"/aws/lambda/orders": 3653}, "pass"),
        ({"/aws/lambda/orders": 30}, "fail"),
        ({"/aws/lambda/orders": None}, "fail"),
        ({"/aws/lambda/other": 400}, "fail"),
        ({}, "fail"),
    ],
)
def test_obs02_default_group(groups: dict[str, Any], status: str) -> None:
    check("OBS-02", snap(logs=logs(**groups)), status)


def test_obs02_reads_the_custom_group() -> None:
    custom = fn(LoggingConfig={"LogFormat": "JSON", "LogGroup": "/shared/orders"})
    check("OBS-02", snap(custom, logs=logs(**{"/shared/orders": 731})), "pass")
    finding = check("OBS-02", snap(custom, logs=logs(**{"/aws/lambda/orders": 731})), "fail")
    assert "/shared/orders" in finding.message


def test_obs02_minimum_is_tunable() -> None:
    check(
        "OBS-02",
        snap(logs=logs(**{"/aws/lambda/orders": 30})),
        "pass",
        prr_log_retention_min_days=30,
    )


def test_obs02_unreadable_groups_are_an_error() -> None:
    check_error(
        "OBS-02",
        snap(logs={"log_groups": failed_read("logs:DescribeLogGroups")}),
        "logs:DescribeLogGroups",
    )
    one = {"log_groups": {"/aws/lambda/orders": failed_read("logs:DescribeLogGroups")}}
    check_error("OBS-02", snap(logs=one), "logs:DescribeLogGroups")


# --- OBS-03 / OBS-04 / OBS-05 ---------------------------------------------------------------


def alarm(
    metric: str, *dimensions: tuple[str, str], actions: bool = True, enabled: bool = True
) -> dict[str, Any]:
    return {
        "AlarmName": f"{metric}-{'-'.join(v for _, v in dimensions)}",
        "AlarmArn": f"arn:aws:cloudwatch:{REGION}:123456789012:alarm:{metric}",
        "MetricName": metric,
        "Dimensions": [{"Name": n, "Value": v} for n, v in dimensions],
        "ActionsEnabled": enabled,
        "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:oncall"] if actions else [],
    }


def alarms(*items: Any) -> dict[str, Any]:
    return {"alarms": list(items), "metrics": {}}


LIVE = [{"Name": "live", "FunctionVersion": "3"}]
OF_FUNCTION = ("FunctionName", NAME)


@pytest.mark.parametrize(("control", "metric"), [("OBS-03", "Errors"), ("OBS-04", "Throttles")])
@pytest.mark.parametrize(
    ("dimensions", "status"),
    [
        ([OF_FUNCTION], "pass"),
        ([OF_FUNCTION, ("Resource", NAME)], "pass"),
        ([OF_FUNCTION, ("Resource", f"{NAME}:live")], "pass"),
        ([OF_FUNCTION, ("Resource", f"{NAME}:3")], "fail"),  # pinned to a version
        ([OF_FUNCTION, ("Resource", f"{NAME}:gone")], "fail"),  # no such alias
        ([OF_FUNCTION, ("Resource", f"{NAME}:live"), ("ExecutedVersion", "3")], "fail"),
        ([("FunctionName", "billing")], "fail"),
        ([], "fail"),
    ],
)
def test_obs03_obs04_alarm_on_the_function(
    control: str, metric: str, dimensions: list[tuple[str, str]], status: str
) -> None:
    snapshot = snap(fn(Aliases=LIVE), cloudwatch=alarms(alarm(metric, *dimensions)))
    check(control, snapshot, status)


@pytest.mark.parametrize(("control", "other"), [("OBS-03", "Throttles"), ("OBS-04", "Errors")])
def test_obs03_obs04_alarm_on_another_metric_does_not_count(control: str, other: str) -> None:
    check(control, snap(cloudwatch=alarms(alarm(other, OF_FUNCTION))), "fail")
    check(control, snap(), "fail")


@pytest.mark.parametrize(("control", "metric"), [("OBS-03", "Errors"), ("OBS-04", "Throttles")])
def test_obs03_obs04_unreadable_alarms_or_aliases_are_an_error(control: str, metric: str) -> None:
    unlisted = {"alarms": failed_read("cloudwatch:DescribeAlarms"), "metrics": {}}
    check_error(control, snap(cloudwatch=unlisted), "cloudwatch:DescribeAlarms")
    on_alias = alarms(alarm(metric, OF_FUNCTION, ("Resource", f"{NAME}:live")))
    function = fn(Aliases=failed_read("lambda:ListAliases"))
    check_error(control, snap(function, cloudwatch=on_alias), "lambda:ListAliases")


@pytest.mark.parametrize(
    ("errors", "throttles", "status"),
    [
        ({}, {}, "pass"),
        ({}, None, "pass"),
        ({"enabled": False}, {}, "fail"),
        ({}, {"actions": False}, "fail"),
        (None, None, "not_applicable"),
    ],
)
def test_obs05_alarms_page_someone(errors: Any, throttles: Any, status: str) -> None:
    found = [
        alarm(metric, OF_FUNCTION, **options)
        for metric, options in (("Errors", errors), ("Throttles", throttles))
        if options is not None
    ]
    finding = run("OBS-05", snap(cloudwatch=alarms(*found)))
    assert finding.status == status, finding.message
    assert NAME in finding.message


def test_obs05_unreadable_alarms_are_an_error() -> None:
    unlisted = {"alarms": failed_read("cloudwatch:DescribeAlarms"), "metrics": {}}
    check_error("OBS-05", snap(cloudwatch=unlisted), "cloudwatch:DescribeAlarms")


# --- OBS-06 / OBS-07 ------------------------------------------------------------------------

SERVICE = {"POWERTOOLS_SERVICE_NAME": {"value": "orders"}}


@pytest.mark.parametrize(
    ("environment", "status"),
    [
        (SERVICE, "pass"),
        ({"POWERTOOLS_SERVICE_NAME": {"value": ""}}, "fail"),
        ({"LOG_LEVEL": {"value": "INFO"}}, "fail"),
        ({}, "fail"),
    ],
)
def test_obs06_powertools_service_name(environment: dict[str, Any], status: str) -> None:
    check("OBS-06", snap(fn(Environment=environment)), status)


def test_obs06_evidence_never_holds_a_redacted_value() -> None:
    redacted = {"redacted": True, "finding": "secret-name", "length": 12}
    finding = check("OBS-06", snap(fn(Environment={"POWERTOOLS_SERVICE_NAME": redacted})), "pass")
    assert finding.evidence == {"POWERTOOLS_SERVICE_NAME": {"redacted": "secret-name"}}


def level(name: str, value: str) -> dict[str, Any]:
    return {name: {"value": value}}


@pytest.mark.parametrize(
    ("logging", "environment", "status"),
    [
        ({"LogFormat": "JSON", "ApplicationLogLevel": "INFO"}, {}, "pass"),
        ({"LogFormat": "JSON"}, {}, "pass"),
        ({"LogFormat": "Text"}, {**SERVICE, **level("POWERTOOLS_LOG_LEVEL", "INFO")}, "pass"),
        (None, SERVICE, "pass"),
        ({"LogFormat": "Text"}, {}, "fail"),
        (None, level("LOG_LEVEL", "INFO"), "fail"),
        ({"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"}, {}, "fail"),
        ({"LogFormat": "JSON", "ApplicationLogLevel": "TRACE"}, {}, "fail"),
        (None, {**SERVICE, **level("POWERTOOLS_LOG_LEVEL", "debug")}, "fail"),
        ({"LogFormat": "JSON"}, level("LOG_LEVEL", "TRACE"), "fail"),
        # The first source in the spec's order is the effective level.
        ({"LogFormat": "JSON", "ApplicationLogLevel": "WARN"}, level("LOG_LEVEL", "DEBUG"), "pass"),
        (
            None,
            {**SERVICE, **level("POWERTOOLS_LOG_LEVEL", "INFO"), **level("LOG_LEVEL", "DEBUG")},
            "pass",
        ),
    ],
)
def test_obs07_structured_logs_at_production_level(
    logging: Any, environment: dict[str, Any], status: str
) -> None:
    check("OBS-07", snap(fn(LoggingConfig=logging, Environment=environment)), status)


# --- OBS-08 ---------------------------------------------------------------------------------


def metrics(entry: Any) -> dict[str, Any]:
    return {"alarms": [], "metrics": {function_arn(NAME): entry}}


def totals(errors: float, invocations: float, window_days: int = 30) -> dict[str, Any]:
    return {"Errors": errors, "Invocations": invocations, "window_days": window_days}


@pytest.mark.parametrize(
    ("entry", "status"),
    [
        (totals(0, 10_000), "pass"),
        (totals(10, 10_000), "pass"),
        (totals(11, 10_000), "fail"),
        (totals(5, 5), "fail"),
        (totals(0, 0), "not_applicable"),
    ],
)
def test_obs08_availability(entry: dict[str, Any], status: str) -> None:
    finding = run("OBS-08", snap(cloudwatch=metrics(entry)))
    assert finding.status == status, finding.message
    assert NAME in finding.message


def test_obs08_target_is_tunable() -> None:
    check("OBS-08", snap(cloudwatch=metrics(totals(11, 10_000))), "pass", prr_slo_target=0.99)


@pytest.mark.parametrize(
    "section",
    [
        metrics(failed_read("cloudwatch:GetMetricData")),
        {"alarms": [], "metrics": failed_read("cloudwatch:GetMetricData")},
        {"alarms": [], "metrics": {}},
    ],
)
def test_obs08_unreadable_metrics_are_an_error(section: dict[str, Any]) -> None:
    check_error("OBS-08", snap(cloudwatch=section), "cloudwatch:GetMetricData")


def test_obs08_metrics_of_another_window_are_an_error() -> None:
    finding = run("OBS-08", snap(cloudwatch=metrics(totals(0, 100))), prr_slo_window_days=7)
    assert finding.status == "error"
    assert "cloudwatch:GetMetricData" in finding.message


# --- DEP-01 / DEP-02 ------------------------------------------------------------------------

ROLLBACK = {"enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]}
ALARMS = {"enabled": True, "alarms": [{"name": "orders-errors"}], "ignorePollAlarmFailure": False}


def group(
    function: Any = NAME,
    config: str = "CodeDeployDefault.LambdaCanary10Percent5Minutes",
    rollback: Any = ROLLBACK,
    alarms: Any = ALARMS,
) -> dict[str, Any]:
    return {
        "applicationName": "orders-app",
        "deploymentGroupName": "orders-live",
        "deploymentConfigName": config,
        "autoRollbackConfiguration": rollback,
        "alarmConfiguration": alarms,
        "lastDeploymentId": "d-1",
        "function": {"FunctionName": function, "Alias": "live"}
        if isinstance(function, str)
        else function,
    }


def deploy(*groups: Any) -> dict[str, Any]:
    return {"deployment_groups": list(groups), "signing_profiles": {}}


@pytest.mark.parametrize(
    ("groups", "status"),
    [
        ([group()], "pass"),
        ([group(function_arn(NAME))], "pass"),
        ([group(config="CodeDeployDefault.LambdaLinear10PercentEvery1Minute")], "pass"),
        ([group(config="CodeDeployDefault.LambdaAllAtOnce")], "fail"),
        ([group(), group(config="CodeDeployDefault.LambdaAllAtOnce")], "fail"),
        ([group("billing")], "fail"),
        ([group(None)], "fail"),
        ([], "fail"),
        # An unreadable group does not hide the group that deploys the function.
        ([failed_read("codedeploy:BatchGetDeploymentGroups"), group()], "pass"),
    ],
)
def test_dep01_gradual_deployment(groups: list[Any], status: str) -> None:
    check("DEP-01", snap(deploy=deploy(*groups)), status)


@pytest.mark.parametrize("control", ["DEP-01", "DEP-02"])
@pytest.mark.parametrize(
    ("groups", "operation"),
    [
        (failed_read("codedeploy:ListApplications"), "codedeploy:ListApplications"),
        (
            [group("billing"), failed_read("codedeploy:BatchGetDeploymentGroups")],
            "codedeploy:BatchGetDeploymentGroups",
        ),
        ([group(failed_read("codedeploy:BatchGetDeployments"))], "codedeploy:BatchGetDeployments"),
    ],
)
def test_dep01_dep02_unreadable_groups_are_an_error(
    control: str, groups: Any, operation: str
) -> None:
    section = {"deployment_groups": groups, "signing_profiles": {}}
    check_error(control, snap(deploy=section), operation)


@pytest.mark.parametrize(
    ("deployment_group", "status"),
    [
        (group(), "pass"),
        (group(rollback={**ROLLBACK, "enabled": False}), "fail"),
        (group(rollback={"enabled": True, "events": ["DEPLOYMENT_FAILURE"]}), "fail"),
        (group(rollback=None), "fail"),
        (group(alarms={**ALARMS, "enabled": False}), "fail"),
        (group(alarms={**ALARMS, "alarms": []}), "fail"),
        (group(alarms=None), "fail"),
    ],
)
def test_dep02_automatic_rollback(deployment_group: dict[str, Any], status: str) -> None:
    check("DEP-02", snap(deploy=deploy(deployment_group)), status)


@pytest.mark.parametrize("groups", [[], [group("billing")], [group(None)]])
def test_dep02_without_a_group_is_not_applicable(groups: list[Any]) -> None:
    check("DEP-02", snap(deploy=deploy(*groups)), "not_applicable")


# --- DEP-03 ---------------------------------------------------------------------------------

CSC = f"arn:aws:lambda:{REGION}:123456789012:code-signing-config:csc-1"
RELEASE = f"arn:aws:signer:{REGION}:123456789012:/signing-profiles/release/v1"
RETIRED = f"arn:aws:signer:{REGION}:123456789012:/signing-profiles/retired/v1"


def signing(profiles: dict[str, Any], configs: Any = None) -> Snapshot:
    """The function with a code signing config allowing ``profiles`` (version ARN → the
    profile the deploy collector read)."""
    if configs is None:
        allowed = {"SigningProfileVersionArns": list(profiles)}
        configs = {CSC: {"AllowedPublishers": allowed, "CodeSigningPolicies": {}}}
    snapshot = snap(
        fn(CodeSigningConfigArn=CSC),
        deploy={"deployment_groups": [], "signing_profiles": profiles},
    )
    snapshot.data["regions"][REGION]["lambda"]["code_signing_configs"] = configs
    return snapshot


def profile(name: str, status: str) -> dict[str, Any]:
    return {"profileName": name, "status": status, "profileVersionArn": f"{name}/v1"}


@pytest.mark.parametrize(
    ("profiles", "status"),
    [
        ({RELEASE: profile("release", "Active")}, "pass"),
        ({RETIRED: profile("retired", "Canceled"), RELEASE: profile("release", "Active")}, "pass"),
        (
            {
                RETIRED: failed_read("signer:GetSigningProfile"),
                RELEASE: profile("release", "Active"),
            },
            "pass",
        ),
        ({RETIRED: profile("retired", "Canceled")}, "fail"),
        ({RELEASE: profile("release", "Revoked")}, "fail"),
        ({RELEASE: None}, "fail"),
        ({}, "fail"),
    ],
)
def test_dep03_active_signing_profile(profiles: dict[str, Any], status: str) -> None:
    check("DEP-03", signing(profiles), status)


def test_dep03_without_code_signing_is_not_applicable() -> None:
    check("DEP-03", snap(fn(CodeSigningConfigArn=None)), "not_applicable")


def test_dep03_unreadable_signing_data_is_an_error() -> None:
    unreadable = {
        RETIRED: profile("retired", "Canceled"),
        RELEASE: failed_read("signer:GetSigningProfile"),
    }
    check_error("DEP-03", signing(unreadable), "signer:GetSigningProfile")
    configs = failed_read("lambda:ListCodeSigningConfigs")
    check_error("DEP-03", signing({}, configs), "lambda:ListCodeSigningConfigs")
    config = failed_read("lambda:GetFunctionCodeSigningConfig")
    check_error(
        "DEP-03", snap(fn(CodeSigningConfigArn=config)), "lambda:GetFunctionCodeSigningConfig"
    )


# --- DEP-04 / DEP-05 / DEP-06 ---------------------------------------------------------------

STACK = {"aws:cloudformation:stack-name": "orders-prod"}
REQUIRED = {
    "Owner": "payments",
    "CostCenter": "cc-42",
    "DataClassification": "confidential",
    "Environment": "prod",
}


@pytest.mark.parametrize(
    ("tags", "tunables", "status"),
    [
        (STACK, {}, "pass"),
        ({"managed-by": "terraform"}, {"prr_iac_tags": ["managed-by", "aws:cdk:path"]}, "pass"),
        ({"managed-by": "terraform"}, {}, "fail"),
        ({}, {}, "fail"),
    ],
)
def test_dep04_deployed_from_iac(
    tags: dict[str, str], tunables: dict[str, Any], status: str
) -> None:
    check("DEP-04", snap(fn(Tags=tags)), status, **tunables)


@pytest.mark.parametrize(
    ("tags", "status", "named"),
    [
        (REQUIRED, "pass", None),
        ({**REQUIRED, "Owner": ""}, "fail", "Owner"),
        ({**REQUIRED, "CostCenter": "  "}, "fail", "CostCenter"),
        ({k: v for k, v in REQUIRED.items() if k != "Environment"}, "fail", "Environment"),
        ({}, "fail", "DataClassification"),
    ],
)
def test_dep05_required_tags(tags: dict[str, str], status: str, named: str | None) -> None:
    finding = check("DEP-05", snap(fn(Tags=tags)), status)
    assert named is None or named in finding.message


def test_dep05_required_tags_are_tunable() -> None:
    check("DEP-05", snap(fn(Tags={"Team": "payments"})), "pass", prr_required_tags=["Team"])


@pytest.mark.parametrize(
    ("runbook", "status"),
    [
        ("https://wiki.example.com/runbooks/orders", "pass"),
        ("http://wiki.example.com/runbooks/orders", "fail"),
        ("wiki.example.com/runbooks/orders", "fail"),
        ("https://", "fail"),
        ("https://wiki.example.com/run book", "fail"),
        ("", "fail"),
        (None, "fail"),
    ],
)
def test_dep06_runbook_linked(runbook: str | None, status: str) -> None:
    tags = {} if runbook is None else {"prr:runbook": runbook}
    check("DEP-06", snap(fn(Tags=tags)), status)


@pytest.mark.parametrize("control", ["DEP-04", "DEP-05", "DEP-06"])
def test_dep04_to_06_unreadable_tags_are_an_error(control: str) -> None:
    check_error(control, snap(fn(Tags=failed_read("lambda:GetFunction"))), "lambda:GetFunction")


# --- FIN-01 / FIN-02 ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("architectures", "status"),
    [(["arm64"], "pass"), (["x86_64"], "fail"), (None, "fail")],
)
def test_fin01_graviton(architectures: Any, status: str) -> None:
    check("FIN-01", snap(fn(Architectures=architectures)), status)


@pytest.mark.parametrize(
    ("memory", "timeout", "tunables", "status"),
    [
        (3008, 300, {}, "pass"),
        (128, 3, {}, "pass"),
        (3009, 300, {}, "fail"),
        (1024, 900, {}, "fail"),
        (10240, 900, {"prr_max_memory_mb": 10240, "prr_max_timeout_s": 900}, "pass"),
        (1024, 60, {"prr_max_memory_mb": 512}, "fail"),
    ],
)
def test_fin02_right_sized(
    memory: int, timeout: int, tunables: dict[str, Any], status: str
) -> None:
    check("FIN-02", snap(fn(MemorySize=memory, Timeout=timeout)), status, **tunables)


@pytest.mark.parametrize("missing", ["MemorySize", "Timeout"])
def test_fin02_a_missing_size_is_an_error_never_a_pass(missing: str) -> None:
    """Finding 8 of issue 12: the rule needs both fields (spec v1.1)."""
    function = fn(MemorySize=1024, Timeout=30)
    del function[missing]
    finding = run("FIN-02", snap(function))
    assert finding.status == "error" and missing in finding.message, finding.message


def test_fin02_an_oversized_memory_fails_though_the_timeout_is_missing() -> None:
    function = fn(MemorySize=4096)
    del function["Timeout"]
    finding = check("FIN-02", snap(function), "fail")
    assert "MemorySize 4096 MB > 3008" in finding.message and "Timeout not read" in finding.message


def test_a_default_left_unset_is_named_not_shown_as_none() -> None:
    """'logs in format None' told a reader nothing (issue 15): the default is named."""
    unset = fn(TracingConfig=None, LoggingConfig={})
    for control in ("OBS-01", "OBS-07"):
        finding = run(control, snap(unset))
        assert finding.status == "fail" and "None" not in finding.message, finding.message
        assert "default" in finding.message
