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
* iterating a collection yields an :class:`~pytest_prr.snapshot.model.Unreadable`
  placeholder where an entry could not be read (a rule whose targets failed to load, say), so
  that a check can still look at the readable entries first, as "a certain FAIL wins" needs;
  any use of the placeholder (a key, ``len``, truth, comparison, formatting) raises, and
  :func:`~pytest_prr.snapshot.model.is_error` and :func:`~pytest_prr.snapshot.model.require`
  recognise it.

Views are made on access and hold no copy: a view is the data and where it sits, the path
spelled out only for a message. :func:`unwrap` turns one back into plain data for evidence.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pytest_prr.snapshot.model import ERROR_KEY, DataUnavailable, Unreadable

#: The code of a field that a rule needs and the snapshot does not hold.
FIELD_MISSING = "FieldMissing"
#: Where a view sits: None for the root, else (where its parent sits, its key there).
Where = tuple[Any, Any] | None


def guard(value: Any, where: Where = None) -> Any:
    """``value`` as a guarded view: mappings and lists wrapped, scalars as they are."""
    kind = type(value)
    if kind is dict:
        return GuardedMapping(value, where)
    if kind is list:
        return GuardedList(value, where)
    return value


def _field(value: Any, where: Where) -> Any:
    """A value read by key or index: a marker raises at once."""
    kind = type(value)
    if kind is dict:
        if ERROR_KEY in value:
            raise DataUnavailable(**value[ERROR_KEY])
        return GuardedMapping(value, where)
    if kind is list:
        return GuardedList(value, where)
    return value


def _member(value: Any, where: Where) -> Any:
    """An entry met while iterating: a placeholder for a marker, else a view."""
    if type(value) is dict and ERROR_KEY in value:
        return Unreadable(value)
    return guard(value, where)


def path(where: Where) -> str:
    """``where`` spelled out: ``regions.us-east-1.lambda.functions``."""
    steps: list[str] = []
    while where is not None:
        where, key = where
        steps.append(f"[{key}]" if isinstance(key, int) else f".{key}")
    return "".join(reversed(steps)).lstrip(".")


class GuardedMapping(Mapping[str, Any]):
    __slots__ = ("_data", "_where")

    def __init__(self, data: dict[str, Any], where: Where = None) -> None:
        self._data = data
        self._where = where

    def __getitem__(self, key: str) -> Any:
        try:
            value = self._data[key]
        except KeyError:
            missing = path((self._where, key))
            raise DataUnavailable("snapshot", FIELD_MISSING, f"{missing} is missing") from None
        return _field(value, (self._where, key))

    def get(self, key: str, default: Any = None) -> Any:
        data = self._data
        if key not in data:
            return default
        return _field(data[key], (self._where, key))

    def entry(self, key: str, default: Any = None) -> Any:
        """``self[key]`` as an entry: an :class:`Unreadable` placeholder where its read
        failed, instead of raising (see :func:`member`)."""
        if key not in self._data:
            return default
        return _member(self._data[key], (self._where, key))

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def values(self) -> Iterator[Any]:  # type: ignore[override]
        where = self._where
        return (_member(value, (where, key)) for key, value in self._data.items())

    def items(self) -> Iterator[tuple[str, Any]]:  # type: ignore[override]
        where = self._where
        return ((key, _member(value, (where, key))) for key, value in self._data.items())

    def __repr__(self) -> str:
        return f"GuardedMapping({path(self._where) or 'snapshot'})"


class GuardedList(Sequence[Any]):
    __slots__ = ("_data", "_where")

    def __init__(self, data: list[Any], where: Where = None) -> None:
        self._data = data
        self._where = where

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [_member(v, (self._where, i)) for i, v in enumerate(self._data[index])]
        return _field(self._data[index], (self._where, index))

    def __iter__(self) -> Iterator[Any]:
        where = self._where
        return (_member(v, (where, i)) for i, v in enumerate(self._data))

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"GuardedList({path(self._where) or 'snapshot'})"


def unwrap(value: Any) -> Any:
    """Plain data again (dicts, lists, the marker of an unreadable entry), for evidence."""
    kind = type(value)
    if kind is GuardedMapping or kind is GuardedList:
        return value._data
    if kind is Unreadable:
        return value.marker
    if kind is dict:
        return {key: unwrap(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [unwrap(item) for item in value]
    return value


def member(mapping: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """``mapping[key]`` as an entry rather than a field: an :class:`Unreadable` placeholder
    where its read failed, instead of raising, for a check that weighs the readable entries
    first (a trail certainly in force passes GOV-01 though another could not be read)."""
    if isinstance(mapping, GuardedMapping):
        return mapping.entry(key, default)
    return mapping.get(key, default)
