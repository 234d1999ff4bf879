"""The shipped guardrails: well-formed, valid IAM and CloudFormation, consistent with the
catalog, and exported by ``prr guardrails``. What the policies decide is tested in
test_guardrails_policies.py, deploying them into moto in test_guardrails_moto.py."""

from __future__ import annotations

import datetime
import functools
import json
from collections.abc import Collection
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.api import ManualArgs, lint
from parliament import analyze_policy_string
from parliament.statement import OPERATORS, get_global_key_type
from policy_sentry.querying.actions import get_action_data, get_all_actions

from pytest_prr.catalog import builtin_catalog
from pytest_prr.checks.iam import PRIVILEGED_POLICIES
from pytest_prr.commands.cli import main
from pytest_prr.guardrails import ARTIFACTS, PACK_MAPPING, artifact, conformance_pack_name, listed

SCP = "scp-lambda-prr.json"
BOUNDARY = "permission-boundary-lambda.json"
PACK = "conformance-pack-lambda-prr.yaml"
STATEMENT_KEYS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}
#: Parliament findings each policy is meant to have. A boundary caps actions on every
#: resource; the role's own policies name the resources, so ``Resource: "*"`` is its design.
EXPECTED_FINDINGS = {SCP: set(), BOUNDARY: {"RESOURCE_STAR"}}
#: AWS Config managed rules (identifier -> rule name), each checked on its page of the AWS
#: Config Developer Guide (docs.aws.amazon.com/config/latest/developerguide/NAME.html) on
#: 2026-11-28. The pack may use no other rule: a wrong identifier fails the deployment.
MANAGED_RULES = {
    "API_GW_ASSOCIATED_WITH_WAF": "api-gw-associated-with-waf",
    "API_GWV2_ACCESS_LOGS_ENABLED": "api-gwv2-access-logs-enabled",
    "API_GWV2_AUTHORIZATION_TYPE_CONFIGURED": "api-gwv2-authorization-type-configured",
    "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED": "cloud-trail-log-file-validation-enabled",
    "CLOUDWATCH_LOG_GROUP_ENCRYPTED": "cloudwatch-log-group-encrypted",
    "CMK_BACKING_KEY_ROTATION_ENABLED": "cmk-backing-key-rotation-enabled",
    "CODEDEPLOY_LAMBDA_ALLATONCE_TRAFFIC_SHIFT_DISABLED": (
        "codedeploy-lambda-allatonce-traffic-shift-disabled"
    ),
    "CW_LOGGROUP_RETENTION_PERIOD_CHECK": "cw-loggroup-retention-period-check",
    "GUARDDUTY_LAMBDA_PROTECTION_ENABLED": "guardduty-lambda-protection-enabled",
    "IAM_POLICY_BLACKLISTED_CHECK": "iam-policy-blacklisted-check",
    "IAM_POLICY_NO_STATEMENTS_WITH_FULL_ACCESS": "iam-policy-no-statements-with-full-access",
    "LAMBDA_CONCURRENCY_CHECK": "lambda-concurrency-check",
    "LAMBDA_DLQ_CHECK": "lambda-dlq-check",
    "LAMBDA_FUNCTION_PUBLIC_ACCESS_PROHIBITED": "lambda-function-public-access-prohibited",
    "LAMBDA_FUNCTION_SETTINGS_CHECK": "lambda-function-settings-check",
    "LAMBDA_FUNCTION_TAGGED": "lambda-function-tagged",
    "LAMBDA_FUNCTION_XRAY_ENABLED": "lambda-function-xray-enabled",
    "LAMBDA_INSIDE_VPC": "lambda-inside-vpc",
    "LAMBDA_VPC_MULTI_AZ_CHECK": "lambda-vpc-multi-az-check",
    "MULTI_REGION_CLOUD_TRAIL_ENABLED": "multi-region-cloudtrail-enabled",
    "SECRETSMANAGER_ROTATION_ENABLED_CHECK": "secretsmanager-rotation-enabled-check",
    "SECRETSMANAGER_SECRET_PERIODIC_ROTATION": "secretsmanager-secret-periodic-rotation",
    "SECURITYHUB_ENABLED": "securityhub-enabled",
    "SNS_ENCRYPTED_KMS": "sns-encrypted-kms",
    "VPC_SG_OPEN_ONLY_TO_AUTHORIZED_PORTS": "vpc-sg-open-only-to-authorized-ports",
}


# --- well-formed ------------------------------------------------------------------------


