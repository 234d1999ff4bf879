"""The headline and the control-coverage matrix as plain text lines for the terminal
summary."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from pytest_prr.report.headline import INFORMATIVE_MAPPING, headline

_COLUMNS = (
    "controls",
    "tested",
    "pass",
    "fail",
    "error",
    "waived",
    "n/a",
    "not tested",
    "coverage",
)
_PROBLEMS = ("fail", "error")


def render_headline(document: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """The lines a reader sees before the matrix, each with the colour it is written in
    (None: plain): the verdict, each account that could not be read, what each target is
    when not a real account read now, the requirements of each framework by outcome, then
    coverage."""
    head = headline(document)
    lines: list[tuple[str, str | None]] = [(head.verdict, "green" if head.ready else "red")]
    lines += [(line, "red") for line in head.unreadable]
    lines += [(line, "yellow") for line in head.provenance]
    if head.frameworks:
        lines.append(("Requirements by status:", None))
        lines += [
            (f"  {framework.title}, {framework.total} requirements: {framework.text()}", None)
            for framework in head.frameworks
        ]
        lines.append((INFORMATIVE_MAPPING, None))
    lines.append((head.coverage, None))
    return lines


def render_matrix(
    document: Mapping[str, Any],
    *,
    verbose: bool = False,
    shown: Collection[tuple[str | None, str, str]] = frozenset(),
) -> list[str]:
    """One row per domain, a total, then each failing or erroring control.

    ``verbose`` also lists every untested control, which is what a team reads when it
    sets out to raise its coverage. ``shown`` are the problems pytest has printed already
    (``(account ID, test, resource)``: a failing test's report lists them), which are
    counted rather than repeated, so that each is read once.
    """
    rows = []
    for domain, title in document["domains"].items():
        controls = [c for c in document["controls"] if c["domain"] == domain]
        if controls:
            rows.append((domain, title, _counts(controls)))
    rows.append(("total", "", _counts(document["controls"])))
    width = max(len(f"{domain}  {title}") for domain, title, _ in rows)
    widths = [max(len(column), 5) for column in _COLUMNS]
    lines = ["domain".ljust(width) + _cells(_COLUMNS, widths)]
    for domain, title, counts in rows:
        label = f"{domain}  {title}" if title else domain
        lines.append(label.ljust(width) + _cells(counts, widths))
    for control in document["controls"]:
        if control["status"] in _PROBLEMS or (verbose and control["status"] == "not_tested"):
            problems = [r for r in control["resources"] if r["status"] in _PROBLEMS]
            seen = [r for r in problems if _problem_key(r) in shown]
            above = ""
            if seen:
                tests = sorted({r.get("test", "") for r in seen})
                above = f": {len(seen)} resource(s) reported above by {', '.join(tests)}"
            lines.append(_control_line(control) + above)
            lines.extend(
                f"      {emulator} gap: {gap}"
                for emulator, gaps in control.get("emulator_gaps", {}).items()
                for gap in gaps
            )
            lines.extend(
                f"      {_resource_line(r)}" for r in problems if _problem_key(r) not in shown
            )
    return lines


def _problem_key(resource: Mapping[str, Any]) -> tuple[str | None, str, str]:
    """How a problem is known whether printed by pytest or listed here."""
    return resource.get("account_id"), resource.get("test", ""), resource["id"]


def problem_keys(results: Iterable[Mapping[str, Any]]) -> set[tuple[str | None, str, str]]:
    """The keys of the failing and erroring results a test report carries (as dicts)."""
    return {
        (result.get("account_id"), result.get("test", ""), result["resource_id"])
        for result in results
        if result["status"] in _PROBLEMS
    }


def _cells(values: tuple[str, ...], widths: list[int]) -> str:
    return "".join(f"  {value:>{width}}" for value, width in zip(values, widths, strict=True))


def _counts(controls: list[Mapping[str, Any]]) -> tuple[str, ...]:
    def count(status: str) -> int:
        return sum(1 for control in controls if control["status"] == status)

    tested = len(controls) - count("not_tested")
    coverage = f"{100 * tested / len(controls):.1f}%" if controls else "-"
    values = (
        len(controls),
        tested,
        count("pass"),
        count("fail"),
        count("error"),
        count("waived"),
        count("not_applicable"),
        count("not_tested"),
    )
    return (*(str(value) for value in values), coverage)


def _control_line(control: Mapping[str, Any]) -> str:
    status = control["status"].upper().replace("_", " ")
    return f"{status:<10} {control['id']:<8} {control['title']} ({control['severity']})"


def _resource_line(resource: Mapping[str, Any]) -> str:
    message = (resource.get("message") or "").splitlines()
    first = message[0] if message else ""
    return f"{resource['status']}: {resource['id']} [{resource.get('test', '')}] {first}".rstrip()
