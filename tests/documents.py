"""Results documents of whole accounts, made by the real checks over built snapshots.

A run over a snapshot is what ``--prr-snapshot`` does: every built-in check evaluates the
snapshot, the process controls find no attestation, and the results become a document
through ``ReadinessRun`` and ``build_document`` as in the plugin.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from typing import Any

from pytest_prr.attestations import evaluate
from pytest_prr.catalog import builtin_catalog
from pytest_prr.checks.base import Finding, run_check
from pytest_prr.checks.registry import registered_checks
from pytest_prr.results import build_document
from pytest_prr.run import ReadinessRun
from pytest_prr.snapshot.model import Snapshot
from snapshots import ACCOUNT_ID, REGION, build_snapshot, failed_read, make_function

CATALOG = builtin_catalog()
TUNABLES = CATALOG.tunables({}, "tests")
WHEN = datetime.datetime(2026, 11, 28, 12, 30, tzinfo=datetime.UTC)
#: A user's test that speaks for the whole account (resource: the account ID).
USER_TEST = "tests/test_orders.py::test_orders_table_has_pitr"


def account_snapshot(
    account_id: str,
    functions: Sequence[dict[str, Any]] | None = None,
    *,
    regions: Sequence[str] = (REGION,),
    mode: str = "moto",
) -> Snapshot:
    """A snapshot of ``account_id`` with ``functions`` in each of ``regions``; the account
    guardrails could not be read (the GOV controls are ERROR)."""
    functions = functions if functions is not None else [make_function("orders-api")]
    built = build_snapshot(
        functions=list(functions), guardrails=failed_read("cloudtrail:DescribeTrails")
    )
    base = json.dumps(built.data).replace(ACCOUNT_ID, account_id)
    data = json.loads(base)
    region_section = json.dumps(data["regions"][REGION])
    data["regions"] = {
        region: json.loads(region_section.replace(REGION, region)) for region in regions
    }
    data["account"].update(name=f"team-{account_id[-4:]}", mode=mode, regions=list(regions))
    return Snapshot(data)


def account_run(snapshot: Snapshot, *, user_test_status: str = "pass") -> ReadinessRun:
    """Every built-in control evaluated over ``snapshot``, plus one user's test."""
    run = ReadinessRun(account=snapshot.account, catalog=CATALOG, tunables=TUNABLES)
    run.use_stored_snapshot(None, snapshot, "0" * 64)
    checks = registered_checks()
    today = datetime.date.fromisoformat(snapshot.taken_at[:10])
    for control in CATALOG:
        if control.id in checks:
            findings = run_check(checks[control.id], snapshot, TUNABLES)
        elif control.automation == "attested":
            findings = [
                Finding(control.id, scope, None, status, message, evidence)
                for scope, status, message, evidence in evaluate(
                    control.id, control.valid_days, [], today
                )
            ]
        else:
            continue
        run.results.extend(run.results_for_findings(findings))
    message = "" if user_test_status == "pass" else "PITR is off"
    run.results.extend(run.results_for(["DAT-01"], USER_TEST, user_test_status, message))
    return run


def document(
    *runs: ReadinessRun, generated_at: datetime.datetime = WHEN, tool_version: str = "test"
) -> dict[str, Any]:
    """The document of one run over the targets of ``runs``."""
    return build_document(
        CATALOG,
        [run.target for run in runs],
        [result for run in runs for result in run.results],
        tool_version=tool_version,
        generated_at=generated_at,
    )