def test_the_package_ships_exactly_the_listed_artifacts() -> None:
    shipped = {
        entry.name
        for entry in resources.files("pytest_prr.guardrails").iterdir()
        if entry.is_file() and not entry.name.endswith((".py", ".pyc"))
    }
    assert shipped == set(listed())
    for item in ARTIFACTS:
        if item.filename.endswith((".json", ".yaml")):
            assert isinstance(item.document(), dict), item.filename
    assert "prr guardrails export" in artifact("README.md").text()
    with pytest.raises(KeyError, match=r"no guardrail named nope\.json"):
        artifact("nope.json")


@functools.cache
def _all_actions() -> dict[str, str]:
    return {action.lower(): action for action in get_all_actions()}


def _condition_keys(action: str) -> set[str]:
    service, name = action.split(":")
    entries = get_action_data(service, name)[service]
    return {key.lower() for entry in entries for key in entry["condition_keys"]}


def _listed(value: Any) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def grammar_problems(document: dict[str, Any], expected: Collection[str] = ()) -> list[str]:
    """What parliament finds beyond ``expected``, plus what it does not check: every action
    exists, every service condition key is one the statement's actions support (Null
    conditions included), and statements use only identity-policy elements."""
    problems = [
        f"{finding.issue}: {finding.detail}"
        for finding in analyze_policy_string(json.dumps(document)).findings
        if finding.issue not in expected
    ]
    if document.get("Version") != "2012-10-17":
        problems.append(f"Version {document.get('Version')!r}")
    for statement in document["Statement"]:
        sid = statement.get("Sid", "?")
        problems += [f"{sid}: element {key}" for key in sorted(set(statement) - STATEMENT_KEYS)]
        literal = []
        for pattern in _listed(statement.get("Action")) + _listed(statement.get("NotAction")):
            if "*" in pattern:
                prefix = pattern.lower().split("*")[0]
                if not any(known.startswith(prefix) for known in _all_actions()):
                    problems.append(f"{sid}: {pattern} matches no action")
            elif pattern.lower() in _all_actions():
                literal.append(_all_actions()[pattern.lower()])
            else:
                problems.append(f"{sid}: unknown action {pattern}")
        for operator, entries in statement.get("Condition", {}).items():
            if operator.removesuffix("IfExists") not in OPERATORS:
                problems.append(f"{sid}: unknown operator {operator}")
            for key in entries:
                if key.lower().startswith("aws:"):
                    if get_global_key_type(key) is None:
                        problems.append(f"{sid}: unknown global key {key}")
                    continue
                problems += [
                    f"{sid}: {action} has no condition key {key}"
                    for action in literal
                    if key.lower() not in _condition_keys(action)
                ]
    return problems


@pytest.mark.parametrize("filename", [SCP, BOUNDARY])
def test_policies_are_valid_iam(filename: str) -> None:
    assert grammar_problems(artifact(filename).document(), EXPECTED_FINDINGS[filename]) == []


def test_the_grammar_check_catches_what_it_claims_to() -> None:
    broken = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Broken",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["lambda:CreateFunktion", "lambda:CreateFunction", "lambdo:*"],
                "Resource": ["*"],
                "Condition": {
                    "Null": {"lambda:CodeSigningArn": "true"},
                    "StringEqualz": {"aws:NoSuchKey": "x"},
                },
            }
        ],
    }
    problems = "\n".join(grammar_problems(broken))
    for expected in (
        "UNKNOWN_ACTION",
        "UNKNOWN_PREFIX",
        "Broken: element Principal",
        "unknown action lambda:CreateFunktion",
        "lambdo:* matches no action",
        "unknown operator StringEqualz",
        "lambda:CreateFunction has no condition key lambda:CodeSigningArn",
        "unknown global key aws:NoSuchKey",
    ):
        assert expected in problems


def test_policies_fit_their_size_limits() -> None:
    """Organizations takes SCPs up to 5,120 characters; IAM takes managed policies up to
    6,144 characters without whitespace."""
    assert len(artifact(SCP).text()) <= 5120
    assert len("".join(artifact(BOUNDARY).text().split())) <= 6144


def test_the_pack_is_a_valid_cloudformation_template() -> None:
    text = artifact(PACK).text()
    assert list(lint(text, config=ManualArgs(regions=["us-east-1"]))) == []
    broken = text.replace("ConfigRuleName", "RuleName", 1)
    assert [match.rule.id for match in lint(broken, config=ManualArgs(regions=["us-east-1"]))] == [
        "E3002"
    ]


# --- the conformance pack and its mapping ----------------------------------------------------


