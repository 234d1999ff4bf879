"""The snapshot document (``prr-snapshot/1``) and the fail-closed error markers in it.

A value that could not be read is replaced, exactly where it would have been, by an error
marker naming the operation. Code that reads the snapshot asks for data through
:func:`require`, so a missing permission surfaces as an ERROR naming the operation, never
as an empty list that would pass.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import Any, NoReturn, TypeVar

from pytest_prr.accounts.config import Account

SCHEMA = "prr-snapshot/1"
_Index = TypeVar("_Index")
ERROR_KEY = "$error"


#: ``kind`` of a marker whose operation the endpoint does not implement (an emulator's gap).
UNIMPLEMENTED = "unimplemented"
#: ``kind`` of a marker standing for a field the target accepts and does not store.
EMULATOR_GAP = "emulator-gap"


def error_marker(
    operation: str, code: str, message: str, *, kind: str | None = None
) -> dict[str, Any]:
    """What stands in the snapshot where ``operation`` failed to provide data; ``kind`` says
    why when it is not a refused or failed read: :data:`UNIMPLEMENTED` or
    :data:`EMULATOR_GAP`."""
    error = {"operation": operation, "code": code, "message": message[:500]}
    if kind is not None:
        error["kind"] = kind
    return {ERROR_KEY: error}


def is_error(value: object) -> bool:
    if isinstance(value, Unreadable):
        return True
    return isinstance(value, Mapping) and ERROR_KEY in value


class DataUnavailable(Exception):
    """Raised by :func:`require` where the snapshot holds an error marker."""

    def __init__(self, operation: str, code: str, message: str, kind: str | None = None) -> None:
        super().__init__(f"{operation} failed ({code}): {message}")
        self.operation = operation
        self.code = code
        self.message = message
        self.kind = kind


def require(value: Any) -> Any:
    """``value`` itself, or :class:`DataUnavailable` if it is an error marker."""
    if isinstance(value, Unreadable):
        raise value.error
    if is_error(value):
        raise DataUnavailable(**value[ERROR_KEY])
    return value


class Unreadable(Mapping[str, Any]):
    """An entry of a collection that could not be read; every use raises."""

    __slots__ = ("marker",)

    def __init__(self, marker: Mapping[str, Any]) -> None:
        self.marker = marker

    @property
    def error(self) -> DataUnavailable:
        return DataUnavailable(**self.marker[ERROR_KEY])

    def _raise(self, *_: Any) -> NoReturn:
        raise self.error

    __getitem__ = __iter__ = __len__ = __contains__ = __eq__ = __bool__ = _raise
    __str__ = __format__ = _raise  # no message may quietly show it as data either
    get = keys = values = items = _raise

    def __hash__(self) -> NoReturn:
        raise self.error

    def __repr__(self) -> str:
        return f"<unreadable: {self.marker[ERROR_KEY]['operation']}>"


def errors_in(value: Any, path: str = "") -> Iterator[tuple[str, dict[str, str]]]:
    """Every error marker below ``value``, with its JSON path, for reports and progress."""
    if is_error(value):
        yield path, value[ERROR_KEY]
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from errors_in(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from errors_in(item, f"{path}[{index}]")


class Snapshot:
    """A read-only view of a snapshot document, for checks and users' tests."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self._indexes: dict[Hashable, Any] = {}

    def indexed(self, key: Hashable, build: Callable[[], _Index]) -> _Index:
        """``build()``, made once per snapshot and kept under ``key``.

        Checks run once per resource; one that scans the whole account for each function is
        quadratic (2,000 functions against 1,774 alarms is seconds per control), so the
        first to need an index of the account builds it for the rest. A ``build`` that
        raises (the data failed to load) is not kept: every caller gets the error.
        """
        if key not in self._indexes:
            self._indexes[key] = build()
        return self._indexes[key]

    @property
    def account(self) -> Account:
        """The account the snapshot was taken of, as a target evaluated offline."""
        account = self.data["account"]
        return Account(
            name=account["name"],
            account_id=account["account_id"],
            regions=tuple(account["regions"]),
            mode="snapshot",
        )

    @property
    def account_id(self) -> str:
        return self.data["account"]["account_id"]

    @property
    def regions(self) -> list[str]:
        return list(self.data["regions"])

    @property
    def taken_at(self) -> str:
        return self.data["taken_at"]

    def region(self, name: str) -> Mapping[str, Any]:
        return self.data["regions"][name]

    @property
    def account_wide(self) -> Mapping[str, Any]:
        return self.data["global"]

    def functions(self) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """(region, function) for every function; raises where listing them failed."""
        for region, section in self.data["regions"].items():
            for function in require(require(section["lambda"])["functions"]).values():
                yield region, function

    def role(self, arn: str) -> Mapping[str, Any] | None:
        """The execution role with this ARN, None if the account has no such role."""
        roles = require(require(self.data["global"]["iam"])["roles"])
        return roles.get(arn)

    def errors(self) -> list[tuple[str, dict[str, str]]]:
        return list(errors_in(self.data))
