"""The exit status follows the matrix (``--prr-fail-on``), and the JUnit says what the matrix
says (``prr_status``, an ``<error>`` for a control that cannot be evaluated): issue 15."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from typing import Any

import pytest

from conftest import Project
from pytest_prr.results.exit_policy import FailOnError, parse_fail_on
from test_plugin import SEED_ONE_FUNCTION


def control(status: str, severity: str = "medium") -> dict[str, Any]:
    return {"id": "X-01", "status": status, "severity": severity}


@pytest.mark.parametrize(
    ("text", "controls", "failing"),
    [
        (None, [control("fail"), control("error"), control("not_tested")], 2),
        ("none", [control("fail", "critical")], 0),
        ("fail:high", [control("fail", "medium"), control("fail", "high")], 1),
        ("fail:critical,error", [control("fail", "high"), control("error", "low")], 1),
        ("not_tested", [control("not_tested"), control("fail")], 1),
        ("fail", [control("waived"), control("pass"), control("not_applicable")], 0),
    ],
)
def test_which_controls_fail_the_run(text: str | None, controls: list, failing: int) -> None:
    assert len(parse_fail_on(text).failing(controls)) == failing


@pytest.mark.parametrize("text", ["", "fails", "fail:urgent", "fail,,error", "pass"])
def test_a_policy_that_cannot_be_read(text: str) -> None:
    with pytest.raises(FailOnError, match="STATUS\\[:SEVERITY\\]"):
        parse_fail_on(text)


XFAILED_CONTROL = """
import pytest
import pytest_prr as prr

@prr.control("OBS-01")
@pytest.mark.xfail(reason="tracing comes next quarter")
def test_tracing(prr_client):
    assert False, "orders does not trace"

def test_unit():
    assert True
"""


@pytest.fixture
def seeded(project: Project) -> Project:
    project.conftest(SEED_ONE_FUNCTION)
    return project


def test_an_xfail_control_test_fails_the_run(seeded: Project) -> None:
    """The matrix says FAIL, JUnit said skipped and the pipeline stayed green."""
    seeded.tests(XFAILED_CONTROL)
    result = seeded.run("--prr-account=moto", "-p", "no:xdist")
    result.assert_outcomes(passed=1, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["prr: exit status 1: 1 control(s) fail the run under --prr-fail-on=fail,error"]
    )


@pytest.mark.parametrize(
    ("policy", "status"),
    [("none", pytest.ExitCode.OK), ("fail:critical", pytest.ExitCode.OK), ("fail", 1)],
)
def test_the_policy_decides(seeded: Project, policy: str, status: int) -> None:
    """OBS-01 is of medium severity."""
    seeded.tests(XFAILED_CONTROL)
    result = seeded.run("--prr-account=moto", f"--prr-fail-on={policy}", "-p", "no:xdist")
    assert result.ret == status


def test_a_failing_test_that_is_no_evidence_still_fails_a_report_only_run(
    seeded: Project,
) -> None:
    seeded.tests("def test_unit():\n    assert 1 == 2\n")
    result = seeded.run("--prr-account=moto", "--prr-fail-on=none", "-p", "no:xdist")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*0 control(s) fail the run*and 1 other test(s) failed"])


def test_a_bad_policy_is_a_usage_error_before_moto_starts(seeded: Project) -> None:
    seeded.tests("def test_unit(): pass")
    result = seeded.run("--prr-account=moto", "--prr-fail-on=fail:urgent")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--prr-fail-on: 'fail:urgent' is not STATUS*"])


NOT_APPLICABLE = """
import pytest_prr as prr

@prr.control("NET-02")
def test_not_in_vpc(prr_account):
    prr.not_applicable("orders does not run in a VPC")
