"""The resource entries of every document ``prr merge`` reads, kept out of memory.

The entries are what a merged document is made of, over 90 % of a member account's
document, so they are the part of each input that must outlive it. Each entry's compact
JSON goes to a temporary file as its input is read; memory keeps only what the merge decides
on: the resource, account, Region and test the entry is about (strings shared between
entries), its status's place in the roll-up, where its text is, and the waiver it carries,
if any. The merged document reads the entries back one control at a time as it is written.

Merging 200 member accounts of 20 functions (195,000 entries, ``benchmarks/merge_bench.py``)
peaked at 402 MB with every document parsed, about 200 MB with each entry's text kept in
memory, and 103 MB like this.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any

from pytest_prr.results.model import CONTROL_ROLLUP, rollup

#: Statuses from the worst down: the roll-up order, then not_tested, which a roll-up gives
#: only when nothing else is there.
_WORST_FIRST = (*CONTROL_ROLLUP, "not_tested")
_RANK = {status: rank for rank, status in enumerate(_WORST_FIRST)}


class EntryTexts:
    """Entries' JSON texts in an anonymous temporary file, read back by position.

    The file is removed when closed (or, if the process dies, by the system: it has no
    name).
    """

    def __init__(self) -> None:
        self._file: Any = None
        self._size = 0
        self._reading = False

    def append(self, entry: Mapping[str, Any]) -> tuple[int, int]:
        """Store ``entry``; return where its text is (offset, length)."""
        if self._file is None:
            # Kept open until close(), across many calls: no with-block can hold it.
            self._file = tempfile.TemporaryFile(prefix="prr-merge-")  # noqa: SIM115
        if self._reading:
            self._file.seek(0, os.SEEK_END)
            self._reading = False
        text = json.dumps(entry, separators=(",", ":")).encode("ascii")
        self._file.write(text)
        where = (self._size, len(text))
        self._size += len(text)
        return where

    def read(self, offset: int, length: int) -> dict[str, Any]:
        self._reading = True
        self._file.seek(offset)
        return json.loads(self._file.read(length).decode("ascii"))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class ControlEntries:
    """A control's entries from every input in turn, one per resource (in its account and
    Region) and test: the worse, first of its status in input order, as
    :func:`pytest_prr.results.model.merge_phases` keeps within one run; and the control's
    tests and emulator gaps over every input."""

    def __init__(self, texts: EntryTexts, strings: dict[str, str]) -> None:
        self._texts = texts
        #: Shared with the other controls of a merge: the same ARN, account ID, Region and
        #: test name recur in many entries and are held once.
        self._strings = strings
        #: (resource, account, Region, test) -> (rank of the status, offset, length).
        self._kept: dict[tuple[Any, ...], tuple[int, int, int]] = {}
        #: The waivers carried by kept entries, by the same key.
        self._waivers: dict[tuple[Any, ...], Mapping[str, Any]] = {}
        self.tests: set[str] = set()
        self.emulator_gaps: dict[str, list[str]] = {}

    def add(self, control: Mapping[str, Any]) -> None:
        """Fold in one input's entries for this control."""
        for entry in control["resources"]:
            key = tuple(
                self._shared(entry.get(field)) for field in ("id", "account_id", "region", "test")
            )
            rank = _RANK[entry["status"]]
            kept = self._kept.get(key)
            if kept is not None and kept[0] <= rank:
                continue
            self._kept[key] = (rank, *self._texts.append(entry))
            if entry.get("waiver"):
                self._waivers[key] = entry["waiver"]
            else:
                self._waivers.pop(key, None)
        self.tests.update(control["tests"])
        for emulator, whys in control.get("emulator_gaps", {}).items():
            known = self.emulator_gaps.setdefault(emulator, [])
            known.extend(why for why in whys if why not in known)

    def status(self) -> str:
        return rollup(_WORST_FIRST[rank] for rank, _, _ in self._kept.values())

    def waivers(self) -> Iterator[Mapping[str, Any]]:
        """The waivers the kept entries carry, one per entry."""
        return iter(self._waivers.values())

    def entries(self) -> Iterator[dict[str, Any]]:
        """The kept entries, read one at a time, in the order of
        :func:`pytest_prr.results.model.resource_order`."""
        ordered = sorted(self._kept.items(), key=_resource_order)
        return (self._texts.read(offset, length) for _, (_, offset, length) in ordered)

    def _shared(self, value: Any) -> Any:
        if type(value) is not str:
            return value
        return self._strings.setdefault(value, value)


def _resource_order(item: tuple[tuple[Any, ...], tuple[int, int, int]]) -> tuple[Any, ...]:
    """``resource_order`` of a kept entry, from its key and rank rather than its text."""
    (resource, account, region, test), (rank, _, _) = item
    return (resource, account or "", region or "", "" if test is None else test, _WORST_FIRST[rank])
