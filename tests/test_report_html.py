"""The HTML report: rendered from a results document, then loaded in a real browser.

The browser is Debian's chromium driven by Playwright (``make test`` installs it); the
page is opened from a file, as an auditor opens a report they were sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from pytest_prr.catalog import builtin_catalog
from pytest_prr.report.html import code_spans, evidence_excerpt, render_html
from pytest_prr.report.markdown import render_markdown
from pytest_prr.results.model import STATUSES, Result, build_document
from report_documents import (
    EXPIRED_WAIVER,
    IMG_MESSAGE,
    PROD,
    SCRIPT_NAME,
    STALE_WAIVER,
    WAIVER,
    WHEN,
    function_arn,
    report_document,
    team_catalog,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCRIPT_ARN = function_arn(PROD, SCRIPT_NAME, "us-east-1")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return report_document()


@pytest.fixture(scope="module")
def html(document: dict[str, Any]) -> str:
    return render_html(document)


class _Tags(HTMLParser):
    """Every start tag of a page with its attributes, as a browser's parser sees them."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def named(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.tags if tag == name]


def test_markup_from_aws_is_escaped(html: str) -> None:
    tags = _Tags(html)
    assert tags.named("script") == []
    assert tags.named("img") == []
    assert "<b>x</b>" not in html and "<b>2027</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "runtime &lt;img src=x onerror=alert(2)&gt; is deprecated" in html
    assert "&lt;/pre&gt;&lt;b&gt;x&lt;/b&gt;" in html


def test_page_fetches_nothing_and_forbids_fetching(html: str) -> None:
    tags = _Tags(html)
    policy = next(
        attrs["content"]
        for attrs in tags.named("meta")
        if attrs.get("http-equiv") == "Content-Security-Policy"
    )
    assert policy is not None and policy.startswith("default-src 'none';")
    assert [attrs for attrs in tags.named("link") if attrs.get("rel") != "icon"] == []
    links = [attrs.get("href") or "" for attrs in tags.named("a") + tags.named("link")]
    assert links and all(href.startswith(("#", "data:")) for href in links)
    assert not any(attrs.get("src") for _, attrs in tags.tags)


def test_every_control_has_a_drill_down(document: dict[str, Any], html: str) -> None:
    ids = {attrs["id"] for attrs in _Tags(html).named("details")}
    assert ids == {f"control-{control['id']}" for control in document["controls"]}
    rationale = builtin_catalog()["SEC-04"].rationale
    assert str(code_spans(rationale)) in html


def test_team_control_renders_without_rationale_unless_its_catalog_is_given(
    document: dict[str, Any],
) -> None:
    without = render_html(document)
    assert "ORD-02 Orders table has point-in-time recovery" in without
    assert f"Not in catalog {builtin_catalog().version}" in without
    with_team = render_html(document, catalog=team_catalog())
    assert "Orders are the system of record for payment and fulfilment." in with_team
    assert "Not in catalog" not in with_team


def test_waivers_and_accounts_are_shown(html: str) -> None:
    for waiver in (WAIVER, EXPIRED_WAIVER, STALE_WAIVER):
        assert waiver["justification"].replace("<", "&lt;").replace(">", "&gt;") in html
    assert "waivers[1] of the waivers file" in html
    assert "data-class=public" in html
    assert 'id="waivers-expired"' in html and 'id="waivers-stale"' in html
    assert "covers 2 resource results" in html
    assert "was fail" in html
    for name in ("payments-prod", "payments-dr"):
        assert f'<td data-label="Account">{name}<br><code>' in html
    assert "snapshot (taken in live mode)" in html
    assert "ab" * 32 in html and "cd" * 32 in html


def test_single_account_report_has_no_account_column(document: dict[str, Any]) -> None:
    single = json.loads(json.dumps(document))
    single["targets"] = single["targets"][:1]
    assert "<th>Account</th><th>Region</th>" not in render_html(single)
    assert "<th>Account</th><th>Region</th>" in render_html(document)


def test_emulator_gaps_are_shown(document: dict[str, Any]) -> None:
    gapped = json.loads(json.dumps(document))
    gapped["controls"][0]["emulator_gaps"] = {"localstack": ["drops <KMSKeyArn>"]}
    html = render_html(gapped)
    assert '<dt class="gap">localstack gap</dt><dd class="gap">drops &lt;KMSKeyArn&gt;</dd>' in html


def test_evidence_excerpt_says_where_the_rest_is() -> None:
    assert evidence_excerpt(None) == ""
    assert evidence_excerpt({"a": 1}) == '{\n "a": 1\n}'
    long = evidence_excerpt({"policy": "x" * 1000}, limit=100)
    assert long.startswith('{\n "policy": "xxx')
    assert long.endswith(" more characters in the JSON document)")
    assert len(long.splitlines()[-2]) <= 100


