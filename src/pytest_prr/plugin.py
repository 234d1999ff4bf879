"""pytest-prr's pytest hooks, options, marker and fixtures.

Hooks stay thin; the logic lives in plain modules. Without ``--prr-account`` the plugin
stays out of the way: it only checks the control IDs of tests that use its marker.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_prr.api import MARKER, control_ids
from pytest_prr.fixtures import _prr_target, prr_account, prr_client, prr_session, prr_snapshot

if TYPE_CHECKING:
    from pytest_prr.accounts import Account, AccountSettings
    from pytest_prr.catalog import Catalog
    from pytest_prr.runs import ReadinessRuns

__all__ = ["_prr_target", "prr_account", "prr_client", "prr_session", "prr_snapshot"]

HELP_ACCOUNT = (
    "run readiness controls against account NAME: 'moto' (a mocked account, no AWS needed) "
    "or a name configured in [tool.prr.accounts.NAME] of pyproject.toml or prr.toml; "
    "repeat it to run over several accounts (tests then run once per account)"
)
HELP_JSON = "write the control-coverage matrix (prr-results/1 JSON) to PATH"
HELP_HTML = "write a self-contained HTML report (matrix, frameworks, every resource) to PATH"
HELP_CSV = "write the results as CSV, one row per control and resource, to PATH"
HELP_MARKDOWN = "write a Markdown readiness checklist (for a pull-request comment) to PATH"
HELP_EVIDENCE = (
    "write an evidence bundle to DIR: snapshot, results, JUnit XML, one file per control and "
    "manifest.json with SHA-256s; check it later with `prr verify DIR`"
)
HELP_SIGN_KEY = (
    "sign the evidence bundle's manifest.json with this PEM private key (Ed25519, ECDSA P-256 "
    "or RSA 2048+; an encrypted key's passphrase in $PRR_SIGN_KEY_PASSPHRASE), writing "
    "manifest.json.sig"
)
HELP_SIGN_KMS = (
    "sign the evidence bundle's manifest.json with this asymmetric AWS KMS key of the "
    "account (id, ARN or alias; ECC_NIST_P256 or RSA): kms:Sign is then the one write "
    "besides --prr-securityhub-import that pytest-prr makes"
)
HELP_SECURITYHUB = (
    "after the run, send failed and errored resources to AWS Security Hub as ASFF findings "
    "(BatchImportFindings, a write pytest-prr makes only when asked)"
)
HELP_WAIVERS = (
    "YAML file of waivers (risk acceptances): a FAIL of a control on the resources, or from "
    "the tests, a waiver names becomes 'waived' until the waiver expires"
)
#: Options that write one account's files, which a run over several accounts cannot.
SINGLE_ACCOUNT_OPTIONS = (("prr_snapshot_out", "snapshot file"), ("prr_evidence", "bundle"))
#: Options that write what a run found, so they need a run (an account or a snapshot).
OUTPUT_OPTIONS = (
    "prr_json",
    "prr_html",
    "prr_csv",
    "prr_markdown",
    "prr_evidence",
    "prr_snapshot_out",
    "prr_securityhub_import",
)
HELP_CATALOG = "YAML file(s) of your own controls, added to the built-in catalog"
HELP_ATTESTATIONS = "YAML file of attestations for the process controls (PRC-*)"
HELP_WORKLOAD = (
    "the workload this run is about: only attestations whose scope is this workload count "
    "(without it, any attestation counts and the run warns)"
)
HELP_SNAPSHOT_OUT = "save the account snapshot to PATH (and its SHA-256 to PATH.sha256)"
HELP_SNAPSHOT = "evaluate the snapshot stored at PATH, without any AWS access"
HELP_SNAPSHOT_UNVERIFIED = (
    "evaluate a --prr-snapshot whose PATH.sha256 is missing, so that nothing shows it unaltered "
    "(the results record snapshot_verified: false)"
)
HELP_ALLOW_WRITES = (
    "let prr_session clients make write calls in live and endpoint modes (logged; "
    "by default every non-read operation is refused before it is sent)"
)
HELP_TEMPLATE = (
    "deploy the SAM, CloudFormation or `cdk synth` template at PATH into the embedded moto "
    "account and run the readiness controls on it, before it ships (repeatable; implies "
    "--prr-account=moto)"
)
HELP_TEMPLATE_PARAM = "a template parameter value, KEY=VALUE (repeatable; wins over files)"
HELP_TEMPLATE_PARAMS = (
    "a file of template parameter values: CloudFormation's parameters JSON, "
    '{"Parameters": {...}}, or samconfig.toml'
)
HELP_CONTROLS = "built-in controls to run: comma-separated IDs or globs, e.g. SEC-*,IAM-02"
HELP_NO_BUILTIN = "run only your own tests, none of the built-in controls"

runs_key = pytest.StashKey["ReadinessRuns | None"]()
catalog_key = pytest.StashKey["Catalog"]()
stored_key = pytest.StashKey[tuple[Any, str, bool]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("prr", "production readiness (pytest-prr)")
    group.addoption(
        "--prr-account", action="append", dest="prr_accounts", metavar="NAME", help=HELP_ACCOUNT
    )
    group.addoption("--prr-json", dest="prr_json", metavar="PATH", help=HELP_JSON)
    group.addoption("--prr-html", dest="prr_html", metavar="PATH", help=HELP_HTML)
    group.addoption("--prr-csv", dest="prr_csv", metavar="PATH", help=HELP_CSV)
    group.addoption("--prr-markdown", dest="prr_markdown", metavar="PATH", help=HELP_MARKDOWN)
    group.addoption("--prr-evidence", dest="prr_evidence", metavar="DIR", help=HELP_EVIDENCE)
    group.addoption("--prr-sign-key", dest="prr_sign_key", metavar="PEM", help=HELP_SIGN_KEY)
    group.addoption("--prr-sign-kms", dest="prr_sign_kms", metavar="KEY", help=HELP_SIGN_KMS)
    group.addoption(
        "--prr-securityhub-import",
        action="store_true",
        dest="prr_securityhub_import",
        help=HELP_SECURITYHUB,
    )
    group.addoption(
        "--prr-snapshot-out", dest="prr_snapshot_out", metavar="PATH", help=HELP_SNAPSHOT_OUT
    )
    group.addoption("--prr-snapshot", dest="prr_snapshot", metavar="PATH", help=HELP_SNAPSHOT)
    group.addoption(
        "--prr-snapshot-unverified",
        action="store_true",
        dest="prr_snapshot_unverified",
        help=HELP_SNAPSHOT_UNVERIFIED,
    )
    group.addoption("--prr-controls", dest="prr_controls", metavar="IDS", help=HELP_CONTROLS)
    group.addoption(
        "--prr-fail-on",
        dest="prr_fail_on",
        metavar="STATUSES",
        help="which controls make the run exit 1, whatever pytest thought of their tests (an "
        "xfail included): STATUS[:SEVERITY],... with STATUS fail, error or not_tested and the "
        "lowest SEVERITY; default fail,error; 'none' for a report-only run",
    )
    group.addoption(
        "--prr-no-builtin", action="store_true", dest="prr_no_builtin", help=HELP_NO_BUILTIN
    )
    group.addoption(
        "--prr-allow-writes", action="store_true", dest="prr_allow_writes", help=HELP_ALLOW_WRITES
    )
    group.addoption(
        "--prr-template", action="append", dest="prr_templates", metavar="PATH", help=HELP_TEMPLATE
    )
    group.addoption(
        "--prr-template-param",
        action="append",
        dest="prr_template_params",
        metavar="KEY=VALUE",
        default=[],
        help=HELP_TEMPLATE_PARAM,
    )
    group.addoption(
        "--prr-template-params",
        action="append",
        dest="prr_template_param_files",
        metavar="FILE",
        default=[],
        help=HELP_TEMPLATE_PARAMS,
    )
    parser.addini("prr_template", HELP_TEMPLATE, type="paths", default=[])
    parser.addini("prr_catalog", HELP_CATALOG, type="paths", default=[])
    parser.addini("prr_attestations", HELP_ATTESTATIONS, type="paths", default=[])
    parser.addini("prr_workload", HELP_WORKLOAD, type="string", default="")
    parser.addini("prr_waivers", HELP_WAIVERS, type="paths", default=[])


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_prr import hooks

    pluginmanager.add_hookspecs(hooks)


@pytest.hookimpl(tryfirst=True)  # before junitxml's, which reads the JUnit path it may set
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*control_ids): the test is evidence for these readiness controls; "
        "write it as @prr.control('SEC-04') after `import pytest_prr as prr`",
    )
    names = config.option.prr_accounts or []
    templates = _template_paths(config)
    if not templates and (
        config.option.prr_template_params or config.option.prr_template_param_files
    ):
        raise pytest.UsageError(
            "--prr-template-param(s) give a template's parameters: add --prr-template"
        )
    if templates and config.option.prr_snapshot:
        raise pytest.UsageError("--prr-snapshot evaluates a stored snapshot: drop --prr-template")
    if templates and "moto" not in names:
        names = [*names, "moto"]
    stored = config.option.prr_snapshot
    _check_signing_options(config)
    if config.getini("prr_catalog") or names or stored:
        _catalog(config)
    if config.option.prr_snapshot_unverified and not stored:
        raise pytest.UsageError("--prr-snapshot-unverified applies to --prr-snapshot=PATH only")
    if stored and names:
        raise pytest.UsageError(
            "--prr-snapshot evaluates a stored snapshot without AWS; drop --prr-account"
        )
    if stored and config.option.prr_sign_kms:
        raise pytest.UsageError(
            "--prr-sign-kms signs with a key of the run's account, and a stored snapshot has "
            "no account session: use --prr-sign-key, or --prr-account"
        )
    if stored and config.option.prr_securityhub_import:
        raise pytest.UsageError(
            "--prr-securityhub-import needs the account's credentials: use --prr-account, or "
            "`prr export-asff RESULTS.json --import` with a profile"
        )
    if not names and not stored:
        for option in OUTPUT_OPTIONS:
            if getattr(config.option, option):
                flag = "--" + option.replace("_", "-")
                raise pytest.UsageError(f"{flag} needs an account: add --prr-account=NAME")
        config.stash[runs_key] = None
        return
    if config.option.prr_evidence:
        _junit_for_the_bundle(config)
    settings = _settings(config)
    if stored:
        accounts = [_stored_account(config, stored)]
    else:
        accounts = [_account(settings, name) for name in names]
        if len(accounts) > 1:
            _check_several_accounts(config, accounts)
    _start_runs(config, accounts, settings, templates)


def _template_paths(config: pytest.Config) -> list[Path]:
    """The templates to deploy: ``--prr-template``, else the ini's ``prr_template``."""
    given = config.option.prr_templates
    if given:
        return [Path(path) for path in given]
    return [Path(path) for path in config.getini("prr_template")]


