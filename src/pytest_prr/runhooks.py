"""The hooks of a readiness run: registered by the plugin only once an account (or a
stored snapshot) is selected, so a plain pytest run never pays for them."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_prr.api import control_ids

if TYPE_CHECKING:
    from pytest_prr.run import ReadinessRun

REPORT_KEY = "prr_results"
WORKER_ENDPOINT_KEY = "prr_endpoint_url"
WORKER_SNAPSHOT_KEY = "prr_snapshot"
#: The rendered reports: format (``report.outputs.FORMATS``) -> the option naming its file.
REPORT_OPTIONS = (("html", "prr_html"), ("csv", "prr_csv"), ("markdown", "prr_markdown"))

environment_key = pytest.StashKey[pytest.MonkeyPatch]()
server_key = pytest.StashKey[Any]()


def register_run_hooks(config: pytest.Config, run: ReadinessRun) -> None:
    """Register the run's hooks in this process; a worker takes the controller's moto
    endpoint and snapshot instead of making its own."""
    config.pluginmanager.register(_ReadinessHooks(config, run), "prr-run")
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        run.endpoint_url = workerinput.get(WORKER_ENDPOINT_KEY)
        run.receive_snapshot(workerinput.get(WORKER_SNAPSHOT_KEY))
        if run.account.mode == "moto":
            _use_dummy_credentials(config, run.account.region)
        return
    if config.option.prr_evidence:
        config.pluginmanager.register(_EvidenceHooks(config, run), "prr-evidence")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistControllerHooks(run), "prr-xdist")


def _use_dummy_credentials(config: pytest.Config, region: str) -> None:
    from pytest_prr.sessions import emulator_environment

    environment = config.stash.setdefault(environment_key, pytest.MonkeyPatch())
    for variable, value in emulator_environment(region).items():
        environment.setenv(variable, value)
    environment.delenv("AWS_PROFILE", raising=False)


class _XdistControllerHooks:
    """Registered on the xdist controller only: hands the moto endpoint to the workers."""

    def __init__(self, run: ReadinessRun) -> None:
        self.run = run

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[WORKER_ENDPOINT_KEY] = self.run.endpoint_url
        node.workerinput[WORKER_SNAPSHOT_KEY] = self.run.snapshot_reference()


class _ReadinessHooks:
    """The hooks of a run with an account; registered only then, in every process."""

    def __init__(self, config: pytest.Config, run: ReadinessRun) -> None:
        self.config = config
        self.run = run
        self.is_worker = hasattr(config, "workerinput")
        self.output_errors: list[str] = []
        self.written: list[str] = []
        self.reports = {
            kind: config.invocation_params.dir / path
            for kind, option in REPORT_OPTIONS
            if (path := getattr(config.option, option))
        }

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Prepare the account and take its snapshot, before xdist starts its workers."""
        if self.is_worker:
            return
        if self.run.account.mode == "moto":
            self._start_moto()
        if self.run.account.mode != "snapshot":
            self._take_snapshot()

    def _take_snapshot(self) -> None:
        from pytest_prr.snapshot.progress import SnapshotProgress

        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        quiet = reporter is None or self.config.get_verbosity() < 0
        progress = None if quiet else SnapshotProgress(reporter.write_line)
        if self.run.allow_writes and reporter is not None:
            reporter.write_line(
                f"prr: WARNING: write calls are allowed on {self.run.account.describe()} "
                "(--prr-allow-writes)",
                yellow=True,
            )
        summary = self.run.take_snapshot(progress=progress)
        if not quiet:
            reporter.write_line(summary)

    def _start_moto(self) -> None:
        from pytest_prr.motoserver import MotoServer
        from pytest_prr.sessions import open_session

        server = MotoServer()
        self.config.stash[server_key] = server
        self.run.endpoint_url = server.start()
        _use_dummy_credentials(self.config, self.run.account.region)
        try:
            self.config.hook.pytest_prr_seed_account(
                session=open_session(self.run.account, self.run.endpoint_url),
                account=self.run.account,
            )
        except Exception:
            pytest.exit(
                "prr: pytest_prr_seed_account failed, so the moto account is not what the "
                f"tests expect:\n{traceback.format_exc()}",
                returncode=pytest.ExitCode.INTERNAL_ERROR,
            )

    def pytest_collection_modifyitems(
        self, session: pytest.Session, items: list[pytest.Item]
    ) -> None:
        from pytest_prr.report.junit import control_properties

        if not self.config.option.prr_no_builtin:
            from pytest_prr.builtin import control_items

            items.extend(control_items(session, self.run, self.config.option.prr_controls))
        for item in items:
            ids = control_ids(item)
            if ids:
                item.user_properties.extend(
                    control_properties(
                        ids,
                        self.run.catalog,
                        account=self.run.account.name,
                        account_id=self.run.account.account_id,
                        regions=self.run.account.regions,
                    )
                )

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        """Attach the phase's results to its report; the report carries them across xdist."""
        report = yield
        if hasattr(item, "findings"):
            if report.when == "call":
                results = self.run.results_for_control(item, call.excinfo)
                report.__dict__[REPORT_KEY] = [result.to_dict() for result in results]
            return report
        ids = control_ids(item)
        if ids:
            results = self.run.results_for_phase(ids, item.nodeid, report, call.excinfo)
            if results:
                report.__dict__[REPORT_KEY] = [result.to_dict() for result in results]
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not self.is_worker:
            self.run.add_reported(getattr(report, REPORT_KEY, []))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.is_worker:
            return
        document = self.run.finish()
        if self.run.json_path is not None:
            from pytest_prr.report.json_document import write_document

            self._write("results", self.run.json_path, lambda p: write_document(document, p))
        if self.reports:
            from pytest_prr.report.outputs import render, write_text

            for kind, path in self.reports.items():
                text = render(kind, document, catalog=self.run.catalog)
                self._write(f"{kind} report", path, lambda p, t=text: write_text(p, t))
        if self.config.option.prr_securityhub_import:
            self._import_findings(document)
        if self.output_errors:
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR

    def _write(self, what: str, path: Path, write: Callable[[Path], None]) -> None:
        """Write one output; a failure is reported and fails the run, the others still go."""
        try:
            write(path)
        except OSError as error:
            self.output_errors.append(f"cannot write {path}: {error.strerror}")
        else:
            self.written.append(f"{what} written to {path}")

    def _import_findings(self, document: dict[str, Any]) -> None:
        """The one write of pytest-prr, on a session that admits nothing else."""
        from pytest_prr.report.asff import to_asff
        from pytest_prr.securityhub import SecurityHubImportError, import_findings
        from pytest_prr.sessions import open_session

        findings = to_asff(document, catalog=self.run.catalog)
        session = open_session(self.run.account, self.run.endpoint_url, allow_findings_import=True)
        try:
            self.written.append(f"Security Hub: {import_findings(session, findings).describe()}")
        except SecurityHubImportError as error:
            self.output_errors.append(f"Security Hub import failed: {error}")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.is_worker or self.run.document is None:
            return
        from pytest_prr.report.terminal import render_matrix

        terminalreporter.write_sep("=", f"prr control coverage: {self.run.account.describe()}")
        verbose = self.config.get_verbosity() > 0
        for line in render_matrix(self.run.document, verbose=verbose):
            terminalreporter.write_line(line)
        for line in self.written:
            terminalreporter.write_line(f"prr: {line}")
        for line in self.output_errors:
            terminalreporter.write_line(f"prr: {line}", red=True)

    def pytest_unconfigure(self) -> None:
        self.run.close()
        server = self.config.stash.get(server_key, None)
        if server is not None:
            server.stop()
        environment = self.config.stash.get(environment_key, None)
        if environment is not None:
            environment.undo()


