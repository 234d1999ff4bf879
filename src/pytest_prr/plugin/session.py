"""How a readiness run starts and ends in each process: its hooks are registered only once
an account (or a stored snapshot) is selected, so a plain pytest run never pays for them.

On the controller the session start readies each account (the embedded moto server,
seeded, with any template deployed) and takes the snapshots, before pytest-xdist starts
its workers; a worker takes the controller's moto endpoint and snapshots instead.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from pytest_prr.accounts.config import Account
from pytest_prr.plugin import multiaccount
from pytest_prr.plugin.collection import CollectionHooks
from pytest_prr.plugin.evidence import EvidenceHooks
from pytest_prr.plugin.finish import FinishHooks
from pytest_prr.plugin.running import RunningHooks
from pytest_prr.plugin.state import WORKER_RUNS_KEY, environment_key, server_key
from pytest_prr.results.attestations import unbound_warning
from pytest_prr.snapshot.progress import SnapshotProgress

if TYPE_CHECKING:
    from pytest_prr.plugin.state import Progress, RunState
    from pytest_prr.results.run import AccountRun


def register_run_hooks(config: pytest.Config, runs: RunState) -> None:
    """Register the run's hooks in this process, by job: the session, collection, running
    the items, and what the run writes when it ends."""

    finish = FinishHooks(config, runs)
    for name, hooks in (
        ("prr-session", SessionHooks(config, runs)),
        ("prr-collection", CollectionHooks(config, runs)),
        ("prr-running", RunningHooks(config, runs)),
        ("prr-finish", finish),
    ):
        config.pluginmanager.register(hooks, name)
    if runs.several:
        config.pluginmanager.register(multiaccount, "prr-accounts")
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        for name, handed in workerinput[WORKER_RUNS_KEY].items():
            run = runs.runs[name]
            run.account = Account.from_dict(handed["account"])
            run.unreadable = handed["unreadable"]
            run.caller_arn = handed["caller_arn"]
            run.endpoint_url = handed["endpoint_url"]
            run.receive_snapshot(handed["snapshot"])
            if run.account.mode == "moto":
                _use_dummy_credentials(config, run.account.region)
        return
    if config.option.prr_evidence:
        config.pluginmanager.register(
            EvidenceHooks(config, runs, finish.write_results), "prr-evidence"
        )
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistControllerHooks(runs), "prr-xdist")


def _use_dummy_credentials(config: pytest.Config, region: str) -> None:
    # boto3 (and moto) load only for a run that reads AWS or an emulator
    from pytest_prr.accounts.sessions import emulator_environment

    environment = config.stash.setdefault(environment_key, pytest.MonkeyPatch())
    for variable, value in emulator_environment(region).items():
        environment.setenv(variable, value)
    environment.delenv("AWS_PROFILE", raising=False)


class _XdistControllerHooks:
    """Registered on the xdist controller only: hands each account as read (its Regions,
    whether it could be read, who read it), its moto endpoint and snapshot to the workers."""

    def __init__(self, runs: RunState) -> None:
        self.runs = runs

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[WORKER_RUNS_KEY] = {
            name: {
                # as read: an organization's member with the Regions enabled in it
                "account": run.account.to_dict(),
                "unreadable": run.unreadable,
                "caller_arn": run.caller_arn,
                "endpoint_url": run.endpoint_url,
                "snapshot": run.snapshot_reference(),
            }
            for name, run in self.runs.runs.items()
        }


class SessionHooks:
    """The start and end of a run with an account: registered only then, in every process."""

    def __init__(self, config: pytest.Config, runs: RunState) -> None:
        self.config = config
        self.runs = runs
        self.is_worker = hasattr(config, "workerinput")

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

        def progress_for(run: AccountRun) -> Progress:
            if not self.runs.several:
                return SnapshotProgress(reporter.write_line)
            return SnapshotProgress(lines.for_account(run.account.name))

        for summary in self.runs.take_snapshots(progress_for):
            reporter.write_line(summary)

    def _trust_warnings(self) -> list[str]:
        """What the run's verdicts rest on that nothing checked: a replayed snapshot without
        its digest, attestations bound to no workload (said once: every account shares them)."""

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

    def _start_moto(self, run: AccountRun) -> None:
        # boto3 (and moto) load only for a run that reads AWS or an emulator
        from pytest_prr.accounts.motoserver import MotoServer
        from pytest_prr.accounts.sessions import open_session

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

    def pytest_unconfigure(self) -> None:
        self.runs.close()
        server = self.config.stash.get(server_key, None)
        if server is not None:
            server.stop()
        environment = self.config.stash.get(environment_key, None)
        if environment is not None:
            environment.undo()


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
