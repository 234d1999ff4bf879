"""pytest-prr's pytest hooks, options, marker and fixtures.

Hooks stay thin; the logic lives in plain modules. Without ``--prr-account`` the plugin
stays out of the way: it only checks the control IDs of tests that use its marker.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_prr.api import MARKER, control_ids
from pytest_prr.fixtures import prr_account, prr_client, prr_session, prr_snapshot

if TYPE_CHECKING:
    from pytest_prr.accounts import Account, AccountSettings
    from pytest_prr.catalog import Catalog
    from pytest_prr.run import ReadinessRun

__all__ = ["prr_account", "prr_client", "prr_session", "prr_snapshot"]

HELP_ACCOUNT = (
    "run readiness controls against account NAME: 'moto' (a mocked account, no AWS needed) "
    "or a name configured in [tool.prr.accounts.NAME] of pyproject.toml or prr.toml"
)
HELP_JSON = "write the control-coverage matrix (prr-results/1 JSON) to PATH"
HELP_CATALOG = "YAML file(s) of your own controls, added to the built-in catalog"
HELP_ATTESTATIONS = "YAML file of attestations for the process controls (PRC-*)"
HELP_SNAPSHOT_OUT = "save the account snapshot to PATH (and its SHA-256 to PATH.sha256)"
HELP_SNAPSHOT = "evaluate the snapshot stored at PATH, without any AWS access"
HELP_ALLOW_WRITES = (
    "let prr_session clients make write calls in live and endpoint modes (logged; "
    "by default every non-read operation is refused before it is sent)"
)
HELP_CONTROLS = "built-in controls to run: comma-separated IDs or globs, e.g. SEC-*,IAM-02"
HELP_NO_BUILTIN = "run only your own tests, none of the built-in controls"
REPORT_KEY = "prr_results"
WORKER_ENDPOINT_KEY = "prr_endpoint_url"
WORKER_SNAPSHOT_KEY = "prr_snapshot"

run_key = pytest.StashKey["ReadinessRun | None"]()
catalog_key = pytest.StashKey["Catalog"]()
environment_key = pytest.StashKey[pytest.MonkeyPatch]()
server_key = pytest.StashKey[Any]()
stored_key = pytest.StashKey[tuple[Any, str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("prr", "production readiness (pytest-prr)")
    group.addoption(
        "--prr-account", action="append", dest="prr_accounts", metavar="NAME", help=HELP_ACCOUNT
    )
    group.addoption("--prr-json", dest="prr_json", metavar="PATH", help=HELP_JSON)
    group.addoption(
        "--prr-snapshot-out", dest="prr_snapshot_out", metavar="PATH", help=HELP_SNAPSHOT_OUT
    )
    group.addoption("--prr-snapshot", dest="prr_snapshot", metavar="PATH", help=HELP_SNAPSHOT)
    group.addoption("--prr-controls", dest="prr_controls", metavar="IDS", help=HELP_CONTROLS)
    group.addoption(
        "--prr-no-builtin", action="store_true", dest="prr_no_builtin", help=HELP_NO_BUILTIN
    )
    group.addoption(
        "--prr-allow-writes", action="store_true", dest="prr_allow_writes", help=HELP_ALLOW_WRITES
    )
    parser.addini("prr_catalog", HELP_CATALOG, type="paths", default=[])
    parser.addini("prr_attestations", HELP_ATTESTATIONS, type="paths", default=[])


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_prr import hooks

    pluginmanager.add_hookspecs(hooks)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*control_ids): the test is evidence for these readiness controls; "
        "write it as @prr.control('SEC-04') after `import pytest_prr as prr`",
    )
    names = config.option.prr_accounts or []
    stored = config.option.prr_snapshot
    if config.getini("prr_catalog") or names or stored:
        _catalog(config)
    if stored and names:
        raise pytest.UsageError(
            "--prr-snapshot evaluates a stored snapshot without AWS; drop --prr-account"
        )
    if not names and not stored:
        for option in ("prr_json", "prr_snapshot_out"):
            if getattr(config.option, option):
                flag = "--" + option.replace("_", "-")
                raise pytest.UsageError(f"{flag} needs an account: add --prr-account=NAME")
        config.stash[run_key] = None
        return
    if len(names) > 1:
        raise pytest.UsageError(
            f"--prr-account given {len(names)} times; one account per run is supported "
            "(run once per account for now)"
        )
    settings = _settings(config)
    account = _stored_account(config, stored) if stored else _account(settings, names[0])
    _start_run(config, account, settings)


def _catalog(config: pytest.Config) -> Catalog:
    """The catalog, loaded once per process; a bad user file stops the run at start."""
    if catalog_key not in config.stash:
        from pytest_prr.catalog import CatalogError, builtin_catalog

        catalog = builtin_catalog()
        try:
            for path in config.getini("prr_catalog"):
                catalog = catalog.with_file(Path(path))
        except CatalogError as error:
            raise pytest.UsageError(f"prr: {error}") from error
        config.stash[catalog_key] = catalog
    return config.stash[catalog_key]


def _settings(config: pytest.Config) -> AccountSettings:
    from pytest_prr.accounts import AccountError, read_account_settings

    try:
        return read_account_settings(config.rootpath)
    except AccountError as error:
        raise pytest.UsageError(f"prr: {error}") from error


def _account(settings: AccountSettings, name: str) -> Account:
    from pytest_prr.accounts import AccountError

    try:
        return settings.resolve(name)
    except AccountError as error:
        raise pytest.UsageError(f"prr: {error}") from error


def _stored_account(config: pytest.Config, path: str) -> Account:
    """The account a stored snapshot was taken of; loading it checks the file."""
    from pytest_prr.snapshot.store import SnapshotError, load_snapshot

    try:
        snapshot, digest = load_snapshot(config.invocation_params.dir / path)
    except SnapshotError as error:
        raise pytest.UsageError(f"prr: {error}") from error
    config.stash[stored_key] = (snapshot, digest)
    return snapshot.account


def _path_option(config: pytest.Config, option: str) -> Path | None:
    value = getattr(config.option, option)
    return config.invocation_params.dir / value if value else None


def _start_run(config: pytest.Config, account: Account, settings: AccountSettings) -> None:
    from pytest_prr.catalog import CatalogError
    from pytest_prr.run import ReadinessRun

    catalog = _catalog(config)
    try:
        tunables = catalog.tunables(settings.tunables, settings.tunables_origin)
    except CatalogError as error:
        raise pytest.UsageError(f"prr: {error}") from error
    run = ReadinessRun(
        account=account,
        catalog=catalog,
        tunables=tunables,
        attestations=_attestations(config, catalog),
        json_path=_path_option(config, "prr_json"),
        snapshot_out=_path_option(config, "prr_snapshot_out"),
        allow_writes=config.option.prr_allow_writes,
    )
    if stored_key in config.stash:
        run.use_stored_snapshot(_path_option(config, "prr_snapshot"), *config.stash[stored_key])
    config.stash[run_key] = run
    config.pluginmanager.register(_ReadinessHooks(config, run), "prr-run")
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        run.endpoint_url = workerinput.get(WORKER_ENDPOINT_KEY)
        run.receive_snapshot(workerinput.get(WORKER_SNAPSHOT_KEY))
        if account.mode == "moto":
            _use_dummy_credentials(config, account.region)
        return
    if account.mode in ("live", "endpoint"):
        _verify_identity(account)
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistControllerHooks(run), "prr-xdist")


def _attestations(config: pytest.Config, catalog: Catalog) -> list[Any]:
    from pytest_prr.attestations import AttestationError, load_attestations

    attested = [control.id for control in catalog if control.automation == "attested"]
    try:
        return [
            attestation
            for path in config.getini("prr_attestations")
            for attestation in load_attestations(Path(path), attested)
        ]
    except AttestationError as error:
        raise pytest.UsageError(f"prr: {error}") from error


def _verify_identity(account: Any) -> None:
    from pytest_prr.accounts import AccountError
    from pytest_prr.sessions import open_session, verify_identity

    try:
        verify_identity(open_session(account), account)
    except AccountError as error:
        raise pytest.UsageError(f"prr: {error}") from error


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


def active_run(config: pytest.Config) -> ReadinessRun | None:
    """The readiness run of this process, or None when no account was selected."""
    return config.stash.get(run_key, None)


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Any:
    """Turn a test that names an unknown control into a collection error for its file."""
    report = yield
    if report.passed:
        unknown = [
            (item.nodeid, control_id)
            for item in report.result
            if isinstance(item, pytest.Item)
            for control_id in control_ids(item)
            if control_id not in _catalog(collector.config)
        ]
        if unknown:
            catalog = _catalog(collector.config)
            report.outcome = "failed"
            report.longrepr = "\n".join(
                f"prr: {nodeid} names unknown control {control_id!r}; "
                f"did you mean {', '.join(catalog.suggest(control_id)) or 'none close'}? "
                "(`prr catalog` lists every control)"
                for nodeid, control_id in unknown
            )
            report.result = []
    return report


class _ReadinessHooks:
    """The hooks of a run with an account; registered only then, in every process."""

    def __init__(self, config: pytest.Config, run: ReadinessRun) -> None:
        self.config = config
        self.run = run
        self.is_worker = hasattr(config, "workerinput")
        self.json_error: str | None = None

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

            try:
                write_document(document, self.run.json_path)
            except OSError as error:
                self.json_error = f"cannot write {self.run.json_path}: {error.strerror}"
                session.exitstatus = pytest.ExitCode.INTERNAL_ERROR

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.is_worker or self.run.document is None:
            return
        from pytest_prr.report.terminal import render_matrix

        terminalreporter.write_sep("=", f"prr control coverage: {self.run.account.describe()}")
        verbose = self.config.get_verbosity() > 0
        for line in render_matrix(self.run.document, verbose=verbose):
            terminalreporter.write_line(line)
        if self.json_error:
            terminalreporter.write_line(f"prr: {self.json_error}", red=True)
        elif self.run.json_path is not None:
            terminalreporter.write_line(f"prr: results written to {self.run.json_path}")

    def pytest_unconfigure(self) -> None:
        self.run.close()
        server = self.config.stash.get(server_key, None)
        if server is not None:
            server.stop()
        environment = self.config.stash.get(environment_key, None)
        if environment is not None:
            environment.undo()
