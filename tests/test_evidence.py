"""Evidence bundles and ``prr verify``: a bundle from a real run verifies; any altered,
added or removed byte is named; results forged consistently with their hashes still fail,
because re-evaluating the snapshot disagrees."""

from __future__ import annotations

import copy
import dataclasses
import datetime
import hashlib
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from pytest_prr.__about__ import __version__
from pytest_prr.catalog import builtin_catalog
from pytest_prr.commands.cli import main
from pytest_prr.evidence import EvidenceError, verify_bundle, write_bundle
from pytest_prr.evidence.replay import recorded_results
from pytest_prr.report.json_document import validate_document
from pytest_prr.results.model import Result, Target, build_document
from pytest_prr.results.waivers import apply_waivers, function_tags, load_waivers, report_waivers
from pytest_prr.snapshot.store import load_snapshot, save_snapshot
from snapshots import build_snapshot, function_arn, make_function

LEGACY = function_arn("legacy-billing")
ORDERS = function_arn("orders-api")
JUDGED_ON = datetime.date(2026, 11, 28)  # the snapshot's date
TEAM_CATALOG = """
domains:
  - id: TM
    title: Team controls
controls:
  - id: TM-01
    title: The team's own readiness test
    domain: TM
    scope: workload
    severity: low
    automation: automated
    rule: {fail_when: the team's test fails}
    rationale: the team says so
    remediation: fix it
    frameworks: {iso27001_2022: [A.8.16]}
"""
ATTESTATIONS = """
attestations:
  - control: PRC-02
    scope: billing
    attested_by: jane.doe@example.com
    date: 2026-10-01
    evidence: https://wiki.example.com/billing/load-test
    expires: 2027-10-01
"""
WAIVERS = f"""
waivers:
  - control: SEC-01
    resources: arn:aws:lambda:us-east-1:123456789012:function:legacy-*
    justification: the runtime upgrade ships with the Q1 billing release
    approved_by: ciso@example.com
    expires: 2027-06-30
  - control: REL-02
    tags: {{Team: billing}}
    justification: reserved concurrency after the capacity review
    approved_by: ciso@example.com
    expires: 2026-11-27
  - control: SEC-02
    resources: {ORDERS}
    justification: a secret that has since been moved to Secrets Manager
    approved_by: ciso@example.com
    expires: 2027-01-31
"""
USER_TEST = """
import pytest_prr as prr

@prr.control("TM-01")
def test_the_account_is_the_teams(prr_snapshot):
    assert prr_snapshot.account_id == "123456789012"
"""
INPUTS = (
    "inputs/attestations/0/attestations.yaml",
    "inputs/catalog/0/team-catalog.yaml",
    "inputs/waivers/waivers.yaml",
)
TOP = ("junit.xml", "manifest.json", "results.json", "snapshot.json")
CONTROL_FILES = tuple(f"controls/{cid}.json" for cid in [*builtin_catalog().controls, "TM-01"])
BUNDLE_FILES = sorted((*TOP, *INPUTS, *CONTROL_FILES))


@dataclasses.dataclass(frozen=True)
class Run:
    """A real pytest-prr run over a stored snapshot, and the bundle written from it."""

    path: Path
    bundle: Path
    #: The results the run bundled (the --prr-json file adds the manifest's SHA-256).
    document: dict[str, Any]
    stdout: str

    def inputs(self) -> dict[str, Any]:
        return {
            "snapshot_path": self.path / "snapshot.json",
            "junit_path": self.path / "junit.xml",
            "command_line": ["pytest", "--prr-snapshot=snapshot.json", "--prr-json=results.json"],
            "tunables": builtin_catalog().tunables({}, "defaults"),
            "waivers_file": self.path / "waivers.yaml",
            "waivers_judged_on": JUDGED_ON,
            "catalog_files": [self.path / "team-catalog.yaml"],
            "attestation_files": [self.path / "attestations.yaml"],
            "selected_controls": manifest_of(self.bundle)["selected_controls"],
        }


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    path = tmp_path_factory.mktemp("run")
    snapshot = build_snapshot(
        [
            make_function("orders-api", Tags={"Team": "orders"}),
            make_function("legacy-billing", Runtime="python3.8", Tags={"Team": "billing"}),
        ]
    )
    save_snapshot(snapshot, path / "snapshot.json")
    (path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nprr_catalog = "team-catalog.yaml"\n'
        'prr_attestations = "attestations.yaml"\nprr_waivers = "waivers.yaml"\n'
    )
    for name, text in [
        ("team-catalog.yaml", TEAM_CATALOG),
        ("attestations.yaml", ATTESTATIONS),
        ("waivers.yaml", WAIVERS),
        ("test_team.py", USER_TEST),
    ]:
        (path / name).write_text(textwrap.dedent(text))
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "--prr-snapshot=snapshot.json",
            "--prr-json=results.json",
            "--junitxml=junit.xml",
            "--prr-evidence=bundle",
            "-n",
            "2",
        ],
        cwd=path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr  # findings
    assert "prr: evidence bundle written to " in completed.stdout
    document = json.loads((path / "bundle" / "results.json").read_text())
    return Run(path, path / "bundle", document, completed.stdout)


