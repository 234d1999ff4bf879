"""The headline of every rendering: the readiness verdict first, then what each target is
when it is not a real account read now, the requirements of each framework by status (never
lumped), the statement that framework mappings are informative, and coverage last."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_prr.catalog import builtin_catalog
from pytest_prr.report.headline import INFORMATIVE_MAPPING, REQUIREMENT_LABELS, provenance
from pytest_prr.report.terminal import render_headline
from pytest_prr.results import Result, build_document
from report_documents import PROD, WHEN, report_document

VERDICT = "Not ready: 10 controls fail, 6 cannot be evaluated, 4 not tested"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return report_document()


def passing_document(*extra: Result) -> dict[str, Any]:
    """Every built-in control passes on one live account (``extra`` results beside)."""
    results = [Result(c.id, PROD.account_id, "pass", f"prr::{c.id}") for c in builtin_catalog()]
    return build_document(
        builtin_catalog(), [PROD], [*results, *extra], tool_version="0", generated_at=WHEN
    )


def test_the_verdict_counts_the_controls_that_keep_the_run_from_ready(document) -> None:
    by_status = document["summary"]["by_status"]
    assert (
        f"Not ready: {by_status['fail']} controls fail, {by_status['error']} cannot be "
        f"evaluated, {by_status['not_tested']} not tested"
    ) == VERDICT
    assert document["summary"]["readiness"]["verdict"] == "not_ready"


def test_terminal_headline_reads_verdict_then_targets_then_requirements_then_coverage(
    document,
) -> None:
    lines = render_headline(document)
    assert lines[0] == (VERDICT, "red")
    assert lines[1] == (
        "payments-dr (222222222222): replayed snapshot taken 2026-11-27T08:00:00Z in live mode",
        "yellow",
    )
    assert lines[2] == ("Requirements by status:", None)
    titles = [
        "ISO/IEC 27001:2022 Annex A, 40",
        "SOC 2 Trust Services Criteria (2017), 22",
        "NIST Cybersecurity Framework 2.0, 31",
    ]
    for (line, colour), key, title in zip(lines[3:6], document["frameworks"], titles, strict=True):
        counts = document["summary"]["requirements"][key]
        listed = ", ".join(f"{counts[k]} {label}" for k, label in REQUIREMENT_LABELS.items())
        assert (line, colour) == (f"  {title} requirements: {listed}", None)
    assert lines[6] == (INFORMATIVE_MAPPING, None)
    assert lines[7] == (
        "Coverage 94.0%: 63 of 67 controls tested (a failing control counts as tested)",
        None,
    )
    assert len(lines) == 8


def test_a_run_with_nothing_open_is_ready_and_says_what_only_waivers_carry() -> None:
    assert render_headline(passing_document())[0] == (
        "Ready: no control fails, cannot be evaluated or is untested",
        "green",
    )
    waived = Result("SEC-04", PROD.account_id, "waived", "prr::SEC-04", message="accepted")
    document = passing_document(waived)
    assert document["summary"]["readiness"]["verdict"] == "ready"
    assert render_headline(document)[0][0] == (
        "Ready: no control fails, cannot be evaluated or is untested; "
        "1 control passes only through waivers"
    )


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ({"mode": "live"}, None),
        (
            {"mode": "moto", "emulator": {"name": "moto", "version": "5.2.5"}},
            "moto 5.2.5 emulator — not evidence about a real account",
        ),
        ({"mode": "moto"}, "moto emulator — not evidence about a real account"),
        (
            {"mode": "endpoint", "emulator": {"name": "localstack", "version": None}},
            "localstack emulator — not evidence about a real account",
        ),
        (
            {"mode": "endpoint", "emulator": {"name": "unknown"}},
            "unidentified emulator — not evidence about a real account",
        ),
        (
            {
                "mode": "snapshot",
                "snapshot_taken_at": "2026-11-27T08:00:00Z",
                "snapshot_mode": "live",
            },
            "replayed snapshot taken 2026-11-27T08:00:00Z in live mode",
        ),
        (
            {
                "mode": "snapshot",
                "snapshot_taken_at": "2026-11-27T08:00:00Z",
                "snapshot_mode": "moto",
                "emulator": {"name": "moto", "version": "5.2.5"},
                "snapshot_verified": False,
            },
            "replayed snapshot taken 2026-11-27T08:00:00Z in moto mode, snapshot not verified, "
            "moto 5.2.5 emulator — not evidence about a real account",
        ),
        ({"mode": "snapshot"}, "replayed snapshot taken at an unrecorded time"),
    ],
)
def test_targets_that_are_not_a_real_account_read_now_say_so(
    target: dict[str, Any], expected: str | None
) -> None:
    line = provenance({"account": "acme", "account_id": "111122223333", **target})
    assert line == (None if expected is None else f"acme (111122223333): {expected}")
