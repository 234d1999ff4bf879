"""API Gateway (REST, proxy integration) handler: POST /orders and GET /orders/<order_id>.

Logger, Tracer and Metrics are configured from the POWERTOOLS_* environment variables set
in template.yaml, so the same code runs unchanged in every stage and under unit tests.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from orders import store
from orders.model import ValidationError, parse_new_order

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver()


@app.post("/orders")
@tracer.capture_method
def create_order() -> Response:
    """Validate and store a new order; 400 rather than 500 for any client mistake."""
    try:
        payload = json.loads(app.current_event.decoded_body or "")
    except ValueError as exc:
        raise BadRequestError("body must be valid JSON") from exc
    try:
        order = parse_new_order(payload)
    except ValidationError as exc:
        raise BadRequestError(str(exc)) from exc

    store.save_order(order)
    logger.info("order created", order_id=order.order_id, total_cents=order.total_cents)
    tracer.put_annotation(key="order_id", value=order.order_id)
    metrics.add_metric(name="OrderCreated", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="OrderValueCents", unit=MetricUnit.Count, value=order.total_cents)
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=order.to_dict(),
        headers={"Location": f"/orders/{order.order_id}"},
    )


@app.get("/orders/<order_id>")
@tracer.capture_method
def get_order(order_id: str) -> dict[str, Any]:
    """Return one order, or 404 without revealing whether the id was ever valid."""
    order = store.load_order(order_id)
    if order is None:
        raise NotFoundError(f"order {order_id} not found")
    return order.to_dict()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point (handler ``orders.api.lambda_handler``)."""
    return app.resolve(event, context)
