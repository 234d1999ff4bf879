"""What ties a bundle to its author: the manifest's SHA-256 an auditor keeps.

Any byte of the manifest changed, or a manifest other than the one whose SHA-256 was kept,
fails ``prr verify --expect-sha256``; the digest is printed as ``sha256sum`` prints it."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from documents import TUNABLES, account_run, account_snapshot, document
from pytest_prr.__about__ import __version__
from pytest_prr.cli import main
from pytest_prr.evidence import EvidenceError, verify_bundle, write_bundle
from pytest_prr.evidence.bundle import sha256sum_line
from pytest_prr.snapshot.store import save_snapshot

MANIFEST = "manifest.json"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What write_bundle takes: the results of every built-in control over a snapshot."""
    folder = tmp_path_factory.mktemp("made")
    snapshot = account_snapshot("123456789012")
    digest = save_snapshot(snapshot, folder / "snapshot.json")
    run = account_run(snapshot)
    run.use_stored_snapshot(folder / "snapshot.json", snapshot, digest)
    return {
        "document": document(run, tool_version=__version__),
        "snapshot_path": folder / "snapshot.json",
        "command_line": ["pytest", "--prr-snapshot=snapshot.json"],
        "tunables": TUNABLES,
    }


def verify(bundle: Path, *options: str) -> tuple[int, str]:
    """``prr verify`` as an auditor runs it: its exit status and what it printed."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        status = main(["verify", str(bundle), *options])
    return status, out.getvalue()


def digest_of(bundle: Path) -> str:
    return hashlib.sha256((bundle / MANIFEST).read_bytes()).hexdigest()


def test_only_the_manifest_whose_digest_was_kept_verifies(
    made: dict[str, Any], tmp_path: Path
) -> None:
    """A change that leaves the manifest valid and every file as it lists: only the kept
    digest shows it."""
    bundle = tmp_path / "bundle"
    written = write_bundle(bundle, **made)
    kept = digest_of(bundle)
    assert written.manifest_sha256 == kept
    status, out = verify(bundle, "--expect-sha256", kept.upper())
    assert status == 0, out
    assert out.splitlines()[0] == f"{kept}  {bundle}/{MANIFEST}"
    status, out = verify(bundle, "--expect-sha256", "0" * 64)
    assert status == 1
    assert f"FAILED {MANIFEST}: SHA-256 {kept}, not the expected {'0' * 64}" in out
    raw = (bundle / MANIFEST).read_bytes()
    (bundle / MANIFEST).write_bytes(raw.replace(b'"--prr-snapshot', b'"--prr-snapshoT', 1))
    assert verify_bundle(bundle).problems == ()  # without the digest, it looks intact
    status, out = verify(bundle, "--expect-sha256", kept)
    assert status == 1
    assert f"FAILED {MANIFEST}: SHA-256 {digest_of(bundle)}, not the expected {kept}" in out


@pytest.mark.parametrize("name", ["bundle/manifest.json", "odd\\dir/manifest.json", "a\nb/m"])
def test_the_digest_line_is_sha256sum_s(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.parent.mkdir(parents=True)
    path.write_bytes(b"{}\n")
    printed = subprocess.run(
        ["sha256sum", name], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    assert sha256sum_line(hashlib.sha256(b"{}\n").hexdigest(), name) + "\n" == printed


def old_format(bundle: Path) -> None:
    """Turn a bundle's manifest into one of pytest-prr 0.1.0 (prr-evidence/1)."""
    manifest = json.loads((bundle / MANIFEST).read_text())
    manifest.update(schema="prr-evidence/1", manifest_sha256="0" * 64)
    manifest["tool"]["version"] = "0.1.0"
    (bundle / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


def test_an_old_format_manifest_is_named_as_such(made: dict[str, Any], tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    write_bundle(bundle, **made)
    old_format(bundle)
    status, out = verify(bundle)
    assert status == 1
    assert (
        f"FAILED {MANIFEST}: an old-format manifest (prr-evidence/1, written by pytest-prr "
        "0.1.0), whose integrity rested on a digest of itself that this pytest-prr "
        "(prr-evidence/2) no longer checks: verify it with the pytest-prr that wrote it"
    ) in out
    assert out.startswith(f"{digest_of(bundle)}  ")
    write_bundle(bundle, **made)  # a new run replaces it like any previous bundle
    assert verify_bundle(bundle).problems == ()


def test_verify_usage_errors(tmp_path: Path) -> None:
    status, out = verify(tmp_path, "--expect-sha256", "abc")
    assert status == 2
    assert "--expect-sha256 abc: not a SHA-256 (64 hexadecimal digits)" in out
    with pytest.raises(EvidenceError, match="no such directory"):
        verify_bundle(tmp_path / "absent")
