"""The headline of every rendering: the readiness verdict first, then what each target is
when it is not a real account read now, the requirements of each framework by status (never
lumped), the statement that framework mappings are informative, and coverage last."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pytest_prr.catalog import builtin_catalog
from pytest_prr.report.headline import INFORMATIVE_MAPPING, REQUIREMENT_LABELS, provenance
from pytest_prr.report.html import render_html
from pytest_prr.report.markdown import render_markdown
from pytest_prr.report.terminal import render_headline
from pytest_prr.results.model import Result, build_document
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


def test_markdown_opens_with_the_verdict_and_counts_requirements_apart(document) -> None:
    emulated = json.loads(json.dumps(document))
    emulated["targets"][1] = {
        "account": "moto",
        "account_id": "123456789012",
        "regions": ["us-east-1"],
        "mode": "moto",
        "emulator": {"name": "moto", "version": "5.2.5"},
    }
    lines = render_markdown(emulated).splitlines()
    assert lines[:5] == [
        "## Production readiness checklist",
        "",
        f"**{VERDICT}**",
        "",
        "- ⚠ **moto (123456789012): moto 5.2.5 emulator — not evidence about a real account**",
    ]
    header = "| Framework | Requirements | " + " | ".join(REQUIREMENT_LABELS.values()) + " |"
    table = lines.index(header)
    iso = emulated["summary"]["requirements"]["iso27001_2022"]
    assert lines[table + 2] == (
        "| ISO/IEC 27001:2022 Annex A | 40 | "
        + " | ".join(str(iso[key]) for key in REQUIREMENT_LABELS)
        + " |"
    )
    assert f"_{INFORMATIVE_MAPPING}_" in lines
    coverage = next(i for i, line in enumerate(lines) if line.startswith("Coverage "))
    assert table < coverage < lines.index(next(line for line in lines if "| Account |" in line))
    prod = next(line for line in lines if line.startswith("| payments-prod |"))
    assert "| live | `arn:aws:sts::111111111111:assumed-role/prr-readonly/pytest-prr` |" in prod


def test_markdown_no_longer_counts_waived_or_not_applicable_requirements_as_met(
    document,
) -> None:
    text = render_markdown(document)
    assert "requirements met" not in text
    iso = document["summary"]["requirements"]["iso27001_2022"]
    assert iso["not_applicable"] > 0
    assert f"| 40 | {iso['met']} | {iso['waived']} | {iso['not_applicable']} |" in text


def test_html_headline_comes_before_coverage_and_names_requirement_statuses(document) -> None:
    html = render_html(document)
    summary = html[html.index('<section id="summary">') : html.index('<section id="targets">')]
    verdict = summary.index(f'data-verdict="not_ready">{VERDICT}</p>')
    provenance_at = summary.index(
        "<li>payments-dr (222222222222): replayed snapshot taken 2026-11-27T08:00:00Z in live "
        "mode</li>"
    )
    requirements = summary.index('<table class="requirements" id="requirements">')
    informative = summary.index(INFORMATIVE_MAPPING)
    coverage = summary.index("Coverage 94.0%: 63 of 67 controls tested")
    assert verdict < provenance_at < requirements < informative < coverage
    assert "<meter" not in html and "<progress" not in html
    for label in REQUIREMENT_LABELS.values():
        assert f'<th class="num">{label}</th>' in summary
    frameworks = html[
        html.index('<section id="frameworks">') : html.index('<section id="waivers">')
    ]
    assert INFORMATIVE_MAPPING in frameworks
    assert '<span class="badge st-fail">unmet</span>' in frameworks
    assert '<span class="badge st-pass">met</span>' in frameworks
    assert '<span class="badge st-not_applicable">no applicable control</span>' in frameworks
    assert ">pass</span></td>\n<td>" not in frameworks


def test_html_targets_show_the_caller_and_an_unverified_snapshot(document) -> None:
    unverified = json.loads(json.dumps(document))
    unverified["targets"][1]["snapshot_verified"] = False
    html = render_html(unverified)
    assert (
        '<td class="wrap"><code>arn:aws:sts::111111111111:assumed-role/prr-readonly/pytest-prr'
        "</code></td>" in html
    )
    assert '<strong class="gap">not verified</strong>' in html
    assert (
        "replayed snapshot taken 2026-11-27T08:00:00Z in live mode, snapshot not verified" in html
    )
    assert "(not verified)" in render_markdown(unverified)


def test_a_target_from_aws_cannot_inject_markup_into_the_headline(document) -> None:
    hostile = json.loads(json.dumps(document))
    hostile["targets"][1]["account"] = "<script>alert(1)</script>"
    html = render_html(hostile)
    assert "<li>&lt;script&gt;alert(1)&lt;/script&gt; (222222222222): replayed" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; (222222222222)" in render_markdown(hostile)


def test_an_account_that_could_not_be_read_comes_right_after_the_verdict(document) -> None:
    """An organization's member whose role was refused: nothing of it was judged, so every
    rendering names it before anything else about the targets."""
    refused = json.loads(json.dumps(document))
    cause = "AccessDenied on sts:AssumeRole of arn:aws:iam::111111111111:role/reader <b>"
    refused["targets"][0]["unreadable"] = cause
    line = (
        f"payments-prod (111111111111) was not read: {cause}; every built-in control of it is ERROR"
    )
    lines = render_headline(refused)
    assert lines[:3] == [
        (VERDICT, "red"),
        (line, "red"),
        (
            "payments-dr (222222222222): replayed snapshot taken 2026-11-27T08:00:00Z in live mode",
            "yellow",
        ),
    ]
    assert render_headline(document)[1][1] == "yellow"
    html = render_html(refused)
    unreadable = html.index('<ul class="unreadable" id="unreadable">')
    assert html.index('id="verdict"') < unreadable < html.index('id="provenance"')
    assert "reader &lt;b&gt;; every built-in control of it is ERROR</li>" in html
    markdown = render_markdown(refused)
    assert markdown.index("- ✖ **payments-prod (111111111111) was not read:") < markdown.index(
        "- ⚠ **payments-dr"
    )
