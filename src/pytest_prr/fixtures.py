"""Fixtures for tests that read the target account. Each skips without --prr-account."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import boto3

    from pytest_prr.accounts import Account


@pytest.fixture(scope="session")
def prr_account(request: pytest.FixtureRequest) -> Account:
    """The account under test: ``name``, ``account_id``, ``regions``, ``mode``."""
    from pytest_prr.plugin import active_run

    run = active_run(request.config)
    if run is None:
        pytest.skip("prr: no account selected; run with --prr-account=NAME")
    return run.account


@pytest.fixture(scope="session")
def prr_session(request: pytest.FixtureRequest, prr_account: Account) -> boto3.Session:
    """A boto3 Session whose clients reach the account under test (AWS, endpoint or moto)."""
    from pytest_prr.plugin import active_run
    from pytest_prr.sessions import open_session

    run = active_run(request.config)
    assert run is not None  # prr_account skipped otherwise
    return open_session(prr_account, endpoint_url=run.endpoint_url)


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
