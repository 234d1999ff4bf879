"""How a function is invoked, as the snapshot shows it: its event-source mappings, the
rules, schedules, notifications and subscriptions that call it, the functions that name it
as a destination, and the services its resource policy lets invoke it. The REL checks
decide on these; a source that could not be read stops the decision (fail closed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pytest_prr.checks.aliases import qualified
from pytest_prr.checks.base import NOT_IN_SNAPSHOT, Context
from pytest_prr.checks.data import lookup
from pytest_prr.checks.iam_policy import as_list, statement_label, statements
from pytest_prr.snapshot.model import DataUnavailable, require

#: Service principals that invoke functions asynchronously (S3, SNS, SES, EventBridge rules,
#: CloudWatch Logs subscriptions, IoT, CodeCommit, AWS Config rules), in every partition.
ASYNC_SERVICE_PRINCIPAL = re.compile(
    r"^(?:s3|sns|ses|events|iot|codecommit|config|logs(?:\.[a-z0-9-]+)?)\.amazonaws\.com(?:\.cn)?$"
)
#: A DynamoDB stream: ``arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL``.
DYNAMODB_STREAM = re.compile(r"^arn:[\w-]+:dynamodb:[^:]*:[^:]*:table/[^/]+/stream/")


def service_of(arn: str) -> str:
    return [*arn.split(":"), "", "", ""][2]


def on_failure_destination(config: Mapping[str, Any]) -> str | None:
    """The OnFailure destination of an event invoke config or event source mapping."""
    return ((config.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")


def sqs_mappings(function: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    mappings = require(function["event_source_mappings"])
    return [m for m in mappings if service_of(m.get("EventSourceArn") or "") == "sqs"]


def stream_mappings(function: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    mappings = require(function["event_source_mappings"])
    return [
        m
        for m in mappings
        if service_of(m.get("EventSourceArn") or "") == "kinesis"
        or DYNAMODB_STREAM.match(m.get("EventSourceArn") or "")
    ]


def rule_targets(function: Mapping[str, Any], context: Context) -> list[Mapping[str, Any]]:
    """EventBridge targets invoking the function; a rule whose targets were not read may be
    one of them, so its marker stops the check."""
    targets = require(require(context.section["events"])["targets"])
    return [t for t in targets if require(t["FunctionArn"]) == function["FunctionArn"]]


def bucket_notifications(function: Mapping[str, Any], context: Context) -> list[str]:
    notifications = require(require(context.section["s3"])["notifications"])
    return sorted(
        {n["Bucket"] for n in notifications if require(n["FunctionArn"]) == function["FunctionArn"]}
    )


def queues_of(function: Mapping[str, Any], context: Context) -> dict[str, Mapping[str, Any]]:
    """The SQS event-source queues of the function, by ARN."""
    arns = sorted({m["EventSourceArn"] for m in sqs_mappings(function)})
    queues = require(context.section["sqs"])["queues"]
    return {arn: lookup(queues, arn, "sqs:GetQueueAttributes") for arn in arns}


def queue_name(arn: str) -> str:
    return arn.split(":")[5]


def schedules_of(function: Mapping[str, Any], context: Context) -> list[str]:
    """EventBridge Scheduler schedules invoking the function, from every region."""
    found = []
    for region in context.snapshot.regions:
        section = context.snapshot.region(region)
        if "scheduler" not in section:
            raise DataUnavailable(
                "scheduler:ListSchedules",
                NOT_IN_SNAPSHOT,
                "the snapshot has no schedules: it was taken by an older pytest-prr",
            )
        for target in section["scheduler"]["targets"]:
            if target["FunctionArn"] == function["FunctionArn"]:
                found.append(target["ScheduleArn"])
    return sorted(found)


def _destinations(context: Context) -> tuple[dict[str, list[str]], list[DataUnavailable]]:
    """Every function's asynchronous-invocation destinations that are functions, by the
    destination: Lambda invokes a destination function asynchronously. With the reads that
    failed: a function whose invoke configs are unknown may name any function."""
    found: dict[str, list[str]] = {}
    unreadable: list[DataUnavailable] = []
    for region in context.snapshot.regions:
        try:
            functions = list(context.snapshot.region(region)["lambda"]["functions"].values())
        except DataUnavailable as error:
            unreadable.append(error)
            continue
        for source in functions:
            try:
                configs = list(source["EventInvokeConfigs"])
            except DataUnavailable as error:
                unreadable.append(error)
                continue
            for config in configs:
                for outcome in ("OnSuccess", "OnFailure"):
                    target = ((config.get("DestinationConfig") or {}).get(outcome) or {}).get(
                        "Destination"
                    ) or ""
                    if service_of(target) == "lambda":
                        unqualified = ":".join(target.split(":")[:7])
                        found.setdefault(unqualified, []).append(
                            f"{source['FunctionArn']} ({outcome})"
                        )
    return found, unreadable


def destination_of(function: Mapping[str, Any], context: Context) -> list[str]:
    found, unreadable = context.snapshot.indexed("destinations", lambda: _destinations(context))
    sources = found.get(function["FunctionArn"], [])
    if not sources and unreadable:
        raise unreadable[0]
    return sorted(set(sources))


def service_grants(function: Mapping[str, Any]) -> list[str]:
    """Grants of the function's (or an alias's) resource policy to a service that invokes
    asynchronously: the notification, subscription or rule that uses the grant may live in
    another account, or be one an emulator dropped, and is never seen from this account."""
    policies = qualified(function, "Policy", "lambda:GetPolicy")
    grants = [
        f"{value} ({statement_label(statement, index)} of {where})"
        for where, document in policies.present.items()
        for index, statement in enumerate(statements(document))
        if statement.get("Effect") == "Allow"
        for value in _service_principals(statement)
        if ASYNC_SERVICE_PRINCIPAL.match(value)
    ]
    if not grants:
        policies.require_all()
    return grants


def _service_principals(statement: Mapping[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if not isinstance(principal, Mapping):
        return []
    return [str(value) for value in as_list(principal.get("Service"))]