class _EvidenceHooks:
    """Registered on the controller with ``--prr-evidence``: writes the bundle once pytest's
    junitxml has written its file (trylast), before the run's scratch snapshot is removed."""

    def __init__(self, config: pytest.Config, run: ReadinessRun) -> None:
        self.config = config
        self.run = run

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from pytest_prr.evidence import EvidenceError, write_bundle

        config = self.config
        if self.run.document is None or self.run.snapshot_path is None:
            return
        here = config.invocation_params.dir
        junit = config.option.xmlpath
        waivers = config.getini("prr_waivers")
        directory = here / config.option.prr_evidence
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        try:
            write_bundle(
                directory,
                document=self.run.document,
                snapshot_path=self.run.snapshot_path,
                junit_path=here / junit if junit else None,
                command_line=["pytest", *config.invocation_params.args],
                tunables=self.run.tunables,
                waivers_file=Path(waivers[0]) if waivers else None,
                waivers_judged_on=self.run.judged_on if waivers else None,
                catalog_files=[Path(p) for p in config.getini("prr_catalog")],
                attestation_files=[Path(p) for p in config.getini("prr_attestations")],
            )
        except (EvidenceError, OSError) as error:
            if reporter is not None:
                reporter.write_line(f"prr: cannot write the evidence bundle: {error}", red=True)
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
        else:
            if reporter is not None:
                reporter.write_line(f"prr: evidence bundle written to {directory}")
