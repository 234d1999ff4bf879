"""The built-in controls as pytest items: one item per control, one result per resource.

One item per control (not per resource) keeps a run of 60 controls over 2,000 functions at
60 items: pytest's per-item cost stays out of the way, while the per-resource verdicts travel
on the item's report into the JSON and the JUnit properties.
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pytest

from pytest_prr.api import MARKER

if TYPE_CHECKING:
    from pytest_prr.checks.base import Check, Finding
    from pytest_prr.run import ReadinessRun
    from pytest_prr.runs import ReadinessRuns

#: The modules that register checks; importing them fills ``checks.base.REGISTRY``.
CHECK_MODULES = (
    "security",
    "iam",
    "network",
    "data",
    "reliability",
    "observability",
    "deployment",
    "cost",
    "guardrails",
    "api",
)
PROBLEMS = ("fail", "error")


def registered_checks() -> Mapping[str, Check]:
    from pytest_prr.checks.base import REGISTRY

    for module in CHECK_MODULES:
        importlib.import_module(f"pytest_prr.checks.{module}")
    return REGISTRY


def select_controls(
    control_ids: Iterable[str], patterns: str | None
) -> tuple[list[str], list[str]]:
    """The control IDs matching ``--prr-controls`` (comma-separated globs, e.g.
    ``SEC-*,IAM-02``; all when None) and the patterns that matched nothing."""
    ids = list(control_ids)
    if not patterns:
        return ids, []
    wanted = [pattern.strip().upper() for pattern in patterns.split(",") if pattern.strip()]
    selected = [cid for cid in ids if any(fnmatch.fnmatchcase(cid, p) for p in wanted)]
    unmatched = [p for p in wanted if not any(fnmatch.fnmatchcase(cid, p) for cid in ids)]
    return selected, unmatched


class ControlFailed(Exception):
    """A built-in control found failing or unevaluable resources; the message lists them."""


class ControlItem(pytest.Item):
    """One built-in control evaluated over the snapshot of one account's run."""

    def __init__(
        self, *, control_id: str, check: Check | None, run: ReadinessRun, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.control_id = control_id
        self.check = check
        self.run = run
        self.findings: list[Finding] = []
        self.add_marker(getattr(pytest.mark, MARKER)(control_id))

    def evaluate(self) -> list[Finding]:
        from pytest_prr.checks.base import run_check

        snapshot = self.run.snapshot
        assert snapshot is not None and self.check is not None
        return run_check(self.check, snapshot, self.run.tunables)

    def runtest(self) -> None:
        self.findings = self.evaluate()
        results = self.run.results_for_findings(self.findings, self.nodeid)
        problems = [result for result in results if result.status in PROBLEMS]
        if problems:
            control = self.run.catalog[self.control_id]
            lines = [
                f"{control.id} {control.title}: {len(problems)} of "
                f"{len(self.findings)} resource(s) not compliant"
            ]
            lines += [f"  {r.status.upper()} {r.resource_id}: {r.message}" for r in problems]
            if any(result.status == "fail" for result in problems):
                lines.append(f"remediation: {control.remediation}")
            raise ControlFailed("\n".join(lines))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ControlFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    @property
    def recorded_test(self) -> str:
        """The test its results name: the same for every account (their account IDs tell
        them apart), as a run over one account names it."""
        return f"prr::{self.control_id}"

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"prr built-in control {self.control_id}"


class AttestedItem(ControlItem):
    """A process control, evidenced by the run's attestations as of the snapshot date."""

    def evaluate(self) -> list[Finding]:
        from pytest_prr.attestations import evaluate
        from pytest_prr.checks.base import Finding

        control = self.run.catalog[self.control_id]
        return [
            Finding(self.control_id, scope, None, status, message, evidence)
            for scope, status, message, evidence in evaluate(
                control.id,
                control.valid_days,
                self.run.attestations,
                self.run.judged_on,
                workload=self.run.workload,
            )
        ]


def control_items(session: pytest.Session, runs: ReadinessRuns, patterns: str | None) -> list[Any]:
    """The built-in items of this run, in catalog order (the same in every xdist worker).

    With several accounts each control is an item per account, account after account:
    ``prr::SEC-01[prod]``, named so that ``-k prod`` selects one account's items, and in the
    account's ``xdist_group`` so that ``--dist loadgroup`` keeps an account on one worker.
    """
    from pytest_prr.multiaccount import account_marks

    checks = registered_checks()
    catalog = runs.catalog
    attested = {control.id for control in catalog if control.automation == "attested"}
    selected, unmatched = select_controls(
        (control.id for control in catalog if control.id in checks or control.id in attested),
        patterns,
    )
    if unmatched:
        raise pytest.UsageError(
            f"--prr-controls: {', '.join(unmatched)} matches no built-in control "
            "(`prr catalog` lists them)"
        )
    items = []
    for account, run in runs.runs.items():
        for control_id in selected:
            name = f"{control_id}[{account}]" if runs.several else control_id
            item = (AttestedItem if control_id in attested else ControlItem).from_parent(
                session,
                name=name,
                nodeid=f"prr::{name}",
                path=session.config.rootpath,
                control_id=control_id,
                check=checks.get(control_id),
                run=run,
            )
            if runs.several:
                for mark in account_marks(session.config, account):
                    item.add_marker(mark)
            items.append(item)
    return items
