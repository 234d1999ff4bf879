"""What a function exposes through itself and through each of its aliases.

A permission or a function URL can be attached to an alias (``orders:live``) instead of the
function: SAM's ``AutoPublishAlias`` with ``FunctionUrlConfig`` creates both on the alias,
and ``aws lambda add-permission --qualifier live`` does the same by hand. Traffic reaches the
function through the alias, so SEC-05, SEC-06 and SEC-08 read the function's policy or URL
and every alias's; reading only the function's would pass a function that is public.

Published versions can carry permissions as well; the snapshot does not read them (an
account keeps thousands, at a call each), and the catalog says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_prr.checks.base import NOT_IN_SNAPSHOT
from pytest_prr.snapshot.guarded import member
from pytest_prr.snapshot.model import DataUnavailable, require


@dataclass
class Qualified:
    """One field (``Policy``, ``FunctionUrl``) of a function and of each of its aliases.

    ``present`` holds the values that exist, by where they are attached: the function's name
    for the function itself, ``name:alias`` for an alias. ``unreadable`` holds, by the same
    label, the reads that failed; ``name:*`` stands for every alias when they could not be
    listed.
    """

    present: dict[str, Any] = field(default_factory=dict)
    unreadable: dict[str, DataUnavailable] = field(default_factory=dict)

    def place(self, where: str, value: Any) -> None:
        """Record ``value`` (a snapshot value: data, None or an error marker) at ``where``."""
        try:
            value = require(value)
        except DataUnavailable as error:
            self.unreadable[where] = error
            return
        if value is not None:
            self.present[where] = value

    def require_all(self) -> None:
        """Raise the first failed read: without it no verdict but FAIL is certain."""
        for error in self.unreadable.values():
            raise error

    def missing_note(self) -> str:
        """What a FAIL must admit it did not see, for its message; empty when complete."""
        if not self.unreadable:
            return ""
        listed = ", ".join(
            f"{where} ({error.operation})" for where, error in self.unreadable.items()
        )
        return f"; not read: {listed}"

    def missing_evidence(self) -> dict[str, Any]:
        if not self.unreadable:
            return {}
        return {"unreadable": {where: error.operation for where, error in self.unreadable.items()}}


def qualified(function: Mapping[str, Any], key: str, alias_operation: str) -> Qualified:
    """``function[key]`` and ``alias[key]`` of each alias, None values left out.

    ``alias_operation`` is the read that fills ``key`` on an alias: an alias entry without
    the key comes from a snapshot taken before pytest-prr read aliases, which is missing
    data, never "the alias has none".
    """
    name = function["FunctionName"]
    found = Qualified()
    found.place(name, member(function, key))
    if "Aliases" not in function:
        found.unreadable[f"{name}:*"] = _not_in_snapshot("lambda:ListAliases", "Aliases")
        return found
    try:
        aliases = require(function["Aliases"])
    except DataUnavailable as error:
        found.unreadable[f"{name}:*"] = error
        return found
    for alias in aliases:
        where = f"{name}:{alias['Name']}"
        if key in alias:
            found.place(where, member(alias, key))
        else:
            found.unreadable[where] = _not_in_snapshot(alias_operation, f"{key} of aliases")
    return found


def _not_in_snapshot(operation: str, what: str) -> DataUnavailable:
    return DataUnavailable(
        operation,
        NOT_IN_SNAPSHOT,
        f"the snapshot has no {what}: it was taken by an older pytest-prr",
    )
