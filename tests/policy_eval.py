"""A reference IAM policy evaluator for one request, for the guardrail tests.

It is independent of the product's evaluators (``checks/scp.py``, ``checks/iam_policy.py``)
on purpose: the tests establish what the shipped policies do by AWS's documented evaluation
logic (an explicit Deny wins, then an Allow, else the request is implicitly denied), not by
the code that later credits them. Condition operators it does not implement raise, so a
policy change it cannot judge fails the tests instead of passing them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FUNCTION_ARN = "arn:aws:lambda:eu-west-1:111122223333:function:orders"
#: The SCP that AWS Organizations attaches everywhere; SCPs deny only what is also allowed.
FULL_AWS_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "FullAWSAccess", "Effect": "Allow", "Action": "*", "Resource": "*"}],
}
_MATCHERS = ("StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike")


@dataclass(frozen=True)
class Request:
    """An API call as IAM sees it: the action, the resource, the request context keys."""

    action: str
    resource: str = FUNCTION_ARN
    context: Mapping[str, str] = field(default_factory=dict)


def decide(documents: list[Mapping[str, Any]], request: Request) -> tuple[str, str | None]:
    """("deny", sid) for an explicit deny, ("allow", sid) for an allow, else
    ("implicit deny", None), over the statements of ``documents`` together."""
    statements = [s for document in documents for s in _as_list(document["Statement"])]
    applying = [s for s in statements if _applies(s, request)]
    for effect in ("Deny", "Allow"):
        for statement in applying:
            if statement["Effect"] == effect:
                return effect.lower(), statement.get("Sid")
    return "implicit deny", None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, text: str, *, ignore_case: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


def _element(statement: Mapping[str, Any], name: str, value: str, *, ignore_case: bool) -> bool:
    """``Action``/``NotAction`` or ``Resource``/``NotResource`` against ``value``."""
    if name in statement:
        return any(_glob(p, value, ignore_case=ignore_case) for p in _as_list(statement[name]))
    return not any(
        _glob(p, value, ignore_case=ignore_case) for p in _as_list(statement[f"Not{name}"])
    )


def _applies(statement: Mapping[str, Any], request: Request) -> bool:
    return (
        _element(statement, "Action", request.action, ignore_case=True)
        and _element(statement, "Resource", request.resource, ignore_case=False)
        and all(
            _condition(operator, key, values, request.context)
            for operator, entries in statement.get("Condition", {}).items()
            for key, values in entries.items()
        )
    )


def _condition(operator: str, key: str, values: Any, context: Mapping[str, str]) -> bool:
    present = {name.lower(): value for name, value in context.items()}
    actual = present.get(key.lower())
    wanted = [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(values)]
    if operator == "Null":
        return ("true" if actual is None else "false") in wanted
    base = operator.removesuffix("IfExists")
    negated = base.replace("Not", "", 1) if "Not" in base else None
    if (negated or base) not in (*_MATCHERS, "Bool"):
        raise ValueError(f"the reference evaluator does not implement {operator}")
    if actual is None:
        if base != operator:
            return True
        if negated:
            raise ValueError(f"{operator} on absent key {key} is not implemented")
        return False
    matched = any(_match(negated or base, want, actual) for want in wanted)
    return not matched if negated else matched


def _match(operator: str, wanted: str, actual: str) -> bool:
    if operator in ("StringEquals", "ArnEquals"):
        return wanted == actual
    if operator == "StringEqualsIgnoreCase":
        return wanted.lower() == actual.lower()
    if operator == "Bool":
        return wanted.lower() == actual.lower()
    if operator == "StringLike":
        return _glob(wanted, actual, ignore_case=False)
    # ArnLike: each of the six colon-separated parts matches on its own.
    parts, against = wanted.split(":", 5), actual.split(":", 5)
    return len(parts) == len(against) == 6 and all(
        _glob(p, a, ignore_case=False) for p, a in zip(parts, against, strict=True)
    )
