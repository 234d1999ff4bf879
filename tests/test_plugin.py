"""The plugin end to end: real pytest runs of small projects through pytester."""

from __future__ import annotations

import importlib.metadata
import json
import xml.etree.ElementTree as ET

import pytest

from conftest import Project, validate_results
from pytest_prr.catalog import builtin_catalog

SEED_ONE_FUNCTION = """
import io, json, zipfile

def pytest_prr_seed_account(session, account):
    iam = session.client("iam")
    role = iam.create_role(
        RoleName="orders-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}),
    )["Role"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\\n    return event\\n")
    session.client("lambda").create_function(
        FunctionName="orders", Runtime="python3.12", Role=role["Arn"], Handler="app.handler",
        Code={"ZipFile": archive.getvalue()}, TracingConfig={"Mode": "Active"},
        Tags={"Owner": "team-orders"},
    )
"""

MIXED_OUTCOMES = """
import pytest
import pytest_prr as prr

@prr.control("OBS-01")
def test_tracing_active(prr_client):
    config = prr_client("lambda").get_function_configuration(FunctionName="orders")
    assert config["TracingConfig"]["Mode"] == "Active"

@prr.control("DEP-05")
def test_required_tags(prr_client):
    tags = prr_client("lambda").list_tags(
        Resource=prr_client("lambda").get_function(FunctionName="orders")
        ["Configuration"]["FunctionArn"])["Tags"]
    assert "CostCenter" in tags, "orders: tag CostCenter is missing"

@prr.control("REL-02")
def test_api_error_is_an_error(prr_client):
    prr_client("lambda").get_function_concurrency(FunctionName="no-such-function")

@prr.control("NET-02")
def test_not_in_vpc(prr_account):
    prr.not_applicable("orders does not run in a VPC")

@prr.control("SEC-04", "DEP-03")
def test_two_controls(prr_account):
    assert prr_account.mode == "moto"

@prr.control("FIN-01")
def test_plain_skip_is_not_evidence():
    pytest.skip("no arm64 data yet")
"""


@pytest.fixture
def moto_project(project: Project) -> Project:
    project.conftest(SEED_ONE_FUNCTION)
    project.tests(MIXED_OUTCOMES)
    return project


def control(document: dict, control_id: str) -> dict:
    return next(c for c in document["controls"] if c["id"] == control_id)


def test_without_an_account_the_plugin_stays_out_of_the_way(project: Project) -> None:
    project.tests(
        """
        import pytest_prr as prr

        def test_plain():
            assert True

        @prr.control("SEC-04")
        def test_needs_account(prr_session):
            raise AssertionError("never reached")
        """
    )
    result = project.run("--strict-markers", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*no account selected; run with --prr-account=NAME*"])
    result.stdout.no_fnmatch_line("*prr control coverage*")


def test_prr_json_without_an_account_is_a_usage_error(project: Project) -> None:
    project.tests("def test_plain(): pass")
    result = project.run("--prr-json=out.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--prr-json needs an account*"])


@pytest.mark.parametrize("with_account", [False, True])
def test_unknown_control_is_a_collection_error_with_suggestions(
    project: Project, with_account: bool
) -> None:
    project.tests(
        """
        import pytest_prr as prr

        @prr.control("SEC-40")
        def test_typo():
            pass

        def test_fine():
            pass
        """
    )
    result = project.run(*(["--prr-account=moto"] if with_account else []))
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*test_readiness.py::test_typo names unknown control 'SEC-40'; did you mean SEC-04*"]
    )


def test_malformed_control_id_fails_where_it_is_written(project: Project) -> None:
    project.tests(
        """
        import pytest_prr as prr

        @prr.control("sec4")
        def test_bad():
            pass
        """
    )
    result = project.run()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*'sec4' is not a control ID*"])


def test_unknown_account_lists_the_configured_names(project: Project) -> None:
    project.pyproject(
        """
        [tool.prr.accounts.prod]
        account_id = "111122223333"
        regions = ["eu-west-1"]
        profile = "prod-readonly"
        """
    )
    project.tests("def test_plain(): pass")
    result = project.run("--prr-account=staging")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*unknown account 'staging' for --prr-account; configured in *pyproject.toml: moto, prod"]
    )


