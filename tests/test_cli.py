"""The ``prr`` console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from documents import account_run, account_snapshot, document
from pytest_prr.catalog import builtin_catalog
from pytest_prr.commands.cli import main


def test_catalog_lists_every_control(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"pytest-prr catalog {builtin_catalog().version}: 65 controls"
    assert lines[1] == "SEC-01   high     function Runtime is supported"
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


COMMANDS = ("catalog", "plan", "merge", "export-asff", "report", "guardrails", "verify")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_s_help_lists_its_exit_statuses(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    help_text = capsys.readouterr().out
    assert "exit status:\n  0  " in help_text and "\n  2  usage error" in help_text


def results_document(tmp_path: Path) -> Path:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(document(account_run(account_snapshot("111111111111")))))
    return path


def test_report_never_writes_over_its_input_or_an_existing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = results_document(tmp_path)
    before = source.read_bytes()
    assert main(["report", str(source), "--markdown", str(source)]) == 2
    assert "is also an input" in capsys.readouterr().err
    (tmp_path / "r.html").write_text("mine")
    assert main(["report", str(source), "--html", str(tmp_path / "r.html")]) == 2
    assert "exists; pass --force to replace it" in capsys.readouterr().err
    assert (tmp_path / "r.html").read_text() == "mine" and source.read_bytes() == before
    assert main(["report", str(source), "--html", str(tmp_path / "r.html"), "--force"]) == 0


def test_export_asff_never_writes_over_its_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = results_document(tmp_path)
    before = source.read_bytes()
    assert main(["export-asff", str(source), "-o", str(source), "--force"]) == 2
    assert "is also an input" in capsys.readouterr().err
    assert source.read_bytes() == before


def test_export_asff_with_an_unknown_profile_says_so_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "aws-config").write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    source = results_document(tmp_path)
    assert main(["export-asff", str(source), "--import", "--profile", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("prr export-asff: the AWS profile 'nope' is not configured")