def test_the_plugin_applies_waivers_before_it_reports(run: Run) -> None:
    """The expired REL-02 waiver leaves its FAIL standing; the SEC-01 one is in force."""
    statuses = {
        (control["id"], resource["id"]): (resource["status"], resource.get("original_status"))
        for control in run.document["controls"]
        for resource in control["resources"]
    }
    assert statuses["SEC-01", LEGACY] == ("waived", "fail")
    assert statuses["REL-02", LEGACY] == ("fail", None)
    assert [w["control"] for w in run.document["waivers"]["expired"]] == ["REL-02"]
    assert [w["control"] for w in run.document["waivers"]["stale"]] == ["SEC-02"]
    junit = (run.path / "junit.xml").read_text()
    assert 'name="SEC-01"' in junit and "REL-02 Reserved concurrency set" in junit


def waived(document: dict[str, Any], snapshot: Any, waivers_file: Path, catalog_file: Path):
    """The document the run makes once its ``prr_waivers`` are applied (as the plugin will:
    to every result, then the waivers section over all of them)."""
    catalog = builtin_catalog().with_file(catalog_file)
    waivers = load_waivers(waivers_file, catalog)
    tags_of = function_tags(snapshot)
    results = apply_waivers(recorded_results(document), waivers, today=JUDGED_ON, tags_of=tags_of)
    rebuilt = rebuild(document, results, catalog)
    rebuilt["waivers"] = report_waivers(
        waivers, results, today=JUDGED_ON, tags_of=tags_of
    ).to_dict()
    return rebuilt


def rebuild(document: dict[str, Any], results: list[Result], catalog: Any) -> dict[str, Any]:
    names = {field.name for field in dataclasses.fields(Target)}
    targets = [
        Target(**{**{k: v for k, v in t.items() if k in names}, "regions": tuple(t["regions"])})
        for t in document["targets"]
    ]
    return build_document(
        catalog,
        targets,
        results,
        tool_version=document["tool"]["version"],
        generated_at=datetime.datetime.fromisoformat(document["generated_at"]),
    )


@pytest.fixture
def bundle(run: Run, tmp_path: Path) -> Path:
    """A copy of the run's bundle, to tamper with."""
    return Path(shutil.copytree(run.bundle, tmp_path / "bundle"))


def manifest_of(bundle: Path) -> dict[str, Any]:
    return json.loads((bundle / "manifest.json").read_text())


def reseal(bundle: Path, *changed: str, removed: tuple[str, ...] = ()) -> None:
    """Update the manifest as a forger would: new hashes, nothing else to forge (only the
    SHA-256 an auditor kept, or a signature, shows that the manifest changed)."""
    manifest = manifest_of(bundle)
    for rel in changed:
        data = (bundle / rel).read_bytes()
        manifest["files"][rel] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    for rel in removed:
        del manifest["files"][rel]
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def problems(bundle: Path, expect_sha256: str | None = None) -> dict[str, list[str]]:
    verification = verify_bundle(bundle, expect_sha256=expect_sha256)
    found: dict[str, list[str]] = {}
    for problem in verification.problems:
        found.setdefault(problem.where, []).append(problem.what)
    return found