def test_malformed_user_catalog_fails_at_start(project: Project) -> None:
    project.pyproject(
        """
        [tool.pytest.ini_options]
        prr_catalog = "team-controls.yaml"
        """
    )
    (project.path / "team-controls.yaml").write_text(
        "domains: [{id: ORD, title: Orders}]\n"
        "controls:\n"
        "  - {id: ORD-01, title: T, domain: ORD, scope: function, severity: urgent,\n"
        "     automation: automated, rule: {fail_when: x}, rationale: r, remediation: m,\n"
        "     frameworks: {iso27001_2022: [A.8.16]}}\n"
    )
    project.tests("def test_plain(): pass")
    result = project.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*team-controls.yaml: controls[[]0[]] (ORD-01).severity: 'urgent' is not one of*"]
    )


def test_moto_run_records_every_outcome_in_a_schema_valid_matrix(
    moto_project: Project, results_schema: dict
) -> None:
    result, document = moto_project.run_json("--prr-account=moto", "-p", "no:xdist")
    result.assert_outcomes(passed=2, failed=2, skipped=2)
    validate_results(document, results_schema)
    assert [c["id"] for c in document["controls"]] == [c.id for c in builtin_catalog()]
    (target,) = document["targets"]
    assert target.pop("snapshot_taken_at") <= document["generated_at"]
    assert len(target.pop("snapshot_sha256")) == 64
    assert target == {
        "account": "moto",
        "account_id": "123456789012",
        "regions": ["us-east-1"],
        "mode": "moto",
        "emulator": {"name": "moto", "version": importlib.metadata.version("moto")},
    }
    statuses = {c["id"]: c["status"] for c in document["controls"]}
    assert statuses["OBS-01"] == "pass"
    assert statuses["DEP-05"] == "fail"
    assert statuses["REL-02"] == "error"
    assert statuses["NET-02"] == "not_applicable"
    assert statuses["SEC-04"] == statuses["DEP-03"] == "pass"
    assert statuses["FIN-01"] == "not_tested"
    assert sum(status == "not_tested" for status in statuses.values()) == len(statuses) - 6
    dep05 = control(document, "DEP-05")["resources"]
    assert dep05[0]["message"].startswith("orders: tag CostCenter is missing\nassert")
    rel02 = control(document, "REL-02")["resources"][0]["message"]
    assert "GetFunctionConcurrency" in rel02 and "ResourceNotFoundException" in rel02
    summary = document["summary"]
    assert summary["controls_total"] == len(builtin_catalog())
    assert summary["controls_tested"] == 6
    assert summary["by_status"]["not_tested"] == len(builtin_catalog()) - 6
    untested = len(builtin_catalog()) - 6
    moto = importlib.metadata.version("moto")
    result.stdout.fnmatch_lines(
        [
            "*prr control coverage: moto (123456789012, us-east-1; moto server on loopback)*",
            f"Not ready: 1 control fails, 1 cannot be evaluated, {untested} not tested",
            f"moto (123456789012): moto {moto} emulator — not evidence about a real account",
            "Requirements by status:",
            "  ISO/IEC 27001:2022 Annex A, * requirements: * met, * met only through waivers, "
            "* no applicable control, * unmet, * cannot be evaluated, * not tested",
            "  SOC 2 *",
            "  NIST *",
            "Framework mappings are informative: they show which requirements the automated "
            "evidence supports, not a certification of the framework.",
            f"Coverage *%: 6 of {len(builtin_catalog())} controls tested "
            "(a failing control counts as tested)",
            "",
            "domain*controls*tested*pass*fail*error*waived*n/a*not tested*coverage",
            "SEC  Function security * 8 * 1 * 1 * 0 * 0 * 0 * 0 * 7 * 12.5%",
            f"total * {len(builtin_catalog())} * 6 * 3 * 1 * 1 * 0 * 1 *",
            # pytest's FAILURES showed both tests' problems: the matrix points at them.
            "ERROR*REL-02*Reserved concurrency set (medium): 1 resource(s) reported above by "
            "test_readiness.py::test_api_error_is_an_error",
            "FAIL*DEP-05*Required tags present (medium): 1 resource(s) reported above by "
            "test_readiness.py::test_required_tags",
        ]
    )
    # Where pytest does not show them (--tb=no), the matrix lists each problem.
    quiet = moto_project.run("--prr-account=moto", "-p", "no:xdist", "--tb=no")
    quiet.stdout.fnmatch_lines(
        [
            "ERROR*REL-02*Reserved concurrency set (medium)",
            "*error: 123456789012 [[]test_readiness.py::test_api_error_is_an_error[]] "
            "ResourceNotFoundException: *GetFunctionConcurrency operation*",
            "FAIL*DEP-05*Required tags present (medium)",
            "*fail: 123456789012 [[]test_readiness.py::test_required_tags[]] orders: tag Cost*",
        ]
    )


