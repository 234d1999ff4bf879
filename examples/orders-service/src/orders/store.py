"""DynamoDB persistence for orders.

The table resource is created lazily and cached: warm Lambda invocations reuse one HTTP
connection pool, while tests start moto first and call ``orders_table.cache_clear()``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import boto3
from botocore.exceptions import ClientError

from orders.model import Order


class OrderNotFoundError(LookupError):
    """An order event refers to an order the table does not hold."""


@lru_cache(maxsize=1)
def orders_table() -> Any:
    """Return the DynamoDB Table named by ``ORDERS_TABLE`` (set by the template)."""
    return boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE"])


def save_order(order: Order) -> None:
    """Insert a new order; the condition guards against a (theoretical) uuid collision."""
    orders_table().put_item(
        Item=order.to_item(), ConditionExpression="attribute_not_exists(order_id)"
    )


def load_order(order_id: str) -> Order | None:
    """Strongly consistent read so a client can GET the order it has just created."""
    item = orders_table().get_item(Key={"order_id": order_id}, ConsistentRead=True).get("Item")
    return Order.from_item(item) if item else None


def set_status(order_id: str, status: str) -> None:
    """Apply a status change, refusing to create an order that was never placed."""
    try:
        orders_table().update_item(
            Key={"order_id": order_id},
            UpdateExpression="SET #status = :status",
            ConditionExpression="attribute_exists(order_id)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":status": status},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise OrderNotFoundError(order_id) from exc
        raise
