"""Results documents of whole accounts, made by the real checks over built snapshots.

A run over a snapshot is what ``--prr-snapshot`` does: every built-in check evaluates the
snapshot, the process controls find no attestation, and the results become a document
through ``AccountRun`` and ``build_document`` as in the plugin.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from typing import Any

from pytest_prr.catalog import builtin_catalog
from pytest_prr.checks.evaluation import builtin_controls, evaluate_control
from pytest_prr.results.model import build_document
from pytest_prr.results.run import AccountRun
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


def account_run(snapshot: Snapshot, *, user_test_status: str | None = "pass") -> AccountRun:
    """Every built-in control evaluated over ``snapshot``, plus one user's test unless its
    status is None (a bundle without a JUnit XML cannot show that it ran)."""
    run = AccountRun(account=snapshot.account, catalog=CATALOG, tunables=TUNABLES)
    run.use_stored_snapshot(None, snapshot, "0" * 64)
    for control_id in builtin_controls(CATALOG):
        findings = evaluate_control(CATALOG[control_id], snapshot, tunables=TUNABLES)
        run.results.extend(run.waive(findings))
    if user_test_status is None:
        return run
    message = "" if user_test_status == "pass" else "PITR is off"
    run.results.extend(run.results_for(["DAT-01"], USER_TEST, user_test_status, message))
    return run


def document(
    *runs: AccountRun, generated_at: datetime.datetime = WHEN, tool_version: str = "test"
) -> dict[str, Any]:
    """The document of one run over the targets of ``runs``."""
    return build_document(
        CATALOG,
        [run.target for run in runs],
        [result for run in runs for result in run.results],
        tool_version=tool_version,
        generated_at=generated_at,
    )
