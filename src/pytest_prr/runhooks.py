"""The hooks of a readiness run: registered by the plugin only once an account (or a
stored snapshot) is selected, so a plain pytest run never pays for them.

A run has one or more accounts (:class:`~pytest_prr.runs.ReadinessRuns`); what a test
reports is attributed to the account it ran for, and the outputs are made of all of them.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_prr.api import control_ids

if TYPE_CHECKING:
    from pytest_prr.run import ReadinessRun
    from pytest_prr.runs import Progress, ReadinessRuns

REPORT_KEY = "prr_results"
REPORT_ACCOUNT_KEY = "prr_account"
#: On a built-in item's call report: its control, evaluated (with or without results).
REPORT_EVALUATED_KEY = "prr_evaluated"
#: ``workerinput`` entry: per account name, its moto endpoint and snapshot reference.
WORKER_RUNS_KEY = "prr_runs"
#: The rendered reports: format (``report.outputs.FORMATS``) -> the option naming its file.
REPORT_OPTIONS = (("html", "prr_html"), ("csv", "prr_csv"), ("markdown", "prr_markdown"))

environment_key = pytest.StashKey[pytest.MonkeyPatch]()
server_key = pytest.StashKey[Any]()
#: Per item with controls: the account it runs for (None: the only one) and the test its
#: results name, fixed at collection, before xdist's loadgroup appends ``@group`` to node ids.
account_key = pytest.StashKey["str | None"]()
test_key = pytest.StashKey[str]()
#: Per item with controls: every result its phases made so far, for its ``prr_status``.
item_results_key = pytest.StashKey[list[Any]]()


def register_run_hooks(config: pytest.Config, runs: ReadinessRuns) -> None:
    """Register the run's hooks in this process; a worker takes the controller's moto
    endpoint and snapshots instead of making its own."""
    readiness = _ReadinessHooks(config, runs)
    config.pluginmanager.register(readiness, "prr-run")
    if runs.several:
        from pytest_prr import multiaccount

        config.pluginmanager.register(multiaccount, "prr-accounts")
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        for name, handed in workerinput[WORKER_RUNS_KEY].items():
            run = runs.runs[name]
            run.endpoint_url = handed["endpoint_url"]
            run.receive_snapshot(handed["snapshot"])
            if run.account.mode == "moto":
                _use_dummy_credentials(config, run.account.region)
        return
    if config.option.prr_evidence:
        from pytest_prr.evidencehooks import EvidenceHooks

        hooks = EvidenceHooks(config, runs, readiness.write_results)
        config.pluginmanager.register(hooks, "prr-evidence")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistControllerHooks(runs), "prr-xdist")


def _use_dummy_credentials(config: pytest.Config, region: str) -> None:
    from pytest_prr.sessions import emulator_environment

    environment = config.stash.setdefault(environment_key, pytest.MonkeyPatch())
    for variable, value in emulator_environment(region).items():
        environment.setenv(variable, value)
    environment.delenv("AWS_PROFILE", raising=False)


class _XdistControllerHooks:
    """Registered on the xdist controller only: hands each account's moto endpoint and
    snapshot to the workers."""

    def __init__(self, runs: ReadinessRuns) -> None:
        self.runs = runs

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[WORKER_RUNS_KEY] = {
            name: {"endpoint_url": run.endpoint_url, "snapshot": run.snapshot_reference()}
            for name, run in self.runs.runs.items()
        }


class _ReadinessHooks:
    """The hooks of a run with an account; registered only then, in every process."""

    def __init__(self, config: pytest.Config, runs: ReadinessRuns) -> None:
        self.config = config
        self.runs = runs
        self.is_worker = hasattr(config, "workerinput")
        self.output_errors: list[str] = []
        self.other_failures = 0
        #: The problems (account ID, test, resource) of failed reports, which pytest prints.
        self.shown: set[tuple[str | None, str, str]] = set()
        self.exit_reason: str | None = None
        self.written: list[str] = []
        self.reports = {
            kind: config.invocation_params.dir / path
            for kind, option in REPORT_OPTIONS
            if (path := getattr(config.option, option))
        }

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Prepare the accounts and take their snapshots, before xdist starts its workers."""
        if self.is_worker:
            return
        for run in self.runs.runs.values():
            if run.account.mode == "moto":
                self._start_moto(run)
        self._take_snapshots()

    def _take_snapshots(self) -> None:
        from pytest_prr.snapshot.progress import SnapshotProgress

        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        quiet = reporter is None or self.config.get_verbosity() < 0
        if reporter is not None:
            for run in self.runs.runs.values():
                if run.allow_writes and run.account.mode != "snapshot":
                    reporter.write_line(
                        f"prr: WARNING: write calls are allowed on {run.account.describe()} "
                        "(--prr-allow-writes)",
                        yellow=True,
                    )
            for line in self._trust_warnings():
                reporter.write_line(line, yellow=True)
        if quiet:
            self.runs.take_snapshots(lambda run: None)
            return
        lines = LineWriter(reporter.write_line)

        def progress_for(run: ReadinessRun) -> Progress:
            if not self.runs.several:
                return SnapshotProgress(reporter.write_line)
            return SnapshotProgress(lines.for_account(run.account.name))

        for summary in self.runs.take_snapshots(progress_for):
            reporter.write_line(summary)

    def _trust_warnings(self) -> list[str]:
        """What the run's verdicts rest on that nothing checked: a replayed snapshot without
        its digest, attestations bound to no workload (said once: every account shares them)."""
        from pytest_prr.attestations import unbound_warning

        lines = [
            f"prr: WARNING: {run.snapshot_path} has no SHA-256 beside it, so nothing shows it "
            "unaltered; evaluated anyway (--prr-snapshot-unverified), the results record "
            "snapshot_verified: false"
            for run in self.runs.runs.values()
            if run.snapshot_verified is False
        ]
        run = self.runs.first
        warning = None if run.workload else unbound_warning(run.attestations)
        if warning is not None and not self.config.option.prr_no_builtin:
            lines.append(warning)
        return lines

    def _start_moto(self, run: ReadinessRun) -> None:
        from pytest_prr.motoserver import MotoServer
        from pytest_prr.sessions import open_session

        server = MotoServer()
        self.config.stash[server_key] = server
        run.endpoint_url = server.start()
        _use_dummy_credentials(self.config, run.account.region)
        session = open_session(run.account, run.endpoint_url)
        try:
            self.config.hook.pytest_prr_seed_account(session=session, account=run.account)
        except Exception:
            pytest.exit(
                "prr: pytest_prr_seed_account failed, so the moto account is not what the "
                f"tests expect:\n{traceback.format_exc()}",
                returncode=pytest.ExitCode.INTERNAL_ERROR,
            )
        if run.templates:
            from pytest_prr.deploy import TemplateError, deploy

            for template in run.templates:
                try:
                    deploy(template, session, run.account.region, pre_deploy=True)
                except TemplateError as error:
                    pytest.exit(f"prr: {error}", returncode=pytest.ExitCode.USAGE_ERROR)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, items: list[pytest.Item]
    ) -> None:
        """Add the built-in items and note whom each item's results are about: first
        (tryfirst), so that the built-in items are there for ``-k`` and xdist's loadgroup,
        and the node ids are still as collected."""
        from pytest_prr.report.junit import control_properties

        if not self.config.option.prr_no_builtin:
            from pytest_prr.builtin import control_items

            items.extend(control_items(session, self.runs, self.config.option.prr_controls))
        unattributed = []
        for item in items:
            ids = control_ids(item)
            if not ids:
                continue
            try:
                account, test = self._attribute(item)
            except LookupError:
                unattributed.append(item.nodeid)
                continue
            run = self.runs.run_for(account)
            item.user_properties.extend(
                control_properties(
                    ids,
                    self.runs.catalog,
                    test=test,
                    account=run.account.name,
                    account_id=run.account.account_id,
                    regions=run.account.regions,
                )
            )
        if unattributed:
            raise pytest.UsageError(
                f"prr: {', '.join(unattributed)}: marked with controls but not a test function "
                "pytest-prr could run once per account; run one account per session"
            )

    def _attribute(self, item: pytest.Item) -> tuple[str | None, str]:
        """The account an item with controls is about (None: the only one) and the test its
        results name: noted at collection, or now for an item marked since (by a fixture);
        a LookupError when a run over several accounts cannot tell which account."""
        if test_key not in item.stash:
            from pytest_prr.builtin import ControlItem
            from pytest_prr.multiaccount import account_of, recorded_test

            if isinstance(item, ControlItem):
                account: str | None = item.run.account.name
                test = item.recorded_test
            else:
                account = account_of(item)
                if account is None and self.runs.several:
                    raise LookupError(
                        f"prr: {item.nodeid} did not run once per account, so its results "
                        f"cannot be attributed to one of the {len(self.runs.runs)} accounts"
                    )
                test = recorded_test(item, account)
            item.stash[account_key] = account
            item.stash[test_key] = test
        return item.stash[account_key], item.stash[test_key]

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        """Attach the phase's results, and their account, to its report; the report
        carries them across xdist."""
        report = yield
        ids = control_ids(item)
        if not ids:
            return report
        account, test = self._attribute(item)
        run = self.runs.run_for(account)
        from pytest_prr.builtin import ControlItem

        if isinstance(item, ControlItem):
            # Its results are final where its evaluation ended: setup when that failed
            # (it could not evaluate, or crashed), else the call.
            if report.when == "teardown" or (report.when == "setup" and report.passed):
                return _with_status(item, report)
            results = run.results_for_control(item, call.excinfo)
            if report.when == "setup" and call.excinfo is not None:
                # pytest shows a setup error as a traceback; a control's is its own lines.
                report.longrepr = item.repr_failure(call.excinfo)
            item.stash[item_results_key] = results
            report.__dict__[REPORT_EVALUATED_KEY] = item.control_id
            report.__dict__[REPORT_ACCOUNT_KEY] = account
        else:
            results = run.results_for_phase(ids, test, report, call.excinfo)
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
        if not self.is_worker:
            if report.failed and not hasattr(report, REPORT_KEY):
                self.other_failures += 1  # a test that is no readiness evidence failed
            elif report.failed:  # pytest prints its problems: the matrix need not repeat them
                from pytest_prr.report.terminal import problem_keys

                self.shown |= problem_keys(getattr(report, REPORT_KEY))
            account = getattr(report, REPORT_ACCOUNT_KEY, None)
            self.runs.add_reported(account, getattr(report, REPORT_KEY, []))
            evaluated = getattr(report, REPORT_EVALUATED_KEY, None)
            if evaluated is not None:
                self.runs.run_for(account).evaluated.add(evaluated)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.is_worker:
            return
        document = self.runs.finish()
        if not self.config.option.prr_evidence:  # else written after the bundle, with its digest
            self.write_results(document)
        if self.reports:
            from pytest_prr.report.outputs import render, write_text

            for kind, path in self.reports.items():
                text = render(kind, document, catalog=self.runs.catalog)
                self._write(f"{kind} report", path, lambda p, t=text: write_text(p, t))
        if self.config.option.prr_securityhub_import:
            for run in self.runs.runs.values():
                self._import_findings(run)
        if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            session.exitstatus = self._exit_status(document)
        if self.output_errors:
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR

    def _exit_status(self, document: dict[str, Any]) -> pytest.ExitCode:
        """The matrix decides (``--prr-fail-on``), and any other test that failed."""
        from pytest_prr.exit_policy import parse_fail_on

        policy = parse_fail_on(self.config.option.prr_fail_on)
        failing = policy.failing(document["controls"])
        self.exit_reason = (
            f"exit status {1 if failing or self.other_failures else 0}: "
            f"{len(failing)} control(s) fail the run under --prr-fail-on={policy.text}"
            + (f", and {self.other_failures} other test(s) failed" if self.other_failures else "")
        )
        if failing or self.other_failures:
            return pytest.ExitCode.TESTS_FAILED
        return pytest.ExitCode.OK

    def write_results(self, document: dict[str, Any]) -> bool:
        """Write the ``--prr-json`` document, if asked for; False when that failed."""
        if self.runs.json_path is None:
            return True
        from pytest_prr.report.json_document import write_document

        return self._write("results", self.runs.json_path, lambda p: write_document(document, p))

    def _write(self, what: str, path: Path, write: Callable[[Path], None]) -> bool:
        """Write one output; a failure is reported and fails the run, the others still go."""
        try:
            write(path)
        except OSError as error:
            self.output_errors.append(f"cannot write {path}: {error.strerror}")
            return False
        self.written.append(f"{what} written to {path}")
        return True

    def _import_findings(self, run: ReadinessRun) -> None:
        """The one write of pytest-prr, on a session that admits nothing else: each account
        imports its own findings, with its own credentials."""
        from pytest_prr.report.asff import to_asff
        from pytest_prr.securityhub import SecurityHubImportError, import_findings
        from pytest_prr.sessions import open_session
        from pytest_prr.snapshot.guard import FINDINGS_IMPORT

        findings = to_asff(self.runs.account_document(run), catalog=self.runs.catalog)
        session = open_session(run.account, run.endpoint_url, admit={FINDINGS_IMPORT})
        try:
            self.written.append(f"Security Hub: {import_findings(session, findings).describe()}")
        except SecurityHubImportError as error:
            self.output_errors.append(f"Security Hub import failed: {error}")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.is_worker or self.runs.document is None:
            return
        from pytest_prr.report.terminal import render_headline, render_matrix

        accounts = [run.account.describe() for run in self.runs.runs.values()]
        if self.runs.several:
            terminalreporter.write_sep("=", f"prr control coverage: {len(accounts)} accounts")
            for account in accounts:
                terminalreporter.write_line(f"prr: account {account}")
        else:
            terminalreporter.write_sep("=", f"prr control coverage: {accounts[0]}")
        for line, colour in render_headline(self.runs.document):
            terminalreporter.write_line(line, **({colour: True} if colour else {}))
        terminalreporter.write_line("")
        verbose = self.config.get_verbosity() > 0
        shown = self.shown if self.config.option.tbstyle != "no" else frozenset()
        for line in render_matrix(self.runs.document, verbose=verbose, shown=shown):
            terminalreporter.write_line(line)
        for line in self.written:
            terminalreporter.write_line(f"prr: {line}")
        for line in self.output_errors:
            terminalreporter.write_line(f"prr: {line}", red=True)
        if self.exit_reason is not None:
            terminalreporter.write_line(f"prr: {self.exit_reason}")

    def pytest_unconfigure(self) -> None:
        self.runs.close()
        server = self.config.stash.get(server_key, None)
        if server is not None:
            server.stop()
        environment = self.config.stash.get(environment_key, None)
        if environment is not None:
            environment.undo()


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
        from pytest_prr.results import rollup

        results = item.stash.get(item_results_key, [])
        report.user_properties.append(("prr_status", rollup(r.status for r in results)))
    return report


class LineWriter:
    """Terminal lines from the snapshot threads of several accounts: one at a time, each
    naming its account."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self._lock = threading.Lock()

    def for_account(self, name: str) -> Callable[[str], None]:
        def write(line: str) -> None:
            with self._lock:
                self._write(f"prr: {name}: {line.removeprefix('prr: ')}")

        return write
