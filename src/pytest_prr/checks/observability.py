"""OBS — observability: tracing, log retention, alarms that page, structured logs and the SLO.

Alarms are matched the way Lambda publishes its metrics: ``FunctionName`` = the function for
the whole function, plus ``Resource`` = ``NAME:ALIAS`` for an alias. An alarm pinned to a
version (``Resource`` = ``NAME:3``, or an ``ExecutedVersion`` dimension) watches traffic that
stops with the next release, so it does not count.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_prr.checks.base import (
    Context,
    Verdict,
    failed,
    function_check,
    not_applicable,
    passed,
)
from pytest_prr.snapshot.model import DataUnavailable, require

LAMBDA_LOG_PREFIX = "/aws/lambda/"
VERBOSE_LEVELS = ("DEBUG", "TRACE")
LEVEL_VARIABLES = ("POWERTOOLS_LOG_LEVEL", "LOG_LEVEL")


@function_check("OBS-01")
def active_tracing(function: Mapping[str, Any], context: Context) -> Verdict:
    """Without active tracing a slow or failing request cannot be followed across the services
    it touched, which lengthens every investigation."""
    name = function["FunctionName"]
    mode = (function.get("TracingConfig") or {}).get("Mode")
    if mode != "Active":
        shown = mode or "PassThrough (Lambda's default: no tracing mode set)"
        return failed(f"{name} has X-Ray tracing mode {shown}, not Active.", TracingMode=mode)
    return passed(f"{name} has X-Ray active tracing.", TracingMode=mode)


@function_check("OBS-02")
def log_retention(function: Mapping[str, Any], context: Context) -> Verdict:
    """Logs are the audit trail of what a function did; a group that is missing, keeps logs
    forever (cost, data minimisation) or too briefly (evidence lost) fails record keeping."""
    name = function["FunctionName"]
    config = require(function.get("LoggingConfig") or {})
    group_name = config.get("LogGroup") or f"{LAMBDA_LOG_PREFIX}{name}"
    groups = require(require(context.section["logs"])["log_groups"])
    minimum = context.tunables["prr_log_retention_min_days"]
    if group_name not in groups:
        return failed(f"{name} logs to {group_name}, which does not exist.", LogGroup=group_name)
    days = require(groups[group_name]).get("retentionInDays")
    evidence = {"LogGroup": group_name, "retentionInDays": days, "minimum_days": minimum}
    if days is None:
        return failed(f"{name}'s log group {group_name} never expires events.", **evidence)
    if days < minimum:
        return failed(
            f"{name}'s log group {group_name} keeps logs {days} days, fewer than {minimum}.",
            **evidence,
        )
    return passed(f"{name}'s log group {group_name} keeps logs {days} days.", **evidence)


def _dimensions(alarm: Mapping[str, Any]) -> dict[str, Any]:
    return {d.get("Name"): d.get("Value") for d in alarm.get("Dimensions") or []}


def _lambda_alarms(context: Context) -> dict[tuple[str, str], list[Any]]:
    """The region's alarms on a function's own metrics, by (metric, function name): the
    alarms whose dimensions are ``FunctionName`` and at most ``Resource``."""
    alarms = require(require(context.section["cloudwatch"])["alarms"])
    index: dict[tuple[str, str], list[Any]] = {}
    for alarm in alarms:
        dimensions = _dimensions(alarm)
        if set(dimensions) - {"FunctionName", "Resource"} or "FunctionName" not in dimensions:
            continue
        key = (alarm.get("MetricName"), dimensions["FunctionName"])
        index.setdefault(key, []).append(alarm)
    return index


def _alarms_on(metric: str, function: Mapping[str, Any], context: Context) -> list[Any]:
    """The AWS/Lambda alarms on ``metric`` that watch the function or one of its aliases."""
    index = context.snapshot.indexed(
        ("lambda alarms", context.region), lambda: _lambda_alarms(context)
    )
    name = function["FunctionName"]
    aliases: set[str] | None = None
    found = []
    for alarm in index.get((metric, name), []):
        resource = _dimensions(alarm).get("Resource", name)
        if resource != name:
            if aliases is None:  # read only when an alias-qualified alarm needs it
                aliases = {f"{name}:{a['Name']}" for a in require(function.get("Aliases") or [])}
            if resource not in aliases:
                continue
        found.append(alarm)
    return found


def _alarm_verdict(metric: str, function: Mapping[str, Any], context: Context) -> Verdict:
    name = function["FunctionName"]
    alarms = [a.get("AlarmName") for a in _alarms_on(metric, function, context)]
    if not alarms:
        return failed(f"No CloudWatch alarm watches AWS/Lambda {metric} of {name}.", alarms=[])
    return passed(f"{name} has {metric} alarm(s) {', '.join(alarms)}.", alarms=alarms)


@function_check("OBS-03")
def errors_alarm(function: Mapping[str, Any], context: Context) -> Verdict:
    """Without an alarm on Errors, a faulty release or broken dependency is noticed only when
    customers complain or a reconciliation fails."""
    return _alarm_verdict("Errors", function, context)


@function_check("OBS-04")
def throttles_alarm(function: Mapping[str, Any], context: Context) -> Verdict:
    """Throttled invocations never reach the code or its logs; without an alarm, capacity
    exhaustion goes unnoticed until it is an outage."""
    return _alarm_verdict("Throttles", function, context)


@function_check("OBS-05")
def alarms_page_someone(function: Mapping[str, Any], context: Context) -> Verdict:
    """An alarm that notifies nobody only changes colour on a dashboard: detection without
    notification does not shorten the time to respond."""
    name = function["FunctionName"]
    alarms = _alarms_on("Errors", function, context) + _alarms_on("Throttles", function, context)
    if not alarms:
        return not_applicable(f"{name} has no Errors or Throttles alarm (OBS-03/04 fail).")
    evidence = {
        a.get("AlarmName"): {
            "ActionsEnabled": a.get("ActionsEnabled"),
            "AlarmActions": list(a.get("AlarmActions") or []),
        }
        for a in alarms
    }
    silent = [a.get("AlarmName") for a in alarms if _is_silent(a)]
    if silent:
        return failed(
            f"{name}'s alarm(s) {', '.join(silent)} have no alarm actions or actions disabled.",
            alarms=evidence,
        )
    return passed(f"Every Errors/Throttles alarm of {name} has enabled actions.", alarms=evidence)


def _is_silent(alarm: Mapping[str, Any]) -> bool:
    return not alarm.get("AlarmActions") or alarm.get("ActionsEnabled") is not True


def _variable(function: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    """A redacted-environment entry: ``{"value": v}``, a redacted finding, or None."""
    return require(function.get("Environment") or {}).get(name)


def _shown(entry: Mapping[str, Any] | None) -> Any:
    """An entry as evidence: its value, or only the finding kind of a redacted one."""
    if entry is None:
        return None
    if entry.get("redacted"):
        return {"redacted": entry.get("finding")}
    return entry.get("value")


def _is_set(entry: Mapping[str, Any] | None) -> bool:
    return entry is not None and bool(entry.get("redacted") or entry.get("value"))


@function_check("OBS-06")
def powertools_instrumented(function: Mapping[str, Any], context: Context) -> Verdict:
    """Powertools gives consistent structured logs, metrics and traces keyed by service; an
    uninstrumented function is the one whose incident nobody can reconstruct."""
    name = function["FunctionName"]
    entry = _variable(function, "POWERTOOLS_SERVICE_NAME")
    if not _is_set(entry):
        return failed(
            f"{name} does not set POWERTOOLS_SERVICE_NAME.", POWERTOOLS_SERVICE_NAME=_shown(entry)
        )
    return passed(f"{name} sets POWERTOOLS_SERVICE_NAME.", POWERTOOLS_SERVICE_NAME=_shown(entry))


@function_check("OBS-07")
def structured_logs(function: Mapping[str, Any], context: Context) -> Verdict:
    """Text logs cannot be queried reliably for investigations and audit sampling, and DEBUG or
    TRACE in production copy payloads, tokens and personal data into the logs."""
    name = function["FunctionName"]
    config = require(function.get("LoggingConfig") or {})
    log_format = config.get("LogFormat")
    powertools = _is_set(_variable(function, "POWERTOOLS_SERVICE_NAME"))
    # The spec's order is the precedence: Lambda's level, then Powertools', then LOG_LEVEL.
    sources: dict[str, Mapping[str, Any]] = {}
    if config.get("ApplicationLogLevel"):
        sources["ApplicationLogLevel"] = {"value": config["ApplicationLogLevel"]}
    for variable in LEVEL_VARIABLES:
        entry = _variable(function, variable)
        if entry is not None and _is_set(entry):
            sources[variable] = entry
    evidence = {
        "LogFormat": log_format,
        "powertools": powertools,
        "levels": {source: _shown(entry) for source, entry in sources.items()},
    }
    if log_format != "JSON" and not powertools:
        shown = log_format or "Text (Lambda's default: no log format set)"
        return failed(
            f"{name} logs in format {shown} without Powertools logging, not JSON.",
            **evidence,
        )
    if sources:
        source, entry = next(iter(sources.items()))
        if entry.get("redacted"):
            return failed(f"{name}'s log level {source} holds a redacted value.", **evidence)
        if str(entry.get("value")).upper() in VERBOSE_LEVELS:
            return failed(f"{name} logs at level {entry['value']} (from {source}).", **evidence)
    return passed(f"{name} writes structured logs at a production level.", **evidence)


@function_check("OBS-08")
def availability_slo(function: Mapping[str, Any], context: Context) -> Verdict:
    """Availability measured on real traffic is the objective evidence that the service meets
    the commitment the business relies on, whatever its configuration says."""
    name = function["FunctionName"]
    window = context.tunables["prr_slo_window_days"]
    target = context.tunables["prr_slo_target"]
    metrics = require(require(context.section["cloudwatch"])["metrics"])
    if function["FunctionArn"] not in metrics:
        raise DataUnavailable("cloudwatch:GetMetricData", "MissingResult", f"no metrics for {name}")
    totals = require(metrics[function["FunctionArn"]])
    if totals.get("window_days") != window:
        raise DataUnavailable(
            "cloudwatch:GetMetricData",
            "WindowMismatch",
            f"the snapshot holds {totals.get('window_days')} days, prr_slo_window_days is "
            f"{window}; take the snapshot again",
        )
    errors, invocations = totals["Errors"], totals["Invocations"]
    evidence = {
        "Errors": errors,
        "Invocations": invocations,
        "window_days": window,
        "target": target,
    }
    if not invocations:
        return not_applicable(f"{name} had no invocations in the last {window} days.", **evidence)
    availability = 1 - errors / invocations
    evidence["availability"] = availability
    if availability < target:
        return failed(
            f"{name}'s availability over {window} days is {availability:.4%}, "
            f"below the {target:.4%} target.",
            **evidence,
        )
    return passed(
        f"{name}'s availability over {window} days is {availability:.4%} (target {target:.4%}).",
        **evidence,
    )
