"""Every built-in check, registered by importing the modules that define them.

The checks register themselves (``checks.base.function_check`` and its kin) when their module
is imported; this is the one place that imports them all, for whoever evaluates built-in
controls: the pytest items, ``prr verify``, the benchmarks.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from pytest_prr.checks.base import REGISTRY, Check

#: The modules that register checks; importing them fills ``checks.base.REGISTRY``.
CHECK_MODULES = (
    "security",
    "iam",
    "network",
    "data",
    "reliability",
    "observability",
    "deployment",
    "cost",
    "guardrails",
    "api",
)


def registered_checks() -> Mapping[str, Check]:
    """Control ID → its check, for every built-in check."""
    for module in CHECK_MODULES:
        importlib.import_module(f"pytest_prr.checks.{module}")
    return REGISTRY
