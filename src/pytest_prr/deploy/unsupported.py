"""The resources of a template that cannot exist on moto, and what the controls lose.

Such a resource is left out of the deployment; a property of another resource that names it
is dropped with it. What the controls would have read from it is then missing, so they must
not decide: each unsupported resource records the controls whose data it holds (its type's,
and those of the function properties that named it) and the functions concerned, and those
controls are ERROR naming it (see :func:`pytest_prr.checks.evaluation.evaluate_control`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pytest_prr.deploy.fallbacks import FUNCTION_PROPERTY_CONTROLS, unsupported_reason
from pytest_prr.deploy.intrinsics import references

FUNCTION = "AWS::Lambda::Function"
#: Resources that belong to one function, which their FunctionName names.
FUNCTION_PARTS = {
    "AWS::Lambda::Alias": "FunctionName",
    "AWS::Lambda::Version": "FunctionName",
    "AWS::Lambda::Permission": "FunctionName",
    "AWS::Lambda::EventInvokeConfig": "FunctionName",
    "AWS::Lambda::EventSourceMapping": "FunctionName",
    "AWS::Lambda::Url": "TargetFunctionArn",
}


@dataclass(frozen=True)
class Unsupported:
    """A resource left out: why, the controls it would have informed, and the functions
    (logical IDs until deployed, then names) concerned; none means every resource."""

    logical_id: str
    type: str
    reason: str
    controls: tuple[str, ...]
    functions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "logical_id": self.logical_id,
            "type": self.type,
            "reason": self.reason,
            "controls": list(self.controls),
            "functions": list(self.functions),
        }


def find_unsupported(resources: Mapping[str, Any]) -> list[Unsupported]:
    """Every resource of ``resources`` (a plain CloudFormation template's) moto cannot hold."""
    found = []
    for logical_id, resource in sorted(resources.items()):
        why = unsupported_reason(resource["Type"])
        if why is None:
            continue
        reason, controls = why
        functions: set[str] = set()
        lost: set[str] = set(controls)
        for other_id, other in resources.items():
            if logical_id not in references(other) and logical_id not in _depends(other):
                continue
            if other["Type"] == FUNCTION:
                functions.add(other_id)
                for key, value in other.get("Properties", {}).items():
                    if logical_id in references(value):
                        lost.update(FUNCTION_PROPERTY_CONTROLS.get(key, ()))
            elif other["Type"] in FUNCTION_PARTS:
                named = other.get("Properties", {}).get(FUNCTION_PARTS[other["Type"]])
                functions.update(
                    name
                    for name in references(named)
                    if resources.get(name, {}).get("Type") == FUNCTION
                )
        found.append(
            Unsupported(
                logical_id, resource["Type"], reason, tuple(sorted(lost)), tuple(sorted(functions))
            )
        )
    return found


def _depends(resource: Mapping[str, Any]) -> set[str]:
    """Names a resource's update policy refers to (SAM's alias names its CodeDeploy group)."""
    return references(resource.get("UpdatePolicy", {}))


#: moto refuses a function whose layers belong to another account.
FOREIGN_LAYER = "moto refuses layer versions of other accounts ({layers})"
#: A layer ARN's account; a part may be an Fn::Sub variable (``${AWS::Region}``).
_PART = r"(?:[^:$]|\$\{[^}]*\})*"
_ACCOUNT = re.compile(rf"^arn:{_PART}:lambda:{_PART}:(\d{{12}}):layer:")


def without_foreign_layers(resources: Mapping[str, Any], account: str) -> list[Unsupported]:
    """Take out of each function the layers of another account, which moto cannot attach,
    and say what SEC-07, the control reading them, loses (the function keeps its others)."""
    found = []
    for logical_id, resource in sorted(resources.items()):
        properties = resource.get("Properties", {})
        if resource["Type"] != FUNCTION or not isinstance(properties.get("Layers"), list):
            continue
        foreign = [
            layer for layer in properties["Layers"] if _layer_account(layer) not in (None, account)
        ]
        if not foreign:
            continue
        properties["Layers"] = [layer for layer in properties["Layers"] if layer not in foreign]
        arns = ", ".join(
            layer if isinstance(layer, str) else json.dumps(layer) for layer in foreign
        )
        reason = FOREIGN_LAYER.format(layers=arns)
        # The layer is not a resource of the template: it is named after the property.
        layers = f"{logical_id}.Layers"
        found.append(
            Unsupported(layers, "AWS::Lambda::LayerVersion", reason, ("SEC-07",), (logical_id,))
        )
    return found


def _layer_account(layer: Any) -> str | None:
    """The account a layer ARN written in the template names, when it is written there."""
    text = layer.get("Fn::Sub") if isinstance(layer, dict) else layer
    if isinstance(text, list):
        text = text[0]
    match = _ACCOUNT.match(text) if isinstance(text, str) else None
    return match.group(1) if match else None
