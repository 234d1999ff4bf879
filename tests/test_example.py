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
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    document = json.loads(out.read_text())
    validate_results(document, results_schema)
    catalog = load_catalog(EXAMPLE / "prr-catalog.yaml")
    assert [c["id"] for c in document["controls"]] == list(catalog.controls)
    statuses = {c["id"]: c["status"] for c in document["controls"]}
    assert "fail" not in statuses.values() and "error" not in statuses.values()
    assert statuses["ORD-01"] == "pass"
    assert statuses["OBS-01"] == "pass"
    assert document["summary"]["controls_tested"] >= 10
    result.stdout.fnmatch_lines(["*prr control coverage: moto*", "ORD  *"])
