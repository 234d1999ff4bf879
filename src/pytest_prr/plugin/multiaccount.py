"""One pytest session over several accounts: every test that is about an account runs once
per account, as ``test_name[prod]``.

Registered as a plugin only when ``--prr-account`` is given more than once, so that a run
over one account keeps its node ids. A test is about an account when it uses a prr fixture
(directly or through other fixtures) or is marked ``@prr.control``; it is parametrized with
the hidden session fixture ``_prr_target`` (indirectly, so that the fixtures return the
parameter's account, and session fixtures built on them are made once per account). Each
parameter carries the account's ``xdist_group``: ``--dist loadgroup`` keeps an account's
tests on one worker, which then builds that account's session fixtures once.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_prr.plugin.markers import control_ids
from pytest_prr.plugin.state import active_runs

#: The hidden fixture every prr fixture depends on; its parameter is the account's name.
TARGET_FIXTURE = "_prr_target"
PRR_FIXTURES = frozenset({"prr_account", "prr_session", "prr_snapshot", "prr_client"})


def is_about_an_account(metafunc: pytest.Metafunc) -> bool:
    return bool(PRR_FIXTURES.intersection(metafunc.fixturenames)) or bool(
        control_ids(metafunc.definition)
    )


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """First of the parametrizations (tryfirst), so the account leads the test's id:
    ``test_x[prod-1]``, which :func:`recorded_test` relies on."""
    runs = active_runs(metafunc.config)
    if runs is None or not is_about_an_account(metafunc):
        return
    metafunc.parametrize(
        TARGET_FIXTURE,
        [
            pytest.param(name, id=name, marks=account_marks(metafunc.config, name))
            for name in runs.runs
        ],
        indirect=True,
    )


def account_marks(config: pytest.Config, account: str) -> list[pytest.MarkDecorator]:
    """The marks of an item about ``account``: its ``xdist_group``, when pytest-xdist is
    active (without it the mark is unregistered, an error under ``--strict-markers``)."""
    if not config.pluginmanager.hasplugin("xdist"):
        return []
    return [pytest.mark.xdist_group(account)]


@pytest.fixture(scope="session", autouse=True)
def _prr_target_in_every_test(_prr_target: str | None) -> None:
    """Puts ``_prr_target`` among every test's fixtures: pytest parametrizes only fixtures
    a test requests, and a ``@prr.control`` test that uses no prr fixture must still run
    once per account, its results keyed by the account it ran for."""


def account_of(item: pytest.Item) -> str | None:
    """The account a parametrized test runs for; None for a test that is not."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    return callspec.params.get(TARGET_FIXTURE)


def recorded_test(item: Any, account: str | None) -> str:
    """The test a result names: the node id without the account's parameter.

    A run over several accounts then names the tests a run per account names, which is what
    makes ``prr merge`` of those runs equal this one; the results' account IDs tell the
    accounts apart. When another parametrization came first, or pytest escaped the account
    name, the node id stays whole: still right, only no longer the per-account run's name.
    """
    nodeid: str = item.nodeid
    callspec = getattr(item, "callspec", None)
    if account is None or callspec is None:
        return nodeid
    ids: str = callspec.id
    if ids == account:
        rest = ""
    elif ids.startswith(f"{account}-"):
        rest = ids.removeprefix(f"{account}-")
    else:
        return nodeid
    base = nodeid.removesuffix(f"[{ids}]")
    return f"{base}[{rest}]" if rest else base
