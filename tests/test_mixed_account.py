"""Every built-in control on one moto account of good and bad resources (``mixed_account``):
through the real collectors and checks, and through ``pytest --prr-account=moto``.

Where a control cannot PASS (or FAIL) on moto, the table says why; those rules are covered
by the snapshot-level tests of ``test_checks_*``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

import mixed_account
import moto_seed
from conftest import validate_results
from pytest_prr.accounts.config import Account
from pytest_prr.accounts.emulators import MOTO, Emulator
from pytest_prr.catalog import builtin_catalog
from pytest_prr.checks.base import run_check
from pytest_prr.checks.registry import registered_checks
from pytest_prr.snapshot.collect.fidelity import Fidelity
from pytest_prr.snapshot.model import Snapshot
from pytest_prr.snapshot.store import load_snapshot
from pytest_prr.snapshot.take import take_snapshot

ACCOUNT = mixed_account.ACCOUNT
#: moto as any endpoint that is not pytest-prr's own server: what it drops is unreadable.
MOTO_NOT_RECORDED = Fidelity.of(Emulator(MOTO, installed_version("moto")))
#: (good, bad, shared) for function controls; the region or account for GOV; the protected
#: ``orders`` and the ``open`` stage for API. "n/a" is not_applicable.
EXPECTED = {
    "SEC-01": "pass fail pass",
    "SEC-02": "pass fail n/a",
    "SEC-03": "pass fail n/a",
    "SEC-04": "fail fail fail",  # moto cannot create code signing configs
    "SEC-05": "pass fail n/a",
    # moto lacks ListFunctionUrlConfigs and keeps a URL made on any qualifier as the
    # function's own: its profile lets that URL stand for the aliases' (issue 12).
    "SEC-06": "pass fail n/a",
    "SEC-07": "pass n/a n/a",  # moto refuses layers of other accounts
    "SEC-08": "pass fail n/a",
    "IAM-01": "pass fail fail",
    "IAM-02": "pass fail fail",
    "IAM-03": "pass fail fail",
    "IAM-04": "pass fail fail",
    "IAM-05": "pass fail fail",
    "IAM-06": "pass fail fail",
    "NET-01": "pass pass fail",
    "NET-02": "pass fail n/a",
    "NET-03": "pass fail n/a",
    "DAT-01": "pass fail n/a",
    "DAT-02": "pass fail n/a",
    "DAT-03": "pass fail n/a",
    "DAT-04": "pass n/a fail",
    "DAT-05": "pass fail pass",
    "REL-01": "pass fail n/a",
    "REL-02": "pass fail fail",
    "REL-03": "pass fail fail",
    "REL-04": "pass fail n/a",
    "REL-05": "pass fail n/a",
    "REL-06": "pass fail n/a",
    "REL-07": "pass fail n/a",
    "REL-08": "pass fail n/a",
    "REL-09": "pass fail n/a",
    "REL-10": "pass fail n/a",
    "OBS-01": "pass fail fail",
    "OBS-02": "pass fail pass",
    "OBS-03": "pass pass fail",
    "OBS-04": "pass fail fail",
    "OBS-05": "pass fail n/a",
    "OBS-06": "pass fail fail",
    "OBS-07": "pass fail fail",
    "OBS-08": "n/a n/a n/a",  # moto reports no invocations
    "DEP-01": "fail fail fail",  # moto ties no CodeDeploy group to a function
    "DEP-02": "n/a n/a n/a",
    "DEP-03": "n/a n/a n/a",  # no code signing config (SEC-04)
    "DEP-04": "pass fail fail",
    "DEP-05": "pass fail fail",
    "DEP-06": "pass fail fail",
    "FIN-01": "pass fail pass",
    "FIN-02": "pass fail pass",
    "GOV-01": "pass",
    "GOV-02": "pass",
    "GOV-03": "pass",
    "GOV-04": "error",  # moto lacks config:DescribeConformancePacks
    "GOV-05": "error",  # moto lacks securityhub:GetEnabledStandards
    # Not in an organization: N/A (spec v1.1). Both PASS and FAIL through moto for a member
    # account in test_guardrails_moto.py.
    "GOV-06": "n/a",
    "GOV-07": "n/a",
    "GOV-08": "pass",
    "API-01": "pass fail",
    "API-02": "pass fail",
    "API-03": "pass fail",
    "API-04": "pass fail",
}
#: Where moto drops a field (DeadLetterConfig, LoggingConfig), an account pytest-prr's own
#: server did not record is ERROR for every rule resting on the field; a verdict that does
#: not (REL-01 for good, which has an OnFailure destination) stands.
NOT_RECORDED = {
    "DAT-02": "error fail error",
    "DAT-03": "error fail error",
    "DAT-04": "error error error",
    "DAT-05": "error error error",
    "REL-01": "pass error n/a",
    "OBS-02": "error error error",
    "OBS-07": "error error error",
}
FUNCTIONS = ("good", "bad", "shared")
#: Secret values of the seed; no output may contain them.
SECRETS = ("hunter2-not-a-reference", "s3cr3t-value")


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    """Taken in-process with ``mock_aws``, which is stopped again before any test runs, so
    that the plugin runs below reach their moto server and not this mock."""
    with pytest.MonkeyPatch.context() as patch:
        for variable in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE"):
            patch.delenv(variable, raising=False)
        with mock_aws(config={"iam": {"load_aws_managed_policies": True}}):
            session = boto3.Session(region_name=mixed_account.REGION)
            mixed_account.seed(session)
            account = Account("moto", ACCOUNT, (mixed_account.REGION,), "moto")
            return take_snapshot(session, account, fidelity=MOTO_NOT_RECORDED)


def expected_statuses(control_id: str, table: Mapping[str, str] = EXPECTED) -> list[str]:
    return [s.replace("n/a", "not_applicable") for s in table[control_id].split()]


def resource_names(snapshot: Snapshot) -> dict[str, str]:
    """Resource ID → the name the table uses."""
    region = snapshot.region(mixed_account.REGION)
    names = {arn: f["FunctionName"] for arn, f in region["lambda"]["functions"].items()}
    names |= {stage["stage_arn"]: stage["api_name"] for stage in region["apigw"]["stages"]}
    return names | {f"{ACCOUNT}/{mixed_account.REGION}": mixed_account.REGION, ACCOUNT: ACCOUNT}


def order(control_id: str) -> tuple[str, ...]:
    if control_id.startswith("API-"):
        return ("orders", "open")
    if control_id.startswith("GOV-"):
        return (ACCOUNT,) if control_id in ("GOV-06", "GOV-07") else (mixed_account.REGION,)
    return FUNCTIONS


def test_every_control_pass_and_fail_through_moto(snapshot: Snapshot) -> None:
    """moto in process, as any moto endpoint pytest-prr does not own: what moto drops is
    unreadable (the plugin run below records it in pytest-prr's own server)."""
    tunables = builtin_catalog().tunables(mixed_account.TUNABLES, "mixed_account")
    names = resource_names(snapshot)
    checks = registered_checks()
    assert set(checks) == set(EXPECTED)
    seen, findings = {}, []
    for control_id, check in checks.items():
        found = run_check(check, snapshot, tunables)
        findings += found
        by_name = {names[f.resource_id]: f.status for f in found}
        seen[control_id] = [by_name.get(name, "missing") for name in order(control_id)]
    table = {**EXPECTED, **NOT_RECORDED}
    assert seen == {control_id: expected_statuses(control_id, table) for control_id in table}
    for finding in findings:
        assert finding.message, finding
        if finding.status == "fail" and finding.resource_id in names:
            assert names[finding.resource_id] in finding.message or finding.control_id.startswith(
                ("GOV-", "API-")
            )
        if finding.status == "error":
            assert finding.message.startswith("cannot evaluate: ")
    text = json.dumps([(f.message, f.evidence) for f in findings], default=str)
    assert not any(secret in text for secret in SECRETS)


def failing_pairs(document: Mapping[str, Any]) -> set[tuple[str, str]]:
    return {
        (control["id"], resource["id"])
        for control in document["controls"]
        for resource in control["resources"]
        if resource["status"] == "fail"
    }


def test_a_moto_run_lists_every_failing_resource_under_its_control(
    project: Any, results_schema: dict
) -> None:
    for module in (mixed_account, moto_seed):
        source = Path(module.__file__)
        (project.path / source.name).write_text(source.read_text())
    project.conftest(
        """
        import mixed_account

        def pytest_prr_seed_account(session, account):
            mixed_account.seed(session)
        """
    )
    tunables = "\n".join(f"{k} = {json.dumps(v)}" for k, v in mixed_account.TUNABLES.items())
    project.pyproject(f"[tool.prr.tunables]\n{tunables}\n")
    result, document = project.run_json(
        "--prr-account=moto", "--prr-snapshot-out=snapshot.json", "-p", "no:xdist", builtin=True
    )
    validate_results(document, results_schema)
    names = resource_names(load_snapshot(project.path / "snapshot.json")[0])
    statuses = {
        control["id"]: [
            next(r["status"] for r in control["resources"] if names.get(r["id"]) == name)
            for name in order(control["id"])
        ]
        for control in document["controls"]
        if control["id"] in EXPECTED
    }
    assert statuses == {control_id: expected_statuses(control_id) for control_id in EXPECTED}
    moto = installed_version("moto")
    assert document["targets"][0]["emulator"] == {"name": "moto", "version": moto}
    result.stdout.fnmatch_lines(
        [f"moto (123456789012): moto {moto} emulator — not evidence about a real account"]
    )
    # The fields moto drops were recorded by pytest-prr's server, and the verdicts say so.
    rel01 = next(c for c in document["controls"] if c["id"] == "REL-01")
    bad = next(r for r in rel01["resources"] if r["id"].endswith(":function:bad"))
    assert "not set by CreateFunction" in bad["evidence"]["provenance"]["DeadLetterConfig"]
    assert "emulator_gaps" in rel01 and "DeadLetterConfig" in rel01["emulator_gaps"]["moto"][0]
    output = result.stdout.str()
    failing = failing_pairs(document)
    assert len(failing) > 60
    for control_id, resource_id in failing:
        header = rf"_+ prr built-in control {control_id} _+\n"
        section = re.search(header + r"(.*?)(?=\n_{3,} |\Z)", output, re.S)
        assert section and f"FAIL {resource_id}: " in section[1], (control_id, resource_id)
    assert not any(secret in output + json.dumps(document) for secret in SECRETS)
