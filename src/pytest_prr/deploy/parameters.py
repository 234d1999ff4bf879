"""A template's parameter values: given the ways SAM and CloudFormation users already write
them, checked as CloudFormation checks them before it creates anything.

Values come from ``KEY=VALUE`` pairs (``--prr-template-param``, like ``sam deploy
--parameter-overrides``) and from files: the JSON of ``aws cloudformation create-stack
--parameters file://...`` (a list of ``ParameterKey``/``ParameterValue``), a CodePipeline
template configuration (``{"Parameters": {...}}``) or a plain JSON object, and SAM's
``samconfig.toml`` (``parameter_overrides`` of its ``deploy`` command).
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pytest_prr.deploy.errors import TemplateError

#: samconfig.toml's environment and the commands whose parameters ``sam deploy`` reads.
SAMCONFIG_ENVIRONMENT = "default"
SAMCONFIG_COMMANDS = ("global", "deploy")


def parse_assignments(pairs: Iterable[str], origin: str) -> dict[str, str]:
    """``KEY=VALUE`` strings as a mapping; ``origin`` names where they came from."""
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise TemplateError(origin, None, f"{pair!r} is not KEY=VALUE")
        values[key.strip()] = value
    return values


def read_parameter_file(path: Path) -> dict[str, str]:
    """The parameter values a JSON parameters file or a ``samconfig.toml`` gives."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise TemplateError(path, None, f"cannot read the parameters: {error.strerror}") from None
    if path.suffix == ".toml":
        return _samconfig(path, text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise TemplateError(
            path, None, f"not valid JSON: {error.msg} (line {error.lineno})"
        ) from None
    if isinstance(data, list):
        return _parameter_list(path, data)
    if isinstance(data, dict):
        parameters = data.get("Parameters", data)
        if isinstance(parameters, dict):
            return {str(key): _text(value) for key, value in parameters.items()}
    raise TemplateError(
        path,
        None,
        'expected a list of {ParameterKey, ParameterValue}, {"Parameters": {...}} or an object',
    )


def _parameter_list(path: Path, data: list[Any]) -> dict[str, str]:
    values = {}
    for index, entry in enumerate(data):
        if not isinstance(entry, dict) or "ParameterKey" not in entry:
            raise TemplateError(path, f"[{index}]", "has no ParameterKey")
        if "ParameterValue" not in entry:
            # UsePreviousValue has no previous stack to read here.
            raise TemplateError(
                path, f"[{index}]", f"{entry['ParameterKey']} has no ParameterValue"
            )
        values[entry["ParameterKey"]] = _text(entry["ParameterValue"])
    return values


def _samconfig(path: Path, text: str) -> dict[str, str]:
    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise TemplateError(path, None, f"not valid TOML: {error}") from None
    environment = config.get(SAMCONFIG_ENVIRONMENT, {})
    values: dict[str, str] = {}
    for command in SAMCONFIG_COMMANDS:
        overrides = environment.get(command, {}).get("parameters", {}).get("parameter_overrides")
        if overrides is None:
            continue
        pairs = shlex.split(overrides) if isinstance(overrides, str) else list(overrides)
        where = f"{path} [{SAMCONFIG_ENVIRONMENT}.{command}.parameters]"
        values.update(parse_assignments(pairs, where))
    return values


def _text(value: Any) -> str:
    """A parameter value as CloudFormation receives it: always a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(map(_text, value))
    return str(value)


def resolve_parameters(
    path: Path, declared: Mapping[str, Any], given: Mapping[str, str]
) -> dict[str, str]:
    """Every declared parameter's value (given, else its Default), checked against its
    ``Type``, ``AllowedValues`` and ``AllowedPattern``; ``given`` may hold values for other
    templates' parameters, which are ignored here."""
    values: dict[str, str] = {}
    for name, spec in declared.items():
        spec = spec if isinstance(spec, dict) else {}
        where = f"Parameters.{name}"
        if name in given:
            value = given[name]
        elif "Default" in spec:
            value = _text(spec["Default"])
        else:
            raise TemplateError(
                path,
                where,
                f"has no Default and no value was given: pass --prr-template-param {name}=VALUE "
                "(or a --prr-template-params file)",
            )
        _check(path, where, spec, value)
        values[name] = value
    return values


def _check(path: Path, where: str, spec: Mapping[str, Any], value: str) -> None:
    kind = spec.get("Type", "String")
    if kind == "Number" and not _is_number(value):
        raise TemplateError(path, where, f"is a Number, got {value!r}")
    if kind == "List<Number>" and not all(map(_is_number, value.split(","))):
        raise TemplateError(path, where, f"is a List<Number>, got {value!r}")
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [_text(option) for option in allowed]:
        raise TemplateError(path, where, f"{value!r} is not one of its AllowedValues {allowed}")
    pattern = spec.get("AllowedPattern")
    if pattern is not None and kind == "String" and not re.fullmatch(pattern, value):
        raise TemplateError(path, where, f"{value!r} does not match its AllowedPattern {pattern}")


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
