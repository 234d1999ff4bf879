"""Process controls evidenced by attestations: valid, expired, missing, malformed, dated after
the snapshot, and bound (or not) to the run's workload."""

from __future__ import annotations

import datetime
import json
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_prr.results.attestations import (
    Attestation,
    AttestationError,
    evaluate,
    load_attestations,
    unbound_warning,
)
from pytest_prr.snapshot.store import save_snapshot
from snapshots import build_snapshot

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


SNAPSHOT_DAY = datetime.date(2026, 11, 28)  # tests/snapshots.py's taken_at


def attestation(**fields) -> Attestation:
    defaults = {
        "control": "PRC-02",
        "scope": "orders-service",
        "attested_by": "jane.doe@example.com",
        "date": datetime.date(2026, 10, 1),
        "evidence": "https://wiki.example.com/orders/load-test-2026-10",
        "expires": datetime.date(2027, 10, 1),
    }
    return Attestation(**{**defaults, **fields})


def test_an_attestation_dated_after_the_snapshot_fails_naming_both_dates() -> None:
    future = attestation(date=datetime.date(2030, 1, 10), expires=datetime.date(2031, 1, 10))
    ((scope, status, message, _),) = evaluate("PRC-02", 90, [future], SNAPSHOT_DAY)
    assert (scope, status) == ("orders-service", "fail")
    assert "attested in the future" in message
    assert "2030-01-10" in message and "2026-11-28" in message


def test_an_attestation_of_the_snapshot_day_counts() -> None:
    ((_, status, _, _),) = evaluate("PRC-02", 90, [attestation(date=SNAPSHOT_DAY)], SNAPSHOT_DAY)
    assert status == "pass"


def test_with_a_workload_another_scope_does_not_count() -> None:
    billing = attestation(scope="billing")
    ((scope, status, message, evidence),) = evaluate(
        "PRC-02", 90, [billing], SNAPSHOT_DAY, workload="orders-service"
    )
    assert (scope, status) == ("orders-service", "fail")
    assert "'billing'" in message and "'orders-service'" in message
    assert evidence == {"workload": "orders-service", "attested_scopes": ["billing"]}
    # The workload's own attestation decides; another workload's beside it is not judged.
    verdicts = evaluate(
        "PRC-02", 90, [billing, attestation()], SNAPSHOT_DAY, workload="orders-service"
    )
    assert [(scope, status) for scope, status, _, _ in verdicts] == [("orders-service", "pass")]
    ((_, status, message, _),) = evaluate("PRC-02", 90, [], SNAPSHOT_DAY, workload="orders")
    assert status == "fail" and "no attestation of PRC-02 for workload 'orders'" in message


def test_without_a_workload_the_warning_shows_every_scope() -> None:
    assert unbound_warning([]) is None
    warning = unbound_warning([attestation(), attestation(control="PRC-01", scope="billing")])
    assert warning is not None and "prr_workload is not set" in warning
    assert "PRC-02 'orders-service'" in warning and "PRC-01 'billing'" in warning


@given(
    date=st.dates(datetime.date(2025, 1, 1), datetime.date(2028, 12, 31)),
    lasts=st.integers(0, 800),
    valid_days=st.one_of(st.none(), st.sampled_from([90, 180, 365])),
    today=st.dates(datetime.date(2025, 1, 1), datetime.date(2028, 12, 31)),
)
def test_an_attestation_passes_only_between_its_date_and_its_end(
    date: datetime.date, lasts: int, valid_days: int | None, today: datetime.date
) -> None:
    found = attestation(date=date, expires=date + datetime.timedelta(days=lasts))
    ((_, status, message, _),) = evaluate("PRC-02", valid_days, [found], today)
    until = found.valid_until(valid_days)
    assert until <= found.expires
    assert (status == "pass") == (date <= today <= until)
    assert ("attested in the future" in message) == (today < date)
    assert ("expired on" in message) == (date <= today and today > until)


@given(
    scopes=st.lists(st.sampled_from(["orders", "billing", "orders ", "Orders"]), max_size=4),
    workload=st.sampled_from(["orders", "billing"]),
)
def test_only_the_workloads_own_attestations_can_pass_it(scopes: list[str], workload: str) -> None:
    found = [attestation(scope=scope) for scope in scopes]
    verdicts = evaluate("PRC-02", 90, found, SNAPSHOT_DAY, workload=workload)
    assert [scope for scope, _, _, _ in verdicts] == [workload]
    ((_, status, message, _),) = verdicts
    assert (status == "pass") == (workload in scopes)
    for other in set(scopes) - {workload}:
        assert status == "pass" or repr(other) in message


