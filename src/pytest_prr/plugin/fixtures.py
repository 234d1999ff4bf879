"""Fixtures for tests that read the target account. Each skips without --prr-account.

With several ``--prr-account`` options a test that uses any of them runs once per account
(``pytest_prr.plugin.multiaccount`` parametrizes ``_prr_target``), and they return that account's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import boto3

    from pytest_prr.accounts.config import Account
    from pytest_prr.results.run import AccountRun
    from pytest_prr.snapshot.model import Snapshot


@pytest.fixture(scope="session")
def _prr_target(request: pytest.FixtureRequest) -> str | None:
    """The name of the account this test runs against when the run has several; None with
    one. Hidden: the other fixtures depend on it so that parametrizing it reaches them."""
    return getattr(request, "param", None)


def _run_of(request: pytest.FixtureRequest, account: str | None) -> AccountRun:
    from pytest_prr.plugin.state import active_runs  # the engine stays out of `import pytest_prr`

    runs = active_runs(request.config)
    assert runs is not None  # prr_account skipped otherwise
    return runs.run_for(account)


@pytest.fixture(scope="session")
def prr_account(request: pytest.FixtureRequest, _prr_target: str | None) -> Account:
    """The account under test: ``name``, ``account_id``, ``regions``, ``mode``."""
    from pytest_prr.plugin.state import active_runs  # the engine stays out of `import pytest_prr`

    if active_runs(request.config) is None:
        pytest.skip("prr: no account selected; run with --prr-account=NAME")
    return _run_of(request, _prr_target).account


@pytest.fixture(scope="session")
def prr_session(request: pytest.FixtureRequest, prr_account: Account) -> boto3.Session:
    """A boto3 Session whose clients reach the account under test (AWS, endpoint or moto).

    Read-only in live and endpoint modes: a write call raises before it is sent.
    """
    if prr_account.mode == "snapshot":
        pytest.skip("prr: evaluating a stored snapshot (--prr-snapshot); no AWS access")
    run = _run_of(request, prr_account.name)
    if run.unreadable is not None:
        pytest.fail(f"prr: account {prr_account.name} could not be read: {run.unreadable}")
    return run.open_session()


@pytest.fixture(scope="session")
def prr_snapshot(request: pytest.FixtureRequest, prr_account: Account) -> Snapshot:
    """The account snapshot the run took (or loaded with --prr-snapshot), read-only."""
    run = _run_of(request, prr_account.name)
    if run.unreadable is not None:
        pytest.fail(f"prr: account {prr_account.name} could not be read: {run.unreadable}")
    if run.snapshot is None:
        pytest.fail("prr: the run has no snapshot")
    return run.snapshot


@pytest.fixture(scope="session")
def prr_client(prr_session: boto3.Session, prr_account: Account) -> Callable[..., Any]:
    """Factory of boto3 clients for the account: ``prr_client("lambda", region=None)``.

    Clients are cached per service and region (the account's first region by default).
    """
    clients: dict[tuple[str, str], Any] = {}

    def make(service: str, region: str | None = None) -> Any:
        key = (service, region or prr_account.region)
        if key not in clients:
            clients[key] = prr_session.client(service, region_name=key[1])
        return clients[key]

    return make
