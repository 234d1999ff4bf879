"""The example service as `make demo` runs it: the main job on the mocked account."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import validate_results
from pytest_prr.catalog import load_catalog

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "orders-service"


@pytest.mark.parametrize("workers", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
def test_example_service_gives_a_complete_schema_valid_matrix(
    pytester: pytest.Pytester, results_schema: dict, workers: list[str]
) -> None:
    out = pytester.path / "prr.json"
    result = pytester.runpytest_subprocess(
        str(EXAMPLE),
        "-p",
        "no:cacheprovider",
        "--prr-account=moto",
        f"--prr-json={out}",
        *workers,
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    document = json.loads(out.read_text())
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
    statuses = {c["id"]: c["status"] for c in document["controls"]}
    assert statuses["ORD-01"] == statuses["OBS-01"] == statuses["FIN-01"] == "pass"
    assert statuses["SEC-04"] == "fail"  # the example deploys no code signing config
    assert statuses["GOV-04"] == "error"  # moto: config:DescribeConformancePacks missing
    gov04 = next(c for c in document["controls"] if c["id"] == "GOV-04")
    assert "DescribeConformancePacks" in gov04["moto_gaps"][0]
    assert document["summary"]["controls_tested"] >= 55
    result.stdout.fnmatch_lines(["*prr control coverage: moto*", "ORD  *"])
