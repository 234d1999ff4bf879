"""The snapshot in real pytest runs: taken once, handed to xdist workers, saved, replayed."""

from __future__ import annotations

import json

import pytest

from conftest import Project
from test_plugin import SEED_ONE_FUNCTION

SNAPSHOT_TESTS = """
import pytest_prr as prr

@prr.control("OBS-01")
def test_tracing_from_the_snapshot(prr_snapshot):
    functions = [f for _, f in prr_snapshot.functions()]
    assert [f["FunctionName"] for f in functions] == ["orders"]
    assert functions[0]["TracingConfig"]["Mode"] == "Active"

@prr.control("DEP-05")
def test_tags_from_the_snapshot(prr_snapshot):
    (_, function), = prr_snapshot.functions()
    assert "CostCenter" in function["Tags"], "orders: tag CostCenter is missing"
"""

NO_SNAPSHOT_IN_WORKERS = """
import pytest_prr.snapshot.take as take

def pytest_configure(config):
    if hasattr(config, "workerinput"):
        def refuse(*args, **kwargs):
            raise AssertionError("a worker tried to take a snapshot")
        take.take_snapshot = refuse
"""


@pytest.fixture
def snapshot_project(project: Project) -> Project:
    project.conftest(SEED_ONE_FUNCTION + NO_SNAPSHOT_IN_WORKERS)
    project.tests(SNAPSHOT_TESTS)
    return project


@pytest.mark.parametrize("workers", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
def test_snapshot_is_taken_once_saved_and_shared(
    snapshot_project: Project, workers: list[str]
) -> None:
    result, document = snapshot_project.run_json(
        "--prr-account=moto", "--prr-snapshot-out=out/snapshot.json", *workers
    )
    result.assert_outcomes(passed=1, failed=1)
    saved = snapshot_project.path / "out" / "snapshot.json"
    digest = (snapshot_project.path / "out" / "snapshot.json.sha256").read_text().split()[0]
    target = document["targets"][0]
    assert target["snapshot_sha256"] == digest
    assert target["snapshot_taken_at"] == json.loads(saved.read_text())["taken_at"]
    result.stdout.fnmatch_lines(
        ["prr: snapshot of moto: 1 function(s) in 1 region(s), * API calls, * s; *saved to *"]
    )
    assert result.stdout.str().count("prr: snapshot of moto") == 1


def test_stored_snapshot_replays_without_aws_to_the_same_verdicts(
    snapshot_project: Project,
) -> None:
    _, live = snapshot_project.run_json(
        "--prr-account=moto", "--prr-snapshot-out=snapshot.json", name="live.json"
    )
    (snapshot_project.path / "conftest.py").unlink()
    snapshot_project.tests(
        SNAPSHOT_TESTS
        + """
def test_no_aws_in_snapshot_mode(prr_session):
    raise AssertionError("prr_session must skip")
""",
    )
    result, replay = snapshot_project.run_json("--prr-snapshot=snapshot.json", "-rs")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*evaluating a stored snapshot (--prr-snapshot); no AWS access*"])
    assert replay["targets"][0]["mode"] == "snapshot"
    assert replay["targets"][0]["snapshot_sha256"] == live["targets"][0]["snapshot_sha256"]
    assert replay["controls"] == live["controls"]


@pytest.mark.parametrize(
    ("content", "message"),
    [("{oops", "not valid JSON"), ('{"schema": "prr-snapshot/0"}', "snapshot format")],
)
def test_corrupt_stored_snapshot_is_a_usage_error(
    project: Project, content: str, message: str
) -> None:
    (project.path / "bad.json").write_text(content)
    project.tests("def test_plain(): pass")
    result = project.run("--prr-snapshot=bad.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*bad.json: *{message}*"])


def test_snapshot_and_account_together_is_a_usage_error(project: Project) -> None:
    project.tests("def test_plain(): pass")
    result = project.run("--prr-snapshot=s.json", "--prr-account=moto")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--prr-snapshot evaluates a stored snapshot without AWS*"])


def test_user_writes_are_refused_in_endpoint_mode(project: Project, moto_endpoint: str) -> None:
    import boto3

    from test_snapshot import TRUST, code

    seed = boto3.Session(
        region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    role = seed.client("iam", endpoint_url=moto_endpoint).create_role(
        RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST)
    )["Role"]
    lam = seed.client("lambda", endpoint_url=moto_endpoint)
    lam.create_function(
        FunctionName="keep-me",
        Runtime="python3.12",
        Role=role["Arn"],
        Handler="app.handler",
        Code={"ZipFile": code()},
    )
    project.pyproject(
        f"""
        [tool.prr.accounts.local]
        account_id = "123456789012"
        regions = ["us-east-1"]
        endpoint_url = "{moto_endpoint}"
        """
    )
    project.tests(
        """
        import pytest_prr as prr

        @prr.control("REL-02")
        def test_a_write(prr_client):
            prr_client("lambda").put_function_concurrency(
                FunctionName="keep-me", ReservedConcurrentExecutions=1)

        @prr.control("SEC-04")
        def test_a_delete(prr_client):
            prr_client("lambda").delete_function(FunctionName="keep-me")
        """
    )
    result, document = project.run_json("--prr-account=local")
    result.assert_outcomes(failed=2)
    for control_id, operation in (
        ("REL-02", "PutFunctionConcurrency"),
        ("SEC-04", "DeleteFunction"),
    ):
        control = next(c for c in document["controls"] if c["id"] == control_id)
        assert control["status"] == "error"
        assert f"lambda:{operation}" in control["resources"][0]["message"]
    kept = lam.get_function(FunctionName="keep-me")
    assert kept.get("Concurrency", {}).get("ReservedConcurrentExecutions") is None
