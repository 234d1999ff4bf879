"""DAT controls: protection of the data a function holds, reads and sends."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pytest_prr.checks.base import (
    NOT_IN_SNAPSHOT,
    Context,
    Verdict,
    failed,
    function_check,
    not_applicable,
    passed,
)
from pytest_prr.snapshot.collect.secrets import secret_arn
from pytest_prr.snapshot.collect.sqs import wired_arns
from pytest_prr.snapshot.guarded import unwrap
from pytest_prr.snapshot.model import DataUnavailable, require
from pytest_prr.snapshot.redact import references


def lookup(mapping: Any, key: str, operation: str) -> Any:
    """``mapping[key]`` through :func:`require`; a key the snapshot never read stops the
    check as missing data, since its absence proves nothing."""
    mapping = require(mapping)
    if key not in mapping:
        raise DataUnavailable(operation, NOT_IN_SNAPSHOT, f"{key} was not read")
    return require(mapping[key])


def subscriptions_to(
    function: Mapping[str, Any], context: Context
) -> list[tuple[str, Mapping[str, Any]]]:
    """(region, subscription) for every SNS subscription delivering to the function, from
    every region of the snapshot: a topic may deliver to a function of another region."""
    found = []
    for region in context.snapshot.regions:
        sns = require(context.snapshot.region(region)["sns"])
        for subscription in require(sns["subscriptions"]):
            if require(subscription)["Endpoint"] == function["FunctionArn"]:
                found.append((region, subscription))
    return found


def wired(function: Mapping[str, Any], service: str) -> tuple[list[str], DataUnavailable | None]:
    """ARNs of ``service`` that are an event source, DLQ or destination of the function, by
    the rule the collectors used to read them; unread wiring stops the check. With the error
    of the dead-letter queue when the target drops ``DeadLetterConfig``: the rest is known,
    and may already prove a violation."""
    wiring: dict[str, Any] = {
        "EventInvokeConfigs": unwrap(function["EventInvokeConfigs"]),
        "event_source_mappings": unwrap(function["event_source_mappings"]),
    }
    unread = None
    try:
        wiring["DeadLetterConfig"] = unwrap(function.get("DeadLetterConfig"))
    except DataUnavailable as error:
        unread = error
    return sorted(wired_arns({function["FunctionArn"]: wiring}, service)), unread


def log_group(function: Mapping[str, Any], context: Context) -> tuple[str, Any]:
    """The function's log group name and its entry in the snapshot, None if it is missing."""
    config = require(function.get("LoggingConfig") or {})
    name = config.get("LogGroup") or f"/aws/lambda/{function['FunctionName']}"
    groups = require(require(context.section["logs"])["log_groups"])
    return name, require(groups.get(name))


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@function_check("DAT-01")
def referenced_secrets_rotate(function: Mapping[str, Any], context: Context) -> Verdict:
    """A secret that never changes stays usable by whoever copied it, for as long as it
    lives: rotation bounds the exposure of a leaked credential."""
    name = function["FunctionName"]
    arns = sorted(
        {
            secret_arn(reference)
            for reference in references(require(function["Environment"]))
            if reference.split(":")[2] == "secretsmanager"
        }
    )
    if not arns:
        return not_applicable(f"{name} references no Secrets Manager secret in its environment")
    max_age = int(context.tunables["prr_secret_max_age_days"])
    taken_at = _instant(context.snapshot.taken_at)
    problems: dict[str, str] = {}
    evidence: dict[str, Any] = {}
    for arn in arns:
        region = arn.split(":")[3]
        if region not in context.snapshot.regions:
            raise DataUnavailable(
                "secretsmanager:DescribeSecret",
                NOT_IN_SNAPSHOT,
                f"{arn} is in region {region}, which the snapshot does not cover",
            )
        section = require(context.snapshot.region(region)["secrets"])
        secret = lookup(section["secrets"], arn, "secretsmanager:DescribeSecret")
        label = arn.split(":")[6]
        if not secret["exists"]:
            evidence[arn] = {"exists": False}
            problems[label] = "does not exist"
            continue
        last = secret.get("LastRotatedDate") or secret.get("CreatedDate")
        age = (taken_at - _instant(last)).days if last else None
        evidence[arn] = {
            "RotationEnabled": secret["RotationEnabled"],
            "LastRotatedDate": secret.get("LastRotatedDate"),
            "CreatedDate": secret.get("CreatedDate"),
            "age_days": age,
        }
        if not secret["RotationEnabled"]:
            problems[label] = "rotation disabled"
        elif age is None:
            problems[label] = "no rotation or creation date"
        elif age > max_age:
            rotated = "last rotated" if secret.get("LastRotatedDate") else "never rotated, created"
            problems[label] = f"{rotated} {age} days ago"
    if problems:
        listed = ", ".join(f"{label} ({why})" for label, why in problems.items())
        return failed(
            f"{name} references secrets that do not rotate within {max_age} days: {listed}",
            secrets=evidence,
            max_age_days=max_age,
        )
    return passed(
        f"{name}'s {len(arns)} referenced secret(s) rotate within {max_age} days",
        secrets=evidence,
        max_age_days=max_age,
    )


