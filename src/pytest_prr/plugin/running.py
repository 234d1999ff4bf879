"""Running the items of a readiness run: each phase's report carries the results it made,
and their account, across pytest-xdist to the controller, which keeps them.

A built-in control item's results are its evaluation's; a user's test's are what its phase
outcome says of its controls (:func:`phase_status`), waivers applied either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pytest

from pytest_prr.plugin.collection import attribute
from pytest_prr.plugin.items import ControlFailed, ControlItem, ControlNotEvaluated
from pytest_prr.plugin.markers import NotApplicable, control_ids
from pytest_prr.plugin.state import (
    REPORT_ACCOUNT_KEY,
    REPORT_EVALUATED_KEY,
    REPORT_KEY,
    item_results_key,
)
from pytest_prr.report.terminal import problem_keys
from pytest_prr.results.model import Result, describe_exception, rollup

if TYPE_CHECKING:
    from pytest_prr.plugin.state import RunState
    from pytest_prr.results.run import AccountRun


class RunningHooks:
    def __init__(self, config: pytest.Config, runs: RunState) -> None:
        self.runs = runs
        self.is_worker = hasattr(config, "workerinput")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        """Attach the phase's results, and their account, to its report; the report
        carries them across xdist."""
        report = yield
        ids = control_ids(item)
        if not ids:
            return report
        account, test = attribute(item, self.runs)
        run = self.runs.run_for(account)
        if isinstance(item, ControlItem):
            # Its results are final where its evaluation ended: setup when that failed
            # (it could not evaluate, or crashed), else the call.
            if report.when == "teardown" or (report.when == "setup" and report.passed):
                return _with_status(item, report)
            results = results_for_control(run, item, call.excinfo)
            if report.when == "setup" and call.excinfo is not None:
                # pytest shows a setup error as a traceback; a control's is its own lines.
                report.longrepr = item.repr_failure(call.excinfo)
            item.stash[item_results_key] = results
            report.__dict__[REPORT_EVALUATED_KEY] = item.control_id
            report.__dict__[REPORT_ACCOUNT_KEY] = account
        else:
            results = results_for_phase(run, ids, test, report, call.excinfo)
            if report.failed and results and all(r.status == "waived" for r in results):
                _accept_waived(report)
            item.stash.setdefault(item_results_key, []).extend(results)
            if report.when == "teardown":
                _with_status(item, report)
        if results:
            report.__dict__[REPORT_KEY] = [result.to_dict() for result in results]
            report.__dict__[REPORT_ACCOUNT_KEY] = account
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.is_worker:
            return
        tally = self.runs.tally
        if report.failed and not hasattr(report, REPORT_KEY):
            tally.other_failures += 1  # a test that is no readiness evidence failed
        elif report.failed:  # pytest prints its problems: the matrix need not repeat them
            tally.shown |= problem_keys(getattr(report, REPORT_KEY))
        account = getattr(report, REPORT_ACCOUNT_KEY, None)
        self.runs.add_reported(account, getattr(report, REPORT_KEY, []))
        evaluated = getattr(report, REPORT_EVALUATED_KEY, None)
        if evaluated is not None:
            self.runs.run_for(account).evaluated.add(evaluated)


def results_for_phase(
    run: AccountRun, control_ids: Iterable[str], test: str, report: Any, excinfo: Any
) -> list[Result]:
    """The results one phase (setup, call, teardown) of a user's test yields, waivers
    applied: a waiver naming the test accepts its FAIL as it does a resource's."""
    exception = excinfo.value if excinfo is not None else None
    xfail = hasattr(report, "wasxfail")
    not_applicable = isinstance(exception, NotApplicable)
    status = phase_status(
        report.when, report.outcome, exception, not_applicable=not_applicable, xfail=xfail
    )
    if status is None:
        return []
    if status == "pass":
        message = ""
    elif xfail:
        message = f"expected to fail (xfail): {report.wasxfail}".rstrip(": ")
    elif not_applicable:
        message = exception.msg or "not applicable"
    else:
        message = describe_exception(exception, report.longreprtext)
        if report.when != "call":
            message = f"in {report.when}: {message}"
    return run.waive(run.results_for(control_ids, test, status, message))


def results_for_control(run: AccountRun, item: ControlItem, excinfo: Any) -> list[Result]:
    """A built-in control item's results, one per resource (waivers applied); a crash
    outside the evaluation is an ERROR for the account rather than a control without
    results."""
    if excinfo is not None and not isinstance(excinfo.value, ControlFailed | ControlNotEvaluated):
        message = f"the check crashed: {describe_exception(excinfo.value, '')}"
        return run.results_for([item.control_id], item.recorded_test, "error", message)
    return item.results


def phase_status(
    when: str,
    outcome: str,
    exception: BaseException | None,
    *,
    not_applicable: bool,
    xfail: bool,
) -> str | None:
    """What one phase of a test says about its controls; None when it says nothing.

    Fail closed: an exception that is not an assertion (an AWS API error, a bug in the
    test) is an ERROR, never a FAIL that a reader could mistake for a verdict, and a plain
    skip records nothing, so the control stays not_tested.
    """
    if outcome == "skipped":
        if not_applicable:
            return "not_applicable"
        return "fail" if xfail else None
    if outcome == "passed":
        return "pass" if when == "call" else None
    if when != "call":
        return "error"
    if exception is None or isinstance(exception, AssertionError | pytest.fail.Exception):
        return "fail"
    return "error"


def _accept_waived(report: pytest.TestReport) -> None:
    """A user test whose every result of this phase a waiver accepted passes, as a built-in
    item with only waived resources does; its failure stays readable under ``-rP``."""
    report.sections.append(("prr: failure accepted by a waiver", report.longreprtext))
    report.outcome = "passed"
    report.longrepr = None


def _with_status(item: pytest.Item, report: pytest.TestReport) -> pytest.TestReport:
    """Give the teardown report, whose properties pytest's JUnit writes, ``prr_status``: the
    item's results rolled up as the matrix rolls up a control (``not_tested`` when it made
    none, as a plain skip does), so the XML says what the matrix says."""
    if report.when == "teardown":
        results = item.stash.get(item_results_key, [])
        report.user_properties.append(("prr_status", rollup(r.status for r in results)))
    return report
