"""REL controls: what happens to a function's events when it fails, is slow or is throttled."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pytest_prr.checks.base import (
    Context,
    Verdict,
    failed,
    function_check,
    not_applicable,
    passed,
)
from pytest_prr.checks.data import subscriptions_to
from pytest_prr.checks.event_sources import (
    bucket_notifications,
    destination_of,
    on_failure_destination,
    queue_name,
    queues_of,
    rule_targets,
    schedules_of,
    service_grants,
    sqs_mappings,
    stream_mappings,
)
from pytest_prr.snapshot.model import DataUnavailable, require

#: API Gateway's default integration timeout, in seconds.
API_GATEWAY_TIMEOUT = 29
VISIBILITY_FACTOR = 6
#: Where an asynchronous caller can be seen, and how to read it for a function.
ASYNC_SOURCES: tuple[tuple[str, Callable[[Mapping[str, Any], Context], list[Any]]], ...] = (
    (
        "sns_subscriptions",
        lambda f, c: [s["SubscriptionArn"] for _, s in subscriptions_to(f, c)],
    ),
    ("eventbridge_rules", lambda f, c: sorted({t["RuleArn"] for t in rule_targets(f, c)})),
    ("scheduler_schedules", schedules_of),
    ("s3_buckets", lambda f, c: bucket_notifications(f, c)),
    ("event_invoke_configs", lambda f, c: [x.get("FunctionArn") for x in f["EventInvokeConfigs"]]),
    ("destination_of", destination_of),
    ("service_grants", lambda f, c: service_grants(f)),
)


@function_check("REL-01")
def async_failures_captured(function: Mapping[str, Any], context: Context) -> Verdict:
    """An asynchronous event that keeps failing is retried and then discarded: without a
    dead-letter queue or on-failure destination it is lost with no trace."""
    name = function["FunctionName"]
    sources: dict[str, list[Any]] = {}
    unreadable: list[DataUnavailable] = []
    for kind, read in ASYNC_SOURCES:
        try:
            found = read(function, context)
        except DataUnavailable as error:
            unreadable.append(error)
            continue
        if found:
            sources[kind] = found
    captures, unknown = _captures(function)
    evidence = {"async_sources": sources, **captures}
    if unreadable:
        evidence["unreadable"] = sorted({error.operation for error in unreadable})
    if not sources:
        if unreadable:
            raise unreadable[0]
        return not_applicable(f"{name} is not invoked asynchronously", **evidence)
    captured = captures.get("DeadLetterConfig") or next(iter(captures.get("OnFailure", [])), None)
    if captured:
        return passed(f"{name}'s failed asynchronous events go to {captured}", **evidence)
    if unknown:
        raise unknown[0]
    return failed(
        f"{name} is invoked asynchronously ({', '.join(sources)}) but has neither a "
        f"DeadLetterConfig nor an OnFailure destination{_not_read(unreadable)}",
        **evidence,
    )


def _captures(function: Mapping[str, Any]) -> tuple[dict[str, Any], list[DataUnavailable]]:
    """Where failed asynchronous events go (``DeadLetterConfig``, ``OnFailure``), and the
    reads that failed: an emulator that drops ``DeadLetterConfig`` leaves it unknown."""
    captures: dict[str, Any] = {}
    unknown: list[DataUnavailable] = []
    try:
        captures["DeadLetterConfig"] = (function.get("DeadLetterConfig") or {}).get("TargetArn")
    except DataUnavailable as error:
        unknown.append(error)
    try:
        captures["OnFailure"] = sorted(
            {d for c in function["EventInvokeConfigs"] if (d := on_failure_destination(c))}
        )
    except DataUnavailable as error:
        unknown.append(error)
    return captures, unknown


@function_check("REL-02")
def reserved_concurrency(function: Mapping[str, Any], context: Context) -> Verdict:
    """Without reserved concurrency a traffic spike elsewhere in the account can throttle
    this function to nothing, and this one can starve the others."""
    name = function["FunctionName"]
    reserved = require(function["ReservedConcurrentExecutions"])
    if reserved is None:
        return failed(f"{name} has no reserved concurrency", ReservedConcurrentExecutions=None)
    return passed(
        f"{name} has reserved concurrency {reserved}", ReservedConcurrentExecutions=reserved
    )


@function_check("REL-03")
def alias_of_published_version(function: Mapping[str, Any], context: Context) -> Verdict:
    """Traffic to $LATEST runs whatever was deployed last, with no immutable version to
    roll back to or to shift traffic gradually from."""
    name = function["FunctionName"]
    aliases = {a["Name"]: a.get("FunctionVersion") for a in require(function["Aliases"])}
    if not aliases:
        return failed(f"{name} has no alias", Aliases={})
    published = {alias: version for alias, version in aliases.items() if version != "$LATEST"}
    if not published:
        return failed(
            f"{name}'s aliases {', '.join(aliases)} all point at $LATEST", Aliases=aliases
        )
    alias, version = next(iter(published.items()))
    return passed(f"{name}'s alias {alias} points at published version {version}", Aliases=aliases)


@function_check("REL-04")
def visibility_timeout(function: Mapping[str, Any], context: Context) -> Verdict:
    """A queue message that becomes visible again while the function is still working on it
    is processed twice, and retries eat the queue's receive count towards the DLQ."""
    name = function["FunctionName"]
    queues = queues_of(function, context)
    if not queues:
        return not_applicable(f"{name} has no SQS event source")
    minimum = VISIBILITY_FACTOR * function["Timeout"]
    timeouts = {arn: queue["VisibilityTimeout"] for arn, queue in queues.items()}
    evidence = {"Timeout": function["Timeout"], "VisibilityTimeout": timeouts}
    short = {arn: t for arn, t in timeouts.items() if t < minimum}
    if short:
        arn, timeout = next(iter(short.items()))
        return failed(
            f"{name}'s SQS queue {queue_name(arn)} has VisibilityTimeout {timeout}s, less than "
            f"{VISIBILITY_FACTOR} x its Timeout {function['Timeout']}s",
            **evidence,
        )
    return passed(
        f"{name}'s SQS event-source queues have VisibilityTimeout >= {minimum}s", **evidence
    )


