"""Property values converted by type, as CloudFormation converts them.

A template's values are often the wrong JSON type for the API they end up in: every
parameter is a string (``MemorySize: !Ref Memory`` is ``"512"``), YAML authors quote numbers
and booleans (``Enabled: "true"``), and a tag value may be written as a number. CloudFormation
converts each property to the type its resource schema declares. The deployer makes API
calls, so it converts each request to the type of the API's own input shape, from botocore's
service model: strings to booleans and numbers, numbers and booleans to strings.
"""

from __future__ import annotations

from typing import Any

from botocore.model import Shape

_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})


class ConversionError(ValueError):
    """A value that CloudFormation could not convert either; the message names its path."""


def convert(value: Any, shape: Shape | None, path: str = "") -> Any:
    """``value`` converted to ``shape`` (botocore's), recursively; members the shape does
    not know are left as they are, for the API to refuse."""
    if shape is None:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members  # type: ignore[attr-defined]
        return {
            key: convert(item, members.get(key), f"{path}.{key}".lstrip("."))
            for key, item in value.items()
        }
    if kind == "list" and isinstance(value, list):
        member = shape.member  # type: ignore[attr-defined]
        return [convert(item, member, f"{path}[{index}]") for index, item in enumerate(value)]
    if kind == "map" and isinstance(value, dict):
        item_shape = shape.value  # type: ignore[attr-defined]
        return {str(key): convert(item, item_shape, f"{path}.{key}") for key, item in value.items()}
    if kind == "boolean":
        return _boolean(value, path)
    if kind in ("integer", "long"):
        return _integer(value, path)
    if kind in ("float", "double"):
        return _float(value, path)
    if kind == "string" and isinstance(value, bool):
        return "true" if value else "false"
    if kind == "string" and isinstance(value, int | float):
        return str(value)
    return value


def _boolean(value: Any, path: str) -> Any:
    if isinstance(value, str):
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise ConversionError(f"{path}: {value!r} is not a boolean")
    return value


def _integer(value: Any, path: str) -> Any:
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                raise ConversionError(f"{path}: {value!r} is not an integer") from None
            if number.is_integer():
                return int(number)
            raise ConversionError(f"{path}: {value!r} is not an integer") from None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _float(value: Any, path: str) -> Any:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise ConversionError(f"{path}: {value!r} is not a number") from None
    return value
