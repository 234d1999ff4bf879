"""Which SCPs apply to the account, and whether a statement denies a Lambda action (GOV-06/07).

The question is narrow: does a statement deny ``action`` on every function of the account
for a request carrying given condition keys? It is answered conservatively, so that a
guardrail is only credited where it certainly applies: a statement restricted to some
functions, some regions, or by a condition this module does not evaluate does not count.
One exception is kept because organizations need it: a negated condition on the principal
(``aws:PrincipalArn`` with ``ArnNotLike``, a break-glass role) only exempts named principals,
so the denial still applies to everyone else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pytest_prr.checks.iam_policy import as_list, statements
from pytest_prr.snapshot.model import DataUnavailable, require

#: Condition keys on the principal; negated conditions on them exempt named principals only.
PRINCIPAL_KEYS = "aws:principal"
#: Function ARNs with values only a wildcard matches: a ``Resource`` pattern matching all of
#: them matches every function of the account.
PROBE_REGIONS = ("a", "zz-probe-9")
PROBE_NAMES = ("Q", "zz_0-probe")


def glob(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    """IAM wildcard matching: ``*`` any characters (colons included), ``?`` one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch(regex, text, flags) is not None


def denies(
    statement: Mapping[str, Any],
    action: str,
    request: Mapping[str, Any],
    account_id: str,
) -> bool:
    """Whether ``statement`` denies ``action`` on every function of ``account_id`` for a
    request whose condition keys are ``request`` (a key mapped to None is absent)."""
    return (
        statement.get("Effect") == "Deny"
        and _matches_action(statement, action)
        and _covers_functions(statement, account_id)
        and _conditions_hold(statement.get("Condition") or {}, request)
    )


def _matches_action(statement: Mapping[str, Any], action: str) -> bool:
    if "Action" in statement:
        return any(glob(str(p), action, ignore_case=True) for p in as_list(statement["Action"]))
    if "NotAction" in statement:
        patterns = as_list(statement["NotAction"])
        return not any(glob(str(p), action, ignore_case=True) for p in patterns)
    return False


def _covers_functions(statement: Mapping[str, Any], account_id: str) -> bool:
    probes = [
        f"arn:aws:lambda:{region}:{account_id}:function:{name}"
        for region in PROBE_REGIONS
        for name in PROBE_NAMES
    ]
    if "Resource" in statement:
        return any(
            all(glob(str(pattern), probe) for probe in probes)
            for pattern in as_list(statement["Resource"])
        )
    if "NotResource" in statement:
        return not any(_may_match_lambda(str(p)) for p in as_list(statement["NotResource"]))
    return False


def _may_match_lambda(pattern: str) -> bool:
    """Whether an excluded resource pattern may name a Lambda function (conservatively)."""
    parts = pattern.split(":")
    if len(parts) < 3 or "*" in parts[0] + parts[1]:
        return True
    return glob(parts[2], "lambda", ignore_case=True)


def _conditions_hold(condition: Any, request: Mapping[str, Any]) -> bool:
    if not isinstance(condition, Mapping):
        return False
    return all(
        isinstance(entries, Mapping)
        and all(_holds(str(op), str(key), values, request) for key, values in entries.items())
        for op, entries in condition.items()
    )


def _holds(operator: str, key: str, values: Any, request: Mapping[str, Any]) -> bool:
    """Whether one condition is true for ``request``; False where it is not evaluated."""
    op = operator.lower()
    if ":" in op:  # ForAnyValue: / ForAllValues: set operators
        return False
    negated = "not" in op
    known = {name.lower(): value for name, value in request.items()}
    if key.lower() not in known:
        return key.lower().startswith(PRINCIPAL_KEYS) and negated
    value = known[key.lower()]
    wanted = [str(w).lower() if isinstance(w, bool) else str(w) for w in as_list(values)]
    if op == "null":
        return ("true" if value is None else "false") in wanted
    if_exists = op.endswith("ifexists")
    if value is None:
        return if_exists
    base = op.removesuffix("ifexists").replace("not", "", 1)
    matches = {
        "stringequals": lambda w: w == value,
        "stringequalsignorecase": lambda w: w.lower() == str(value).lower(),
        "stringlike": lambda w: glob(w, str(value)),
    }
    if base not in matches:
        return False
    return any(matches[base](w) for w in wanted) != negated


def denying_statements(
    policies: Iterable[tuple[str, Mapping[str, Any]]],
    action: str,
    request: Mapping[str, Any],
    account_id: str,
) -> list[dict[str, Any]]:
    """Where among ``policies`` (id, policy as collected) ``action`` is denied."""
    return [
        {"policy_id": policy_id, "policy": policy.get("Name"), "sid": statement.get("Sid")}
        for policy_id, policy in policies
        for statement in statements(policy.get("Content") or {})
        if denies(statement, action, request, account_id)
    ]


def attached_policies(
    organizations: Mapping[str, Any],
) -> tuple[list[tuple[str, Mapping[str, Any]]], DataUnavailable | None]:
    """(id, policy) of every readable SCP attached to the account, its OUs and the root,
    and the first read that failed among them."""
    missing = None
    ids: list[str] = []
    for target in require(organizations["targets"]):
        try:
            ids.extend(require(require(target)["PolicyIds"]))
        except DataUnavailable as error:
            missing = missing or error
    policies = []
    for policy_id in dict.fromkeys(ids):
        try:
            policies.append((policy_id, require(organizations["policies"][policy_id])))
        except DataUnavailable as error:
            missing = missing or error
    return policies, missing
