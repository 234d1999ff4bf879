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
  dropped; ``waivers`` sections are concatenated.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pytest_prr.report.json_document import DocumentError, validate_document
from pytest_prr.results.model import (
    SCHEMA_ID,
    resource_order,
    rollup,
    rollup_frameworks,
    summarize,
    timestamp,
)
from pytest_prr.results.waiver_sections import combine_reports

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

    Targets keep the order of ``documents``; everything else is independent of it.
    """
    if not documents:
        raise MergeError("nothing to merge: give at least one results document")
    for name, document in documents.items():
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
    _require_same_versions(documents)
    _require_same_controls(documents)
    if not allow_overlap:
        _refuse_overlap(documents)
    first = next(iter(documents.values()))
    controls = _merge_controls(list(documents.values()))
    frameworks = rollup_frameworks(
        first["frameworks"], {control["id"]: control["status"] for control in controls}
    )
    merged: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "generated_at": timestamp(generated_at),
        "tool": dict(first["tool"]),
        "targets": [dict(target) for doc in documents.values() for target in doc["targets"]],
        "summary": summarize(controls, frameworks),
    }
    if "domains" in first:
        merged["domains"] = dict(first["domains"])
    merged["controls"] = controls
    merged["frameworks"] = frameworks
    waivers = [doc["waivers"] for doc in documents.values() if "waivers" in doc]
    if waivers:
        merged["waivers"] = combine_reports(waivers, controls)
    validate_document(merged)
    return merged


def _require_same_versions(documents: Mapping[str, Mapping[str, Any]]) -> None:
    for field in ("version", "catalog_version"):
        seen: dict[str, list[str]] = defaultdict(list)
        for name, document in documents.items():
            seen[document["tool"][field]].append(name)
        if len(seen) > 1:
            listed = "; ".join(f"{value} in {', '.join(names)}" for value, names in seen.items())
            what = "pytest-prr versions" if field == "version" else "catalog versions"
            raise MergeError(
                f"the inputs come from different {what} ({listed}); re-run the accounts with "
                "one version so the same control IDs mean the same checks"
            )


def _require_same_controls(documents: Mapping[str, Mapping[str, Any]]) -> None:
    """Guard against hand-edited inputs: one catalog version means one list of controls."""
    names = list(documents)
    expected = [control["id"] for control in documents[names[0]]["controls"]]
    for name in names[1:]:
        found = [control["id"] for control in documents[name]["controls"]]
        if found != expected:
            raise MergeError(
                f"{name} lists other controls than {names[0]} although both claim catalog "
                f"{documents[name]['tool']['catalog_version']}; was one of them edited?"
            )


def _refuse_overlap(documents: Mapping[str, Mapping[str, Any]]) -> None:
    claimed: dict[tuple[str, str], str] = {}
    for name, document in documents.items():
        for target in document["targets"]:
            for region in target["regions"]:
                key = (target["account_id"], region)
                if key in claimed:
                    raise MergeError(
                        f"account {key[0]} region {region} is in both {claimed[key]} and "
                        f"{name}; merge each account and region once, or pass --allow-overlap "
                        "to keep the worse verdict of each resource"
                    )
                claimed[key] = name


def _merge_controls(documents: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    merged = []
    for index, control in enumerate(documents[0]["controls"]):
        entries = [
            dict(entry) for doc in documents for entry in doc["controls"][index]["resources"]
        ]
        entries = sorted(_worst_per_resource_and_test(entries), key=resource_order)
        tests = {test for doc in documents for test in doc["controls"][index]["tests"]}
        merged.append(
            {
                **control,
                "status": rollup(entry["status"] for entry in entries),
                "tests": sorted(tests),
                "resources": entries,
                **_emulator_gaps(documents, index),
            }
        )
    return merged


def _emulator_gaps(documents: Sequence[Mapping[str, Any]], index: int) -> dict[str, Any]:
    """A control's gaps on every emulator any input ran on (as ``build_document`` lists
    them), each once."""
    merged: dict[str, list[str]] = {}
    for document in documents:
        for emulator, whys in document["controls"][index].get("emulator_gaps", {}).items():
            known = merged.setdefault(emulator, [])
            known.extend(why for why in whys if why not in known)
    return {"emulator_gaps": merged} if merged else {}


def _worst_per_resource_and_test(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per resource (in its account and region) and test: the worse, first of
    its status in input order, as ``results.merge_phases`` keeps within a run."""
    grouped: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        key = (entry["id"], entry.get("account_id"), entry.get("region"), entry.get("test"))
        grouped[key].append(entry)
    kept = []
    for found in grouped.values():
        status = rollup(entry["status"] for entry in found)
        kept.append(next(entry for entry in found if entry["status"] == status))
    return kept
