"""The CSV table, the Markdown checklist, and ``prr report`` that writes them after a run."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from pytest_prr.commands.cli import main
from pytest_prr.report.csv_table import FORMULA_TRIGGERS, render_csv, safe_cell
from pytest_prr.report.html import render_html
from pytest_prr.report.markdown import GITHUB_COMMENT_LIMIT, code, escape_text, render_markdown
from report_documents import (
    FORMULA_MESSAGE,
    MARKDOWN_MESSAGE,
    PROD,
    SCRIPT_NAME,
    TEAM_CATALOG,
    WAIVER,
    function_arn,
    large_document,
    report_document,
)

SETTLED = ("pass", "not_applicable", "waived")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return report_document()


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_has_a_row_per_control_and_resource(document: dict[str, Any]) -> None:
    rows = _rows(render_csv(document))
    expected = [
        (control["id"], resource["id"])
        for control in document["controls"]
        for resource in control["resources"] or [{"id": ""}]
    ]
    assert [(row["control_id"], row["resource_id"]) for row in rows] == expected
    untested = next(row for row in rows if row["control_id"] == "API-01")
    assert (untested["control_status"], untested["resource_status"]) == ("not_tested", "")


def test_csv_rows_carry_frameworks_account_and_snapshot(document: dict[str, Any]) -> None:
    text = render_csv(document)
    assert text.splitlines()[0].endswith(",iso27001_2022,soc2_2017,nist_csf_2")
    control = next(c for c in document["controls"] if c["id"] == "SEC-03")
    for row in _rows(text):
        if row["control_id"] == "SEC-03":
            assert row["iso27001_2022"] == "; ".join(control["frameworks"]["iso27001_2022"])
            assert row["nist_csf_2"] == "; ".join(control["frameworks"]["nist_csf_2"])
        if row["account_id"] == "222222222222":
            assert (row["account"], row["snapshot_sha256"]) == ("payments-dr", "cd" * 32)
    evidence = next(row["evidence"] for row in _rows(text) if row["resource_id"])
    assert json.loads(evidence)["Runtime"] == "python3.12"


def test_csv_shows_the_waiver_and_the_status_it_replaced(document: dict[str, Any]) -> None:
    waived = [row for row in _rows(render_csv(document)) if row["resource_status"] == "waived"]
    assert len(waived) == 2
    for row in waived:
        assert row["original_status"] == "fail"
        assert row["waiver_resources"] == WAIVER["resources"]
        assert row["waiver_justification"] == WAIVER["justification"]
        assert row["waiver_approved_by"] == "'@ciso-office"
        assert row["waiver_expires"] == "2027-03-31"


def test_csv_cells_never_start_a_formula(document: dict[str, Any]) -> None:
    rows = _rows(render_csv(document))
    assert not [
        value for row in rows for value in row.values() if value.startswith(FORMULA_TRIGGERS)
    ]
    messages = {row["message"] for row in rows}
    assert "'" + FORMULA_MESSAGE in messages
    assert MARKDOWN_MESSAGE in messages


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("a=b", "a=b"),
        (None, ""),
        (3, "3"),
    ],
)
def test_safe_cell(value: Any, cell: str) -> None:
    assert safe_cell(value) == cell


def _html_tags(markdown: str) -> set[str]:
    """The HTML elements GitHub's cmark-gfm makes of ``markdown``, raw HTML let through."""
    tags: set[str] = set()

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: Any) -> None:
            tags.add(tag)

    html = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    Collector().feed(html)
    return tags


def test_checklist_has_a_box_and_status_per_control(document: dict[str, Any]) -> None:
    lines = render_markdown(document).splitlines()
    for control in document["controls"]:
        box = "☑" if control["status"] in SETTLED else "☐"
        line = next(line for line in lines if line.startswith(f"- {box} **{control['id']}** "))
        assert control["status"].replace("_", " ") in line.lower()
    boxes = [line[2] for line in lines if line.startswith(("- ☑ ", "- ☐ "))]
    by_status = document["summary"]["by_status"]
    assert boxes.count("☐") == by_status["fail"] + by_status["error"] + by_status["not_tested"]
    assert boxes.count("☑") == sum(by_status[status] for status in SETTLED)


def test_checklist_lists_failures_waivers_and_attention(document: dict[str, Any]) -> None:
    text = render_markdown(document)
    script_arn = function_arn(PROD, SCRIPT_NAME, "us-east-1")
    assert f"fail: `{script_arn}`" in text
    legacy_arn = function_arn(PROD, "legacy-export", "us-east-1")
    assert f"waived (was fail): `{legacy_arn}`" in text
    assert "approved by @&#8203;ciso-office; expires 2027-03-31" in text
    assert "⚠ **expired waiver**: control NET-01" in text
    assert "⚠ **stale waiver**: control DAT-05; tags data-class=public" in text
    assert "| payments-dr | 222222222222 | eu-west-1 | snapshot (taken in live mode) |" in text
    assert "at most" not in text


