"""Unit tests of the SQS consumer, above all its partial batch failure reporting."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from events import sqs_event
from orders import consumer


def _put_order(table: Any, order_id: str, status: str = "PENDING") -> None:
    table.put_item(
        Item={
            "order_id": order_id,
            "customer_id": "cust-1",
            "lines": [],
            "created_at": "2024-01-01T00:00:00+00:00",
            "status": status,
        }
    )


def _status(table: Any, order_id: str) -> str:
    return table.get_item(Key={"order_id": order_id})["Item"]["status"]


def test_valid_events_update_orders_and_report_no_failures(
    orders_table: Any, lambda_context: Any
) -> None:
    _put_order(orders_table, "o-1")
    _put_order(orders_table, "o-2")
    event = sqs_event(
        json.dumps({"order_id": "o-1", "status": "PAID"}),
        json.dumps({"order_id": "o-2", "status": "CANCELLED"}),
    )

    response = consumer.lambda_handler(event, lambda_context)

    assert response == {"batchItemFailures": []}
    assert _status(orders_table, "o-1") == "PAID"
    assert _status(orders_table, "o-2") == "CANCELLED"


def test_poisoned_records_are_reported_and_the_rest_applied(
    orders_table: Any, lambda_context: Any
) -> None:
    _put_order(orders_table, "o-1")
    event = sqs_event(
        json.dumps({"order_id": "o-1", "status": "SHIPPED"}),  # msg-0: fine
        "{this is not json",  # msg-1: poisoned payload
        json.dumps({"order_id": "o-1", "status": "LOST"}),  # msg-2: unknown status
        json.dumps({"order_id": "never-placed", "status": "PAID"}),  # msg-3: unknown order
    )

    response = consumer.lambda_handler(event, lambda_context)

    failed = [item["itemIdentifier"] for item in response["batchItemFailures"]]
    assert failed == ["msg-1", "msg-2", "msg-3"]
    assert _status(orders_table, "o-1") == "SHIPPED"
    # An event for an unknown order must not create a half-empty order.
    assert "Item" not in orders_table.get_item(Key={"order_id": "never-placed"})


def test_failed_records_are_counted_in_a_metric(
    orders_table: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _put_order(orders_table, "o-1")
    consumer.lambda_handler(
        sqs_event(json.dumps({"order_id": "o-1", "status": "PAID"}), "poison"), lambda_context
    )

    blobs = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("{") and '"_aws"' in line
    ]
    assert any(blob.get("OrderEventFailed") == [1.0] for blob in blobs)


def test_entirely_failed_batch_raises_so_lambda_retries_it(
    orders_table: Any, lambda_context: Any
) -> None:
    with pytest.raises(BatchProcessingError):
        consumer.lambda_handler(sqs_event("poison", "more poison"), lambda_context)
