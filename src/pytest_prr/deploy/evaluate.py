"""CloudFormation's intrinsic functions, evaluated locally where everything they read is known.

A fallback resource's properties need their intrinsics evaluated before its API call. moto's
CloudFormation can do that (a stack output per resource), but only after importing every
model moto has, seconds of a pre-deploy run; most serverless templates refer only to
parameters, pseudo parameters, mappings, conditions and resources the deployer created
itself, whose values it knows. Those are evaluated here, as CloudFormation evaluates them;
anything else (a stack resource's attribute, ``Fn::ImportValue``, ``Fn::Cidr``) raises
:class:`Unresolvable`, and the stack evaluates it instead.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pytest_prr.deploy.intrinsics import Resolved

_NO_VALUE = object()
_SUB = re.compile(r"\$\{([^}]*)\}")
#: Parameter types whose value is a list.
LIST_TYPES = ("CommaDelimitedList", "List<")


class Unresolvable(Exception):
    """An intrinsic this evaluator cannot know the value of."""


class _AbsentReference(Exception):
    """A reference to a resource left out: the property holding it is dropped, as
    :func:`~pytest_prr.deploy.intrinsics.substitute` drops it for the stack."""


@dataclass(frozen=True)
class Context:
    """What a template's intrinsics can read: parameters (with pseudo parameters), their
    declarations, mappings, conditions, and the resources created so far."""

    parameters: Mapping[str, str]
    declared: Mapping[str, Any]
    mappings: Mapping[str, Any]
    conditions: Mapping[str, bool]
    resolved: Mapping[str, Resolved]
    region: str
    #: Resources left out (unsupported): a property naming one is dropped.
    absent: frozenset[str] = frozenset()

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.absent:
            raise _AbsentReference(name)
        if name in self.resolved:
            return self.resolved[name].ref
        if name not in self.parameters:
            raise Unresolvable(name)
        value = self.parameters[name]
        kind = str((self.declared.get(name) or {}).get("Type", ""))
        return value.split(",") if kind.startswith(LIST_TYPES) else value

    def get_att(self, name: str, attribute: str) -> Any:
        if name in self.absent:
            raise _AbsentReference(name)
        if name not in self.resolved:
            raise Unresolvable(f"{name}.{attribute}")
        return self.resolved[name].attribute(name, attribute)


def evaluate(node: Any, context: Context) -> Any:
    """``node`` with every intrinsic evaluated and ``AWS::NoValue`` removed."""
    value = _evaluate(node, context)
    return None if value is _NO_VALUE else value


def _evaluate(node: Any, context: Context) -> Any:
    if isinstance(node, list):
        items = (_kept(item, context) for item in node)
        return [item for item in items if item is not _NO_VALUE]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((key, value),) = node.items()
        if key == "Ref":
            return context.ref(value)
        if key.startswith("Fn::"):
            return _function(key, value, context)
    items = ((key, _kept(value, context)) for key, value in node.items())
    return {key: value for key, value in items if value is not _NO_VALUE}


def _kept(node: Any, context: Context) -> Any:
    """An item or property's value, or no value when it names a resource left out."""
    try:
        return _evaluate(node, context)
    except _AbsentReference:
        return _NO_VALUE


def _function(name: str, value: Any, context: Context) -> Any:
    if name == "Fn::GetAtt":
        logical_id, attribute = value.split(".", 1) if isinstance(value, str) else value
        return context.get_att(logical_id, _evaluate(attribute, context))
    if name == "Fn::Sub":
        return _sub(value, context)
    if name == "Fn::Join":
        return _evaluate(value[0], context).join(str(item) for item in _evaluate(value[1], context))
    if name == "Fn::Select":
        return _evaluate(value[1], context)[int(_evaluate(value[0], context))]
    if name == "Fn::Split":
        return str(_evaluate(value[1], context)).split(value[0])
    if name == "Fn::If":
        condition, then, otherwise = value
        return _evaluate(then if context.conditions[condition] else otherwise, context)
    if name == "Fn::FindInMap":
        mapping, first, second = (_evaluate(item, context) for item in value[:3])
        return context.mappings[mapping][first][second]
    if name == "Fn::GetAZs":
        return [f"{context.region}{zone}" for zone in "abc"]
    if name == "Fn::Base64":
        return base64.b64encode(str(_evaluate(value, context)).encode()).decode()
    if name == "Fn::ToJsonString":
        return json.dumps(_evaluate(value, context), separators=(",", ":"))
    if name == "Fn::Length":
        return len(_evaluate(value, context))
    raise Unresolvable(name)


def _sub(value: Any, context: Context) -> str:
    text, variables = (value, {}) if isinstance(value, str) else value
    local = {key: _evaluate(item, context) for key, item in variables.items()}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in local:
            return str(local[name])
        head, _, attribute = name.partition(".")
        return str(context.get_att(head, attribute) if attribute else context.ref(head))

    return _SUB.sub(replace, text)
