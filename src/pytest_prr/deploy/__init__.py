"""Deploy a team's SAM, CloudFormation or ``cdk synth`` template into the moto account, as
their pipeline deploys it into AWS, so that the readiness controls judge it before it ships.

Two steps, so that a template that cannot deploy fails before any server starts:

* :func:`prepare` (no AWS): read the template as CloudFormation reads it, take its parameter
  values, do what ``sam package`` does, apply the SAM transform, evaluate its conditions,
  check its references, and find what moto cannot hold. Any problem is a
  :class:`~pytest_prr.deploy.errors.TemplateError` naming the file, resource and problem.
* :func:`deploy`: upload the packaged code and create the stack on moto's CloudFormation,
  with the API calls CloudFormation would make where moto's CloudFormation falls short
  (:mod:`~pytest_prr.deploy.fallbacks`). On pytest-prr's own moto server the deployment is
  then declared to the server, so the snapshot knows which resources could not be created.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pytest_prr.accounts.config import MOTO_ACCOUNT_ID
from pytest_prr.deploy.conditions import check_references, evaluate_conditions
from pytest_prr.deploy.declare import check_ssm_parameters, declare, upload
from pytest_prr.deploy.errors import TemplateError
from pytest_prr.deploy.loading import Source, read_template
from pytest_prr.deploy.packaging import package
from pytest_prr.deploy.parameters import (
    parse_assignments,
    read_parameter_file,
    resolve_parameters,
)
from pytest_prr.deploy.stack import Deployment, deploy_stack
from pytest_prr.deploy.target import Target
from pytest_prr.deploy.transform import to_cloudformation, versioned_policies
from pytest_prr.deploy.unsupported import Unsupported, find_unsupported, without_foreign_layers

__all__ = [
    "Deployment",
    "Prepared",
    "TemplateError",
    "Unsupported",
    "deploy",
    "deploy_template",
    "parse_assignments",
    "prepare",
    "prepare_all",
    "read_parameter_file",
]

#: The names a template file has when its folder names the stack.
GENERIC_NAMES = ("template", "template.packaged", "packaged")


@dataclass(frozen=True)
class Prepared:
    """A template ready to deploy: plain CloudFormation, its parameters and artifacts."""

    source: Source
    stack_name: str
    #: Every declared parameter's value (given or default).
    parameters: Mapping[str, str]
    template: dict[str, Any]
    #: bucket -> key -> bytes: what ``sam package`` would upload.
    objects: Mapping[str, Mapping[str, bytes]]
    unsupported: tuple[Unsupported, ...]
    #: The values create_stack receives: those the transformed template declares.
    stack_parameters: Mapping[str, str]
    #: Each condition's value.
    conditions: Mapping[str, bool] = field(default_factory=dict)
    #: Resources whose IAM policy documents were given a Version for moto's IAM.
    versioned: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        """The template as the results document's target records it."""
        return {
            "path": str(self.source.path),
            "sha256": self.source.sha256,
            "parameters": dict(self.parameters),
            "unsupported": [
                {"logical_id": u.logical_id, "type": u.type, "reason": u.reason}
                for u in self.unsupported
            ],
        }


def pseudo_parameters(region: str, account: str, stack: str) -> dict[str, str]:
    """The pseudo parameters CloudFormation gives a stack's template."""
    return {
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::Partition": "aws",
        "AWS::StackName": stack,
        "AWS::StackId": f"arn:aws:cloudformation:{region}:{account}:stack/{stack}/prr",
        "AWS::URLSuffix": "amazonaws.com",
    }


def default_stack_name(path: Path) -> str:
    """The stack a template deploys as: its folder's name for a ``template.yaml``, else its
    file's (``cdk.out/Orders.template.json`` is ``Orders``), as CloudFormation spells one."""
    stem = path.name.split(".")[0] if path.name.endswith(".template.json") else path.stem
    name = path.resolve().parent.name if stem in GENERIC_NAMES else stem
    name = re.sub(r"[^A-Za-z0-9-]+", "-", name).strip("-") or "stack"
    return (name if name[0].isalpha() else f"stack-{name}")[:128]


