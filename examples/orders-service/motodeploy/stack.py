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
from typing import Any

from motodeploy.fallbacks import NOT_ON_MOTO, fallback_for
from motodeploy.intrinsics import Resolved, depends_on, references, substitute
from motodeploy.target import Target


@dataclass
class Deployment:
    """How each resource of the template came to be (or not) in the moto account."""

    stack_name: str
    #: logical id -> type, created by moto's CloudFormation.
    by_stack: dict[str, str] = field(default_factory=dict)
    #: logical id -> type, created by the API call CloudFormation would make.
    by_api: dict[str, str] = field(default_factory=dict)
    #: logical id -> why moto cannot create it.
    not_on_moto: dict[str, str] = field(default_factory=dict)
    waves: int = 0


def deploy_stack(
    target: Target, template: Mapping[str, Any], parameters: Mapping[str, str]
) -> Deployment:
    """Create ``template`` as stack ``target.stack_name`` and return what went where."""
    resources: Mapping[str, Any] = template["Resources"]
    deployment = Deployment(target.stack_name)
    absent = {name for name, resource in resources.items() if resource["Type"] in NOT_ON_MOTO}
    deployment.not_on_moto = {name: NOT_ON_MOTO[resources[name]["Type"]] for name in absent}
    needs = {
        name: (references(resource) | depends_on(resource)) & resources.keys()
        for name, resource in resources.items()
    }
    pending_api = {name for name in resources.keys() - absent if fallback_for(resources[name])}
    pending_stack = set(resources) - absent - pending_api
    stack_template = {key: value for key, value in template.items() if key != "Outputs"}
    stack_template["Resources"] = {}
    resolved: dict[str, Resolved] = {}
    cloudformation = target.client("cloudformation")
    while pending_stack or pending_api:
        done = set(stack_template["Resources"]) | resolved.keys() | absent
        wave = _unblocked(pending_stack, needs, done)
        ready = {name for name in pending_api if needs[name] <= done | wave}
        if not wave and not ready:
            raise RuntimeError(f"resources wait on each other: {sorted(pending_stack)}")
        for name in wave:
            stack_template["Resources"][name] = _for_stack(
                resources[name], resolved, absent, set(stack_template["Resources"]) | wave
            )
        stack_template["Outputs"] = {
            name: {"Value": {"Fn::ToJsonString": _properties(resources[name], resolved, absent)}}
            for name in ready
        }
        outputs = _apply(cloudformation, target.stack_name, stack_template, parameters, wave)
        deployment.waves += 1
        for name in sorted(ready, key=lambda name: (resources[name]["Type"], name)):
            if name not in outputs:
                raise RuntimeError(f"moto's CloudFormation could not evaluate {name}'s properties")
            properties = json.loads(outputs[name])
            resolved[name] = fallback_for(resources[name])(target, name, properties)
            deployment.by_api[name] = resources[name]["Type"]
        deployment.by_stack.update({name: resources[name]["Type"] for name in wave})
        pending_stack -= wave
        pending_api -= ready
    return deployment


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
    ``DependsOn`` dropped (those resources exist already), deployment policies dropped
    (CodeDeploy is not on moto)."""
    copied = {key: value for key, value in resource.items() if key != "UpdatePolicy"}
    copied["Properties"] = _properties(resource, resolved, absent)
    inside = sorted(depends_on(resource) & in_stack)
    copied.pop("DependsOn", None)
    if inside:
        copied["DependsOn"] = inside
    return copied


def _apply(
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
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    }
    existing = [s["StackName"] for s in cloudformation.list_stacks()["StackSummaries"]]
    if stack_name in existing:
        cloudformation.update_stack(**request)
        waiter = "stack_update_complete"
    else:
        cloudformation.create_stack(**request)
        waiter = "stack_create_complete"
    cloudformation.get_waiter(waiter).wait(StackName=stack_name, WaiterConfig={"Delay": 1})
    created = {
        resource.get("LogicalResourceId")
        for resource in cloudformation.describe_stack_resources(StackName=stack_name)[
            "StackResources"
        ]
        if resource.get("ResourceStatus", "").endswith("_COMPLETE")
    }
    missing = sorted(wave - created)
    if missing:
        raise RuntimeError(
            f"moto's CloudFormation did not create {missing}: give their type a fallback "
            "in motodeploy/fallbacks.py or list it in NOT_ON_MOTO"
        )
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
