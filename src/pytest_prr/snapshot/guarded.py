"""A read-only view of snapshot data through which an error marker can never pass for data.

A check that reads a field with ``function.get("TracingConfig") or {}`` sees the marker of a
failed read as a configuration without ``Mode``, and fails or passes on data it never had.
:func:`require` guards one value, but only where a check remembers to call it. Checks read the
snapshot through this view instead, which makes the mistake impossible:

* reading a field that holds a marker (``view["Policy"]``, ``view.get("Policy")``) raises
  :class:`~pytest_prr.snapshot.model.DataUnavailable` naming the failed operation;
* reading a field the snapshot does not have with ``view["MemorySize"]`` raises it too (code
  ``FieldMissing``): a rule that needs a field never decides without it. ``get`` keeps its
  meaning for optional fields, whose absence AWS uses to say "none";
* iterating a collection yields an :class:`Unreadable` placeholder where an entry could not
  be read (a rule whose targets failed to load, say), so that a check can still look at the
  readable entries first, as "a certain FAIL wins" needs; any use of the placeholder (a key,
  ``len``, truth, comparison) raises, and :func:`~pytest_prr.snapshot.model.is_error` and
  :func:`~pytest_prr.snapshot.model.require` recognise it.

Views are made on access and hold no copy; :func:`unwrap` turns one back into plain data
for evidence.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pytest_prr.snapshot.model import ERROR_KEY, DataUnavailable, Unreadable

#: The code of a field that a rule needs and the snapshot does not hold.
FIELD_MISSING = "FieldMissing"


def _is_marker(value: Any) -> bool:
    return type(value) is dict and ERROR_KEY in value


def guard(value: Any, path: str = "") -> Any:
    """``value`` as a guarded view: mappings and lists wrapped, scalars as they are."""
    if isinstance(value, dict):
        return GuardedMapping(value, path)
    if isinstance(value, list):
        return GuardedList(value, path)
    return value


def _member(value: Any, path: str) -> Any:
    """An entry met while iterating: a placeholder for a marker, else a view."""
    if _is_marker(value):
        return Unreadable(value)
    return guard(value, path)


def _field(value: Any, path: str) -> Any:
    """A value read by key or index: a marker raises at once."""
    if _is_marker(value):
        raise DataUnavailable(**value[ERROR_KEY])
    return guard(value, path)


class GuardedMapping(Mapping[str, Any]):
    __slots__ = ("_data", "_path")

    def __init__(self, data: dict[str, Any], path: str) -> None:
        self._data = data
        self._path = path

    def __getitem__(self, key: str) -> Any:
        try:
            value = self._data[key]
        except KeyError:
            raise DataUnavailable(
                "snapshot", FIELD_MISSING, f"{_join(self._path, key)} is missing"
            ) from None
        return _field(value, _join(self._path, key))

    def get(self, key: str, default: Any = None) -> Any:
        if key not in self._data:
            return default
        return _field(self._data[key], _join(self._path, key))

    def entry(self, key: str, default: Any = None) -> Any:
        """``self[key]`` as an entry: an :class:`Unreadable` placeholder where its read
        failed, instead of raising (see :func:`member`)."""
        if key not in self._data:
            return default
        return _member(self._data[key], _join(self._path, key))

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def values(self) -> Iterator[Any]:  # type: ignore[override]
        return (_member(value, _join(self._path, key)) for key, value in self._data.items())

    def items(self) -> Iterator[tuple[str, Any]]:  # type: ignore[override]
        return ((key, _member(value, _join(self._path, key))) for key, value in self._data.items())

    def __repr__(self) -> str:
        return f"GuardedMapping({self._path or 'snapshot'})"


class GuardedList(Sequence[Any]):
    __slots__ = ("_data", "_path")

    def __init__(self, data: list[Any], path: str) -> None:
        self._data = data
        self._path = path

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [_member(v, f"{self._path}[{i}]") for i, v in enumerate(self._data[index])]
        return _field(self._data[index], f"{self._path}[{index}]")

    def __iter__(self) -> Iterator[Any]:
        return (_member(v, f"{self._path}[{i}]") for i, v in enumerate(self._data))

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"GuardedList({self._path or 'snapshot'})"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else str(key)


def unwrap(value: Any) -> Any:
    """Plain data again (dicts, lists, the marker of an unreadable entry), for evidence."""
    if isinstance(value, GuardedMapping):
        return {key: unwrap(item) for key, item in value._data.items()}
    if isinstance(value, GuardedList):
        return [unwrap(item) for item in value._data]
    if isinstance(value, Unreadable):
        return value.marker
    if isinstance(value, dict):
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [unwrap(item) for item in value]
    return value


def member(mapping: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """``mapping[key]`` as an entry rather than a field: an :class:`Unreadable` placeholder
    where its read failed, instead of raising, for a check that weighs the readable entries
    first (a trail certainly in force passes GOV-01 though another could not be read)."""
    if isinstance(mapping, GuardedMapping):
        return mapping.entry(key, default)
    return mapping.get(key, default)
