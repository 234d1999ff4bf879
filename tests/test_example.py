"""The example service as `make demo` runs it: the main job on the mocked account."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from conftest import validate_results
from orders_example import EXAMPLE, EXPECTED_STATUSES, run_on_moto, statuses
from pytest_prr.catalog import load_catalog


@pytest.mark.parametrize("workers", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
def test_example_service_gives_a_complete_schema_valid_matrix(
    pytester: pytest.Pytester, results_schema: dict, workers: list[str]
) -> None:
    junit = pytester.path / "junit.xml"
    result, document = run_on_moto(pytester, EXAMPLE, f"--junitxml={junit}", *workers)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    validate_results(document, results_schema)
    catalog = load_catalog(EXAMPLE / "prr-catalog.yaml")
    assert [c["id"] for c in document["controls"]] == list(catalog.controls)
    team_results = [
        resource
        for control in document["controls"]
        for resource in control["resources"]
        if not resource["test"].startswith("prr::")
    ]
    assert len(team_results) > 20
    assert {resource["status"] for resource in team_results} <= {"pass", "not_applicable"}
    failed = {line.split()[1] for line in result.stdout.lines if line.startswith("FAILED ")}
    assert failed and all("prr::" in nodeid for nodeid in failed), failed
    assert statuses(document) == EXPECTED_STATUSES
    _check_api_evidence(document)
    gov04 = next(c for c in document["controls"] if c["id"] == "GOV-04")
    assert "conformance packs" in gov04["emulator_gaps"]["moto"][0]
    assert document["summary"]["controls_tested"] >= 55
    result.stdout.fnmatch_lines(["*prr control coverage: moto*", "ORD  *"])
    _check_junit_says_what_the_matrix_says(junit, document)
    _check_each_problem_is_printed_once(result.stdout.str(), document)


def _check_junit_says_what_the_matrix_says(junit: Path, document: dict) -> None:
    """`make demo`'s JUnit: each built-in case's prr_status is its control's status in the
    matrix, and a control that cannot be evaluated is an <error>, a failing one a <failure>."""
    matrix = statuses(document)
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None
    seen = {}
    for case in suite.iter("testcase"):
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        test = properties.get("prr_test", "")
        if not test.startswith("prr::"):
            continue
        outcome = next((k for k in ("failure", "error") if case.find(k) is not None), "passed")
        seen[test.removeprefix("prr::")] = (properties["prr_status"], outcome)
    builtin = {cid: status for cid, (status, _) in seen.items()}
    assert builtin == {cid: matrix[cid] for cid in builtin}
    expected_outcome = {"fail": "failure", "error": "error"}
    assert {cid: outcome for cid, (_, outcome) in seen.items()} == {
        cid: expected_outcome.get(status, "passed") for cid, status in builtin.items()
    }
    assert {"fail", "error"} <= set(builtin.values())


def _check_each_problem_is_printed_once(out: str, document: dict) -> None:
    """The terminal reads top to bottom without a repeated block: each failing or erroring
    resource's message appears once."""
    for control in document["controls"]:
        for resource in control["resources"]:
            if resource["status"] in ("fail", "error"):
                line = f"{resource['id']}: {resource['message'].splitlines()[0]}"
                assert out.count(line) == 1, (control["id"], line)


def _check_api_evidence(document: dict) -> None:
    """API-01..03 pass on what was read from the stage the template declares."""
    evidence = {c["id"]: c["resources"] for c in document["controls"] if c["id"].startswith("API")}
    [stage] = evidence["API-01"]
    assert stage["id"].endswith("/stages/prod"), stage
    assert "/aws/apigateway/orders-prod/access" in stage["message"]
    [methods] = evidence["API-03"]
    routes = {m["route"]: m["authorization_type"] for m in methods["evidence"]["methods"]}
    assert routes == {"POST /orders": "AWS_IAM", "GET /orders/{order_id}": "AWS_IAM"}