def test_markdown_from_aws_renders_as_text_on_github(document: dict[str, Any]) -> None:
    text = render_markdown(document)
    tags = _html_tags(text)
    assert tags <= {"h2", "h3", "p", "strong", "em", "ul", "li", "code", "sub"} | {
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }
    rendered = cmarkgfm.github_flavored_markdown_to_html(text)
    assert "[click](https://evil.example) ![x](https://evil.example/x.png)" in rendered
    assert "&lt;/details&gt; www.evil.example *loud* # not a heading" in rendered
    assert "@security-team" not in rendered and "#12" not in rendered
    assert "@\u200bsecurity-team about #\u200b12" in rendered


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "[x](javascript:alert(1)) ![y](http://e/y.png) <http://e>",
        "**bold** _em_ ~~del~~ `code` $x^2$ | a | b |",
        "line one\n\n# heading\n- item\n</details><details open>",
        "https://example.com www.example.com mail@example.com",
        "&lt;script&gt; &amp;",
    ],
)
def test_escaped_text_renders_as_itself(text: str) -> None:
    html = cmarkgfm.github_flavored_markdown_to_html(escape_text(text))
    assert re.findall(r"<(\w+)", html) == ["p"]
    shown = re.sub(r"</?p>", "", html).strip()
    expected = " ".join(text.split())
    expected = expected.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert shown.replace("\u200b", "") == expected.replace('"', "&quot;")


def test_code_span_survives_backticks() -> None:
    assert code("a``b") == "```a``b```"
    html = cmarkgfm.github_flavored_markdown_to_html(code("`<b>`"))
    assert html.strip() == "<p><code>`&lt;b&gt;`</code></p>"


def test_large_document_is_summarised_under_the_comment_limit() -> None:
    document = large_document(150)
    text = render_markdown(document)
    assert len(text) <= GITHUB_COMMENT_LIMIT
    match = re.search(r"at most (\d+) resource\(s\) per control are listed", text)
    assert match is not None
    listed = int(match[1])
    for control in document["controls"]:
        failing = sum(1 for r in control["resources"] if r["status"] == "fail")
        assert f"**{control['id']}**" in text
        if failing > listed:
            assert f"… and {failing - listed} more ({failing - listed} fail)" in text


def test_checklist_is_cut_when_even_the_summary_is_too_long(document: dict[str, Any]) -> None:
    text = render_markdown(document, max_chars=3000)
    assert len(text) <= 3000
    assert text.endswith("the CSV or HTML report has it all._\n")


def _write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_prr_report_writes_every_format(
    document: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _write(tmp_path / "prr.json", document)
    out = tmp_path / "out"
    args = ["--html", out / "r.html", "--csv", out / "r.csv", "--md", out / "r.md"]
    assert main(["report", str(source), *map(str, args)]) == 0
    assert (out / "r.html").read_text(encoding="utf-8") == render_html(document)
    assert (out / "r.csv").read_bytes().decode() == render_csv(document)
    assert (out / "r.md").read_text(encoding="utf-8") == render_markdown(document)
    assert capsys.readouterr().out.splitlines() == [
        f"prr report: html written to {out / 'r.html'}",
        f"prr report: csv written to {out / 'r.csv'}",
        f"prr report: markdown written to {out / 'r.md'}",
    ]
    assert sorted(path.name for path in out.iterdir()) == ["r.csv", "r.html", "r.md"]


def test_prr_report_uses_a_team_catalog(document: dict[str, Any], tmp_path: Path) -> None:
    source = _write(tmp_path / "prr.json", document)
    html = tmp_path / "r.html"
    assert main(["report", str(source), "--html", str(html), "--catalog", str(TEAM_CATALOG)]) == 0
    assert "Orders are the system of record" in html.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (None, "cannot read {path}: No such file or directory"),
        ("{not json", "{path} is not JSON: Expecting property name"),
        ({"schema": "prr-results/1"}, "{path}: results document invalid at top level: "),
        (["a list"], '{path}: results document invalid at top level: ["a list"] is not of'),
    ],
)
def test_prr_report_refuses_a_bad_document(
    content: Any, error: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "prr.json"
    if isinstance(content, str):
        path.write_text(content)
    elif content is not None:
        _write(path, content)
    assert main(["report", str(path), "--md", str(tmp_path / "r.md")]) == 2
    assert capsys.readouterr().err.startswith("prr report: " + error.format(path=path))
    assert not (tmp_path / "r.md").exists()


def test_prr_report_needs_an_output(
    document: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(_write(tmp_path / "prr.json", document))]) == 2
    assert "give at least one output: --html, --csv, --markdown" in capsys.readouterr().err


def test_prr_report_says_when_it_cannot_write(
    document: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _write(tmp_path / "prr.json", document)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["report", str(source), "--csv", str(blocker / "r.csv")]) == 2
    assert f"prr report: cannot write {blocker / 'r.csv'}: " in capsys.readouterr().err
