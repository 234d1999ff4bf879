"""The plugin's outputs beyond the JSON: HTML, CSV and Markdown reports, waivers, and the
Security Hub import, each through a real pytest run (pytester) with and without xdist."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import boto3
import pytest

from moto_seed import lambda_zip
from pytest_prr.commands.cli import main
from pytest_prr.snapshot.store import save_snapshot
from snapshots import build_snapshot, function_arn, make_function

LEGACY = function_arn("legacy-billing")
WAIVERS = """
waivers:
  - control: SEC-01
    resources: arn:aws:lambda:us-east-1:123456789012:function:legacy-*
    justification: the runtime upgrade ships with the Q1 billing release
    approved_by: ciso@example.com
    expires: 2099-06-30
  - control: FIN-01
    tags: {Team: nobody}
    justification: no such function
    approved_by: ciso@example.com
    expires: 2099-06-30
"""


@pytest.fixture
def replay(project: Any) -> Any:
    """A project with a stored snapshot of a compliant and a legacy function."""
    snapshot = build_snapshot(
        [
            make_function("orders-api", Architectures=["arm64"]),
            make_function("legacy-billing", Runtime="python3.8", Architectures=["arm64"]),
        ]
    )
    save_snapshot(snapshot, project.path / "snapshot.json")
    return project


def statuses(document: dict, control_id: str) -> dict[str, tuple[str, str | None]]:
    control = next(c for c in document["controls"] if c["id"] == control_id)
    return {r["id"]: (r["status"], r.get("original_status")) for r in control["resources"]}


@pytest.mark.parametrize("workers", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
def test_reports_are_the_rendering_of_the_json(replay: Any, workers: list[str]) -> None:
    result, _ = replay.run_json(
        "--prr-snapshot=snapshot.json",
        "--prr-controls=SEC-01,FIN-01",
        "--prr-html=out/report.html",
        "--prr-csv=out/results.csv",
        "--prr-markdown=out/checklist.md",
        *workers,
        builtin=True,
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "prr: results written to *prr.json",
            "prr: html report written to *out/report.html",
            "prr: csv report written to *out/results.csv",
            "prr: markdown report written to *out/checklist.md",
        ]
    )
    out = replay.path / "out"
    assert main(["report", str(replay.path / "prr.json"), "--html", str(out / "again.html")]) == 0
    assert (out / "report.html").read_text() == (out / "again.html").read_text()
    assert LEGACY in (out / "results.csv").read_text()
    assert "SEC-01" in (out / "checklist.md").read_text()


def test_an_unwritable_report_fails_the_run_and_the_others_are_written(replay: Any) -> None:
    (replay.path / "blocker").write_text("a file, not a directory")
    result = replay.run(
        "--prr-snapshot=snapshot.json",
        "--prr-controls=FIN-01",
        "--prr-html=blocker/report.html",
        "--prr-csv=results.csv",
        builtin=True,
    )
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    result.stdout.fnmatch_lines(["prr: cannot write *blocker/report.html: *"])
    assert (replay.path / "results.csv").is_file()


@pytest.mark.parametrize("workers", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_waived_failure_does_not_fail_its_control(replay: Any, workers: list[str]) -> None:
    (replay.path / "waivers.yaml").write_text(WAIVERS)
    replay.pyproject('[tool.pytest.ini_options]\nprr_waivers = "waivers.yaml"\n')
    result, document = replay.run_json(
        "--prr-snapshot=snapshot.json", "--prr-controls=SEC-01,FIN-01", *workers, builtin=True
    )
    result.assert_outcomes(passed=2)
    assert statuses(document, "SEC-01")[LEGACY] == ("waived", "fail")
    sec01 = next(c for c in document["controls"] if c["id"] == "SEC-01")
    assert sec01["status"] == "waived"
    waiver = next(r for r in sec01["resources"] if r["id"] == LEGACY)["waiver"]
    assert waiver["approved_by"] == "ciso@example.com"
    assert [w["control"] for w in document["waivers"]["stale"]] == ["FIN-01"]
    assert document["waivers"]["expired"] == []


def test_an_expired_waiver_leaves_the_failure(replay: Any) -> None:
    (replay.path / "waivers.yaml").write_text(WAIVERS.replace("2099-06-30", "2020-01-31", 1))
    replay.pyproject('[tool.pytest.ini_options]\nprr_waivers = "waivers.yaml"\n')
    result, document = replay.run_json(
        "--prr-snapshot=snapshot.json", "--prr-controls=SEC-01", builtin=True
    )
    result.assert_outcomes(failed=1)
    assert statuses(document, "SEC-01")[LEGACY] == ("fail", None)
    (expired,) = document["waivers"]["expired"]
    assert expired["control"] == "SEC-01" and expired["expires"] == "2020-01-31"


def test_a_malformed_waiver_is_a_usage_error_naming_it(replay: Any) -> None:
    (replay.path / "waivers.yaml").write_text(WAIVERS.replace("    expires: 2099-06-30\n", "", 1))
    replay.pyproject('[tool.pytest.ini_options]\nprr_waivers = "waivers.yaml"\n')
    result = replay.run("--prr-snapshot=snapshot.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*waivers.yaml: waivers[[]0[]] (SEC-01)*expires*"])


@pytest.mark.parametrize(
    "option", ["--prr-html=r.html", "--prr-csv=r.csv", "--prr-markdown=r.md", "--prr-evidence=e"]
)
def test_outputs_need_an_account(project: Any, option: str) -> None:
    result = project.run(option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    flag = option.split("=")[0]
    result.stderr.fnmatch_lines([f"*{flag} needs an account: add --prr-account=NAME*"])


def test_security_hub_import_needs_credentials_not_a_snapshot(replay: Any) -> None:
    result = replay.run("--prr-snapshot=snapshot.json", "--prr-securityhub-import")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--prr-securityhub-import needs the account's credentials*"])


def test_security_hub_import_sends_the_failures_and_nothing_else(
    project: Any, moto_endpoint: str
) -> None:
    """Against an endpoint account, whose session is read-only but for this one call."""
    session = boto3.Session(
        region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    iam = session.client("iam", endpoint_url=moto_endpoint)
    role = iam.create_role(
        RoleName="fn",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    for name, architecture in (("arm", "arm64"), ("intel", "x86_64")):
        session.client("lambda", endpoint_url=moto_endpoint).create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": lambda_zip()},
            Architectures=[architecture],
        )
    project.endpoint_account(moto_endpoint)
    project.tests(
        textwrap.dedent(
            """
            import pytest
            from pytest_prr.accounts.guard import WriteRefused

            def test_the_run_stays_read_only(prr_client):
                with pytest.raises(WriteRefused):
                    prr_client("lambda").delete_function(FunctionName="arm")
            """
        )
    )
    result = project.run(
        "--prr-account=local", "--prr-controls=FIN-01", "--prr-securityhub-import", builtin=True
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["prr: Security Hub: imported 1 finding(s) of account 123456789012*"]
    )
    hub = session.client("securityhub", endpoint_url=moto_endpoint)
    findings = hub.get_findings()["Findings"]
    assert [f["Resources"][0]["Id"] for f in findings] == [function_arn("intel")]
    assert findings[0]["Compliance"]["Status"] == "FAILED"
    assert findings[0]["ProductFields"]["pytest-prr/ControlId"] == "FIN-01"
