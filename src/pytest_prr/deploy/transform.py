"""The SAM transform, done locally, and what IAM accepts that moto's IAM does not.

moto's CloudFormation does not run the ``AWS::Serverless-2016-10-31`` transform, so the
template is translated here with AWS's own translator (``aws-sam-translator``, the library
the CloudFormation service and the SAM CLI use). AWS-managed policies named by name resolve
from moto's copy of them, which is the list of managed policies the moto account has, so no
AWS call is made.

IAM reads a policy document without ``Version`` as version 2008-10-17; moto's IAM refuses
it (and any version but 2012-10-17), and SAM's policy templates produce such documents. The
deployer gives those documents ``"Version": "2012-10-17"`` and notes it: the statements,
which is what the controls read, are unchanged.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pytest_prr.deploy.errors import TemplateError, resource_at
from pytest_prr.deploy.loading import SAM_TRANSFORM

#: The version moto's IAM accepts, and AWS's current one.
POLICY_VERSION = "2012-10-17"
#: Transforms the deployer applies; any other needs a service it does not have.
KNOWN_TRANSFORMS = frozenset({SAM_TRANSFORM})


def to_cloudformation(
    path: Path, body: dict[str, Any], parameters: Mapping[str, str], region: str
) -> dict[str, Any]:
    """``body`` (packaged) as plain CloudFormation: SAM translated, when it is SAM."""
    transform = body.get("Transform", [])
    transforms = [transform] if isinstance(transform, str) else list(transform)
    unknown = [name for name in transforms if name not in KNOWN_TRANSFORMS]
    if unknown:
        raise TemplateError(
            path,
            "Transform",
            f"{', '.join(map(str, unknown))} cannot be applied offline; pytest-prr's deployer "
            f"applies {SAM_TRANSFORM} only",
        )
    if not transforms:
        return body
    return _translate(path, body, parameters, region)


def _translate(
    path: Path, body: dict[str, Any], parameters: Mapping[str, str], region: str
) -> dict[str, Any]:
    # boto3 (and moto) load only for a run that reads AWS or an emulator
    import boto3
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    translator = Translator(None, Parser(), boto_session=boto3.Session(region_name=region))
    values = {"AWS::Region": region, "AWS::Partition": "aws", **parameters}
    try:
        with _quiet(logging.getLogger("samtranslator")):
            return translator.translate(
                body, parameter_values=values, get_managed_policy_map=_managed_policies
            )
    except InvalidDocumentException as error:
        causes = sorted(error.causes, key=lambda cause: str(_logical_id(cause) or ""))
        first = _logical_id(causes[0]) if causes else None
        where = resource_at(first) if isinstance(first, str) else None
        problems = "; ".join(cause.message for cause in causes) or error.message
        raise TemplateError(path, where, f"the SAM transform failed: {problems}") from None


@contextlib.contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    """The translator logs its feature toggles and unpublished metrics as warnings, noise on
    a pytest terminal: only its errors are let through while it runs."""
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _logical_id(cause: Any) -> Any:
    return getattr(cause, "_logical_id", None) or getattr(cause, "_event_id", None)


@functools.cache
def _managed_policies() -> dict[str, str]:
    """AWS-managed policy name -> ARN, as the moto account has them."""
    # moto and its server load in seconds: only a run on the embedded emulator pays
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return {
        name: f"arn:aws:iam::aws:policy{policy.get('Path', '/')}{name}"
        for name, policy in json.loads(aws_managed_policies_data).items()
    }


#: Where IAM resources hold policy documents: type -> property paths (``*``: each item).
POLICY_DOCUMENTS = {
    "AWS::IAM::Role": (("AssumeRolePolicyDocument",), ("Policies", "*", "PolicyDocument")),
    "AWS::IAM::Policy": (("PolicyDocument",),),
    "AWS::IAM::ManagedPolicy": (("PolicyDocument",),),
    "AWS::IAM::User": (("Policies", "*", "PolicyDocument"),),
    "AWS::IAM::Group": (("Policies", "*", "PolicyDocument"),),
}


def versioned_policies(template: dict[str, Any]) -> list[str]:
    """Give every IAM policy document without a Version the one moto accepts; return the
    logical IDs of the resources changed."""
    changed = []
    for logical_id, resource in template["Resources"].items():
        paths = POLICY_DOCUMENTS.get(resource["Type"], ())
        properties = resource.get("Properties", {})
        touched = False
        for path in paths:
            for document in _at(properties, path):
                if isinstance(document, dict) and "Version" not in document:
                    document["Version"] = POLICY_VERSION
                    touched = True
        if touched:
            changed.append(logical_id)
    return changed


def _at(node: Any, path: tuple[str, ...]) -> Iterator[Any]:
    if not path:
        yield node
        return
    head, rest = path[0], path[1:]
    if head == "*":
        for item in node if isinstance(node, list) else ():
            yield from _at(item, rest)
    elif isinstance(node, dict) and head in node:
        yield from _at(node[head], rest)
