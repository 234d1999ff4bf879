"""What keeps a 2,000-function account fast and small: account-wide indexes shared by the
checks, evidence lists cut at a bound, and the results document streamed to its file.

Each test pins the behaviour the optimisation must keep; none measures time (that is
``benchmarks/``).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from pytest_prr.catalog import builtin_catalog
from pytest_prr.checks import iam, observability  # noqa: F401 (registration)
from pytest_prr.checks.base import EVIDENCE_ITEMS, REGISTRY, listed, run_check
from pytest_prr.report.json_document import DocumentError, write_document
from pytest_prr.results.model import Result, Target, build_document
from pytest_prr.snapshot.model import DataUnavailable, Snapshot
from snapshots import (
    ACCOUNT_ID,
    REGION,
    ROLE_ARN,
    build_snapshot,
    failed_read,
    function_arn,
    make_function,
    make_role,
)

TUNABLES = {t.name: t.default for c in builtin_catalog() for t in c.tunables}


def statuses(control: str, snapshot: Snapshot) -> dict[str, str]:
    """Function name -> status of ``control`` over ``snapshot``."""
    findings = run_check(REGISTRY[control], snapshot, TUNABLES)
    return {finding.resource_id.rsplit(":", 1)[1]: finding.status for finding in findings}


def alarm(metric: str, function: str, *, extra: dict[str, str] | None = None) -> dict[str, Any]:
    dimensions = {"FunctionName": function, **(extra or {})}
    return {
        "AlarmName": f"{function}-{metric}",
        "MetricName": metric,
        "Dimensions": [{"Name": n, "Value": v} for n, v in dimensions.items()],
        "ActionsEnabled": True,
        "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:oncall"],
    }


def test_each_function_gets_its_own_alarms_from_the_shared_index() -> None:
    functions = [make_function(name) for name in ("orders", "billing", "quiet")]
    found = [
        alarm("Errors", "orders"),
        alarm("Throttles", "billing"),
        alarm("Errors", "quiet", extra={"ExecutedVersion": "3"}),  # pinned to a version
        alarm("Errors", "nobody"),
    ]
    snapshot = build_snapshot(functions, cloudwatch={"alarms": found, "metrics": {}})
    assert statuses("OBS-03", snapshot) == {"orders": "pass", "billing": "fail", "quiet": "fail"}
    assert statuses("OBS-04", snapshot) == {"orders": "fail", "billing": "pass", "quiet": "fail"}
    assert statuses("OBS-05", snapshot) == {
        "orders": "pass",
        "billing": "pass",
        "quiet": "not_applicable",
    }


def test_an_index_is_built_once_and_a_failed_build_is_not_kept() -> None:
    snapshot = build_snapshot()
    built: list[int] = []
    assert snapshot.indexed("k", lambda: built.append(1) or "index") == "index"
    assert snapshot.indexed("k", lambda: built.append(2) or "other") == "index"
    assert built == [1]

    def unreadable() -> str:
        raise DataUnavailable("cloudwatch:DescribeAlarms", "AccessDenied", "no")

    for _ in range(2):
        with pytest.raises(DataUnavailable):
            snapshot.indexed("broken", unreadable)
    assert snapshot.indexed("broken", lambda: "read") == "read"


def test_unreadable_alarms_are_an_error_for_every_function() -> None:
    functions = [make_function(name) for name in ("orders", "billing")]
    unreadable = {"alarms": failed_read("cloudwatch:DescribeAlarms"), "metrics": {}}
    snapshot = build_snapshot(functions, cloudwatch=unreadable)
    assert statuses("OBS-03", snapshot) == {"orders": "error", "billing": "error"}


def test_iam01_lists_the_other_functions_of_the_role_across_regions() -> None:
    snapshot = build_snapshot([make_function(name) for name in ("a", "b")])
    other = make_function("c")
    other["FunctionArn"] = function_arn("c", "eu-west-1")
    snapshot.data["account"]["regions"].append("eu-west-1")
    west = json.loads(json.dumps(snapshot.data["regions"][REGION]))
    west["lambda"]["functions"] = {other["FunctionArn"]: other}
    snapshot.data["regions"]["eu-west-1"] = west
    findings = {f.resource_id: f for f in run_check(REGISTRY["IAM-01"], snapshot, TUNABLES)}
    assert findings[function_arn("a")].evidence["shared_with"] == sorted(
        [function_arn("b"), other["FunctionArn"]]
    )
    assert findings[other["FunctionArn"]].status == "fail"


def test_evidence_lists_are_cut_with_their_total() -> None:
    assert listed("items", ["a", "b"]) == {"items": ["a", "b"]}
    many = [f"action-{i:04d}" for i in range(EVIDENCE_ITEMS + 7)]
    assert listed("items", many) == {
        "items": many[:EVIDENCE_ITEMS],
        "items_total": EVIDENCE_ITEMS + 7,
    }


def test_iam03_keeps_a_bounded_sample_of_an_administrators_grants() -> None:
    admin = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    role = make_role(InlinePolicies={"admin": admin})
    snapshot = build_snapshot([make_function("orders")], roles=[role])
    (finding,) = run_check(REGISTRY["IAM-03"], snapshot, TUNABLES)
    assert finding.status == "fail"
    assert len(finding.evidence["risky_grants"]) == EVIDENCE_ITEMS
    assert finding.evidence["risky_grants_total"] > 1000  # every write action of AWS
    assert "more" in finding.message


def test_iam01_shares_a_role_among_many_functions_with_a_bounded_list() -> None:
    functions = [make_function(f"fn-{i:03d}") for i in range(EVIDENCE_ITEMS + 3)]
    findings = run_check(REGISTRY["IAM-01"], build_snapshot(functions), TUNABLES)
    first = findings[0].evidence
    assert first["Role"] == ROLE_ARN
    assert len(first["shared_with"]) == EVIDENCE_ITEMS
    assert first["shared_with_total"] == EVIDENCE_ITEMS + 2


def test_a_result_as_data_is_what_asdict_gives() -> None:
    result = Result(
        "SEC-04",
        function_arn("orders"),
        "waived",
        "prr::SEC-04",
        message="m",
        account_id=ACCOUNT_ID,
        region=REGION,
        evidence={"nested": {"list": [1, 2]}},
        original_status="fail",
        waiver={"id": "W-1"},
    )
    assert result.to_dict() == asdict(result)
    assert Result.from_dict(result.to_dict()) == result


def document(evidence: Any = None) -> dict[str, Any]:
    results = [
        Result("SEC-04", function_arn("orders"), "fail", "prr::SEC-04", evidence=evidence),
        Result("SEC-01", function_arn("orders"), "pass", "prr::SEC-01", message="é ✓"),
    ]
    target = Target("test", ACCOUNT_ID, (REGION,), "moto")
    return build_document(builtin_catalog(), [target], results, tool_version="test")


def test_the_streamed_document_is_the_indented_json(tmp_path: Path) -> None:
    path = tmp_path / "out" / "prr.json"
    written = document({"grants": ["a", "b"]})
    write_document(written, path)
    assert (
        path.read_text(encoding="utf-8") == json.dumps(written, indent=2, ensure_ascii=False) + "\n"
    )


def test_a_document_that_cannot_be_written_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "prr.json"
    path.write_text("previous")
    with pytest.raises((TypeError, DocumentError, ValueError)):
        write_document(document({"unserialisable": object()}), path)
    assert path.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["prr.json"]
