"""A template's Conditions, evaluated as CloudFormation evaluates them, and its references
checked before anything is created.

Conditions decide which resources exist: a resource whose condition is false is not
created, so the deployer leaves it out of every wave (moto's CloudFormation would skip it
and the deployer could not tell a skipped resource from a lost one). They read only
parameters, pseudo parameters and mappings, so they are evaluated here; ``Fn::If`` inside
properties is left to CloudFormation.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_prr.deploy.errors import TemplateError, resource_at
from pytest_prr.deploy.intrinsics import references

PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::AccountId",
        "AWS::NotificationARNs",
        "AWS::NoValue",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    }
)


def check_references(path: Path, template: Mapping[str, Any]) -> None:
    """Every Ref, Fn::GetAtt and Fn::Sub of a resource names something the template
    declares; the first that does not is a TemplateError naming the resource."""
    declared = set(template["Resources"]) | set(template.get("Parameters", {})) | PSEUDO_PARAMETERS
    for logical_id, resource in template["Resources"].items():
        unknown = sorted(references(resource.get("Properties", {})) - declared)
        if unknown:
            raise TemplateError(
                path,
                resource_at(logical_id),
                f"refers to {', '.join(unknown)}, which the template does not declare "
                "(no resource or parameter of that name)",
            )
        depends = resource.get("DependsOn", [])
        depends = [depends] if isinstance(depends, str) else depends
        missing = sorted(set(depends) - set(template["Resources"]))
        if missing:
            raise TemplateError(
                path,
                resource_at(logical_id),
                f"DependsOn {', '.join(missing)}, which is not a resource",
            )
        condition = resource.get("Condition")
        if condition is not None and condition not in template.get("Conditions", {}):
            raise TemplateError(
                path, resource_at(logical_id), f"has Condition {condition!r}, which is not declared"
            )


def evaluate_conditions(
    path: Path, template: Mapping[str, Any], values: Mapping[str, str]
) -> dict[str, bool]:
    """Each condition's value, given the parameter and pseudo-parameter ``values``."""
    declared = template.get("Conditions", {})
    mappings = template.get("Mappings", {})
    results: dict[str, bool] = {}

    def condition(name: str, seen: tuple[str, ...] = ()) -> bool:
        if name in seen:
            raise TemplateError(path, f"Conditions.{name}", "refers to itself")
        if name not in results:
            if name not in declared:
                raise TemplateError(
                    path, f"Conditions.{seen[-1]}", f"refers to undeclared {name!r}"
                )
            results[name] = truth(declared[name], (*seen, name))
        return results[name]

    def truth(node: Any, seen: tuple[str, ...]) -> bool:
        if isinstance(node, dict) and len(node) == 1:
            ((key, value),) = node.items()
            if key == "Fn::Equals":
                return str(scalar(value[0], seen)) == str(scalar(value[1], seen))
            if key == "Fn::And":
                return all(truth(item, seen) for item in value)
            if key == "Fn::Or":
                return any(truth(item, seen) for item in value)
            if key == "Fn::Not":
                return not truth(value[0], seen)
            if key == "Condition":
                return condition(value, seen)
        raise TemplateError(path, f"Conditions.{seen[-1]}", f"{node!r} is not a condition function")

    def scalar(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((key, value),) = node.items()
            if key == "Ref":
                if value not in values:
                    raise TemplateError(
                        path, f"Conditions.{seen[-1]}", f"Ref {value} is not a parameter"
                    )
                return values[value]
            if key == "Fn::FindInMap":
                name, first, second = (scalar(item, seen) for item in value[:3])
                return mappings[name][first][second]
            if key == "Fn::Join":
                return value[0].join(str(scalar(item, seen)) for item in scalar(value[1], seen))
            if key == "Fn::Select":
                return scalar(value[1], seen)[int(scalar(value[0], seen))]
            if key == "Fn::Split":
                return str(scalar(value[1], seen)).split(value[0])
            if key == "Condition":
                return condition(value, seen)
            if key in ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not"):
                return truth(node, seen)
        if isinstance(node, list):
            return [scalar(item, seen) for item in node]
        return node

    for name in declared:
        condition(name)
    return results
