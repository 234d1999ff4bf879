"""The three CloudFormation intrinsics that tie resources together: Ref, Fn::GetAtt, Fn::Sub.

The deployer needs two things from them: which resources a resource depends on (to order
the waves), and a copy of a resource with the references to resources that live outside
the stack replaced by their real values (or dropped, for resources moto cannot create).
Every other intrinsic (Fn::Join, Fn::If, ...) is left for CloudFormation to evaluate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: ``${Name}`` or ``${Name.Attribute}`` in an Fn::Sub string; ``${!Literal}`` is an escape.
SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")


class Absent:
    """The value of a reference to a resource moto cannot create: the property is dropped."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = Absent()


@dataclass(frozen=True)
class Resolved:
    """What a resource created outside the stack answers to Ref and Fn::GetAtt."""

    ref: str
    attributes: Mapping[str, str] = field(default_factory=dict)

    def attribute(self, logical_id: str, name: str) -> str:
        try:
            return self.attributes[name]
        except KeyError:
            raise KeyError(
                f"the template reads {logical_id}.{name}, which the deployer does not know "
                f"for a resource it created through the API (known: {sorted(self.attributes)})"
            ) from None


def references(node: Any) -> set[str]:
    """Names (resources, parameters, pseudo parameters) a template fragment refers to."""
    if isinstance(node, list):
        return set().union(*map(references, node))
    if not isinstance(node, dict):
        return set()
    if len(node) == 1:
        ((key, value),) = node.items()
        if key == "Ref" and isinstance(value, str):
            return {value}
        if key == "Fn::GetAtt":
            return {_get_att(value)[0]}
        if key == "Fn::Sub":
            text, variables = _sub(value)
            named = {name.split(".", 1)[0] for name in SUB_VARIABLE.findall(text)}
            return (named - set(variables)) | references(variables)
    return set().union(*map(references, node.values()))


def depends_on(resource: Mapping[str, Any]) -> set[str]:
    """The resources a resource names in ``DependsOn`` (a string or a list)."""
    value = resource.get("DependsOn", [])
    return {value} if isinstance(value, str) else set(value)


def substitute(node: Any, resolved: Mapping[str, Resolved], absent: set[str]) -> Any:
    """Copy ``node`` with references to ``resolved`` resources replaced by their values.

    A reference to an ``absent`` resource makes its property (dict key or list item)
    disappear, as if the template had not set it.
    """
    if isinstance(node, list):
        items = (substitute(item, resolved, absent) for item in node)
        return [item for item in items if item is not ABSENT]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((key, value),) = node.items()
        if key == "Ref" and isinstance(value, str):
            return _ref(value, resolved, absent, node)
        if key == "Fn::GetAtt":
            name, attribute = _get_att(value)
            if name in absent:
                return ABSENT
            return resolved[name].attribute(name, attribute) if name in resolved else node
        if key == "Fn::Sub":
            return _substitute_sub(value, resolved, absent)
    copied = {key: substitute(value, resolved, absent) for key, value in node.items()}
    return {key: value for key, value in copied.items() if value is not ABSENT}


def _ref(name: str, resolved: Mapping[str, Resolved], absent: set[str], node: Any) -> Any:
    if name in absent:
        return ABSENT
    return resolved[name].ref if name in resolved else node


def _substitute_sub(value: Any, resolved: Mapping[str, Resolved], absent: set[str]) -> Any:
    text, variables = _sub(value)
    names = SUB_VARIABLE.findall(text)
    if any(name.split(".", 1)[0] in absent for name in names if name not in variables):
        return ABSENT

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        head, _, attribute = name.partition(".")
        if name in variables or head not in resolved:
            return match.group(0)
        target = resolved[head]
        return target.attribute(head, attribute) if attribute else target.ref

    text = SUB_VARIABLE.sub(replace, text)
    if not variables:
        return {"Fn::Sub": text}
    copied = substitute(variables, resolved, absent)
    return {"Fn::Sub": [text, copied]} if copied.keys() == variables.keys() else ABSENT


def _get_att(value: Any) -> tuple[str, str]:
    if isinstance(value, str):
        name, _, attribute = value.partition(".")
        return name, attribute
    return value[0], value[1]


def _sub(value: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(value, str):
        return value, {}
    return value[0], value[1]