def _prepare_templates(config: pytest.Config, paths: list[Path], region: str) -> list[Any]:
    """Read, package and transform the templates before anything starts (on the
    controller only): a template that cannot deploy is a usage error naming the file, the
    resource and the problem."""
    if not paths or hasattr(config, "workerinput"):
        return []
    from pytest_prr.deploy import TemplateError, prepare_all

    files = [Path(file) for file in config.option.prr_template_param_files]
    try:
        return prepare_all(paths, config.option.prr_template_params, files, region)
    except TemplateError as error:
        raise pytest.UsageError(f"prr: {error}") from None


def _junit_for_the_bundle(config: pytest.Config) -> None:
    """An evidence bundle always holds the run's JUnit XML: ``prr verify`` checks the results
    of users' tests against it. Without ``--junitxml`` it is written to a scratch file."""
    if config.option.xmlpath or hasattr(config, "workerinput"):
        return
    import shutil
    import tempfile

    scratch = tempfile.mkdtemp(prefix="prr-junit-")
    config.add_cleanup(lambda: shutil.rmtree(scratch, ignore_errors=True))
    config.option.xmlpath = str(Path(scratch) / "junit.xml")


def _check_signing_options(config: pytest.Config) -> None:
    """A signature is over an evidence bundle's manifest, made with one key."""
    option = config.option
    if option.prr_sign_key and option.prr_sign_kms:
        raise pytest.UsageError("give either --prr-sign-key or --prr-sign-kms, not both")
    for flag, given in (
        ("--prr-sign-key", option.prr_sign_key),
        ("--prr-sign-kms", option.prr_sign_kms),
    ):
        if given and not option.prr_evidence:
            raise pytest.UsageError(
                f"{flag} signs the evidence bundle's manifest: add --prr-evidence=DIR"
            )


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


