"""The headline every human-readable rendering of a results document opens with.

An auditor reads the top of a report first, so it says, in this order: whether the
workload is ready (a verdict on the controls, never a coverage figure, which counts a FAIL
as tested); which accounts could not be read at all (an organization's member whose role was
refused), since none of their controls could be judged; which targets were an emulator or a
replay rather than a real account read now;
how each framework's requirements rolled up, every status counted apart; and only then the
coverage. The terminal, the HTML page and the Markdown checklist lay out the same
:class:`Headline`, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_prr.catalog import Catalog
from pytest_prr.report.view import count_statuses, framework_title
from pytest_prr.results.model import REQUIREMENT_OUTCOMES, readiness, requirement_counts

#: Said wherever framework results are shown (spec v1.1, "Requirement roll-up").
INFORMATIVE_MAPPING = (
    "Framework mappings are informative: they show which requirements the automated "
    "evidence supports, not a certification of the framework."
)
#: A requirement outcome (``summary.requirements``) as a reader sees it, in report order.
REQUIREMENT_LABELS: Mapping[str, str] = {
    "met": "met",
    "waived": "met only through waivers",
    "not_applicable": "no applicable control",
    "unmet": "unmet",
    "error": "cannot be evaluated",
    "not_tested": "not tested",
}
#: Modes whose target is an emulator even when the document names none (older documents).
_EMULATED_MODES = frozenset({"moto", "endpoint", "template"})


@dataclass(frozen=True)
class FrameworkLine:
    """One framework's requirements counted by outcome, every outcome listed (zeros too)."""

    key: str
    title: str
    total: int
    #: ``(status, label, count)``: the requirement status (``pass``, ``fail``...), which
    #: colours it, and the label a reader sees ("met", "unmet"...), in report order.
    counts: tuple[tuple[str, str, int], ...]

    def text(self) -> str:
        return ", ".join(f"{count} {label}" for _, label, count in self.counts)


@dataclass(frozen=True)
class Headline:
    """What a report says first, as text each rendering lays out (and escapes) its way."""

    ready: bool
    verdict: str
    #: Per target that could not be read at all: which, and why.
    unreadable: tuple[str, ...]
    #: Per target that is not a real account read by this run: what it is instead.
    provenance: tuple[str, ...]
    frameworks: tuple[FrameworkLine, ...]
    coverage: str


def headline(document: Mapping[str, Any], catalog: Catalog | None = None) -> Headline:
    """The headline of ``document``, counted from its controls and requirements by the
    functions that write its summary, so that a document from before the summary had
    them reads the same."""
    by_status = count_statuses(document["controls"])
    verdict = readiness(by_status)
    return Headline(
        ready=verdict["verdict"] == "ready",
        verdict=_verdict_text(verdict, by_status),
        unreadable=tuple(
            f"{target['account']} ({target['account_id']}) was not read: "
            f"{target['unreadable']}; every built-in control of it is ERROR"
            for target in document["targets"]
            if target.get("unreadable")
        ),
        provenance=tuple(
            line for target in document["targets"] if (line := provenance(target)) is not None
        ),
        frameworks=tuple(_framework_lines(document["frameworks"], catalog)),
        coverage=_coverage_text(document["summary"]),
    )


def _verdict_text(verdict: Mapping[str, Any], by_status: Mapping[str, int]) -> str:
    if verdict["verdict"] == "ready":
        waived = by_status.get("waived", 0)
        verb = "passes" if waived == 1 else "pass"
        only = f"; {_controls(waived)} {verb} only through waivers" if waived else ""
        return f"Ready: no control fails, cannot be evaluated or is untested{only}"
    fail = verdict["fail"]
    return (
        f"Not ready: {_controls(fail)} {'fails' if fail == 1 else 'fail'}, "
        f"{verdict['error']} cannot be evaluated, {verdict['not_tested']} not tested"
    )


def _controls(count: int) -> str:
    return f"{count} control{'' if count == 1 else 's'}"


def provenance(target: Mapping[str, Any]) -> str | None:
    """What a target is when it is not a real account read by this run: a replayed
    snapshot (when and how it was taken, whether its digest was checked) and the emulator
    behind it; None for a live account."""
    parts = []
    if target["mode"] == "snapshot":
        taken = target.get("snapshot_taken_at") or "at an unrecorded time"
        how = f" in {target['snapshot_mode']} mode" if target.get("snapshot_mode") else ""
        parts.append(f"replayed snapshot taken {taken}{how}")
    if target.get("snapshot_verified") is False:
        parts.append("snapshot not verified")
    emulator = _emulator(target)
    if emulator is not None:
        parts.append(f"{emulator} — not evidence about a real account")
    if not parts:
        return None
    return f"{target['account']} ({target['account_id']}): {', '.join(parts)}"


def _emulator(target: Mapping[str, Any]) -> str | None:
    emulator = target.get("emulator")
    if emulator:
        name = "unidentified" if emulator["name"] == "unknown" else emulator["name"]
        version = f" {emulator['version']}" if emulator.get("version") else ""
        return f"{name}{version} emulator"
    mode = target.get("snapshot_mode") if target["mode"] == "snapshot" else target["mode"]
    if mode == "moto":
        return "moto emulator"
    return "unidentified emulator" if mode in _EMULATED_MODES else None


def _framework_lines(
    frameworks: Mapping[str, Sequence[Mapping[str, Any]]], catalog: Catalog | None
) -> list[FrameworkLine]:
    status_of = {outcome: status for status, outcome in REQUIREMENT_OUTCOMES.items()}
    return [
        FrameworkLine(
            key=key,
            title=framework_title(key, catalog),
            total=len(frameworks[key]),
            counts=tuple(
                (status_of[outcome], label, counts[outcome])
                for outcome, label in REQUIREMENT_LABELS.items()
            ),
        )
        for key, counts in requirement_counts(frameworks).items()
    ]


def requirement_label(status: str) -> str:
    """A requirement's rolled-up status as a reader sees it: ``pass`` is "met"."""
    return REQUIREMENT_LABELS[REQUIREMENT_OUTCOMES[status]]


def _coverage_text(summary: Mapping[str, Any]) -> str:
    return (
        f"Coverage {summary['coverage_pct']}%: {summary['controls_tested']} of "
        f"{summary['controls_total']} controls tested (a failing control counts as tested)"
    )