def status_of(document: dict[str, Any], control_id: str, resource_id: str) -> dict[str, Any]:
    control = next(c for c in document["controls"] if c["id"] == control_id)
    return next(r for r in control["resources"] if r["id"] == resource_id)


def test_the_run_has_waived_expired_and_stale_waivers(run: Run) -> None:
    sec01 = status_of(run.document, "SEC-01", LEGACY)
    assert (sec01["status"], sec01["original_status"]) == ("waived", "fail")
    assert sec01["waiver"]["approved_by"] == "ciso@example.com"
    assert status_of(run.document, "REL-02", LEGACY)["status"] == "fail"
    (expired,) = run.document["waivers"]["expired"]
    assert (expired["control"], expired["resources_affected"]) == ("REL-02", [LEGACY])
    assert [w["control"] for w in run.document["waivers"]["stale"]] == ["SEC-02"]
    assert status_of(run.document, "PRC-02", "billing")["status"] == "pass"


def test_the_bundle_holds_every_file_and_the_manifest_says_how_it_was_made(run: Run) -> None:
    files = sorted(p.relative_to(run.bundle).as_posix() for p in run.bundle.rglob("*"))
    assert [f for f in files if (run.bundle / f).is_file()] == BUNDLE_FILES
    manifest = manifest_of(run.bundle)
    assert sorted(manifest["files"]) == sorted(set(BUNDLE_FILES) - {"manifest.json"})
    for rel, recorded in manifest["files"].items():
        data = (run.bundle / rel).read_bytes()
        assert recorded == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    assert manifest["schema"] == "prr-evidence/2"
    assert "manifest_sha256" not in manifest and "signature" not in manifest
    assert manifest["tool"] == {
        "name": "pytest-prr",
        "version": __version__,
        "catalog_version": run.document["tool"]["catalog_version"],
    }
    assert "+team-catalog." in manifest["tool"]["catalog_version"]
    assert manifest["targets"][0]["account_id"] == "123456789012"
    assert manifest["command_line"][0] == "pytest"
    assert "--prr-evidence=bundle" in manifest["command_line"]
    assert manifest["tunables"]["prr_slo_window_days"] == 30
    assert manifest["inputs"] == {
        "catalog": [INPUTS[1]],
        "attestations": [INPUTS[0]],
        "waivers": INPUTS[2],
        "waivers_judged_on": "2026-11-28",
        "workload": None,
    }
    assert (run.bundle / "snapshot.json").read_bytes() == (run.path / "snapshot.json").read_bytes()
    sec01 = json.loads((run.bundle / "controls/SEC-01.json").read_text())
    assert sec01["status"] == "waived" and sec01["control"]["remediation"]
    assert sec01["waivers"]["applied"] == [status_of(run.document, "SEC-01", LEGACY)["waiver"]]
    sec02 = json.loads((run.bundle / "controls/SEC-02.json").read_text())
    assert [w["control"] for w in sec02["waivers"]["stale"]] == ["SEC-02"]
    assert sec02["waivers"]["applied"] == [] and sec02["status"] == "not_applicable"


def test_the_run_prints_the_manifest_digest_as_sha256sum_does(run: Run) -> None:
    """An auditor keeps the line, and checks it later with ``sha256sum -c``."""
    sha256sum = subprocess.run(
        ["sha256sum", "bundle/manifest.json"], cwd=run.path, capture_output=True, text=True
    )
    assert sha256sum.returncode == 0, sha256sum.stderr
    lines = run.stdout.splitlines()
    written = next(n for n, line in enumerate(lines) if "evidence bundle written to" in line)
    assert lines[written].endswith(", not signed; its manifest's SHA-256:")
    assert lines[written + 1] == sha256sum.stdout.rstrip("\n")
    (run.path / "kept.sha256").write_text(lines[written + 1] + "\n")
    check = subprocess.run(["sha256sum", "-c", "kept.sha256"], cwd=run.path, capture_output=True)
    assert check.returncode == 0, check.stdout


