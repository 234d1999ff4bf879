"""Order domain model and payload validation.

Kept free of AWS and Powertools imports so both handlers share one definition of what a
valid order or order event is, and so the rules can be tested without any mocking.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

MAX_LINES = 50
MAX_QUANTITY = 1000
MAX_ID_LENGTH = 64
#: Statuses an order event may move an order to; PENDING is only ever set on creation.
EVENT_STATUSES = frozenset({"PAID", "SHIPPED", "CANCELLED"})


class ValidationError(ValueError):
    """A payload does not describe a valid order or order event.

    A dedicated type lets the API map it to 400 and the consumer report the record as a
    batch item failure, without catching unrelated ValueErrors by accident.
    """


@dataclass(frozen=True)
class OrderLine:
    """One line of an order; prices are integer cents so DynamoDB never sees a float."""

    sku: str
    quantity: int
    unit_price_cents: int


@dataclass(frozen=True)
class Order:
    """An order as stored in the orders table."""

    order_id: str
    customer_id: str
    lines: tuple[OrderLine, ...]
    created_at: str
    status: str = "PENDING"

    @property
    def total_cents(self) -> int:
        """Order total, derived rather than stored so it can never disagree with the lines."""
        return sum(line.quantity * line.unit_price_cents for line in self.lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready representation returned by the API (includes the derived total)."""
        data = asdict(self)
        data["lines"] = [asdict(line) for line in self.lines]
        data["total_cents"] = self.total_cents
        return data

    def to_item(self) -> dict[str, Any]:
        """DynamoDB item; the derived total is not persisted."""
        item = self.to_dict()
        del item["total_cents"]
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Order:
        """Rebuild an order from a DynamoDB item (numbers arrive as Decimal)."""
        lines = tuple(
            OrderLine(
                sku=str(line["sku"]),
                quantity=int(line["quantity"]),
                unit_price_cents=int(line["unit_price_cents"]),
            )
            for line in item["lines"]
        )
        return cls(
            order_id=str(item["order_id"]),
            customer_id=str(item["customer_id"]),
            lines=lines,
            created_at=str(item["created_at"]),
            status=str(item["status"]),
        )


@dataclass(frozen=True)
class OrderEvent:
    """A status change published by payment or fulfilment onto the orders queue."""

    order_id: str
    status: str


def _require_str(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_LENGTH:
        raise ValidationError(f"'{key}' must be a non-empty string of <= {MAX_ID_LENGTH} chars")
    return value.strip()


def _require_int(payload: dict[str, Any], key: str, low: int, high: int | None = None) -> int:
    value = payload.get(key)
    # bool is an int subclass; `true` is never a valid quantity or price.
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValidationError(f"'{key}' must be an integer >= {low}")
    if high is not None and value > high:
        raise ValidationError(f"'{key}' must be an integer <= {high}")
    return value


def parse_new_order(payload: Any) -> Order:
    """Validate a POST /orders body and build a new PENDING order with a fresh id."""
    if not isinstance(payload, dict):
        raise ValidationError("body must be a JSON object")
    customer_id = _require_str(payload, "customer_id")
    raw_lines = payload.get("lines")
    if not isinstance(raw_lines, list) or not 1 <= len(raw_lines) <= MAX_LINES:
        raise ValidationError(f"'lines' must be a list of 1 to {MAX_LINES} items")
    lines = []
    for raw in raw_lines:
        if not isinstance(raw, dict):
            raise ValidationError("each line must be a JSON object")
        lines.append(
            OrderLine(
                sku=_require_str(raw, "sku"),
                quantity=_require_int(raw, "quantity", 1, MAX_QUANTITY),
                unit_price_cents=_require_int(raw, "unit_price_cents", 0),
            )
        )
    return Order(
        order_id=str(uuid.uuid4()),
        customer_id=customer_id,
        lines=tuple(lines),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def parse_order_event(payload: Any) -> OrderEvent:
    """Validate an order event taken from the queue."""
    if not isinstance(payload, dict):
        raise ValidationError("order event must be a JSON object")
    status = payload.get("status")
    if status not in EVENT_STATUSES:
        raise ValidationError(f"'status' must be one of {sorted(EVENT_STATUSES)}")
    return OrderEvent(order_id=_require_str(payload, "order_id"), status=status)
