"""FIN — cost: the architecture and sizing a function is billed for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_prr.checks.base import Context, Verdict, failed, function_check, passed
from pytest_prr.snapshot.model import DataUnavailable

#: Lambda's architecture when a function does not say.
DEFAULT_ARCHITECTURES = ["x86_64"]


@function_check("FIN-01")
def graviton(function: Mapping[str, Any], context: Context) -> Verdict:
    """On arm64 (Graviton) the same work is billed about 20% less per GB-second, usually
    with equal or better performance."""
    name = function["FunctionName"]
    architectures = list(function.get("Architectures") or DEFAULT_ARCHITECTURES)
    if architectures != ["arm64"]:
        return failed(
            f"{name} runs on {', '.join(architectures)}, not arm64.", Architectures=architectures
        )
    return passed(f"{name} runs on arm64.", Architectures=architectures)


@function_check("FIN-02")
def right_sized(function: Mapping[str, Any], context: Context) -> Verdict:
    """Oversized memory is paid for on every invocation, and a long timeout lets a hung
    invocation bill (and hold concurrency) for minutes."""
    name = function["FunctionName"]
    limits = {
        "MemorySize": ("prr_max_memory_mb", "MB"),
        "Timeout": ("prr_max_timeout_s", "s"),
    }
    evidence: dict[str, Any] = {}
    over: list[str] = []
    missing: dict[str, DataUnavailable] = {}
    for field, (tunable, unit) in limits.items():
        maximum = context.tunables[tunable]
        evidence[tunable] = maximum
        try:
            value = function[field]
        except DataUnavailable as error:  # a missing size proves nothing either way
            missing[field] = error
            continue
        evidence[field] = value
        if value > maximum:
            over.append(f"{field} {value} {unit} > {maximum}")
    if over:
        unread = f"; {', '.join(missing)} not read" if missing else ""
        return failed(f"{name} is oversized: {'; '.join(over)}{unread}.", **evidence)
    for error in missing.values():
        raise error
    return passed(
        f"{name} has MemorySize {evidence['MemorySize']} MB and Timeout {evidence['Timeout']} s.",
        **evidence,
    )