def prepare(
    path: Path,
    given: Mapping[str, str],
    region: str,
    stack_name: str | None = None,
) -> Prepared:
    """Everything that can be known about deploying ``path`` without AWS."""
    source = read_template(path)
    parameters = resolve_parameters(path, source.body.get("Parameters") or {}, given)
    stack = stack_name or default_stack_name(path)
    bucket = re.sub(r"[^a-z0-9-]", "-", f"prr-artifacts-{stack.lower()}")[:63].rstrip("-")
    packaged = package(path, source.body, bucket, source.asset_manifest)
    template = to_cloudformation(path, packaged.body, parameters, region)
    check_references(path, template)
    pseudo = pseudo_parameters(region, MOTO_ACCOUNT_ID, stack)
    conditions = evaluate_conditions(path, template, {**parameters, **pseudo})
    template["Resources"] = {
        name: resource
        for name, resource in template["Resources"].items()
        if conditions.get(resource.get("Condition", ""), True)
    }
    declared = template.get("Parameters") or {}
    return Prepared(
        source=source,
        stack_name=stack,
        parameters=parameters,
        template=template,
        objects=packaged.objects,
        unsupported=(
            *find_unsupported(template["Resources"]),
            *without_foreign_layers(template["Resources"], MOTO_ACCOUNT_ID),
        ),
        stack_parameters={k: v for k, v in parameters.items() if k in declared},
        conditions=conditions,
        versioned=tuple(versioned_policies(template)),
    )


def deploy(
    prepared: Prepared, session: Any, region: str, *, pre_deploy: bool = False
) -> Deployment:
    """Create ``prepared`` in the account ``session`` reaches (the moto server).

    ``pre_deploy``: the template is judged before it is deployed (``--prr-template``), so the
    moto account stands in for an account pytest-prr does not read, whose guardrails the
    template cannot decide (see :mod:`pytest_prr.deploy.verdicts`). A seed hook deploying
    into the moto account it means to judge leaves it False."""

    path = prepared.source.path
    account = upload(session, region, prepared.objects)
    check_ssm_parameters(session, region, prepared)
    pseudo = pseudo_parameters(region, account, prepared.stack_name)
    target = Target(
        session, region, prepared.stack_name, source=path.name, stack_id=pseudo["AWS::StackId"]
    )
    values = {**prepared.parameters, **pseudo}
    deployment = deploy_stack(
        path, target, prepared.template, values, list(prepared.unsupported), prepared.conditions
    )
    deployment.unsupported = [
        replace(entry, functions=tuple(deployment.physical.get(f, f) for f in entry.functions))
        for entry in deployment.unsupported
    ]
    declare(session, prepared, deployment, pre_deploy=pre_deploy)
    return deployment


def deploy_template(
    session: Any,
    region: str,
    path: Path,
    parameters: Mapping[str, str] | None = None,
    stack_name: str | None = None,
) -> Deployment:
    """Prepare and deploy ``path`` in one go: what a ``pytest_prr_seed_account`` hook calls."""
    return deploy(prepare(path, parameters or {}, region, stack_name), session, region)


def prepare_all(
    paths: Sequence[Path],
    pairs: Sequence[str] = (),
    files: Sequence[Path] = (),
    region: str = "us-east-1",
) -> list[Prepared]:
    """Prepare several templates with one set of parameter values (files first, then
    ``KEY=VALUE`` pairs, which win), each as a stack of its own name. A value no template
    declares is refused, as CloudFormation refuses it: it is most likely a typo."""
    given: dict[str, str] = {}
    for file in files:
        given.update(read_parameter_file(file))
    given.update(parse_assignments(pairs, "--prr-template-param"))
    declared = {name for path in paths for name in read_template(path).body.get("Parameters") or {}}
    unknown = sorted(given.keys() - declared)
    if unknown:
        where = paths[0] if len(paths) == 1 else ", ".join(map(str, paths))
        raise TemplateError(
            where,
            "Parameters",
            f"{', '.join(unknown)} given, but not declared "
            f"(declared: {', '.join(sorted(declared)) or 'none'})",
        )
    prepared: list[Prepared] = []
    for path in paths:
        name = default_stack_name(path)
        taken = {p.stack_name for p in prepared}
        unique = next(f"{name}-{n}" for n in range(2, len(paths) + 2) if f"{name}-{n}" not in taken)
        prepared.append(prepare(path, given, region, name if name not in taken else unique))
    return prepared
