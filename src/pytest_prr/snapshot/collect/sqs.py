"""SQS queues wired to functions (event sources, DLQs, destinations), for DAT-02, REL-04, REL-05.

Only wired queues are read, each once however many functions share it: listing every queue
of the account would cost a call per queue for data no control reads. A function whose
event source mappings or event invoke configs could not be read already carries that
marker itself, so its checks fail closed without the queue map repeating it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pytest_prr.snapshot.collect.reader import Reader
from pytest_prr.snapshot.model import is_error


def collect_sqs(reader: Reader, region: str, section: Mapping[str, Any]) -> dict[str, Any]:
    functions = section["lambda"]["functions"]
    if is_error(functions):
        return {"queues": functions}
    arns = sorted(wired_arns(functions, "sqs"))
    queues = reader.map(lambda arn: _queue(reader, arn), arns)
    return {"queues": dict(zip(arns, queues, strict=True))}


def wired_arns(functions: Mapping[str, Any], service: str) -> set[str]:
    """ARNs of ``service`` that functions read from or send to: event sources, DLQs and
    success/failure destinations of asynchronous invocations and of event source mappings.
    Shared with the SNS collector, whose topics are wired the same ways."""
    arns: set[str] = set()
    for function in functions.values():
        arns.add((function.get("DeadLetterConfig") or {}).get("TargetArn", ""))
        for config in _readable(function.get("EventInvokeConfigs")):
            arns.update(_destinations(config))
        for mapping in _readable(function.get("event_source_mappings")):
            arns.add(mapping.get("EventSourceArn", ""))
            arns.update(_destinations(mapping))
    return {arn for arn in arns if arn.split(":")[2:3] == [service]}


def _readable(items: Any) -> list[Any]:
    """The items, or none where reading them failed (the function holds that marker)."""
    return [] if items is None or is_error(items) else items


def _destinations(config: Mapping[str, Any]) -> set[str]:
    destinations = config.get("DestinationConfig") or {}
    return {
        (destinations.get(outcome) or {}).get("Destination") or ""
        for outcome in ("OnSuccess", "OnFailure")
    }


def _queue(reader: Reader, arn: str) -> Any:
    _, _, _, region, account, name = arn.split(":", 5)
    url = reader.call(
        "sqs", region, "get_queue_url", QueueName=name, QueueOwnerAWSAccountId=account
    )
    if is_error(url):
        return url
    response = reader.call(
        "sqs", region, "get_queue_attributes", QueueUrl=url["QueueUrl"], AttributeNames=["All"]
    )
    if is_error(response):
        return response
    attributes = response.get("Attributes", {})
    redrive = attributes.get("RedrivePolicy")
    return {
        "VisibilityTimeout": int(attributes["VisibilityTimeout"]),
        "RedrivePolicy": json.loads(redrive) if redrive else None,
        "KmsMasterKeyId": attributes.get("KmsMasterKeyId"),
        "SqsManagedSseEnabled": attributes.get("SqsManagedSseEnabled") == "true",
    }
