"""The example service as `make demo` runs it: the main job on the mocked account."""

from __future__ import annotations

import pytest

from conftest import validate_results
from orders_example import EXAMPLE, EXPECTED_STATUSES, run_on_moto, statuses
from pytest_prr.catalog import load_catalog


@pytest.mark.parametrize("workers", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
def test_example_service_gives_a_complete_schema_valid_matrix(
    pytester: pytest.Pytester, results_schema: dict, workers: list[str]
) -> None:
    result, document = run_on_moto(pytester, EXAMPLE, *workers)
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


def _check_api_evidence(document: dict) -> None:
    """API-01..03 pass on what was read from the stage the template declares."""
    evidence = {c["id"]: c["resources"] for c in document["controls"] if c["id"].startswith("API")}
    [stage] = evidence["API-01"]
    assert stage["id"].endswith("/stages/prod"), stage
    assert "/aws/apigateway/orders-prod/access" in stage["message"]
    [methods] = evidence["API-03"]
    routes = {m["route"]: m["authorization_type"] for m in methods["evidence"]["methods"]}
    assert routes == {"POST /orders": "AWS_IAM", "GET /orders/{order_id}": "AWS_IAM"}
