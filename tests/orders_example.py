"""The orders-service example and the verdicts its moto deployment must get.

Shared by the test of the example as shipped (test_example.py) and the test of a broken
copy of its template (test_example_template.py), which expects the same verdicts except
for the controls it breaks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "orders-service"
#: Every verdict on the example's moto account, and why the non-passing ones are right.
EXPECTED = {
    "pass": "SEC-01 SEC-02 SEC-03 SEC-05 SEC-08 IAM-01 IAM-02 IAM-04 IAM-05 IAM-06 DAT-02 "
    "DAT-04 DAT-05 REL-02 REL-03 REL-04 REL-05 REL-07 REL-08 OBS-01 OBS-02 OBS-03 OBS-04 "
    "OBS-05 OBS-06 OBS-07 DEP-04 DEP-05 DEP-06 API-01 API-02 API-03 FIN-01 FIN-02 ORD-01 "
    "ORD-02",
    # Findings true of template.yaml: SAM's AWSLambdaBasicExecutionRole writes logs on "*"
    # (IAM-03), no VPC (NET-01), no WAF on the stage (API-04). True of the empty moto
    # account: no trail, recorder, Security Hub, SCP or GuardDuty; no attestations file.
    # (DEP-04 passes: CloudFormation's stack tags, which the Lambda API refuses, are recorded
    # by pytest-prr's moto server from the deployer's requests.)
    "fail": "IAM-03 NET-01 GOV-01 GOV-02 GOV-03 GOV-05 GOV-08 API-04 "
    "PRC-01 PRC-02 PRC-03 PRC-04 PRC-05",
    # No layers, VPC, secret, SNS wiring, asynchronous or stream source, invocation
    # (OBS-08); the account is in no organization (GOV-06, GOV-07). No function URL: moto
    # keeps a URL made on the alias live as the function's own, which neither function has
    # (SEC-06, through moto's profile).
    "not_applicable": "SEC-06 SEC-07 NET-02 NET-03 DAT-01 DAT-03 REL-01 REL-06 REL-09 "
    "REL-10 OBS-08 GOV-06 GOV-07",
    # moto does not implement config:DescribeConformancePacks (GOV-04). The template's code
    # signing config (SEC-04, DEP-03) and CodeDeploy groups (DEP-01, DEP-02) cannot be
    # created on moto: the deployer declares them unsupported, and the controls they feed
    # are ERROR naming them, not decided without them.
    "error": "GOV-04 SEC-04 DEP-01 DEP-02 DEP-03",
}
EXPECTED_STATUSES = {cid: status for status, ids in EXPECTED.items() for cid in ids.split()}


def run_on_moto(
    pytester: pytest.Pytester, example: Path, *options: str
) -> tuple[pytest.RunResult, dict[str, Any]]:
    """Run ``example`` as CI does, on a fresh moto account; return the run and its JSON."""
    out = pytester.path / "prr.json"
    result = pytester.runpytest_subprocess(
        str(example), "-p", "no:cacheprovider", "--prr-account=moto", f"--prr-json={out}", *options
    )
    assert out.is_file(), result.stdout.str()
    return result, json.loads(out.read_text())


def statuses(document: dict[str, Any]) -> dict[str, str]:
    """Control id -> status of a results document."""
    return {control["id"]: control["status"] for control in document["controls"]}