@function_check("DAT-02")
def wired_queues_encrypted(function: Mapping[str, Any], context: Context) -> Verdict:
    """Messages in an unencrypted queue rest in plaintext on AWS storage, outside the key
    policies and audit trail that guard the function's other data."""
    name = function["FunctionName"]
    arns, unread = wired(function, "sqs")
    if not arns:
        if unread:
            raise unread
        return not_applicable(f"{name} has no SQS queue wired to it")
    queues = context.section["sqs"]["queues"]
    encryption = {}
    for arn in arns:
        queue = lookup(queues, arn, "sqs:GetQueueAttributes")
        encryption[arn] = {
            "KmsMasterKeyId": queue.get("KmsMasterKeyId"),
            "SqsManagedSseEnabled": bool(queue.get("SqsManagedSseEnabled")),
        }
    plain = [arn for arn, sse in encryption.items() if not any(sse.values())]
    if plain:
        return failed(
            f"{name}'s SQS queue {', '.join(a.split(':')[5] for a in plain)} has no "
            f"server-side encryption{_dead_letter_unread(unread)}",
            queues=encryption,
        )
    if unread:
        raise unread
    return passed(f"{name}'s {len(arns)} wired SQS queue(s) are encrypted", queues=encryption)


def _dead_letter_unread(error: DataUnavailable | None) -> str:
    return "" if error is None else "; its DeadLetterConfig could not be read"


@function_check("DAT-03")
def wired_topics_encrypted(function: Mapping[str, Any], context: Context) -> Verdict:
    """Messages of an unencrypted topic rest in plaintext on AWS storage until delivered,
    outside the key policies and audit trail that guard the function's other data."""
    name = function["FunctionName"]
    arns, unread = wired(function, "sns")
    sources: dict[str, str | None] = dict.fromkeys(arns)
    for region, subscription in subscriptions_to(function, context):
        sources[subscription["TopicArn"]] = region
    if not sources:
        if unread:
            raise unread
        return not_applicable(f"{name} has no SNS topic wired to it")
    keys = {}
    for arn, region in sorted(sources.items()):
        topics = context.snapshot.region(region or context.region)["sns"]["topics"]
        keys[arn] = lookup(topics, arn, "sns:GetTopicAttributes").get("KmsMasterKeyId")
    evidence = {"topics": {arn: {"KmsMasterKeyId": key} for arn, key in keys.items()}}
    plain = [arn for arn, key in keys.items() if not key]
    if plain:
        return failed(
            f"{name}'s SNS topic {', '.join(a.split(':')[5] for a in plain)} has no "
            f"KmsMasterKeyId{_dead_letter_unread(unread)}",
            **evidence,
        )
    if unread:
        raise unread
    return passed(f"{name}'s {len(keys)} wired SNS topic(s) are encrypted", **evidence)


@function_check("DAT-04")
def customer_keys_rotate(function: Mapping[str, Any], context: Context) -> Verdict:
    """A customer-managed key that never rotates keeps encrypting new data with the same
    material for years, widening what one compromised key exposes."""
    name = function["FunctionName"]
    used: dict[str, Any] = {}
    unread: list[DataUnavailable] = []
    for use, read in (
        ("environment", lambda: function.get("KMSKeyArn")),
        ("log group", lambda: (log_group(function, context)[1] or {}).get("kmsKeyId")),
    ):
        try:
            used[use] = read()
        except DataUnavailable as error:  # the other key may still prove a violation
            unread.append(error)
    keys = context.section["kms"]["keys"]
    customer: dict[str, dict[str, Any]] = {}
    for use, arn in used.items():
        if not arn:
            continue
        key = lookup(keys, arn, "kms:DescribeKey")
        if key["KeyManager"] == "CUSTOMER":
            entry = customer.setdefault(arn, {"used_for": [], **unwrap(key)})
            entry["used_for"].append(use)
    static = [arn for arn, key in customer.items() if not key.get("KeyRotationEnabled")]
    if static:
        not_read = f"; not read: {', '.join(e.operation for e in unread)}" if unread else ""
        return failed(
            f"{name} uses customer-managed key {', '.join(static)} with automatic rotation "
            f"disabled{not_read}",
            keys=customer,
        )
    if unread:
        raise unread[0]
    if not customer:
        return not_applicable(f"{name} uses no customer-managed KMS key")
    return passed(f"{name}'s customer-managed key(s) rotate automatically", keys=customer)


@function_check("DAT-05")
def log_group_encrypted(function: Mapping[str, Any], context: Context) -> Verdict:
    """Logs carry request payloads, identifiers and stack traces; without a customer-managed
    key, who may decrypt them is not governed by a key policy the organisation controls."""
    name = function["FunctionName"]
    group_name, group = log_group(function, context)
    if group is None:
        return not_applicable(f"{name}'s log group {group_name} does not exist (OBS-02 fails)")
    key = group.get("kmsKeyId")
    if not key:
        return failed(f"{name}'s log group {group_name} has no kmsKeyId", logGroupName=group_name)
    return passed(
        f"{name}'s log group {group_name} is encrypted with {key}",
        logGroupName=group_name,
        kmsKeyId=key,
    )