def test_the_results_outside_the_bundle_name_its_manifest_digest(run: Run) -> None:
    """The bundled results.json cannot hold the digest of the manifest that covers it; the
    --prr-json document, written after the bundle, does."""
    outside = json.loads((run.path / "results.json").read_text())
    digest = hashlib.sha256((run.bundle / "manifest.json").read_bytes()).hexdigest()
    assert outside["targets"][0]["evidence_manifest_sha256"] == digest
    assert "evidence_manifest_sha256" not in run.document["targets"][0]
    outside["targets"][0].pop("evidence_manifest_sha256")
    assert outside == run.document
    validate_document(outside)


def test_an_intact_bundle_verifies(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    verification = verify_bundle(run.bundle)
    assert verification.problems == ()
    builtin = [r for r in recorded_results(run.document) if r.test.startswith("prr::")]
    assert verification.reevaluated == len(builtin) > 100
    assert verification.files == len(BUNDLE_FILES)
    assert any("1 user test(s) (e.g. test_team.py::" in note for note in verification.notes)
    assert main(["verify", str(run.bundle)]) == 0
    out = capsys.readouterr().out
    digest = hashlib.sha256((run.bundle / "manifest.json").read_bytes()).hexdigest()
    assert out.splitlines()[:2] == [
        f"{digest}  {run.bundle}/manifest.json",
        "signature: not signed",
    ]
    assert "note: 1 user test(s)" in out and "cannot be re-run from a snapshot" in out
    assert out.rstrip().endswith("re-evaluated)") and ": intact (" in out


@pytest.mark.parametrize("rel", BUNDLE_FILES)
def test_flipping_a_byte_of_any_file_names_that_file(bundle: Path, rel: str) -> None:
    """The manifest itself against the SHA-256 the auditor kept (the run printed it)."""
    kept = hashlib.sha256((bundle / "manifest.json").read_bytes()).hexdigest()
    data = bytearray((bundle / rel).read_bytes())
    position = len(data) * 2 // 3
    data[position] ^= 0x01
    (bundle / rel).write_bytes(bytes(data))
    found = problems(bundle, expect_sha256=kept)
    assert rel in found, found
    if rel != "manifest.json":
        assert found[rel][0].startswith("altered: SHA-256 ")
    else:
        assert found[rel][-1].endswith(f", not the expected {kept}")


def test_an_added_and_a_removed_file_are_named(bundle: Path, capsys) -> None:
    (bundle / "controls" / "SEC-04.json").unlink()
    (bundle / "notes.txt").write_text("added later\n")
    (bundle / "inputs" / "waivers" / "more.yaml").write_text("waivers: []\n")
    found = problems(bundle)
    assert found["controls/SEC-04.json"] == ["missing: manifest.json lists it, the bundle lacks it"]
    assert found["notes.txt"] == ["added: not listed in manifest.json"]
    assert found["inputs/waivers/more.yaml"] == ["added: not listed in manifest.json"]
    assert main(["verify", str(bundle)]) == 1
    out = capsys.readouterr().out
    assert "FAILED notes.txt: added: not listed in manifest.json" in out
    assert out.rstrip().endswith("re-evaluated)") and ": 3 problem(s) (" in out


def test_a_removed_manifest_is_named(bundle: Path) -> None:
    (bundle / "manifest.json").unlink()
    assert list(problems(bundle)) == ["manifest.json"]


def test_a_results_edit_with_its_hash_updated_still_fails(bundle: Path) -> None:
    document = json.loads((bundle / "results.json").read_text())
    entry = status_of(document, "SEC-04", LEGACY)
    entry["status"], entry["message"] = "pass", "legacy-billing has a code signing config"
    (bundle / "results.json").write_text(json.dumps(document, indent=2))
    reseal(bundle, "results.json")
    found = problems(bundle)
    assert sorted(found) == ["SEC-04 " + LEGACY, "controls/SEC-04.json"]
    assert found[f"SEC-04 {LEGACY}"] == [
        'status: results.json records "pass", re-evaluation gives "fail"',
        'message: results.json records "legacy-billing has a code signing config", '
        're-evaluation gives "legacy-billing has no code signing config"',
    ]
    assert found["controls/SEC-04.json"] == ["does not say what results.json records for SEC-04"]


def test_a_rollup_edit_with_its_hash_updated_fails(bundle: Path) -> None:
    document = json.loads((bundle / "results.json").read_text())
    next(c for c in document["controls"] if c["id"] == "SEC-01")["status"] = "pass"
    (bundle / "results.json").write_text(json.dumps(document, indent=2))
    reseal(bundle, "results.json")
    found = problems(bundle)
    assert found["results.json"] == [
        "controls SEC-01: status does not follow from the catalog and its resources"
    ]
    assert found["controls/SEC-01.json"] == ["does not say what results.json records for SEC-01"]


def test_a_consistent_forgery_fails_on_reevaluation(run: Run, tmp_path: Path) -> None:
    """Every file consistent with every other and with the manifest: only re-evaluating
    the snapshot shows that legacy-billing's SEC-04 failure was turned into a pass."""
    forged = [
        dataclasses.replace(r, status="pass")
        if (r.control_id, r.resource_id) == ("SEC-04", LEGACY)
        else r
        for r in recorded_results(run.document)
    ]
    catalog = builtin_catalog().with_file(run.path / "team-catalog.yaml")
    document = {**rebuild(run.document, forged, catalog), "waivers": run.document["waivers"]}
    write_bundle(tmp_path / "forged", document=document, **run.inputs())
    found = problems(tmp_path / "forged")
    assert found == {
        f"SEC-04 {LEGACY}": ['status: results.json records "pass", re-evaluation gives "fail"']
    }


def test_a_waiver_removed_with_its_hash_updated_fails(bundle: Path) -> None:
    path = bundle / INPUTS[2]
    entries = path.read_text().split("  - control: ")
    path.write_text("  - control: ".join([entries[0], *entries[2:]]))
    reseal(bundle, INPUTS[2])
    found = problems(bundle)
    assert found[f"SEC-01 {LEGACY}"][0] == (
        'status: results.json records "waived", re-evaluation gives "fail"'
    )
    assert "waivers (expired, stale) do not follow from the waivers file" in found["results.json"]


def test_a_snapshot_edit_with_its_hash_updated_fails(bundle: Path) -> None:
    snapshot = json.loads((bundle / "snapshot.json").read_text())
    snapshot["regions"]["us-east-1"]["lambda"]["functions"][LEGACY]["Runtime"] = "python3.12"
    (bundle / "snapshot.json").write_text(json.dumps(snapshot, sort_keys=True))
    reseal(bundle, "snapshot.json")
    found = problems(bundle)
    assert found["snapshot.json"][0].endswith(
        "but results.json records " + (manifest_of(bundle)["targets"][0]["snapshot_sha256"])
    )
    assert found[f"SEC-01 {LEGACY}"][0].startswith(
        'status: results.json records "waived", re-evaluation gives "pass"'
    )


def test_a_malformed_input_stops_reevaluation_naming_it(bundle: Path) -> None:
    path = bundle / INPUTS[2]
    path.write_text(path.read_text().replace("2027-06-30", "mid-2027"))
    reseal(bundle, INPUTS[2])
    verification = verify_bundle(bundle)
    assert [str(p) for p in verification.problems] == [
        f"{INPUTS[2]}: waivers[0] (SEC-01).expires: 'mid-2027' is not a date (YYYY-MM-DD)"
    ]
    assert verification.reevaluated == 0
    assert "not re-evaluated: a file it needs cannot be used" in verification.notes


def test_a_manifest_without_the_waiver_day_stops_reevaluation(bundle: Path) -> None:
    manifest = manifest_of(bundle)
    manifest["inputs"]["waivers_judged_on"] = None
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    reseal(bundle)
    assert problems(bundle) == {
        "manifest.json": ["records a waivers file but not the day it was applied on"]
    }


def test_a_snapshot_that_crashes_reevaluation_fails_closed(bundle: Path) -> None:
    snapshot = json.loads((bundle / "snapshot.json").read_text())
    snapshot["regions"]["us-east-1"] = ["not", "a", "region"]
    (bundle / "snapshot.json").write_text(json.dumps(snapshot))
    reseal(bundle, "snapshot.json")
    verification = verify_bundle(bundle)
    (problem,) = verification.problems
    assert problem.where == "re-evaluation" and "AttributeError" in problem.what
    assert verification.reevaluated == 0


def test_a_consistently_removed_control_file_is_still_missing(bundle: Path) -> None:
    (bundle / "controls" / "OBS-01.json").unlink()
    reseal(bundle, removed=("controls/OBS-01.json",))
    assert problems(bundle) == {"controls/OBS-01.json": ["missing: results.json records OBS-01"]}


def test_an_empty_waivers_file_verifies(run: Run, tmp_path: Path) -> None:
    (tmp_path / "waivers.yaml").write_text("waivers: []\n")
    plain = copy.deepcopy(run.document)
    for resource in (r for c in plain["controls"] for r in c["resources"]):
        if "original_status" in resource:  # as the run judged it before any waiver
            resource["status"] = resource.pop("original_status")
            del resource["waiver"]
    snapshot, _ = load_snapshot(run.path / "snapshot.json")
    document = waived(plain, snapshot, tmp_path / "waivers.yaml", run.path / "team-catalog.yaml")
    assert document["waivers"] == {"expired": [], "stale": []}
    inputs = {**run.inputs(), "waivers_file": tmp_path / "waivers.yaml"}
    write_bundle(tmp_path / "bundle", document=document, **inputs)
    assert verify_bundle(tmp_path / "bundle").problems == ()
    del document["waivers"]
    write_bundle(tmp_path / "bundle", document=document, **inputs)
    assert problems(tmp_path / "bundle") == {
        "results.json": ["waivers (expired, stale) do not follow from the waivers file"]
    }


def test_writing_again_replaces_a_previous_bundle_whole(run: Run, bundle: Path) -> None:
    (bundle / "junit.xml").unlink()
    reseal(bundle, removed=("junit.xml",))
    inputs = {**run.inputs(), "junit_path": None}
    write_bundle(bundle, document=run.document, **inputs)
    assert not (bundle / "junit.xml").exists()
    # Without its JUnit nothing shows that the team's test ran: that is the only problem.
    assert problems(bundle) == {
        "results.json": [
            "records 1 result(s) of user tests, but the bundle has no junit.xml to show those "
            "tests ran"
        ]
    }
    assert [p.name for p in bundle.parent.iterdir()] == ["bundle"], "no staging left behind"


def test_refuses_a_directory_that_is_not_a_bundle(run: Run, tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "keep.txt").write_text("mine\n")
    with pytest.raises(EvidenceError, match="not empty and not an intact evidence bundle"):
        write_bundle(tmp_path / "reports", document=run.document, **run.inputs())
    (tmp_path / "file").write_text("")
    with pytest.raises(EvidenceError, match="exists and is not a directory"):
        write_bundle(tmp_path / "file", document=run.document, **run.inputs())
    assert (tmp_path / "reports" / "keep.txt").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "reports"]


