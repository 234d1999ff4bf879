"""Merge the results documents of separate runs into one org-wide document.

A CI matrix runs one job per account (or per region of an account); ``prr merge`` combines
their ``prr-results/1`` documents into the document a single run over all of those targets
would have written: the same controls, resources, roll-ups, summary and framework statuses,
computed by the same functions of :mod:`pytest_prr.results.model`. Only ``generated_at`` differs.

Rules, each failing closed with the input file named:

* every input is a valid ``prr-results/1`` document of the same tool and catalog version;
  a different catalog could mean different controls behind the same IDs;
* an account may appear in several inputs only for disjoint regions: two verdicts on the
  same regional resource usually mean a job ran twice or a file was passed twice, and
  ``allow_overlap`` must say that this is intended;
* where two inputs do judge the same resource with the same test (the account-wide
  verdicts of an account split into region jobs; anything, under ``allow_overlap``), one
  verdict stands, the worse, as :func:`~pytest_prr.results.model.merge_phases` decides within one
  run;
* top-level sections that this version does not know how to merge are refused rather than
  dropped; ``waivers`` sections are combined (:mod:`pytest_prr.results.waiver_sections`).

The inputs are taken one at a time (:class:`DocumentMerger`): each is checked and folded
into what the merged document needs, its resource entries moved to a temporary file
(:mod:`pytest_prr.report.merge_entries`), and dropped before the next is read. The roll-ups,
summary and waivers are computed once, over the merged whole, and the merged document is
written without ever being held whole: an organization's hundreds of account documents are
never in memory together.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from pytest_prr.report.json_document import (
    DocumentError,
    validate_document,
    write_document_streaming,
)
from pytest_prr.report.merge_entries import ControlEntries, EntryTexts
from pytest_prr.results.model import SCHEMA_ID, rollup_frameworks, summarize, timestamp
from pytest_prr.results.waiver_sections import CombinedReports

#: The top-level sections a merge rebuilds or carries over.
KNOWN_SECTIONS = frozenset(
    {
        "schema",
        "generated_at",
        "tool",
        "targets",
        "summary",
        "domains",
        "controls",
        "frameworks",
        "waivers",
    }
)
_VERSIONS = {"version": "pytest-prr versions", "catalog_version": "catalog versions"}


class MergeError(ValueError):
    """Documents that cannot be merged; the message names the input files."""


def merge_documents(
    documents: Mapping[str, Mapping[str, Any]],
    *,
    allow_overlap: bool = False,
    generated_at: datetime | None = None,
) -> dict[str, Any]:
    """One ``prr-results/1`` document from ``documents`` (source name, e.g. the file path,
    to document), as if one run had evaluated all their targets.

    Targets keep the order of ``documents``; everything else is independent of it. The
    merged document is built whole: ``prr merge`` writes it with
    :meth:`DocumentMerger.write` instead.
    """
    with DocumentMerger(allow_overlap=allow_overlap) as merger:
        for name, document in documents.items():
            merger.add(name, document)
        return merger.document(generated_at)


class DocumentMerger:
    """The merge of documents added one at a time; each is checked as it is added, with
    the documents before it, and not kept. A context manager: closing it removes the
    temporary file that holds the entries."""

    def __init__(self, *, allow_overlap: bool = False) -> None:
        self.allow_overlap = allow_overlap
        #: What the first input says for every input: tool, domains, requirements, and each
        #: control's description (without its entries).
        self._first: dict[str, Any] = {}
        self._first_name = ""
        self._control_ids: list[str] = []
        self._controls: list[ControlEntries] = []
        self._versions: dict[str, dict[str, list[str]]] = {field: {} for field in _VERSIONS}
        self._claimed: dict[tuple[str, str], str] = {}
        self._strings: dict[str, str] = {}
        self._texts = EntryTexts()
        self._targets: list[dict[str, Any]] = []
        self._waivers: CombinedReports | None = None

    def add(self, name: str, document: Mapping[str, Any]) -> None:
        """Check ``document`` (named ``name`` in errors) and fold it into the merge."""
        try:
            validate_document(document)
        except DocumentError as error:
            raise MergeError(f"{name}: {error}") from error
        unknown = set(document) - KNOWN_SECTIONS
        if unknown:
            raise MergeError(
                f"{name}: section(s) {', '.join(sorted(unknown))} cannot be merged by this "
                "version of pytest-prr"
            )
        self._require_same_versions(name, document)
        self._require_same_controls(name, document)
        if not self.allow_overlap:
            self._refuse_overlap(name, document)
        if not self._first:
            self._take_first(name, document)
        try:
            for control, entries in zip(document["controls"], self._controls, strict=True):
                entries.add(control)
        except OSError as error:
            raise MergeError(
                f"{name}: its entries cannot be kept in a temporary file (in "
                f"{tempfile.gettempdir()}; TMPDIR chooses where): {error.strerror or error}"
            ) from error
        self._targets.extend(dict(target) for target in document["targets"])
        if "waivers" in document:
            self._waivers = self._waivers or CombinedReports()
            self._waivers.add(document["waivers"])

    def __enter__(self) -> DocumentMerger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._texts.close()

    def document(self, generated_at: datetime | None = None) -> dict[str, Any]:
        """The merged document, every entry decoded: for a merge small enough to hold."""
        merged = self._outline(generated_at)
        for control, entries in zip(merged["controls"], self._controls, strict=True):
            control["resources"] = list(entries.entries())
        validate_document(merged)
        return merged

    def write(self, path: Path, generated_at: datetime | None = None) -> dict[str, Any]:
        """Write the merged document to ``path``, decoding one entry at a time; return it
        without its entries (every control's ``resources`` empty)."""
        merged = self._outline(generated_at)
        write_document_streaming(merged, lambda index: self._controls[index].entries(), path)
        return merged

    def _outline(self, generated_at: datetime | None) -> dict[str, Any]:
        """The merged document with every control's ``resources`` empty; the statuses,
        roll-ups, summary and waivers are those of every entry."""
        if not self._first:
            raise MergeError("nothing to merge: give at least one results document")
        controls = [
            {
                **control,
                "status": entries.status(),
                "tests": sorted(entries.tests),
                "resources": [],
                **_emulator_gaps(entries),
            }
            for control, entries in zip(self._first["controls"], self._controls, strict=True)
        ]
        frameworks = rollup_frameworks(
            self._first["frameworks"], {control["id"]: control["status"] for control in controls}
        )
        merged: dict[str, Any] = {
            "schema": SCHEMA_ID,
            "generated_at": timestamp(generated_at),
            "tool": dict(self._first["tool"]),
            "targets": list(self._targets),
            "summary": summarize(controls, frameworks),
        }
        if "domains" in self._first:
            merged["domains"] = dict(self._first["domains"])
        merged["controls"] = controls
        merged["frameworks"] = frameworks
        if self._waivers is not None:
            in_use = (waiver for entries in self._controls for waiver in entries.waivers())
            merged["waivers"] = self._waivers.section(in_use)
        return merged

    def _take_first(self, name: str, document: Mapping[str, Any]) -> None:
        self._first_name = name
        self._first = {
            "tool": dict(document["tool"]),
            "frameworks": document["frameworks"],
            "controls": [
                {key: [] if key == "resources" else value for key, value in control.items()}
                for control in document["controls"]
            ],
        }
        if "domains" in document:
            self._first["domains"] = dict(document["domains"])
        self._control_ids = [control["id"] for control in document["controls"]]
        self._controls = [ControlEntries(self._texts, self._strings) for _ in self._control_ids]

    def _require_same_versions(self, name: str, document: Mapping[str, Any]) -> None:
        for field, what in _VERSIONS.items():
            seen = self._versions[field]
            seen.setdefault(document["tool"][field], []).append(name)
            if len(seen) > 1:
                listed = "; ".join(
                    f"{value} in {', '.join(inputs)}" for value, inputs in seen.items()
                )
                raise MergeError(
                    f"the inputs come from different {what} ({listed}); re-run the accounts "
                    "with one version so the same control IDs mean the same checks"
                )

    def _require_same_controls(self, name: str, document: Mapping[str, Any]) -> None:
        """Guard against hand-edited inputs: one catalog version means one list of controls."""
        if not self._first:
            return
        found = [control["id"] for control in document["controls"]]
        if found != self._control_ids:
            raise MergeError(
                f"{name} lists other controls than {self._first_name} although both claim "
                f"catalog {document['tool']['catalog_version']}; was one of them edited?"
            )

    def _refuse_overlap(self, name: str, document: Mapping[str, Any]) -> None:
        for target in document["targets"]:
            for region in target["regions"]:
                key = (target["account_id"], region)
                if key in self._claimed:
                    raise MergeError(
                        f"account {key[0]} region {region} is in both {self._claimed[key]} "
                        f"and {name}; merge each account and region once, or pass "
                        "--allow-overlap to keep the worse verdict of each resource"
                    )
                self._claimed[key] = name


def _emulator_gaps(entries: ControlEntries) -> dict[str, Any]:
    """A control's gaps on every emulator any input ran on (as ``build_document`` lists
    them), each once; a copy, so that the merged document is the caller's to change."""
    gaps = {emulator: list(whys) for emulator, whys in entries.emulator_gaps.items()}
    return {"emulator_gaps": gaps} if gaps else {}
