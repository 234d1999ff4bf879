"""Unit-test fixtures: a moto DynamoDB table and a Lambda context stub.

Fake credentials are set per test with monkeypatch (not globally in the root conftest) so
they can never leak into a readiness run against a real account.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from orders import store

TABLE = "orders-test"


@dataclass
class LambdaContextStub:
    """The attributes Powertools' Logger, Metrics and BatchProcessor read from the context."""

    function_name: str = "orders-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:orders-test"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    log_group_name: str = "/aws/lambda/orders-test"
    log_stream_name: str = "2024/01/01/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        """Plenty of time left, as for a fresh invocation."""
        return 30_000


@pytest.fixture
def lambda_context() -> LambdaContextStub:
    """Provide a fresh Lambda context per test."""
    return LambdaContextStub()


@pytest.fixture
def orders_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Create an empty mocked orders table, wired to the handlers through ORDERS_TABLE."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("ORDERS_TABLE", TABLE)
    with mock_aws():
        table = boto3.resource("dynamodb", region_name="us-east-1").create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
        )
        # The handlers cache their table; drop any copy created outside this mock.
        store.orders_table.cache_clear()
        yield table
        store.orders_table.cache_clear()
        # Nested in a session-wide mock (pytest --prr-account=moto) this mock shares that
        # account's state instead of starting empty, so leave nothing behind.
        table.delete()
