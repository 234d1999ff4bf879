"""Hooks pytest-prr adds; implement them in a conftest.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import boto3

    from pytest_prr.accounts.config import Account


def pytest_prr_seed_account(session: boto3.Session, account: Account) -> None:
    """Create resources in the moto account before any test runs.

    Called once per pytest run, in moto mode only, in the controlling process (under
    pytest-xdist, before the workers start), so every worker sees the same account.
    Seed with ordinary boto3 calls through ``session``; ``account`` carries the
    ``account_id`` and ``regions`` of the mocked account. Implement it in a conftest.py at
    the root of the run or on the path given to pytest.
    """