@function_check("REL-05")
def event_source_queue_dlq(function: Mapping[str, Any], context: Context) -> Verdict:
    """A message that always fails is received again and again until it expires, blocking
    its batch and then vanishing, unless the queue redrives it to a dead-letter queue."""
    name = function["FunctionName"]
    queues = queues_of(function, context)
    if not queues:
        return not_applicable(f"{name} has no SQS event source")
    redrive = {arn: queue.get("RedrivePolicy") for arn, queue in queues.items()}
    missing = [arn for arn, policy in redrive.items() if not policy]
    if missing:
        return failed(
            f"{name}'s SQS queue {', '.join(map(queue_name, missing))} has no RedrivePolicy",
            RedrivePolicy=redrive,
        )
    return passed(f"{name}'s SQS event-source queues have a DLQ", RedrivePolicy=redrive)


@function_check("REL-06")
def stream_retries_bounded(function: Mapping[str, Any], context: Context) -> Verdict:
    """A failing batch of a stream is retried until its records expire, blocking the shard
    meanwhile, and then lost, unless retries are bounded and failures are sent elsewhere."""
    name = function["FunctionName"]
    mappings = stream_mappings(function)
    if not mappings:
        return not_applicable(f"{name} has no Kinesis or DynamoDB stream event source")
    settings: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for mapping in mappings:
        source = mapping["EventSourceArn"]
        on_failure = on_failure_destination(mapping)
        # AWS's defaults where a field is absent: infinite retries, no bisection.
        retries = mapping.get("MaximumRetryAttempts", -1)
        bisect = bool(mapping.get("BisectBatchOnFunctionError"))
        settings[source] = {
            "OnFailure": on_failure,
            "MaximumRetryAttempts": retries,
            "BisectBatchOnFunctionError": bisect,
        }
        reasons = [
            reason
            for reason, bad in (
                ("no OnFailure destination", not on_failure),
                ("MaximumRetryAttempts -1", retries == -1),
                ("BisectBatchOnFunctionError false", not bisect),
            )
            if bad
        ]
        if reasons:
            problems.append(f"{source} ({', '.join(reasons)})")
    if problems:
        return failed(
            f"{name}'s stream mapping {'; '.join(problems)} does not bound its retries",
            mappings=settings,
        )
    return passed(f"{name}'s stream mappings bound their retries", mappings=settings)