def test_refuses_a_previous_bundle_holding_other_files(run: Run, bundle: Path) -> None:
    (bundle / "keep.txt").write_text("mine\n")
    with pytest.raises(EvidenceError, match=r"not part of its bundle \(keep.txt\)"):
        write_bundle(bundle, document=run.document, **run.inputs())
    assert (bundle / "keep.txt").exists()


def test_a_failed_write_leaves_the_previous_bundle_or_none(run: Run, bundle: Path) -> None:
    broken = {**run.inputs(), "junit_path": run.path / "absent.xml"}
    with pytest.raises(FileNotFoundError):
        write_bundle(bundle, document=run.document, **broken)
    assert verify_bundle(bundle).problems == ()
    with pytest.raises(FileNotFoundError):
        write_bundle(bundle.parent / "new", document=run.document, **broken)
    assert [p.name for p in bundle.parent.iterdir()] == ["bundle"]


def test_the_catalog_files_must_be_the_runs(run: Run, tmp_path: Path) -> None:
    inputs = {**run.inputs(), "catalog_files": []}
    with pytest.raises(EvidenceError, match=r"pass the run's prr_catalog files"):
        write_bundle(tmp_path / "b", document=run.document, **inputs)
    inputs = {**run.inputs(), "waivers_judged_on": None}
    with pytest.raises(ValueError, match="waivers_file needs waivers_judged_on"):
        write_bundle(tmp_path / "b", document=run.document, **inputs)


