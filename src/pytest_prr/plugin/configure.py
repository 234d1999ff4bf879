"""Configuring a readiness run: the options and files checked, each problem a usage
error in one line before any AWS call, then one run per account started (a live or
endpoint account first proves who it is through STS) and the run's hooks registered."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_prr.accounts.config import MOTO, AccountError, read_account_settings
from pytest_prr.catalog import CatalogError, builtin_catalog
from pytest_prr.plugin.items import selected_controls
from pytest_prr.plugin.markers import MARKER
from pytest_prr.plugin.organization import check_organization_options, organization_members
from pytest_prr.plugin.session import register_run_hooks
from pytest_prr.plugin.state import RunState, catalog_key, runs_key, stored_key
from pytest_prr.results.attestations import AttestationError, load_attestations
from pytest_prr.results.exit_policy import FailOnError, parse_fail_on
from pytest_prr.results.run import AccountRun
from pytest_prr.results.waivers import WaiverError, load_waivers
from pytest_prr.snapshot.store import DigestMissing, SnapshotError, checksum_path, load_snapshot

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pytest_prr.accounts.config import Account, AccountSettings
    from pytest_prr.catalog import Catalog

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


def configure(config: pytest.Config) -> None:
    """Check the options and files, and start the runs of the accounts selected; a plain
    run (no account, no stored snapshot) gets nothing but the marker."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*control_ids): the test is evidence for these readiness controls; "
        "write it as @prr.control('SEC-04') after `import pytest_prr as prr`",
    )
    check_organization_options(config)
    names = config.option.prr_accounts or []
    # An organization's run reads its members, not the project's template in moto.
    templates = [] if config.option.prr_org else _template_paths(config)
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
    if config.getini("prr_catalog") or names or stored or config.option.prr_org:
        catalog_of(config)
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
    organization = config.option.prr_org
    if not names and not stored and not organization:
        for option in OUTPUT_OPTIONS:
            if getattr(config.option, option):
                flag = "--" + option.replace("_", "-")
                raise pytest.UsageError(f"{flag} needs an account: add --prr-account=NAME")
        config.stash[runs_key] = None
        return
    if config.option.prr_evidence:
        _junit_for_the_bundle(config)
    settings = _settings(config)
    unreachable: Mapping[str, str] = {}
    if stored:
        accounts = [_stored_account(config, stored)]
    elif organization:
        accounts, unreachable = organization_members(config)
    else:
        accounts = [_account(settings, name) for name in names]
    if len(accounts) > 1:
        _check_several_accounts(config, accounts)
    _start_runs(config, accounts, settings, templates, unreachable)


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
    # the deployer (SAM translator, moto) loads only for a template
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


def catalog_of(config: pytest.Config) -> Catalog:
    """The catalog, loaded once per process; a bad user file stops the run at start."""
    if catalog_key not in config.stash:
        catalog = builtin_catalog()
        try:
            for path in config.getini("prr_catalog"):
                catalog = catalog.with_file(Path(path))
        except CatalogError as error:
            raise pytest.UsageError(f"prr: {error}") from error
        config.stash[catalog_key] = catalog
    return config.stash[catalog_key]


def _settings(config: pytest.Config) -> AccountSettings:

    try:
        return read_account_settings(config.rootpath)
    except AccountError as error:
        raise pytest.UsageError(f"prr: {error}") from error


def _account(settings: AccountSettings, name: str) -> Account:

    try:
        return settings.resolve(name)
    except AccountError as error:
        raise pytest.UsageError(f"prr: {error}") from error


def _check_several_accounts(config: pytest.Config, accounts: list[Account]) -> None:
    """Refuse what a run over several accounts cannot do, before anything is read."""

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
    unreachable: Mapping[str, str] | None = None,
) -> None:
    """One run per account, sharing the catalog, tunables, attestations and waivers; each
    live or endpoint account proves who it is (STS) before anything runs, but an
    organization's member does when it is read (:meth:`AccountRun.take_snapshot`), so that
    one that cannot be is an ERROR of its own, never the end of the run; ``unreachable``
    names those known to be so already, with the cause."""

    catalog = catalog_of(config)
    try:
        tunables = catalog.tunables(settings.tunables, settings.tunables_origin)
    except CatalogError as error:
        raise pytest.UsageError(f"prr: {error}") from error
    if not config.option.prr_no_builtin:
        selected_controls(catalog, config.option.prr_controls)

    try:
        parse_fail_on(config.option.prr_fail_on)
    except FailOnError as error:
        raise pytest.UsageError(f"prr: {error}") from error
    attestations = _attestations(config, catalog)
    waivers = _waivers(config, catalog)
    runs = RunState(
        runs={
            account.name: AccountRun(
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
        max_reading=config.option.prr_max_accounts,
    )
    for name, cause in (unreachable or {}).items():
        runs.runs[name].unreadable = cause
    if stored_key in config.stash:
        runs.first.use_stored_snapshot(
            _path_option(config, "prr_snapshot"), *config.stash[stored_key]
        )
    config.stash[runs_key] = runs

    if not hasattr(config, "workerinput"):
        for account in accounts:
            if account.mode in ("live", "endpoint") and account.organization is None:
                runs.runs[account.name].caller_arn = _verify_identity(account)
    register_run_hooks(config, runs)


def _attestations(config: pytest.Config, catalog: Catalog) -> list[Any]:

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

    paths = config.getini("prr_waivers")
    if len(paths) > 1:
        raise pytest.UsageError(f"prr: prr_waivers names one file, got {len(paths)}")
    try:
        return load_waivers(Path(paths[0]), catalog) if paths else None
    except WaiverError as error:
        raise pytest.UsageError(f"prr: {error}") from error


def _verify_identity(account: Any) -> str:
    """The caller ARN that proved to be ``account``'s: the results name who read it."""
    # boto3 (and moto) load only for a run that reads AWS or an emulator
    from pytest_prr.accounts.sessions import open_session, verify_identity

    try:
        return verify_identity(open_session(account), account)
    except AccountError as error:
        raise pytest.UsageError(f"prr: {error}") from error
