"""The resources of a template that cannot exist on moto, and what the controls lose.

Such a resource is left out of the deployment; a property of another resource that names it
is dropped with it. What the controls would have read from it is then missing, so they must
not decide: each unsupported resource records the controls whose data it holds (its type's,
and those of the function properties that named it) and the functions concerned, and those
controls are ERROR naming it (see :func:`pytest_prr.evaluation.evaluate_control`).
"""

from __future__ import annotations

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