def test_verify_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(tmp_path / "absent")]) == 2
    assert "absent: no such directory" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["verify"])
    assert exit_.value.code == 2


def forge(run: Run, tmp_path: Path, results: list[Result], **inputs: Any) -> Path:
    """A bundle written consistently from forged results: every roll-up rebuilt, every
    control file derived, every hash right; only re-evaluation and the JUnit can tell."""
    catalog = builtin_catalog().with_file(run.path / "team-catalog.yaml")
    document = {**rebuild(run.document, results, catalog), "waivers": run.document["waivers"]}
    write_bundle(tmp_path / "forged", document=document, **{**run.inputs(), **inputs})
    return tmp_path / "forged"


def test_a_failed_control_whose_results_were_dropped_is_missing(run: Run, tmp_path: Path) -> None:
    """An auditor's probe: drop SEC-04's results (it failed), rebuild the manifest; the
    control read not_tested and verify said intact."""
    kept = [r for r in recorded_results(run.document) if r.control_id != "SEC-04"]
    found = problems(forge(run, tmp_path, kept))
    assert found == {
        f"SEC-04 {resource}": ["re-evaluation gives fail; results.json records none"]
        for resource in (LEGACY, ORDERS)
    }


def test_dropping_the_control_from_the_selection_too_shows_in_the_junit(
    run: Run, tmp_path: Path
) -> None:
    kept = [r for r in recorded_results(run.document) if r.control_id != "SEC-04"]
    selected = [c for c in manifest_of(run.bundle)["selected_controls"] if c != "SEC-04"]
    found = problems(forge(run, tmp_path, kept, selected_controls=selected))
    assert found == {"SEC-04": ["junit.xml shows its built-in item, but the run did not select it"]}