def _rules() -> dict[str, dict[str, Any]]:
    resources_ = artifact(PACK).document()["Resources"]
    assert {r["Type"] for r in resources_.values()} == {"AWS::Config::ConfigRule"}
    rules = {r["Properties"]["ConfigRuleName"]: r["Properties"] for r in resources_.values()}
    assert len(rules) == len(resources_), "rule names repeat"
    return rules


def test_the_pack_uses_only_aws_managed_rules_that_exist() -> None:
    for name, rule in _rules().items():
        assert rule["Source"]["Owner"] == "AWS", name
        assert MANAGED_RULES.get(rule["Source"]["SourceIdentifier"]) == name


def test_every_automated_control_is_mapped_once() -> None:
    mapping = artifact(PACK_MAPPING).document()
    rules = _rules()
    assert mapping["rules"].keys() == rules.keys()
    for name, entry in mapping["rules"].items():
        assert entry["identifier"] == rules[name]["Source"]["SourceIdentifier"]
    covered = {control for entry in mapping["rules"].values() for control in entry["controls"]}
    automated = {c.id for c in builtin_catalog() if c.automation == "automated"}
    assert covered <= automated
    assert not covered & mapping["not_covered"].keys()
    assert covered | mapping["not_covered"].keys() == automated


def test_the_pack_parameters_restate_the_catalog_defaults() -> None:
    tunables = builtin_catalog().tunables({}, "test")
    rules = _rules()

    def parameter(rule: str, name: str) -> str:
        return rules[rule]["InputParameters"][name]

    assert parameter("cw-loggroup-retention-period-check", "MinRetentionTime") == str(
        tunables["prr_log_retention_min_days"]
    )
    for rule, name in [
        ("secretsmanager-rotation-enabled-check", "maximumAllowedRotationFrequency"),
        ("secretsmanager-secret-periodic-rotation", "maxDaysSinceRotation"),
    ]:
        assert parameter(rule, name) == str(tunables["prr_secret_max_age_days"])
    tags = parameter("lambda-function-tagged", "requiredKeyTags").split(",")
    assert tags == tunables["prr_required_tags"]
    policies = parameter("iam-policy-blacklisted-check", "policyArns").split(",")
    assert policies == [f"arn:aws:iam::aws:policy/{name}" for name in PRIVILEGED_POLICIES]
    assert conformance_pack_name() == tunables["prr_conformance_pack"]


def test_the_pack_runtimes_are_those_sec01_passes_at_its_table_date() -> None:
    """The runtimes SEC-01 passes on the table's `as_of` date, less OS-only runtimes (the
    rule ignores them); the list must follow runtimes.yaml when that changes."""
    table = yaml.safe_load(
        resources.files("pytest_prr.catalog").joinpath("runtimes.yaml").read_text("utf-8")
    )
    warn = datetime.timedelta(days=builtin_catalog().tunables({}, "t")["prr_runtime_warn_days"])
    supported = [
        runtime
        for runtime, deprecated in table["runtimes"].items()
        if deprecated > table["as_of"] + warn and not runtime.startswith("provided")
    ]
    runtime = _rules()["lambda-function-settings-check"]["InputParameters"]["runtime"]
    assert runtime.split(",") == supported


# --- prr guardrails export / list ------------------------------------------------------------


def test_export_writes_every_artifact_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "guardrails"
    assert main(["guardrails", "export", str(target)]) == 0
    for item in ARTIFACTS:
        assert (target / item.filename).read_text("utf-8") == item.text()
    out = capsys.readouterr().out
    assert f"wrote     {target / SCP}  service control policy (GOV-06, GOV-07)" in out
    assert main(["guardrails", "export", str(target)]) == 0
    assert capsys.readouterr().out.count("unchanged ") == len(ARTIFACTS)


def test_export_refuses_to_overwrite_a_changed_file_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edited = tmp_path / BOUNDARY
    edited.write_text('{"edited": true}\n')
    assert main(["guardrails", "export", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{edited} differs from the packaged version" in err
    assert "nothing written; use --force" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [BOUNDARY]
    assert edited.read_text() == '{"edited": true}\n'
    assert main(["guardrails", "export", str(tmp_path), "--force"]) == 0
    assert f"overwrote {edited}" in capsys.readouterr().out
    assert edited.read_text("utf-8") == artifact(BOUNDARY).text()


def test_export_into_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("")
    assert main(["guardrails", "export", str(tmp_path / "file")]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_list_names_every_artifact_and_its_controls(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["guardrails", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == listed()
    assert lines[1].endswith("IAM permissions boundary (IAM-04)")
