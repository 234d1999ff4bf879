"""Process controls evidenced by attestations: valid, expired, missing, malformed."""

from __future__ import annotations

import datetime
import textwrap
from pathlib import Path

import pytest

from pytest_prr.attestations import AttestationError, evaluate, load_attestations

PRC = ["PRC-01", "PRC-02", "PRC-03", "PRC-04", "PRC-05"]
ENTRY = """
  - control: PRC-02
    scope: orders-service
    attested_by: jane.doe@example.com
    date: 2026-10-01
    evidence: https://wiki.example.com/orders/load-test-2026-10
    expires: 2027-10-01
"""


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "attestations.yaml"
    path.write_text(textwrap.dedent(body))
    return path


def test_valid_until_the_earlier_of_expiry_and_validity(tmp_path: Path) -> None:
    (attestation,) = load_attestations(write(tmp_path, "attestations:" + ENTRY), PRC)
    # PRC-02 is valid for 90 days: 2026-12-30, before the stated expiry.
    assert attestation.valid_until(90) == datetime.date(2026, 12, 30)
    ((scope, status, message, evidence),) = evaluate(
        "PRC-02", 90, [attestation], datetime.date(2026, 11, 28)
    )
    assert (scope, status) == ("orders-service", "pass")
    assert "valid until 2026-12-30" in message
    assert evidence["attested_by"] == "jane.doe@example.com"
    ((_, status, message, _),) = evaluate("PRC-02", 90, [attestation], datetime.date(2026, 12, 31))
    assert status == "fail" and "expired on 2026-12-30" in message


def test_missing_attestation_fails_never_not_applicable() -> None:
    ((scope, status, message, _),) = evaluate("PRC-01", 365, [], datetime.date(2026, 11, 28))
    assert (scope, status) == ("workload", "fail")
    assert "no attestation of PRC-01" in message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("attestations: 3\n", "expected a mapping with an 'attestations' list"),
        ("attestations:\n  - control: PRC-01\n", "attestations[0]: missing scope, attested_by"),
        ("attestations:" + ENTRY.replace("PRC-02", "SEC-01"), "'SEC-01' is not an attested"),
        (
            "attestations:" + ENTRY.replace("2026-10-01\n    evidence", "soon\n    evidence"),
            "attestations[0]: date must be a date",
        ),
        ("attestations:" + ENTRY.replace("https://", "http://"), "evidence must be an https"),
        ("attestations:" + ENTRY + "    owner: me\n", "unknown field(s) owner"),
        ("attestations:" + ENTRY.replace("2027-10-01", "2025-01-01"), "is before date"),
        ("attestations: [\n", "not valid YAML"),
    ],
)
def test_malformed_file_names_the_entry(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(AttestationError) as error:
        load_attestations(path, PRC)
    assert str(error.value).startswith(str(path))
    assert message in str(error.value)


def test_attested_controls_run_as_items(project) -> None:
    (project.path / "attestations.yaml").write_text("attestations:" + ENTRY)
    project.pyproject('[tool.pytest.ini_options]\nprr_attestations = "attestations.yaml"\n')
    result, document = project.run_json("--prr-account=moto", "--prr-controls=PRC-*", builtin=True)
    statuses = {c["id"]: c["status"] for c in document["controls"] if c["id"].startswith("PRC")}
    today = datetime.date.fromisoformat(document["targets"][0]["snapshot_taken_at"][:10])
    expected = "pass" if today <= datetime.date(2026, 12, 30) else "fail"
    assert statuses == {
        "PRC-01": "fail",
        "PRC-02": expected,
        "PRC-03": "fail",
        "PRC-04": "fail",
        "PRC-05": "fail",
    }
    result.assert_outcomes(failed=5 if expected == "fail" else 4, passed=int(expected == "pass"))


def test_malformed_attestations_stop_the_run(project) -> None:
    (project.path / "attestations.yaml").write_text("attestations:\n  - control: PRC-01\n")
    project.pyproject('[tool.pytest.ini_options]\nprr_attestations = "attestations.yaml"\n')
    result = project.run("--prr-account=moto")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*attestations.yaml: attestations[[]0[]]: missing scope*"])