"""


@pytest.mark.parametrize("workers", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
def test_the_junit_says_what_the_matrix_says(seeded: Project, workers: list[str]) -> None:
    """errors="0" failures="19" where the matrix had 17 fail and 2 error; not applicable
    read as a plain pass."""
    seeded.tests(NOT_APPLICABLE)
    _, document = seeded.run_json(
        "--prr-account=moto",
        "--junitxml=junit.xml",
        "--prr-controls=GOV-04,OBS-01,FIN-01",
        *workers,
        builtin=True,
    )
    suite = ElementTree.parse(seeded.path / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    cases = {}
    for case in suite.iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        outcome = next(
            (kind for kind in ("failure", "error", "skipped") if case.find(kind) is not None),
            "passed",
        )
        cases[props["prr_test"]] = (props["prr_status"], outcome)
    matrix = {c["id"]: c["status"] for c in document["controls"]}
    # moto lacks conformance packs: GOV-04 cannot be evaluated, an <error>, not a failure.
    assert cases["prr::GOV-04"] == (matrix["GOV-04"], "error") == ("error", "error")
    assert cases["prr::FIN-01"] == (matrix["FIN-01"], "failure") == ("fail", "failure")
    assert cases["prr::OBS-01"] == (matrix["OBS-01"], "passed") == ("pass", "passed")
    assert cases["test_readiness.py::test_not_in_vpc"] == ("not_applicable", "skipped")
    assert (suite.get("errors"), suite.get("failures")) == ("1", "1")
    error = suite.find(".//testcase[@name='GOV-04']/error")
    assert error is not None and "ERROR (cannot be evaluated) GOV-04" in error.get("message", "")


FAILING_USER_TEST = """
import pytest_prr as prr

@prr.control("DEP-06")
def test_runbook_linked(prr_account):
    assert False, "orders has no runbook"
"""


@pytest.mark.parametrize("workers", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
def test_each_failing_control_is_printed_once(
    seeded: Project, workers: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each failing control was printed twice: by pytest's FAILURES and ERRORS, then again
    under the matrix. The matrix now counts what pytest showed, and lists only the rest.

    On CI (and under -vv) pytest's short summary repeats a report's whole crash message, so
    the run here is a CI run: a control's crash message is its headline alone.
    """
    monkeypatch.setenv("CI", "true")
    seeded.tests(FAILING_USER_TEST)
    result = seeded.run(
        "--prr-account=moto", "--prr-controls=GOV-04,FIN-01", *workers, builtin=True
    )
    out = result.stdout.str()
    assert "Traceback" not in out and "kwargs" not in out  # a setup error is its own lines
    for problem in (
        "ERROR 123456789012/us-east-1: cannot evaluate: the endpoint does not implement "
        "config:DescribeConformancePacks",
        ":function:orders: orders runs on x86_64",
        "remediation: Rebuild native dependencies",
    ):
        assert out.count(problem) == 1, (problem, out)
    # pytest's own report of a user test: its traceback, and its one-line index entry.
    details = out.split("short test summary info")[0]
    assert details.count("AssertionError: orders has no runbook") == 1, out
    result.stdout.fnmatch_lines(
        [
            "FAILED prr::FIN-01 - FAIL FIN-01 Graviton (arm64): 1 of 1 resource(s) not compliant",
            "ERROR prr::GOV-04 - ERROR (cannot be evaluated) GOV-04 PRR conformance pack "
            "deployed: 1 of 1 resource(s) not evaluated",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "FAIL       DEP-06   *: 1 resource(s) reported above by "
            "test_readiness.py::test_runbook_linked",
            "ERROR      GOV-04   PRR conformance pack deployed (medium): 1 resource(s) "
            "reported above by prr::GOV-04",
            "FAIL       FIN-01   *: 1 resource(s) reported above by prr::FIN-01",
        ]
    )
    # Without pytest's report of them (--tb=no), the matrix lists each problem itself.
    quiet = seeded.run(
        "--prr-account=moto", "--prr-controls=FIN-01", "--tb=no", *workers, builtin=True
    )
    assert quiet.stdout.str().count("orders runs on x86_64") == 1
    assert "reported above" not in quiet.stdout.str()
