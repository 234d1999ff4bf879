"""FIN — cost: the architecture and sizing a function is billed for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_prr.checks.base import Context, Verdict, failed, function_check, passed

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
    memory, timeout = function.get("MemorySize"), function.get("Timeout")
    max_memory = context.tunables["prr_max_memory_mb"]
    max_timeout = context.tunables["prr_max_timeout_s"]
    evidence = {
        "MemorySize": memory,
        "Timeout": timeout,
        "prr_max_memory_mb": max_memory,
        "prr_max_timeout_s": max_timeout,
    }
    over = []
    if memory is not None and memory > max_memory:
        over.append(f"MemorySize {memory} MB > {max_memory}")
    if timeout is not None and timeout > max_timeout:
        over.append(f"Timeout {timeout} s > {max_timeout}")
    if over:
        return failed(f"{name} is oversized: {'; '.join(over)}.", **evidence)
    return passed(f"{name} has MemorySize {memory} MB and Timeout {timeout} s.", **evidence)
