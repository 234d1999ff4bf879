"""EventBridge rule targets that invoke functions, for REL-01 and REL-09.

Rules of every event bus are read, not only the default bus: a rule on a custom bus invokes
a function asynchronously just the same, and missing it would make REL-09 not applicable
where it applies. Targets cannot be listed account-wide, so it is one call per rule.

A rule whose targets could not be read stays in the list with an error marker as its
``FunctionArn``: it may target any function, so every check that looks for a function's
targets must meet that marker (through ``require``) and fail closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_prr.snapshot.collect.reader import Reader
from pytest_prr.snapshot.model import is_error


def collect_events(reader: Reader, region: str, section: Mapping[str, Any]) -> dict[str, Any]:
    functions = section["lambda"]["functions"]
    if is_error(functions):
        return {"targets": functions}
    buses = _event_buses(reader, region)
    if is_error(buses):
        return {"targets": buses}
    rules: list[dict[str, Any]] = []
    for bus in buses:
        listed = reader.pages("events", region, "list_rules", "Rules", EventBusName=bus)
        if is_error(listed):
            return {"targets": listed}
        rules.extend(listed)
    targets: list[dict[str, Any]] = []
    for found in reader.map(lambda rule: _targets(reader, region, rule), rules):
        targets.extend(found)
    return {"targets": targets}


def _event_buses(reader: Reader, region: str) -> Any:
    """Names of all event buses; botocore has no paginator for ListEventBuses."""
    names: list[str] = []
    token: dict[str, str] = {}
    while True:
        response = reader.call("events", region, "list_event_buses", **token)
        if is_error(response):
            return response
        names.extend(bus["Name"] for bus in response.get("EventBuses", []))
        if not response.get("NextToken"):
            return names
        token = {"NextToken": response["NextToken"]}


def _targets(reader: Reader, region: str, rule: Mapping[str, Any]) -> list[dict[str, Any]]:
    identity = {
        "Rule": rule["Name"],
        "RuleArn": rule["Arn"],
        "EventBusName": rule.get("EventBusName", "default"),
        "State": rule.get("State"),
    }
    listed = reader.pages(
        "events",
        region,
        "list_targets_by_rule",
        "Targets",
        Rule=rule["Name"],
        EventBusName=identity["EventBusName"],
    )
    if is_error(listed):
        return [{**identity, "FunctionArn": listed}]
    return [
        {
            **identity,
            "Id": target["Id"],
            "FunctionArn": ":".join(target["Arn"].split(":")[:7]),
            "DeadLetterConfig": target.get("DeadLetterConfig"),
            "RetryPolicy": target.get("RetryPolicy"),
        }
        for target in listed
        if target["Arn"].split(":")[2:3] == ["lambda"] and ":function:" in target["Arn"]
    ]