REPLAYED_ATTESTATIONS = """
attestations:
  - control: PRC-01
    scope: billing
    attested_by: jane.doe@example.com
    date: 2026-09-01
    evidence: https://wiki.example.com/billing/threat-model
    expires: 2027-09-01
  - control: PRC-02
    scope: orders-service
    attested_by: jane.doe@example.com
    date: 2030-01-10
    evidence: https://wiki.example.com/orders/load-test
    expires: 2031-01-10
  - control: PRC-03
    scope: orders-service
    attested_by: jane.doe@example.com
    date: 2026-11-01
    evidence: https://wiki.example.com/orders/runbook
    expires: 2027-11-01
"""


@pytest.fixture
def attested_project(project):
    save_snapshot(build_snapshot(), project.path / "snapshot.json")
    (project.path / "attestations.yaml").write_text(REPLAYED_ATTESTATIONS)
    project.tests("def test_plain(): pass")
    return project


def prc_resources(document: dict) -> dict[str, list[tuple[str, str, str]]]:
    return {
        control["id"]: [(r["id"], r["status"], r["message"]) for r in control["resources"]]
        for control in document["controls"]
        if control["id"] in ("PRC-01", "PRC-02", "PRC-03")
    }


@pytest.mark.parametrize("workers", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_run_binds_attestations_to_its_workload(attested_project, workers: list[str]) -> None:
    attested_project.pyproject(
        "[tool.pytest.ini_options]\n"
        'prr_attestations = "attestations.yaml"\nprr_workload = "orders-service"\n'
    )
    result, document = attested_project.run_json(
        "--prr-snapshot=snapshot.json", "--prr-controls=PRC-*", *workers, builtin=True
    )
    found = prc_resources(document)
    ((resource, status, message),) = found["PRC-01"]
    assert (resource, status) == ("orders-service", "fail")
    assert "scope 'billing', not for workload 'orders-service'" in message
    ((resource, status, message),) = found["PRC-02"]
    assert (resource, status) == ("orders-service", "fail")
    assert "attested in the future: dated 2030-01-10, after the snapshot date 2026-11-28" in message
    assert [status for _, status, _ in found["PRC-03"]] == ["pass"]
    result.stdout.no_fnmatch_line("*prr_workload is not set*")


def test_without_a_workload_the_run_warns_once_with_every_scope(attested_project) -> None:
    attested_project.pyproject(
        '[tool.pytest.ini_options]\nprr_attestations = "attestations.yaml"\n'
    )
    result, document = attested_project.run_json(
        "--prr-snapshot=snapshot.json", "--prr-controls=PRC-*", "-n", "2", builtin=True
    )
    result.stdout.fnmatch_lines(
        [
            "prr: WARNING: prr_workload is not set, so attestations are not bound to a "
            "workload: *; scopes: PRC-01 'billing', PRC-02 'orders-service', "
            "PRC-03 'orders-service'"
        ]
    )
    assert result.stdout.str().count("prr_workload is not set") == 1
    # Unbound, the billing threat model still counts: what the warning is about.
    assert [status for _, status, _ in prc_resources(document)["PRC-01"]] == ["pass"]


def test_the_bundle_records_the_workload_and_verify_judges_attestations_for_it(
    attested_project,
) -> None:
    from pytest_prr.catalog import builtin_catalog
    from pytest_prr.evidence import verify_bundle
    from pytest_prr.evidence.replay import replay
    from pytest_prr.snapshot.store import load_snapshot

    attested_project.pyproject(
        "[tool.pytest.ini_options]\n"
        'prr_attestations = "attestations.yaml"\nprr_workload = "orders-service"\n'
    )
    attested_project.run(
        "--prr-snapshot=snapshot.json",
        "--prr-controls=PRC-*",
        "--prr-evidence=bundle",
        builtin=True,
    )
    bundle = attested_project.path / "bundle"
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["inputs"]["workload"] == "orders-service"
    verification = verify_bundle(bundle)
    assert verification.intact, verification.problems
    assert verification.reevaluated == 5  # PRC-01..05
    # Judged for no workload, the billing threat model would pass PRC-01: verify would differ.
    catalog = builtin_catalog()
    document = json.loads((bundle / "results.json").read_text())
    snapshot, _ = load_snapshot(bundle / "snapshot.json")
    attestations = load_attestations(attested_project.path / "attestations.yaml", PRC)
    unbound = replay(document, snapshot, catalog, tunables={}, attestations=attestations)
    assert any(where.startswith("PRC-01") for where, _ in unbound.mismatches)
