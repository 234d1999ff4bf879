"""Unit tests of the API handler: routing, validation, persistence and metrics."""

from __future__ import annotations

import json
from typing import Any

import pytest

from events import apigw_event
from orders import api

VALID_ORDER = {
    "customer_id": "cust-42",
    "lines": [
        {"sku": "BOOK-1", "quantity": 2, "unit_price_cents": 1250},
        {"sku": "PEN-7", "quantity": 1, "unit_price_cents": 199},
    ],
}


def _call(event: dict[str, Any], context: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Invoke the handler; REST API proxy responses carry headers as multiValueHeaders."""
    response = api.lambda_handler(event, context)
    headers = {name: values[-1] for name, values in response["multiValueHeaders"].items()}
    return response["statusCode"], json.loads(response["body"]), headers


def _emf_metrics(stdout: str) -> dict[str, tuple[str, Any]]:
    """Metric name -> (namespace, value) from the Embedded Metric Format lines on stdout."""
    found = {}
    for line in stdout.splitlines():
        if not line.startswith("{"):
            continue
        blob = json.loads(line)
        for directive in blob.get("_aws", {}).get("CloudWatchMetrics", []):
            for metric in directive["Metrics"]:
                found[metric["Name"]] = (directive["Namespace"], blob[metric["Name"]])
    return found


def test_create_order_stores_it_and_returns_201(orders_table: Any, lambda_context: Any) -> None:
    status, body, headers = _call(apigw_event("POST", "/orders", VALID_ORDER), lambda_context)

    assert status == 201
    assert body["status"] == "PENDING"
    assert body["total_cents"] == 2 * 1250 + 199
    assert headers["Location"] == f"/orders/{body['order_id']}"
    item = orders_table.get_item(Key={"order_id": body["order_id"]})["Item"]
    assert item["customer_id"] == "cust-42"
    assert "total_cents" not in item  # derived, never stored


def test_created_order_can_be_read_back(orders_table: Any, lambda_context: Any) -> None:
    _, created, _ = _call(apigw_event("POST", "/orders", VALID_ORDER), lambda_context)

    path = f"/orders/{created['order_id']}"
    status, body, _ = _call(apigw_event("GET", path), lambda_context)

    assert status == 200
    assert body == created


def test_unknown_order_is_404(orders_table: Any, lambda_context: Any) -> None:
    status, body, _ = _call(apigw_event("GET", "/orders/does-not-exist"), lambda_context)

    assert status == 404
    assert "does-not-exist" in body["message"]


@pytest.mark.parametrize(
    ("raw_body", "message"),
    [
        (None, "valid JSON"),
        ("{not json", "valid JSON"),
        ("[]", "JSON object"),
        (json.dumps({**VALID_ORDER, "customer_id": ""}), "customer_id"),
        (json.dumps({**VALID_ORDER, "lines": []}), "lines"),
        (json.dumps({**VALID_ORDER, "lines": ["BOOK-1"]}), "line"),
        (
            json.dumps(
                {**VALID_ORDER, "lines": [{"sku": "A", "quantity": 0, "unit_price_cents": 1}]}
            ),
            "quantity",
        ),
        (
            json.dumps(
                {**VALID_ORDER, "lines": [{"sku": "A", "quantity": True, "unit_price_cents": 1}]}
            ),
            "quantity",
        ),
        (
            json.dumps(
                {**VALID_ORDER, "lines": [{"sku": "A", "quantity": 1, "unit_price_cents": -5}]}
            ),
            "unit_price_cents",
        ),
    ],
    ids=[
        "no-body",
        "bad-json",
        "not-object",
        "empty-customer",
        "no-lines",
        "line-not-object",
        "zero-quantity",
        "bool-quantity",
        "negative-price",
    ],
)
def test_invalid_orders_are_rejected_with_400(
    orders_table: Any, lambda_context: Any, raw_body: str | None, message: str
) -> None:
    status, body, _ = _call(apigw_event("POST", "/orders", raw_body=raw_body), lambda_context)

    assert status == 400
    assert message in body["message"]
    assert orders_table.scan()["Count"] == 0


def test_order_created_metric_goes_to_the_orders_namespace(
    orders_table: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _call(apigw_event("POST", "/orders", VALID_ORDER), lambda_context)

    metrics = _emf_metrics(capsys.readouterr().out)
    assert metrics["OrderCreated"] == ("Orders", [1.0])
    assert metrics["OrderValueCents"] == ("Orders", [2699.0])