def test_code_spans_escape_before_marking_code() -> None:
    rendered = code_spans("set `<KmsKeyArn>` & <b>redeploy</b>")
    assert rendered == "set <code>&lt;KmsKeyArn&gt;</code> &amp; &lt;b&gt;redeploy&lt;/b&gt;"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def report_file(html: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "prr-report.html"
    path.write_text(html, encoding="utf-8")
    return path


class _Watched:
    """A page with everything it logged, raised, fetched or popped up recorded."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


def _open(browser: Browser, report_file: Path, *, javascript: bool = True) -> _Watched:
    context = browser.new_context(java_script_enabled=javascript)
    context.set_default_timeout(15_000)
    watched = _Watched(context.new_page())
    watched.page.goto(report_file.as_uri())
    watched.page.wait_for_load_state("load")
    return watched


def test_page_loads_without_console_errors_or_fetches(browser: Browser, report_file: Path) -> None:
    watched = _open(browser, report_file)
    assert watched.page.title().startswith("Production readiness: payments-prod, payments-dr")
    assert watched.console == []
    assert watched.requests == [report_file.as_uri()]
    watched.page.context.close()


def test_matrix_counts_equal_the_summary(
    browser: Browser, report_file: Path, document: dict[str, Any]
) -> None:
    page = _open(browser, report_file).page
    by_status = document["summary"]["by_status"]
    for status in STATUSES:
        total = page.locator(f'#matrix tr.total td[data-status="{status}"]').inner_text()
        chips = page.locator(f'#matrix a.chip[data-status="{status}"]').count()
        card = page.locator(f"#summary-{status}").get_attribute("data-count")
        assert (int(total), chips, int(card or -1)) == (by_status[status],) * 3, status
    rows = page.locator("#matrix tbody tr[data-domain]")
    assert rows.count() == len(document["domains"])
    assert page.locator("#matrix tr.total td.num").last.inner_text() == "94.0%"
    page.context.close()


def test_status_filter_hides_and_shows_rows_without_javascript(
    browser: Browser, report_file: Path
) -> None:
    page = _open(browser, report_file, javascript=False).page
    locators = {
        "passing": page.locator('details.control[data-status="pass"]'),
        "failing": page.locator('details.control[data-status="fail"]'),
        "rows": page.locator('details.control[data-status="fail"] tr[data-status="pass"]'),
    }
    shown = {name: locator.count() for name, locator in locators.items()}
    assert min(shown.values()) > 0

    def visible() -> dict[str, int]:
        return {name: locator.filter(visible=True).count() for name, locator in locators.items()}

    assert visible() == shown
    page.locator("#show-pass").uncheck()
    assert visible() == {**shown, "passing": 0, "rows": 0}
    page.locator("#show-pass").check()
    assert visible() == shown
    page.context.close()


def test_injected_markup_is_inert(browser: Browser, report_file: Path) -> None:
    watched = _open(browser, report_file)
    page = watched.page
    page.locator("#control-IAM-04 > summary").scroll_into_view_if_needed()
    row = page.locator("#control-IAM-04 tr", has_text=SCRIPT_ARN)
    assert row.locator("td.wrap code").first.inner_text() == SCRIPT_ARN
    assert IMG_MESSAGE in row.inner_text()
    assert page.locator("script").count() == 0
    assert page.locator("img").count() == 0
    page.wait_for_timeout(200)
    assert watched.dialogs == []
    assert watched.console == []
    page.context.close()


def test_the_emulator_of_a_target_is_named(document: dict[str, Any]) -> None:
    emulated = json.loads(json.dumps(document))
    emulated["targets"][0] |= {
        "mode": "endpoint",
        "emulator": {"name": "localstack", "version": "2026.3.0"},
    }
    assert "<td>endpoint, emulator localstack 2026.3.0</td>" in render_html(emulated)
    assert "endpoint, emulator localstack 2026.3.0" in render_markdown(emulated)


@pytest.fixture(scope="module")
def covered_but_failing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The page of a run that tested every control (coverage 100%) and failed 17 and could
    not evaluate 2: what once read as a full green bar."""
    catalog = builtin_catalog()
    status_of = {control.id: "pass" for control in catalog}
    status_of.update({control.id: "fail" for control in list(catalog)[:17]})
    status_of.update({"GOV-01": "error", "GOV-02": "error"})
    results = [
        Result(control_id, PROD.account_id, status, f"prr::{control_id}")
        for control_id, status in status_of.items()
    ]
    document = build_document(catalog, [PROD], results, tool_version="0", generated_at=WHEN)
    assert document["summary"]["coverage_pct"] == 100.0
    path = tmp_path_factory.mktemp("failing") / "prr-report.html"
    path.write_text(render_html(document), encoding="utf-8")
    return path


def test_a_failing_run_reads_not_ready_first_and_shows_no_full_success_bar(
    browser: Browser, covered_but_failing: Path
) -> None:
    page = _open(browser, covered_but_failing).page
    first = page.locator("#summary > :not(h2)").first
    assert first.get_attribute("id") == "verdict"
    assert first.inner_text() == "Not ready: 17 controls fail, 2 cannot be evaluated, 0 not tested"
    assert first.evaluate("e => getComputedStyle(e).color") == "rgb(207, 34, 46)"  # --fail

    def top(selector: str) -> float:
        box = page.locator(selector).bounding_box()
        assert box is not None, selector
        return box["y"]

    assert top("#verdict") < top("#requirements") < top("#coverage")
    full_bars = page.evaluate(
        """() => [...document.querySelectorAll('meter, progress, [role="progressbar"]')]
            .filter(bar => Number(bar.value ?? bar.getAttribute('aria-valuenow'))
                           >= Number(bar.max ?? bar.getAttribute('aria-valuemax')))
            .map(bar => bar.outerHTML)"""
    )
    assert full_bars == []
    wide_green = page.evaluate(
        """() => {
            const green = ['rgb(26, 127, 55)', 'rgb(218, 251, 225)'];  // --pass, --pass-bg
            const width = document.querySelector('#summary').getBoundingClientRect().width;
            return [...document.querySelectorAll('body *')]
                .filter(e => green.includes(getComputedStyle(e).backgroundColor))
                .filter(e => e.getBoundingClientRect().width > width / 3)
                .map(e => e.outerHTML.slice(0, 120));
        }"""
    )
    assert wide_green == []
    page.context.close()


#: What an evidence check needs to see: each collapsed control's facts and evidence boxes.
_COLLAPSED_CONTENT = (
    "[...document.querySelectorAll("
    "'details.control:not([open]) dl.facts, details.control:not([open]) pre')]"
)


def test_printing_shows_every_controls_evidence_in_full(
    browser: Browser, report_file: Path
) -> None:
    """Printing (or saving as PDF) once dropped the evidence of every collapsed control, and
    cut long evidence at its box's height; a status unticked on screen is printed too."""
    page = _open(browser, report_file, javascript=False).page
    collapsed = page.evaluate(f"{_COLLAPSED_CONTENT}.map(e => e.checkVisibility())")
    assert collapsed and not any(collapsed)  # on screen, collapsed controls stay collapsed
    page.locator("#show-pass").uncheck()
    page.emulate_media(media="print")
    assert all(page.evaluate(f"{_COLLAPSED_CONTENT}.map(e => e.checkVisibility())"))
    clipped = page.evaluate(
        "[...document.querySelectorAll('pre')].filter(e => e.scrollHeight > e.clientHeight + 1)"
        ".length"
    )
    assert clipped == 0
    passing = page.locator('details.control[data-status="pass"]')
    assert passing.count() > 0 and passing.filter(visible=True).count() == passing.count()
    assert page.locator("#filters").is_hidden()
    assert page.pdf()[:5] == b"%PDF-"
    page.context.close()


def test_a_420_pixel_screen_never_scrolls_sideways(browser: Browser, report_file: Path) -> None:
    context = browser.new_context(viewport={"width": 420, "height": 900}, java_script_enabled=False)
    page = context.new_page()
    page.goto(report_file.as_uri())
    page.locator("details.control").evaluate_all("all => all.forEach(d => d.open = true)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 420
    # A resource is a block of labelled fields there, not a row wider than the screen.
    cell = page.locator("table.resources td[data-label='Message']").first
    assert cell.evaluate("e => getComputedStyle(e).display") == "block"
    assert cell.evaluate("e => getComputedStyle(e, '::before').content") == '"Message"'
    context.close()


def test_the_runbooks_of_failing_controls_are_in_the_report(html: str) -> None:
    """No output points a reader at a repository path: the runbooks a failing or erroring
    control's remediation names travel inside the report."""
    from pytest_prr import runbooks

    page = _Tags(html)
    articles = {attrs["id"] for attrs in page.named("article")}
    assert "runbook-dlq-growth" in articles  # REL-01 and REL-05 fail in the document
    assert '<a href="#runbook-dlq-growth">dlq-growth</a>' in html
    assert "docs/runbooks" not in html
    first_line = runbooks.text("dlq-growth").splitlines()[0]
    assert first_line in html
