"""The runbooks the catalog's remediation links to exist and have what on-call needs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_prr.catalog import builtin_catalog

ROOT = Path(__file__).resolve().parents[1]
RUNBOOKS = ROOT / "docs" / "runbooks"
LINK = re.compile(r"docs/runbooks/[\w.-]+\.md")
#: The failure modes and procedures the runbook set must cover, by the control that links it.
REQUIRED_LINKS = {
    "OBS-03": "error-spike.md",
    "OBS-04": "throttling.md",
    "REL-02": "throttling.md",
    "REL-08": "timeout-cold-start.md",
    "REL-01": "dlq-growth.md",
    "REL-05": "dlq-growth.md",
    "DEP-01": "failed-deployment-rollback.md",
    "DEP-02": "failed-deployment-rollback.md",
    "DAT-01": "secret-rotation-failure.md",
    "SEC-01": "runtime-upgrade.md",
    "DEP-06": "README.md",
}
PAGES = sorted(path for path in RUNBOOKS.glob("*.md") if path.name != "README.md")


def _links() -> dict[str, set[str]]:
    return {
        control.id: set(LINK.findall(control.remediation))
        for control in builtin_catalog()
        if LINK.search(control.remediation)
    }


def test_every_runbook_link_in_the_catalog_resolves() -> None:
    links = _links()
    broken = {
        cid: sorted(p for p in paths if not (ROOT / p).is_file()) for cid, paths in links.items()
    }
    assert not {cid: paths for cid, paths in broken.items() if paths}


def test_the_failure_modes_are_linked_from_their_controls() -> None:
    links = _links()
    missing = {
        cid: name for cid, name in REQUIRED_LINKS.items()
        if f"docs/runbooks/{name}" not in links.get(cid, set())
    }  # fmt: skip
    assert not missing


def test_every_runbook_is_reachable_from_the_index_and_the_catalog() -> None:
    index = (RUNBOOKS / "README.md").read_text()
    linked = set().union(*_links().values())
    assert len(PAGES) >= 8
    for page in PAGES:
        assert f"]({page.name})" in index, page.name
    assert {f"docs/runbooks/{page.name}" for page in PAGES} <= linked


@pytest.mark.parametrize("page", PAGES, ids=lambda path: path.stem)
def test_runbook_has_a_decision_tree_commands_and_an_escalation_path(page: Path) -> None:
    text = page.read_text()
    trees = re.findall(r"```mermaid\n(.*?)```", text, flags=re.DOTALL)
    assert trees and trees[0].lstrip().startswith("flowchart"), "no Mermaid flowchart"
    assert "-->" in trees[0] and "{" in trees[0], "the flowchart has no decision"
    escalation = text.partition("\n## Escalation\n")[2]
    assert re.search(r"^1\. .+^2\. ", escalation, flags=re.MULTILINE | re.DOTALL), "no escalation"
    assert re.search(r"^\s*\$ aws [a-z0-9-]+ [a-z-]+", text, flags=re.MULTILINE), "no CLI command"