def _check_several_accounts(config: pytest.Config, accounts: list[Account]) -> None:
    """Refuse what a run over several accounts cannot do, before anything is read."""
    from pytest_prr.accounts import MOTO

    for option, what in SINGLE_ACCOUNT_OPTIONS:
        if getattr(config.option, option):
            flag = "--" + option.replace("_", "-")
            raise pytest.UsageError(
                f"{flag} writes one account's {what}; with {len(accounts)} accounts run "
                f"pytest once per account, each with its own {flag}, and `prr merge` the "
                "results"
            )
    names: set[str] = set()
    seen: dict[tuple[str, str], str] = {}
    for account in accounts:
        if account.name in names:
            again = " (moto is one mocked account)" if account.name == MOTO else ""
            raise pytest.UsageError(f"--prr-account={account.name} is given twice{again}")
        names.add(account.name)
        for region in account.regions:
            other = seen.setdefault((account.account_id, region), account.name)
            if other != account.name:
                raise pytest.UsageError(
                    f"prr: accounts {other!r} and {account.name!r} are both "
                    f"{account.account_id} in {region}; a run reads each account and region "
                    "once"
                )
    live = [account.name for account in accounts if account.mode == "live"]
    if live and any(account.mode == "moto" for account in accounts):
        raise pytest.UsageError(
            f"--prr-account=moto cannot run beside live account(s) {', '.join(live)}: a moto "
            "run gives every AWS client of the process dummy credentials, so that no test "
            "reaches a real account; run the live accounts in a session of their own"
        )


