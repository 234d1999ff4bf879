"""What a readiness run does when it ends, on the controller: build the document, write
every output asked for (a failure is reported and fails the run; the others still go),
import the findings into Security Hub when asked, set the exit status from the matrix, and
print the headline and the matrix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_prr.accounts.guard import FINDINGS_IMPORT
from pytest_prr.report.asff import to_asff
from pytest_prr.report.json_document import write_document
from pytest_prr.report.outputs import render, write_text
from pytest_prr.report.terminal import render_headline, render_matrix
from pytest_prr.results.exit_policy import parse_fail_on

if TYPE_CHECKING:
    from pytest_prr.plugin.state import RunState
    from pytest_prr.results.run import AccountRun

#: The rendered reports: format (``report.outputs.FORMATS``) -> the option naming its file.
REPORT_OPTIONS = (("html", "prr_html"), ("csv", "prr_csv"), ("markdown", "prr_markdown"))


class FinishHooks:
    def __init__(self, config: pytest.Config, runs: RunState) -> None:
        self.config = config
        self.runs = runs
        self.is_worker = hasattr(config, "workerinput")
        self.output_errors: list[str] = []
        self.exit_reason: str | None = None
        self.written: list[str] = []
        self.reports = {
            kind: config.invocation_params.dir / path
            for kind, option in REPORT_OPTIONS
            if (path := getattr(config.option, option))
        }

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.is_worker:
            return
        document = self.runs.finish()
        if not self.config.option.prr_evidence:  # else written after the bundle, with its digest
            self.write_results(document)
        if self.reports:
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

        policy = parse_fail_on(self.config.option.prr_fail_on)
        failing = policy.failing(document["controls"])
        others = self.runs.tally.other_failures
        self.exit_reason = (
            f"exit status {1 if failing or others else 0}: "
            f"{len(failing)} control(s) fail the run under --prr-fail-on={policy.text}"
            + (f", and {others} other test(s) failed" if others else "")
        )
        if failing or others:
            return pytest.ExitCode.TESTS_FAILED
        return pytest.ExitCode.OK

    def write_results(self, document: dict[str, Any]) -> bool:
        """Write the ``--prr-json`` document, if asked for; False when that failed."""
        if self.runs.json_path is None:
            return True

        return self._write("results", self.runs.json_path, lambda p: write_document(document, p))

    def _write(self, what: str, path: Path, write: Callable[[Path], None]) -> bool:
        try:
            write(path)
        except OSError as error:
            self.output_errors.append(f"cannot write {path}: {error.strerror}")
            return False
        self.written.append(f"{what} written to {path}")
        return True

    def _import_findings(self, run: AccountRun) -> None:
        """A write pytest-prr makes only when asked, on a session that admits nothing else:
        each account imports its own findings, with its own credentials."""
        # boto3 (and moto) load only for a run that reads AWS or an emulator
        from pytest_prr.accounts.sessions import open_session
        from pytest_prr.report.securityhub import SecurityHubImportError, import_findings

        if run.unreadable is not None:
            self.output_errors.append(
                f"Security Hub import skipped for {run.account.name}: it could not be read"
            )
            return
        findings = to_asff(self.runs.account_document(run), catalog=self.runs.catalog)
        session = open_session(run.account, run.endpoint_url, admit={FINDINGS_IMPORT})
        try:
            self.written.append(f"Security Hub: {import_findings(session, findings).describe()}")
        except SecurityHubImportError as error:
            self.output_errors.append(f"Security Hub import failed: {error}")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.is_worker or self.runs.document is None:
            return

        # Accounts that could not be read come first: nothing of theirs was judged.
        runs = sorted(self.runs.runs.values(), key=lambda run: run.unreadable is None)
        accounts = [run.account.describe() for run in runs]
        if self.runs.several:
            terminalreporter.write_sep("=", f"prr control coverage: {len(accounts)} accounts")
            for run, account in zip(runs, accounts, strict=True):
                if run.unreadable is not None:
                    terminalreporter.write_line(
                        f"prr: account {account} NOT READ: {run.unreadable}", red=True
                    )
                else:
                    terminalreporter.write_line(f"prr: account {account}")
        else:
            terminalreporter.write_sep("=", f"prr control coverage: {accounts[0]}")
        for line, colour in render_headline(self.runs.document):
            terminalreporter.write_line(line, **({colour: True} if colour else {}))
        terminalreporter.write_line("")
        verbose = self.config.get_verbosity() > 0
        shown = self.runs.tally.shown if self.config.option.tbstyle != "no" else frozenset()
        for line in render_matrix(self.runs.document, verbose=verbose, shown=shown):
            terminalreporter.write_line(line)
        for line in self.written:
            terminalreporter.write_line(f"prr: {line}")
        for line in self.output_errors:
            terminalreporter.write_line(f"prr: {line}", red=True)
        if self.exit_reason is not None:
            terminalreporter.write_line(f"prr: {self.exit_reason}")