def test_results_rewritten_as_passes_of_an_invented_user_test_fail(
    run: Run, tmp_path: Path
) -> None:
    """The other probe: SEC-04's failures replaced by passes of a test that never ran."""
    invented = "tests/test_signing.py::test_every_function_is_signed"
    forged = [
        dataclasses.replace(r, status="pass", test=invented, message="", evidence=None)
        if r.control_id == "SEC-04"
        else r
        for r in recorded_results(run.document)
    ]
    found = problems(forge(run, tmp_path, forged))
    assert (
        found[f"SEC-04 {invented}"]
        == [
            "results.json records it, junit.xml shows no such test"  # one per function
        ]
        * 2
    )
    assert found[f"SEC-04 {LEGACY}"] == ["re-evaluation gives fail; results.json records none"]


def test_a_user_test_recorded_as_passing_that_failed_in_the_junit(run: Run, tmp_path: Path) -> None:
    case = '<testcase classname="test_team" name="test_the_account_is_the_teams" time="'
    junit = (run.path / "junit.xml").read_text()
    at = junit.index(case)
    at = junit.index(">", at) + 1
    (tmp_path / "junit.xml").write_text(f'{junit[:at]}<failure message="no" />{junit[at:]}')
    forged = forge(run, tmp_path, recorded_results(run.document), junit_path=tmp_path / "junit.xml")
    assert problems(forged) == {
        "TM-01 test_team.py::test_the_account_is_the_teams": [
            "results.json records a pass, junit.xml a failure"
        ]
    }


def test_the_manifest_records_every_control_the_run_evaluated(run: Run) -> None:
    assert manifest_of(run.bundle)["selected_controls"] == [
        c.id for c in builtin_catalog() if c.domain != "TM"
    ]


def test_a_bundle_holds_the_junit_even_without_junitxml(run: Run, tmp_path: Path) -> None:
    """prr verify needs the JUnit to show that user tests ran: the run writes one for the
    bundle when --junitxml was not given."""
    work = Path(
        shutil.copytree(run.path, tmp_path / "run", ignore=shutil.ignore_patterns("bundle"))
    )
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly"),
            *("--prr-snapshot=snapshot.json", "--prr-evidence=bundle", "-q"),
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert (work / "bundle" / "junit.xml").is_file()
    assert verify_bundle(work / "bundle").problems == ()