@function_check("REL-07")
def partial_batch_failures(function: Mapping[str, Any], context: Context) -> Verdict:
    """Without partial batch responses one bad message makes the whole batch fail, so the
    good messages are processed again, and again, until the bad one reaches the DLQ."""
    name = function["FunctionName"]
    mappings = sqs_mappings(function)
    if not mappings:
        return not_applicable(f"{name} has no SQS event source")
    types = {m["EventSourceArn"]: list(m.get("FunctionResponseTypes") or []) for m in mappings}
    lacking = [arn for arn, kinds in types.items() if "ReportBatchItemFailures" not in kinds]
    if lacking:
        return failed(
            f"{name}'s SQS mapping of {', '.join(map(queue_name, lacking))} lacks "
            "ReportBatchItemFailures",
            FunctionResponseTypes=types,
        )
    return passed(
        f"{name}'s SQS mappings report partial batch failures", FunctionResponseTypes=types
    )


def _fronting_stages(
    function: Mapping[str, Any], context: Context
) -> tuple[list[str], list[DataUnavailable]]:
    """The API stages that integrate the function, from every region (an API may integrate a
    function of another region), and the reads that failed on the way: an API whose methods
    could not be read may be one of them."""
    stages: list[str] = []
    unreadable: list[DataUnavailable] = []
    for region in context.snapshot.regions:
        try:
            listed = list(context.snapshot.region(region)["apigw"]["stages"])
        except DataUnavailable as error:
            unreadable.append(error)
            continue
        for stage in listed:
            try:
                if any(m["function_arn"] == function["FunctionArn"] for m in stage["methods"]):
                    stages.append(stage["stage_arn"])
            except DataUnavailable as error:
                unreadable.append(error)
    return stages, unreadable


@function_check("REL-08")
def timeout_fits_api_gateway(function: Mapping[str, Any], context: Context) -> Verdict:
    """API Gateway answers 504 after 29 seconds while the function keeps running: the
    caller sees a failure for work that may still complete, and retries it."""
    name = function["FunctionName"]
    stages, unreadable = _fronting_stages(function, context)
    timeout = function["Timeout"]
    evidence = {"Timeout": timeout, "stages": stages}
    if stages and timeout > API_GATEWAY_TIMEOUT:
        return failed(
            f"{name} is behind API Gateway with Timeout {timeout}s, over {API_GATEWAY_TIMEOUT}s"
            f"{_not_read(unreadable)}",
            **evidence,
            **({"unreadable": sorted({e.operation for e in unreadable})} if unreadable else {}),
        )
    if unreadable:
        raise unreadable[0]
    if not stages:
        return not_applicable(f"{name} is not behind API Gateway")
    return passed(f"{name}'s Timeout {timeout}s fits API Gateway's 29s", **evidence)


def _not_read(errors: list[DataUnavailable]) -> str:
    """What a certain FAIL did not see, for its message."""
    if not errors:
        return ""
    return f"; not read: {', '.join(sorted({error.operation for error in errors}))}"


@function_check("REL-09")
def eventbridge_targets_dlq(function: Mapping[str, Any], context: Context) -> Verdict:
    """An event EventBridge cannot deliver within its retry policy is dropped, with no
    record, unless the target has a dead-letter queue."""
    name = function["FunctionName"]
    targets = rule_targets(function, context)
    if not targets:
        return not_applicable(f"{name} is targeted by no EventBridge rule")
    dlqs = {
        f"{t['RuleArn']}#{t['Id']}": (t.get("DeadLetterConfig") or {}).get("Arn") for t in targets
    }
    missing = [target for target, dlq in dlqs.items() if not dlq]
    if missing:
        return failed(
            f"{name}'s EventBridge target {', '.join(missing)} has no DeadLetterConfig",
            DeadLetterConfig=dlqs,
        )
    return passed(f"{name}'s EventBridge targets have a DLQ", DeadLetterConfig=dlqs)


@function_check("REL-10")
def sns_subscriptions_redrive(function: Mapping[str, Any], context: Context) -> Verdict:
    """A message SNS cannot deliver to the function after its retries is discarded unless
    the subscription redrives it to a dead-letter queue."""
    name = function["FunctionName"]
    subscriptions = subscriptions_to(function, context)
    if not subscriptions:
        return not_applicable(f"{name} has no SNS subscription")
    redrive = {s["SubscriptionArn"]: require(s["RedrivePolicy"]) for _, s in subscriptions}
    missing = [arn for arn, policy in redrive.items() if not policy]
    if missing:
        return failed(
            f"{name}'s SNS subscription {', '.join(missing)} has no RedrivePolicy",
            RedrivePolicy=redrive,
        )
    return passed(f"{name}'s SNS subscriptions have a redrive policy", RedrivePolicy=redrive)
