"""Reading a template file as CloudFormation reads it.

CloudFormation reads YAML 1.1 without its timestamp type, and with the short forms of the
intrinsics (``!Ref``, ``!Sub``, ``!GetAtt A.B``). A plain YAML loader mistypes values a
template relies on: ``Version: 2012-10-17`` becomes a date (and the policy no longer
parses), ``Mode: 0755`` or an account ID with a leading zero becomes a different number.
Here a scalar is a number only when it is written as a plain decimal; anything else that
YAML would make a date or a non-decimal integer stays the text that was written, which is
what the resource's property then receives (a numeric property converts it by type, as
CloudFormation does, in :mod:`~pytest_prr.deploy.conversion`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pytest_prr.deploy.errors import TemplateError

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
#: A decimal integer as CloudFormation reads one; other YAML 1.1 integer forms (0755,
#: 0x1F, 1_000, 1:30) stay text.
_DECIMAL = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")


class TemplateLoader(yaml.SafeLoader):
    """A YAML loader with CloudFormation's types and short-form intrinsics."""


def _text(loader: TemplateLoader, node: yaml.ScalarNode) -> str:
    return loader.construct_scalar(node)


def _integer(loader: TemplateLoader, node: yaml.ScalarNode) -> int | str:
    text = loader.construct_scalar(node)
    return int(text) if _DECIMAL.match(text) else text


def _intrinsic(loader: TemplateLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    """``!Name value`` as ``{"Fn::Name": value}`` (``Ref`` and ``Condition`` unprefixed)."""
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


TemplateLoader.add_constructor("tag:yaml.org,2002:timestamp", _text)
TemplateLoader.add_constructor("tag:yaml.org,2002:int", _integer)
TemplateLoader.add_multi_constructor("!", _intrinsic)


@dataclass(frozen=True)
class Source:
    """A template as read from disk: its body, the SHA-256 of its bytes, and its kind."""

    path: Path
    body: dict[str, Any]
    sha256: str

    @property
    def is_sam(self) -> bool:
        transform = self.body.get("Transform", [])
        transforms = [transform] if isinstance(transform, str) else transform
        return SAM_TRANSFORM in transforms

    @property
    def asset_manifest(self) -> Path | None:
        """``cdk synth``'s manifest of the template's assets (``X.assets.json`` beside
        ``X.template.json``), when there is one."""
        name = self.path.name
        if not name.endswith(".template.json"):
            return None
        manifest = self.path.with_name(name.removesuffix(".template.json") + ".assets.json")
        return manifest if manifest.is_file() else None


def read_template(path: Path) -> Source:
    """Read ``path`` (YAML or JSON); a file that is not a template is a TemplateError."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise TemplateError(path, None, f"cannot read the template: {error.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TemplateError(path, None, "not a template: the file is not UTF-8 text") from None
    body = _parse(path, text)
    if not isinstance(body, dict):
        raise TemplateError(path, None, "not a template: the top level is not a mapping")
    resources = body.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise TemplateError(path, "Resources", "a template needs a Resources mapping")
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            raise TemplateError(path, f"Resources.{logical_id}", "has no Type")
    return Source(path=path, body=body, sha256=hashlib.sha256(raw).hexdigest())


def _parse(path: Path, text: str) -> Any:
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise TemplateError(
                path, None, f"not valid JSON: {error.msg} (line {error.lineno})"
            ) from None
    try:
        return yaml.load(text, Loader=TemplateLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise TemplateError(path, None, f"not valid YAML: {problem}{where}") from None