def test_framework_requirements_roll_up_their_controls(moto_project: Project) -> None:
    _, document = moto_project.run_json("--prr-account=moto", "-p", "no:xdist")
    status_of = {c["id"]: c["status"] for c in document["controls"]}
    for key, requirements in document["frameworks"].items():
        assert requirements, key
        for requirement in requirements:
            statuses = {status_of[c] for c in requirement["controls"]}
            if "fail" in statuses:
                assert requirement["status"] == "fail"
            elif "error" in statuses:
                assert requirement["status"] == "error"
            elif "not_tested" in statuses:
                assert requirement["status"] == "not_tested"


def test_matrix_under_xdist_equals_the_serial_matrix(moto_project: Project) -> None:
    _, serial = moto_project.run_json("--prr-account=moto", "-p", "no:xdist", name="serial.json")
    result, parallel = moto_project.run_json("--prr-account=moto", "-n", "2", name="xdist.json")
    result.assert_outcomes(passed=2, failed=2, skipped=2)
    for document in (serial, parallel):
        document.pop("generated_at")
        for key in ("snapshot_taken_at", "snapshot_sha256"):
            document["targets"][0].pop(key)
    assert parallel == serial


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_junit_cases_carry_control_properties_and_target(
    moto_project: Project, workers: list[str]
) -> None:
    args = workers or ["-p", "no:xdist"]
    moto_project.run("--prr-account=moto", "--junitxml=junit.xml", *args)
    root = ET.parse(moto_project.path / "junit.xml").getroot()
    cases = {case.get("name"): case for case in root.iter("testcase")}
    properties = [
        (p.get("name"), p.get("value")) for p in cases["test_two_controls"].iter("property")
    ]
    catalog = builtin_catalog()
    assert ("prr_control", "SEC-04") in properties
    assert ("prr_control", "DEP-03") in properties
    for ref in catalog["SEC-04"].frameworks["iso27001_2022"]:
        assert ("prr_iso27001_2022", ref) in properties
    for ref in catalog["DEP-03"].frameworks["nist_csf_2"]:
        assert ("prr_nist_csf_2", ref) in properties
    assert ("prr_account_id", "123456789012") in properties
    assert ("prr_regions", "us-east-1") in properties
    assert ("prr_catalog_version", catalog.version) in properties


