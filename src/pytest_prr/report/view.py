"""What every human-readable rendering of a results document shares.

The HTML report, the Markdown checklist and the CSV table must agree on how a document
reads: which domain a control belongs to, what a waiver says, how statuses are named.
Deciding it once here keeps an auditor from finding two answers in two files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pytest_prr.catalog import Catalog, builtin_catalog
from pytest_prr.results.model import STATUSES

STATUS_LABELS: Mapping[str, str] = {
    "pass": "pass",
    "fail": "fail",
    "error": "error",
    "waived": "waived",
    "not_applicable": "not applicable",
    "not_tested": "not tested",
}
#: Statuses that leave nothing to do before production; the rest are open items.
SETTLED = frozenset({"pass", "not_applicable", "waived"})
#: Statuses that need someone to act: the checklist and the page make them stand out.
PROBLEMS = ("fail", "error")
_WAIVER_FIELDS = (
    ("id", "waiver"),
    ("ticket", "ticket"),
    ("control", "control"),
    ("resources", "resources"),
    ("tags", "tags"),
    ("justification", "justification"),
    ("approved_by", "approved by"),
    ("expires", "expires"),
    ("resources_affected", "failing resources it would cover"),
    ("entry", "entry"),
)


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def count_statuses(items: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How many of ``items`` have each status, every status present (zero included)."""
    counts = dict.fromkeys(STATUSES, 0)
    for item in items:
        counts[item["status"]] = counts.get(item["status"], 0) + 1
    return counts


def framework_title(key: str, catalog: Catalog | None = None) -> str:
    """A framework's full name (``ISO/IEC 27001:2022 Annex A``); its key when unknown."""
    frameworks = (catalog or builtin_catalog()).frameworks
    return frameworks[key].title if key in frameworks else key


def control_domain(control: Mapping[str, Any]) -> str:
    """The control's domain; an ID's prefix when the document leaves it out (it may)."""
    return control.get("domain") or control["id"].split("-")[0]


def domain_groups(
    document: Mapping[str, Any],
) -> list[tuple[str, str, list[Mapping[str, Any]]]]:
    """``(domain, title, controls)`` in the document's domain order, empty domains dropped.

    A control of a domain the document does not name (a hand-made or merged document)
    still gets a group, after the named ones, so that no control goes missing.
    """
    titles = dict(document.get("domains") or {})
    grouped: dict[str, list[Mapping[str, Any]]] = {domain: [] for domain in titles}
    for control in document["controls"]:
        grouped.setdefault(control_domain(control), []).append(control)
    return [
        (domain, titles.get(domain, ""), controls)
        for domain, controls in grouped.items()
        if controls
    ]


def waiver_fields(waiver: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A waiver as ``(label, text)`` pairs, known fields first, in the order people read."""
    known = {key for key, _ in _WAIVER_FIELDS}
    keys = [(key, label) for key, label in _WAIVER_FIELDS if key in waiver]
    keys += [(key, key.replace("_", " ")) for key in waiver if key not in known]
    return [
        (label, _waiver_text(key, waiver[key])) for key, label in keys if waiver[key] is not None
    ]


def _waiver_text(key: str, value: Any) -> str:
    if key == "entry":
        return f"waivers[{value}] of the waivers file"
    if isinstance(value, Mapping):
        return ", ".join(f"{key}={item}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def attention_waivers(document: Mapping[str, Any]) -> dict[str, list[Mapping[str, Any]]]:
    """The document's expired and stale waivers: risk acceptances someone must revisit."""
    waivers = document.get("waivers") or {}
    return {kind: list(waivers.get(kind) or []) for kind in ("expired", "stale")}


def applied_waivers(document: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], int]]:
    """Each distinct waiver that covered a resource, with how many resources it covered."""
    seen: dict[str, tuple[Mapping[str, Any], int]] = {}
    for control in document["controls"]:
        for resource in control["resources"]:
            waiver = resource.get("waiver")
            if waiver:
                key = repr(sorted(waiver_fields(waiver)))
                found, count = seen.get(key, (waiver, 0))
                seen[key] = (found, count + 1)
    return list(seen.values())


def target_names(document: Mapping[str, Any]) -> dict[str, str]:
    """Account ID -> the name the run gave it, to label resources of several accounts."""
    return {target["account_id"]: target["account"] for target in document["targets"]}


def target_mode(target: Mapping[str, Any]) -> str:
    """How a target was read, for a reader: its mode, where a replayed snapshot was taken,
    and the emulator (with its version) behind it."""
    text = target["mode"]
    if target.get("snapshot_mode"):
        text += f" (taken in {target['snapshot_mode']} mode)"
    emulator = target.get("emulator")
    if emulator:
        text += f", emulator {emulator['name']} {emulator.get('version') or '(version unknown)'}"
    return text
