"""The built-in controls as pytest items: one item per control, one result per resource.

One item per control (not per resource) keeps a run of 60 controls over 2,000 functions at
60 items: pytest's per-item cost stays out of the way, while the per-resource verdicts travel
on the item's report into the JSON and the JUnit properties.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pytest
from _pytest._code.code import ExceptionChainRepr, ReprEntry, ReprFileLocation, ReprTraceback

from pytest_prr.checks.evaluation import builtin_controls, evaluate_control, unreadable_account
from pytest_prr.plugin.markers import MARKER
from pytest_prr.plugin.multiaccount import account_marks
from pytest_prr.results.model import BUILTIN_TEST

if TYPE_CHECKING:
    from pytest_prr.catalog import Catalog
    from pytest_prr.plugin.state import RunState
    from pytest_prr.results.model import Result
    from pytest_prr.results.run import AccountRun

PROBLEMS = ("fail", "error")


def select_controls(
    control_ids: Iterable[str], patterns: str | None
) -> tuple[list[str], list[str]]:
    """The control IDs matching ``--prr-controls`` (comma-separated globs, e.g.
    ``SEC-*,IAM-02``; all when None) and the patterns that matched nothing; an option given
    empty selects nothing, never everything."""
    ids = list(control_ids)
    if patterns is None:
        return ids, []
    wanted = [pattern.strip().upper() for pattern in patterns.split(",") if pattern.strip()]
    if not wanted:
        return [], [repr(patterns)]
    selected = [cid for cid in ids if any(fnmatch.fnmatchcase(cid, p) for p in wanted)]
    unmatched = [p for p in wanted if not any(fnmatch.fnmatchcase(cid, p) for cid in ids)]
    return selected, unmatched


class ControlFailed(Exception):
    """A built-in control found failing resources; the message lists them, unevaluable
    ones included, and the remediation."""


class ControlNotEvaluated(Exception):
    """A built-in control could not evaluate some resources and found none failing: an error
    of the evaluation, which pytest and its JUnit report as an error, not a failure."""


class ControlItem(pytest.Item):
    """One built-in control evaluated over the snapshot of one account's run, through the
    evaluation ``prr verify`` repeats (:func:`pytest_prr.checks.evaluation.evaluate_control`).

    The evaluation runs in the setup phase: a control whose problems are only resources it
    could not evaluate is then a pytest ERROR (``<error>`` in the JUnit XML), one that found
    a violation a FAILURE in the call phase, so pytest's counts and the JUnit say what the
    matrix says.
    """

    def __init__(self, *, control_id: str, run: AccountRun, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.control_id = control_id
        self.run = run
        self.results: list[Result] = []
        self.add_marker(getattr(pytest.mark, MARKER)(control_id))

    def setup(self) -> None:

        if self.run.unreadable is not None:
            account_id = self.run.account.account_id
            self.results = unreadable_account(self.control_id, account_id, self.run.unreadable)
            raise ControlNotEvaluated(self._problems())
        snapshot = self.run.snapshot
        assert snapshot is not None
        findings = evaluate_control(
            self.run.catalog[self.control_id],
            snapshot,
            tunables=self.run.tunables,
            attestations=self.run.attestations,
            workload=self.run.workload,
        )
        self.results = self.run.waive(findings)
        statuses = {result.status for result in self.results}
        if "error" in statuses and "fail" not in statuses:
            raise ControlNotEvaluated(self._problems())

    def runtest(self) -> None:
        if any(result.status == "fail" for result in self.results):
            raise ControlFailed(self._problems())

    def _problems(self) -> str:
        """The control, then each resource it failed or could not evaluate, each line
        starting with that status, then the remediation when something failed."""
        control = self.run.catalog[self.control_id]
        problems = [result for result in self.results if result.status in PROBLEMS]
        failing = any(result.status == "fail" for result in problems)
        lines = [
            f"{'FAIL' if failing else 'ERROR (cannot be evaluated)'} {control.id} "
            f"{control.title}: {len(problems)} of {len(self.results)} resource(s) "
            f"{'not compliant' if failing else 'not evaluated'}"
        ]
        lines += [f"  {r.status.upper()} {r.resource_id}: {r.message}" for r in problems]
        if failing:
            lines.append(f"remediation: {control.remediation}")
        return "\n".join(lines)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ControlFailed | ControlNotEvaluated):
            return problems_repr(str(self.path), str(excinfo.value))
        return super().repr_failure(excinfo, style=style)

    @property
    def recorded_test(self) -> str:
        """The test its results name: the same for every account (their account IDs tell
        them apart), as a run over one account names it."""

        return BUILTIN_TEST.format(self.control_id)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"prr built-in control {self.control_id}"


def problems_repr(path: str, problems: str) -> ExceptionChainRepr:
    """A control's problems as pytest shows them: the lines as they are, no traceback, and
    only the headline as the crash message.

    A plain string would do in the failures section, but pytest repeats a string report
    whole in its short summary on CI and under ``-vv``, so every resource would be printed
    twice; the crash message is what the summary and JUnit's ``message`` attribute show. The
    chain form also crosses xdist intact.
    """
    lines = problems.splitlines()
    entry = ReprEntry(
        lines=lines, reprfuncargs=None, reprlocals=None, reprfileloc=None, style="value"
    )
    crash = ReprFileLocation(path=path, lineno=0, message=lines[0])
    return ExceptionChainRepr([(ReprTraceback([entry], None, "value"), crash, None)])


def selected_controls(catalog: Catalog, patterns: str | None) -> list[str]:
    """The built-in controls ``--prr-controls`` selects; a usage error for a pattern that
    matches none, checked when the run is configured, before any AWS call."""

    selected, unmatched = select_controls(builtin_controls(catalog), patterns)
    if unmatched:
        raise pytest.UsageError(
            f"--prr-controls: {', '.join(unmatched)} matches no built-in control "
            "(`prr catalog` lists them)"
        )
    return selected


def control_items(session: pytest.Session, runs: RunState, patterns: str | None) -> list[Any]:
    """The built-in items of this run, in catalog order (the same in every xdist worker).

    With several accounts each control is an item per account, account after account:
    ``prr::SEC-01[prod]``, named so that ``-k prod`` selects one account's items, and in the
    account's ``xdist_group`` so that ``--dist loadgroup`` keeps an account on one worker.
    """

    selected = selected_controls(runs.catalog, patterns)
    items = []
    for account, run in runs.runs.items():
        for control_id in selected:
            name = f"{control_id}[{account}]" if runs.several else control_id
            item = ControlItem.from_parent(
                session,
                name=name,
                nodeid=f"prr::{name}",
                path=session.config.rootpath,
                control_id=control_id,
                run=run,
            )
            if runs.several:
                for mark in account_marks(session.config, account):
                    item.add_marker(mark)
            items.append(item)
    return items
