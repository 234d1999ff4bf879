"""Create one CloudFormation stack on moto, in waves around the resources moto cannot create.

A resource of a type moto's CloudFormation lacks (an alias, an alarm, ...) is created by its
API fallback, and whatever depends on it (the SQS mapping on the alias) can only follow it.
So the stack grows in waves: each wave adds to the stack every resource that no longer
waits for a fallback, and asks the stack, through an output per fallback resource
(``Fn::ToJsonString`` of its properties), to evaluate the properties of the fallback
resources that are now ready; the deployer then creates those with their API call, and
references to them become literal values in the next wave. Every resource the stack is
given is checked to be created, so a type that moto's CloudFormation silently skips stops
the deployment instead of leaving a hole.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from pytest_prr.deploy.conversion import ConversionError
from pytest_prr.deploy.errors import TemplateError, resource_at
from pytest_prr.deploy.evaluate import Context, Unresolvable, evaluate
from pytest_prr.deploy.fallbacks import NOT_APPLIED, fallback_for
from pytest_prr.deploy.intrinsics import Resolved, depends_on, references, substitute
from pytest_prr.deploy.target import Target
from pytest_prr.deploy.unsupported import Unsupported

#: What a failed API call or evaluation raises; each becomes a TemplateError.
_FAILURES = (ClientError, BotoCoreError, ConversionError, NotImplementedError, KeyError, ValueError)


@dataclass
class Deployment:
    """How each resource of the template came to be (or not) in the moto account."""

    stack_name: str
    #: logical id -> type, created by moto's CloudFormation.
    by_stack: dict[str, str] = field(default_factory=dict)
    #: logical id -> type, created by the API call CloudFormation would make.
    by_api: dict[str, str] = field(default_factory=dict)
    #: The resources neither could create.
    unsupported: list[Unsupported] = field(default_factory=list)
    #: logical id -> properties no control reads that moto could not be given.
    not_applied: dict[str, list[str]] = field(default_factory=dict)
    #: logical id -> physical ID (Ref) of the resources created through the API.
    physical: dict[str, str] = field(default_factory=dict)
    waves: int = 0


def deploy_stack(
    path: Path,
    target: Target,
    template: Mapping[str, Any],
    values: Mapping[str, str],
    unsupported: list[Unsupported],
    conditions: Mapping[str, bool],
) -> Deployment:
    """Create ``template`` as stack ``target.stack_name``, leaving out ``unsupported``.

    ``values`` are the parameters' and pseudo parameters'. A fallback resource whose
    properties read only what is known here is created without asking the stack; the stack
    is created (or updated) only for the resources it creates and the properties only it
    can evaluate, so a template of fallback types never waits for moto's CloudFormation.
    """
    resources: Mapping[str, Any] = template["Resources"]
    deployment = Deployment(target.stack_name, unsupported=unsupported)
    absent = {entry.logical_id for entry in unsupported}
    needs = {
        name: (references(resource) | depends_on(resource)) & resources.keys()
        for name, resource in resources.items()
    }
    pending_api = {name for name in resources.keys() - absent if fallback_for(resources[name])}
    pending_stack = set(resources) - absent - pending_api
    stack_template = {key: value for key, value in template.items() if key != "Outputs"}
    stack_template["Resources"] = {}
    resolved: dict[str, Resolved] = {}
    context = Context(
        parameters=values,
        declared=template.get("Parameters") or {},
        mappings=template.get("Mappings") or {},
        conditions=conditions,
        resolved=resolved,
        region=target.region,
        absent=frozenset(absent),
    )
    stack_parameters = {k: v for k, v in values.items() if k in context.declared}
    cloudformation = target.client("cloudformation")
    while pending_stack or pending_api:
        done = set(stack_template["Resources"]) | resolved.keys() | absent
        wave = _unblocked(pending_stack, needs, done)
        ready = {name for name in pending_api if needs[name] <= done | wave}
        if not wave and not ready:
            waiting = sorted(pending_stack | pending_api)
            raise TemplateError(
                path, resource_at(waiting[0]), f"circular references among {waiting}"
            )
        local = _evaluated_here(ready, resources, context)
        for name in wave:
            stack_template["Resources"][name] = _for_stack(
                resources[name], resolved, absent, set(stack_template["Resources"]) | wave
            )
        stack_template["Outputs"] = {
            name: {"Value": {"Fn::ToJsonString": _properties(resources[name], resolved, absent)}}
            for name in ready - local.keys()
        }
        outputs: dict[str, Any] = {}
        if wave or stack_template["Outputs"]:
            applied = _apply(
                path, cloudformation, target.stack_name, stack_template, stack_parameters, wave
            )
            outputs = {name: json.loads(text) for name, text in applied.items()}
        outputs.update(local)
        deployment.waves += 1
        for name in sorted(ready, key=lambda name: (resources[name]["Type"], name)):
            resolved[name] = _create(path, target, name, resources[name], outputs, deployment)
        deployment.by_stack.update({name: resources[name]["Type"] for name in wave})
        pending_stack -= wave
        pending_api -= ready
    deployment.physical = {name: value.ref for name, value in resolved.items()}
    return deployment


def _evaluated_here(
    ready: set[str], resources: Mapping[str, Any], context: Context
) -> dict[str, Any]:
    """The properties of the ready fallback resources that need no stack to evaluate."""
    found = {}
    for name in ready:
        try:
            found[name] = evaluate(resources[name].get("Properties", {}), context) or {}
        except Unresolvable:
            continue
    return found


def _create(
    path: Path,
    target: Target,
    name: str,
    resource: Mapping[str, Any],
    outputs: Mapping[str, Any],
    deployment: Deployment,
) -> Resolved:
    """Create one resource with its fallback, from the properties the stack evaluated."""
    kind = resource["Type"]
    if name not in outputs:
        raise TemplateError(
            path, resource_at(name), "moto's CloudFormation could not evaluate its properties"
        )
    properties = outputs[name]
    left = _unevaluated(properties)
    if left is not None:
        raise TemplateError(
            path, resource_at(name), f"moto's CloudFormation could not evaluate {json.dumps(left)}"
        )
    skipped = sorted(NOT_APPLIED.get(kind, frozenset()) & properties.keys())
    if skipped:
        deployment.not_applied[name] = skipped
        properties = {key: value for key, value in properties.items() if key not in skipped}
    fallback = fallback_for(resource)
    assert fallback is not None
    try:
        created = fallback(target, name, properties)
    except _FAILURES as error:
        raise TemplateError(
            path, resource_at(name), f"{kind} could not be created on moto: {error}"
        ) from None
    deployment.by_api[name] = kind
    return created


def _unevaluated(node: Any) -> Any:
    """An intrinsic function left in evaluated properties (moto did not know it), or None."""
    if isinstance(node, list):
        return next((found for item in node if (found := _unevaluated(item)) is not None), None)
    if not isinstance(node, dict):
        return None
    if (len(node) == 1 and next(iter(node)) in ("Ref", "Condition")) or any(
        k.startswith("Fn::") for k in node
    ):
        return node
    return next(
        (found for item in node.values() if (found := _unevaluated(item)) is not None), None
    )


def _unblocked(pending: set[str], needs: Mapping[str, set[str]], done: set[str]) -> set[str]:
    """The pending stack resources whose dependencies are done or in this same wave."""
    wave: set[str] = set()
    grew = True
    while grew:
        added = {name for name in pending - wave if needs[name] <= done | wave}
        wave |= added
        grew = bool(added)
    return wave


def _properties(
    resource: Mapping[str, Any], resolved: Mapping[str, Resolved], absent: set[str]
) -> Any:
    return substitute(resource.get("Properties", {}), resolved, absent)


def _for_stack(
    resource: Mapping[str, Any],
    resolved: Mapping[str, Resolved],
    absent: set[str],
    in_stack: set[str],
) -> dict[str, Any]:
    """The resource as the stack gets it: outside references replaced, foreign
    ``DependsOn`` dropped (those resources exist already), update policies dropped (they
    name CodeDeploy, which is not on moto)."""
    copied = {key: value for key, value in resource.items() if key != "UpdatePolicy"}
    copied["Properties"] = _properties(resource, resolved, absent)
    inside = sorted(depends_on(resource) & in_stack)
    copied.pop("DependsOn", None)
    if inside:
        copied["DependsOn"] = inside
    return copied


def _apply(
    path: Path,
    cloudformation: Any,
    stack_name: str,
    template: Mapping[str, Any],
    parameters: Mapping[str, str],
    wave: set[str],
) -> dict[str, str]:
    """Create or update the stack, check every resource of ``wave`` exists, return outputs."""
    request = {
        "StackName": stack_name,
        "TemplateBody": json.dumps(template),
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    }
    try:
        existing = [s["StackName"] for s in cloudformation.list_stacks()["StackSummaries"]]
        if stack_name in existing:
            cloudformation.update_stack(**request)
            waiter = "stack_update_complete"
        else:
            cloudformation.create_stack(**request)
            waiter = "stack_create_complete"
        cloudformation.get_waiter(waiter).wait(
            StackName=stack_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
    except (ClientError, WaiterError) as error:
        where = resource_at(sorted(wave)[0]) if len(wave) == 1 else None
        raise TemplateError(
            path, where, f"moto's CloudFormation refused {sorted(wave) or 'the outputs'}: {error}"
        ) from None
    created = {
        resource.get("LogicalResourceId")
        for resource in cloudformation.describe_stack_resources(StackName=stack_name)[
            "StackResources"
        ]
        if resource.get("ResourceStatus", "").endswith("_COMPLETE")
    }
    missing = sorted(wave - created)
    if missing:
        raise TemplateError(
            path,
            resource_at(missing[0]),
            f"moto's CloudFormation did not create {missing}: their type needs a fallback in "
            "pytest_prr/deploy/fallbacks.py, or to be listed as unsupported there",
        )
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
