"""SQS consumer applying order events (PAID, SHIPPED, CANCELLED) to the orders table.

Uses Powertools' BatchProcessor so one poisoned message is reported in
``batchItemFailures`` and retried (then dead-lettered) alone, instead of failing and
redelivering the whole batch. The event source mapping must enable
``ReportBatchItemFailures`` for Lambda to honour that response (control REL-07).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from orders import store
from orders.model import parse_order_event

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    """Apply one event; any exception marks just this record as failed."""
    event = parse_order_event(record.json_body)
    store.set_status(event.order_id, event.status)
    logger.info("order status updated", order_id=event.order_id, status=event.status)
    metrics.add_metric(name="OrderEventApplied", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point (handler ``orders.consumer.lambda_handler``)."""
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    failures = response.get("batchItemFailures", [])
    if failures:
        # Failed records come back on the queue; after maxReceiveCount they land in the DLQ.
        logger.warning("order events failed", message_ids=[f["itemIdentifier"] for f in failures])
        metrics.add_metric(name="OrderEventFailed", unit=MetricUnit.Count, value=len(failures))
    return dict(response)
