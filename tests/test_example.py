"""The example service as `make demo` runs it: the main job on the mocked account."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import validate_results
from pytest_prr.catalog import load_catalog

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "orders-service"
#: Every verdict on the example's moto account, and why the non-passing ones are right.
EXPECTED = {
    "pass": "SEC-01 SEC-02 IAM-01 IAM-02 IAM-05 IAM-06 DAT-02 REL-02 REL-03 REL-04 REL-05 "
    "REL-07 REL-08 OBS-01 OBS-02 OBS-03 OBS-04 OBS-05 OBS-06 OBS-07 DEP-05 DEP-06 FIN-01 "
    "FIN-02 ORD-01 ORD-02",
    # No env-var CMK, code signing, permission boundary or VPC; AWSLambdaBasicExecutionRole
    # writes logs on "*" (IAM-03); no CodeDeploy or CloudFormation in the seed; an empty
    # account has no trail, recorder, Security Hub, SCP or GuardDuty; no attestations file.
    "fail": "SEC-03 SEC-04 IAM-03 IAM-04 NET-01 DAT-05 DEP-01 DEP-04 GOV-01 GOV-02 GOV-03 "
    "GOV-05 GOV-07 GOV-08 PRC-01 PRC-02 PRC-03 PRC-04 PRC-05",
    "not_applicable": "SEC-05 SEC-06 SEC-07 SEC-08 NET-02 NET-03 DAT-01 DAT-03 DAT-04 REL-01 "
    "REL-06 REL-09 REL-10 OBS-08 DEP-02 DEP-03 GOV-06",
    "error": "GOV-04",  # moto does not implement config:DescribeConformancePacks
    "not_tested": "API-01 API-02 API-03 API-04",  # the seed has no API Gateway stage
}


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
    assert statuses == {cid: status for status, ids in EXPECTED.items() for cid in ids.split()}
    gov04 = next(c for c in document["controls"] if c["id"] == "GOV-04")
    assert "DescribeConformancePacks" in gov04["moto_gaps"][0]
    assert document["summary"]["controls_tested"] >= 55
    result.stdout.fnmatch_lines(["*prr control coverage: moto*", "ORD  *"])