def _stored_account(config: pytest.Config, path: str) -> Account:
    """The account a stored snapshot was taken of; loading it checks the file against its
    ``PATH.sha256``, without which it is refused unless ``--prr-snapshot-unverified``."""
    from pytest_prr.snapshot.store import DigestMissing, SnapshotError, checksum_path, load_snapshot

    location = config.invocation_params.dir / path
    unverified = config.option.prr_snapshot_unverified
    try:
        snapshot, digest = load_snapshot(location, require_digest=not unverified)
    except DigestMissing as error:
        raise pytest.UsageError(
            f"prr: {error}; pass --prr-snapshot-unverified to evaluate it anyway (the results "
            "then record snapshot_verified: false)"
        ) from error
    except SnapshotError as error:
        raise pytest.UsageError(f"prr: {error}") from error
    config.stash[stored_key] = (snapshot, digest, checksum_path(location).is_file())
    return snapshot.account


def _path_option(config: pytest.Config, option: str) -> Path | None:
    value = getattr(config.option, option)
    return config.invocation_params.dir / value if value else None


def _start_runs(
    config: pytest.Config,
    accounts: list[Account],
    settings: AccountSettings,
    templates: list[Path] | None = None,
) -> None:
    """One run per account, sharing the catalog, tunables, attestations and waivers; each
    live or endpoint account proves who it is (STS) before anything runs."""
    from pytest_prr.catalog import CatalogError
    from pytest_prr.run import ReadinessRun
    from pytest_prr.runs import ReadinessRuns

    catalog = _catalog(config)
    try:
        tunables = catalog.tunables(settings.tunables, settings.tunables_origin)
    except CatalogError as error:
        raise pytest.UsageError(f"prr: {error}") from error
    if not config.option.prr_no_builtin:
        from pytest_prr.builtin import selected_controls

        selected_controls(catalog, config.option.prr_controls)
    from pytest_prr.exit_policy import FailOnError, parse_fail_on

    try:
        parse_fail_on(config.option.prr_fail_on)
    except FailOnError as error:
        raise pytest.UsageError(f"prr: {error}") from error
    attestations = _attestations(config, catalog)
    waivers = _waivers(config, catalog)
    runs = ReadinessRuns(
        runs={
            account.name: ReadinessRun(
                account=account,
                catalog=catalog,
                tunables=tunables,
                attestations=attestations,
                workload=config.getini("prr_workload").strip() or None,
                waivers=waivers,
                snapshot_out=_path_option(config, "prr_snapshot_out"),
                allow_writes=config.option.prr_allow_writes,
                templates=tuple(_prepare_templates(config, templates or [], account.region))
                if account.mode == "moto"
                else (),
            )
            for account in accounts
        },
        catalog=catalog,
        json_path=_path_option(config, "prr_json"),
    )
    if stored_key in config.stash:
        runs.first.use_stored_snapshot(
            _path_option(config, "prr_snapshot"), *config.stash[stored_key]
        )
    config.stash[runs_key] = runs
    from pytest_prr.runhooks import register_run_hooks

    if not hasattr(config, "workerinput"):
        for account in accounts:
            if account.mode in ("live", "endpoint"):
                runs.runs[account.name].caller_arn = _verify_identity(account)
    register_run_hooks(config, runs)


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


def _waivers(config: pytest.Config, catalog: Catalog) -> list[Any] | None:
    from pytest_prr.waivers import WaiverError, load_waivers

    paths = config.getini("prr_waivers")
    if len(paths) > 1:
        raise pytest.UsageError(f"prr: prr_waivers names one file, got {len(paths)}")
    try:
        return load_waivers(Path(paths[0]), catalog) if paths else None
    except WaiverError as error:
        raise pytest.UsageError(f"prr: {error}") from error


def _verify_identity(account: Any) -> str:
    """The caller ARN that proved to be ``account``'s: the results name who read it."""
    from pytest_prr.accounts import AccountError
    from pytest_prr.sessions import open_session, verify_identity

    try:
        return verify_identity(open_session(account), account)
    except AccountError as error:
        raise pytest.UsageError(f"prr: {error}") from error


def active_runs(config: pytest.Config) -> ReadinessRuns | None:
    """The readiness runs of this process (one per account), or None when no account was
    selected."""
    return config.stash.get(runs_key, None)


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
