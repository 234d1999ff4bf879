"""The runbooks the catalog's remediation names ship with the package, print with
``prr runbook``, and have what on-call needs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_prr import runbooks
from pytest_prr.catalog import builtin_catalog
from pytest_prr.commands.cli import main

RUNBOOKS = Path(runbooks.__file__).parent
#: The failure modes and procedures the runbook set must cover, by the control that links it.
REQUIRED_LINKS = {
    "OBS-03": "error-spike",
    "OBS-04": "throttling",
    "REL-02": "throttling",
    "REL-08": "timeout-cold-start",
    "REL-01": "dlq-growth",
    "REL-05": "dlq-growth",
    "DEP-01": "failed-deployment-rollback",
    "DEP-02": "failed-deployment-rollback",
    "DAT-01": "secret-rotation-failure",
    "SEC-01": "runtime-upgrade",
    "DEP-06": "README",
}
PAGES = sorted(path for path in RUNBOOKS.glob("*.md") if path.name != "README.md")


def _links() -> dict[str, set[str]]:
    return {
        control.id: set(runbooks.referenced(control.remediation))
        for control in builtin_catalog()
        if runbooks.referenced(control.remediation)
    }


def test_every_runbook_the_catalog_names_ships_with_the_package() -> None:
    links = _links()
    assert sum(map(len, links.values())) >= 11
    broken = {cid: sorted(set(names) - set(runbooks.names())) for cid, names in links.items()}
    assert not {cid: names for cid, names in broken.items() if names}


def test_no_remediation_points_at_a_repository_path() -> None:
    """A pip user or an auditor has no docs/ folder (issue 15)."""
    assert not [c.id for c in builtin_catalog() if "docs/" in c.remediation]


def test_prr_runbook_prints_one_and_lists_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runbook", "dlq-growth"]) == 0
    assert capsys.readouterr().out == runbooks.text("dlq-growth")
    assert main(["runbook"]) == 0
    assert capsys.readouterr().out.split() == runbooks.names()
    assert main(["runbook", "dlq"]) == 2
    assert "no runbook 'dlq'" in capsys.readouterr().err


def test_the_failure_modes_are_linked_from_their_controls() -> None:
    links = _links()
    missing = {
        cid: name for cid, name in REQUIRED_LINKS.items()
        if name not in links.get(cid, set())
    }  # fmt: skip
    assert not missing


def test_every_runbook_is_reachable_from_the_index_and_the_catalog() -> None:
    index = (RUNBOOKS / "README.md").read_text()
    linked = set().union(*_links().values())
    assert len(PAGES) >= 8
    for page in PAGES:
        assert f"]({page.name})" in index, page.name
    assert {page.stem for page in PAGES} <= linked


@pytest.mark.parametrize("page", PAGES, ids=lambda path: path.stem)
def test_runbook_has_a_decision_tree_commands_and_an_escalation_path(page: Path) -> None:
    text = page.read_text()
    trees = re.findall(r"```mermaid\n(.*?)```", text, flags=re.DOTALL)
    assert trees and trees[0].lstrip().startswith("flowchart"), "no Mermaid flowchart"
    assert "-->" in trees[0] and "{" in trees[0], "the flowchart has no decision"
    escalation = text.partition("\n## Escalation\n")[2]
    assert re.search(r"^1\. .+^2\. ", escalation, flags=re.MULTILINE | re.DOTALL), "no escalation"
    assert re.search(r"^\s*\$ aws [a-z0-9-]+ [a-z-]+", text, flags=re.MULTILINE), "no CLI command"