@pytest.mark.parametrize("workers", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
def test_one_seeded_account_per_run_that_unit_tests_cannot_disturb(
    project: Project, workers: list[str]
) -> None:
    project.conftest(
        """
        def pytest_prr_seed_account(session, account):
            session.client("sqs").create_queue(QueueName="seeded-" + account.account_id)
        """
    )
    project.tests(
        """
        import boto3
        import pytest
        from moto import mock_aws

        import pytest_prr as prr

        @pytest.mark.parametrize("attempt", range(4))
        def test_a_unit_test_with_its_own_mock(attempt):
            with mock_aws():
                sqs = boto3.client("sqs", region_name="us-east-1")
                assert sqs.list_queues().get("QueueUrls", []) == []
                sqs.create_queue(QueueName="unit")

        @pytest.mark.parametrize("attempt", range(4))
        @prr.control("DAT-02")
        def test_same_account_everywhere(prr_client, attempt):
            urls = prr_client("sqs").list_queues().get("QueueUrls", [])
            assert [url.rsplit("/", 1)[1] for url in urls] == ["seeded-123456789012"]

        def test_plain_boto3_has_dummy_credentials_not_the_machines():
            assert boto3.Session().get_credentials().access_key == "testing"
        """
    )
    project.run("--prr-account=moto", *workers).assert_outcomes(passed=9)


def test_failing_seed_hook_stops_the_run_with_its_traceback(project: Project) -> None:
    project.conftest(
        """
        def pytest_prr_seed_account(session, account):
            raise RuntimeError("table definition is wrong")
        """
    )
    project.tests("def test_plain(): pass")
    result = project.run("--prr-account=moto")
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    result.stdout.fnmatch_lines(
        ["*pytest_prr_seed_account failed*", "*RuntimeError: table definition is wrong*"]
    )


def write_live_account(
    project: Project, account_id: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A live account whose profile reaches STS on a moto server: a stub STS over HTTP."""
    project.pyproject(
        f"""
        [tool.prr.accounts.prod]
        account_id = "{account_id}"
        regions = ["eu-west-1"]
        profile = "prod-readonly"
        """
    )
    config = project.path / "aws-config"
    config.write_text(
        "[profile prod-readonly]\n"
        "aws_access_key_id = testing\naws_secret_access_key = testing\n"
        f"endpoint_url = {moto_endpoint}\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))


def test_live_account_whose_credentials_belong_elsewhere_aborts_before_tests(
    project: Project, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_live_account(project, "111122223333", moto_endpoint, monkeypatch)
    project.tests(
        """
        import pathlib

        def test_must_not_run():
            pathlib.Path("ran").write_text("yes")
        """
    )
    result = project.run("--prr-account=prod")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*account 'prod' is configured as 111122223333, but its credentials belong to "
            "account 123456789012*aborting before any test runs*"
        ]
    )
    assert not (project.path / "ran").exists()


def test_live_account_verified_by_sts_runs(
    project: Project, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_live_account(project, "123456789012", moto_endpoint, monkeypatch)
    project.tests(
        """
        import pytest_prr as prr

        @prr.control("GOV-01")
        def test_account(prr_account, prr_session):
            assert prr_account.mode == "live"
            assert prr_session.client("sts").get_caller_identity()["Account"] == "123456789012"
        """
    )
    result, document = project.run_json("--prr-account=prod")
    result.assert_outcomes(passed=1)
    assert document["targets"][0]["mode"] == "live"
    assert control(document, "GOV-01")["status"] == "pass"


def test_endpoint_account_reaches_the_emulator(project: Project, moto_endpoint: str) -> None:
    project.endpoint_account(moto_endpoint, regions=("eu-central-1", "eu-west-1"))
    project.tests(
        """
        import pytest_prr as prr

        @prr.control("OBS-03")
        def test_alarms(prr_account, prr_client):
            assert prr_account.mode == "endpoint"
            assert prr_account.regions == ("eu-central-1", "eu-west-1")
            client = prr_client("cloudwatch", region="eu-west-1")
            assert client.meta.region_name == "eu-west-1"
            assert client.describe_alarms()["MetricAlarms"] == []
        """
    )
    result, document = project.run_json("--prr-account=local")
    result.assert_outcomes(passed=1)
    assert document["targets"][0]["regions"] == ["eu-central-1", "eu-west-1"]


def test_json_is_written_where_asked_relative_to_the_invocation(moto_project: Project) -> None:
    result, document = moto_project.run_json("--prr-account=moto", name="out/deep/prr.json")
    result.stdout.fnmatch_lines(["prr: results written to *out/deep/prr.json"])
    assert json.loads((moto_project.path / "out/deep/prr.json").read_text()) == document
