"""The ``prr`` console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_prr.catalog import builtin_catalog
from pytest_prr.cli import main


def test_catalog_lists_every_control(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"pytest-prr catalog {builtin_catalog().version}: 65 controls"
    assert lines[1].split()[:3] == ["SEC-01", "high", "function"] or lines[1].startswith("SEC-01")
    assert [line.split()[0] for line in lines[1:]] == list(builtin_catalog().controls)


def test_catalog_filters_by_domain_and_speaks_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--domain", "gov", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in document["controls"]] == [f"GOV-0{i}" for i in range(1, 9)]
    assert document["controls"][3]["tunables"][0]["name"] == "prr_conformance_pack"


def test_catalog_rejects_unknown_domain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--domain", "XYZ"]) == 2
    assert "unknown domain(s) XYZ" in capsys.readouterr().err


def test_catalog_with_a_malformed_user_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "team.yaml").write_text("controls: 3\n")
    assert main(["catalog", "--catalog", str(tmp_path / "team.yaml")]) == 2
    assert "team.yaml: controls: 3 is not of type 'array'" in capsys.readouterr().err


def test_console_script_is_installed() -> None:
    prr = Path(sys.executable).parent / "prr"
    assert prr.is_file(), "pytest-prr is not installed with its console script"
    completed = subprocess.run([prr, "--version"], capture_output=True, text=True, check=True)
    assert completed.stdout.startswith("pytest-prr ")
