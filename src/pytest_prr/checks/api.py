"""API: API Gateway stages in front of functions - access logs, throttling, authorization, WAF.

Each check reads one stage entry of ``section["apigw"]["stages"]``; a field whose read failed
is a marker, so the rule needing it is an ERROR naming the operation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_prr.checks.base import Context, Verdict, failed, passed, stage_check
from pytest_prr.snapshot.model import DataUnavailable, require

#: How many offending methods a message names before summarising the rest.
NAMED = 3


def _label(stage: Mapping[str, Any], *, certain_failure: bool = False) -> str:
    """The stage by name. A FAIL certain from the API alone (its methods, its type) holds
    for every stage, so it may name "the stages" of its API when they could not be read; a
    PASS needs to know which stage it speaks for."""
    try:
        which = f"stage {stage['stage']}"
    except DataUnavailable:
        if not certain_failure:
            raise
        which = "the stages (unread)"
    return f"{which} of {stage['api_type']} API {stage.get('api_name')} ({stage['api_id']})"


@stage_check("API-01")
def stage_has_access_logs(stage: Mapping[str, Any], context: Context) -> Verdict:
    """Without access logs nobody can reconstruct who called the API, including requests
    rejected before they reached the function."""
    destination = require(stage["access_log_destination"])
    if not destination:
        return failed(f"{_label(stage)} has no access log destination", access_log_destination=None)
    return passed(
        f"{_label(stage)} logs access to {destination}", access_log_destination=destination
    )


def _limit_set(value: Any) -> bool:
    """API Gateway reports an unset method-setting limit as absent or -1."""
    return value is not None and value >= 0


@stage_check("API-02")
def stage_throttles_requests(stage: Mapping[str, Any], context: Context) -> Verdict:
    """Without stage throttling one abusive client or retry storm can exhaust the account's
    regional request limit and the function's concurrency, taking every API down."""
    throttling = require(stage["throttling"]) or {}
    rate, burst = throttling.get("rate_limit"), throttling.get("burst_limit")
    evidence = {"rate_limit": rate, "burst_limit": burst}
    if _limit_set(rate) and _limit_set(burst):
        return passed(
            f"{_label(stage)} throttles at {rate} requests/s with burst {burst}", **evidence
        )
    unset = [name for name, value in (("rate", rate), ("burst", burst)) if not _limit_set(value)]
    return failed(
        f"{_label(stage)} has no default {' and '.join(unset)} throttling limit", **evidence
    )


def _function_name(arn: str) -> str:
    parts = arn.split(":")
    return parts[6] if len(parts) > 6 else arn


def _route(method: Mapping[str, Any]) -> str:
    verb = method.get("http_method")
    return f"{verb} {method.get('resource_path')}" if verb else str(method.get("resource_path"))


@stage_check("API-03")
def methods_require_authorization(stage: Mapping[str, Any], context: Context) -> Verdict:
    """A method without authorization lets anyone who finds the endpoint invoke the function
    with all its data access."""
    methods = require(stage["methods"])
    open_methods = [
        method
        for method in methods
        if (method.get("authorization_type") or "NONE").upper() == "NONE"
        and not method.get("api_key_required")
    ]
    evidence = {
        "methods": [
            {
                "route": _route(m),
                "authorization_type": m.get("authorization_type"),
                "api_key_required": m.get("api_key_required"),
                "function_arn": m.get("function_arn"),
                **({"authorized_on": m["authorized_on"]} if "authorized_on" in m else {}),
            }
            for m in methods
        ]
    }
    if not open_methods:
        return passed(
            f"every method of {_label(stage)} that invokes a function requires authorization "
            "or an API key",
            **evidence,
        )
    named = [f"{_route(m)} -> {_function_name(m['function_arn'])}" for m in open_methods]
    more = f" and {len(named) - NAMED} more" if len(named) > NAMED else ""
    return failed(
        f"{_label(stage, certain_failure=True)} lets anyone invoke functions without "
        f"authorization or API key: {', '.join(named[:NAMED])}{more}",
        **evidence,
    )


@stage_check("API-04")
def stage_has_web_acl(stage: Mapping[str, Any], context: Context) -> Verdict:
    """Without a web ACL, injection payloads, credential stuffing and floods reach the
    function unfiltered."""
    if stage["api_type"] != "REST":
        return failed(
            f"{_label(stage, certain_failure=True)} has no AWS WAF web ACL: AWS WAF cannot be "
            f"associated with {stage['api_type']} API stages",
            web_acl_arn=None,
            api_type=stage["api_type"],
        )
    web_acl = stage["web_acl_arn"]
    label = _label(stage)
    if not web_acl:
        return failed(f"{label} has no associated AWS WAF web ACL", web_acl_arn=None)
    return passed(f"{label} is protected by web ACL {web_acl}", web_acl_arn=web_acl)
