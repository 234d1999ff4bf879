"""How a built-in control is evaluated: the one path a run's pytest item and ``prr verify``
both take, so that what verify re-derives is what the run did.

A check control runs its check over the snapshot; a process control (``attested``) is judged
from the attestations on the snapshot's day. A check that crashes is one ERROR for the
account, never a control without results.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pytest_prr.checks.base import run_check
from pytest_prr.checks.registry import registered_checks
from pytest_prr.results.attestations import evaluate as evaluate_attestations
from pytest_prr.results.model import BUILTIN_TEST, Result, describe_exception

if TYPE_CHECKING:
    from pytest_prr.catalog import Catalog, Control
    from pytest_prr.results.attestations import Attestation
    from pytest_prr.snapshot.model import Snapshot


def builtin_controls(catalog: Catalog) -> list[str]:
    """The catalog's controls pytest-prr evaluates itself, in catalog order: those with a
    check, and the process controls evidenced by attestations."""
    checks = registered_checks()
    return [c.id for c in catalog if c.id in checks or c.automation == "attested"]


def judged_on(snapshot: Snapshot) -> datetime.date:
    """The day a snapshot's attestations and waivers are judged on: the day it was taken,
    so a replay gives the verdicts the run gave."""
    return datetime.date.fromisoformat(snapshot.taken_at[:10])


def evaluate_control(
    control: Control,
    snapshot: Snapshot,
    *,
    tunables: Mapping[str, Any],
    attestations: Sequence[Attestation] = (),
    workload: str | None = None,
) -> list[Result]:
    """Every result of one built-in control over ``snapshot``; none for a control that
    pytest-prr does not evaluate (a team's own). Attestations are judged for ``workload``
    (the run's ``prr_workload``) on the snapshot's day."""
    check = registered_checks().get(control.id)
    if check is not None:
        try:
            findings = run_check(check, snapshot, tunables)
        except Exception as error:  # a bug in a check: an ERROR, never a silent control
            message = f"the check crashed: {describe_exception(error, '')}"
            return [
                _unplaced(control.id, snapshot.account_id, snapshot.account_id, "error", message)
            ]
        if "deployments" not in snapshot.data:
            return findings
        # A deployed template's resources that moto could not create make ERRORs, and so do
        # account guardrails when a template is judged before it is deployed.
        from pytest_prr.deploy.verdicts import judged_before_deploy, with_unsupported

        findings = with_unsupported(control.id, findings, snapshot)
        if control.scope == "account":
            findings = judged_before_deploy(control.id, findings, snapshot)
        return findings
    if control.automation == "attested":
        return [
            _unplaced(control.id, snapshot.account_id, scope, status, message, evidence)
            for scope, status, message, evidence in evaluate_attestations(
                control.id, control.valid_days, attestations, judged_on(snapshot), workload
            )
        ]
    return []


def unreadable_account(control_id: str, account_id: str, cause: str) -> list[Result]:
    """A built-in control's one result for an account that could not be read at all: an
    ERROR naming the cause, whatever the control would have needed."""
    return [_unplaced(control_id, account_id, account_id, "error", f"account not read: {cause}")]


def _unplaced(
    control_id: str,
    account_id: str,
    resource_id: str,
    status: str,
    message: str,
    evidence: Mapping[str, Any] | None = None,
) -> Result:
    """A built-in control's result that no check's walk placed: the account's own (a
    crashed check), or an attested workload's."""
    return Result(
        control_id=control_id,
        resource_id=resource_id,
        status=status,
        test=BUILTIN_TEST.format(control_id),
        message=message,
        account_id=account_id,
        evidence=evidence or None,
    )
