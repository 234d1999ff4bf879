"""Shared pytest setup for the orders service.

Two jobs:
1. Give the handler modules a Powertools configuration before any test imports them, so unit
   tests run offline: tracing off (no X-Ray daemon), a fixed metrics namespace and service.
   ``setdefault`` keeps any value the caller exported, and no AWS credentials are set here,
   so a live ``--prr-account`` run still uses the caller's real credentials.
2. Implement pytest-prr's ``pytest_prr_seed_account`` hook, so ``--prr-account=moto`` gets an
   account that looks like a deployment of template.yaml.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest

import seed

for _key, _value in {
    "POWERTOOLS_SERVICE_NAME": "orders",
    "POWERTOOLS_METRICS_NAMESPACE": "Orders",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "AWS_DEFAULT_REGION": "us-east-1",
}.items():
    os.environ.setdefault(_key, _value)


# optionalhook: without pytest-prr installed (plain unit-test runs) pytest would otherwise
# reject the unknown ``pytest_prr_*`` hook.
@pytest.hookimpl(optionalhook=True)
def pytest_prr_seed_account(session: boto3.Session, account: Any) -> None:
    """Deploy the orders service into the moto account before any readiness test runs."""
    seed.seed(session, account.account_id, list(account.regions))
