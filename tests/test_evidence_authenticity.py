"""What ties a bundle to its author: the manifest's SHA-256 an auditor keeps, and a signature.

A signed bundle verifies with its key and with nothing else, and any byte changed, a
signature removed or a manifest other than the one whose SHA-256 was kept fails ``prr
verify``, for every key type. The plugin's side is in test_plugin_signing.py."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from documents import CATALOG, TUNABLES, account_run, account_snapshot, document
from keys import KEY_TYPES, key_pair, openssl_verifies
from pytest_prr.__about__ import __version__
from pytest_prr.checks.evaluation import builtin_controls
from pytest_prr.commands.cli import main
from pytest_prr.evidence import EvidenceError, verify_bundle, write_bundle
from pytest_prr.evidence.bundle import sha256sum_line
from pytest_prr.evidence.signing import (
    NOT_CHECKED,
    Signer,
    SigningError,
    TrustedKey,
    load_public_key,
    pem_signer,
)
from pytest_prr.snapshot.store import save_snapshot

MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What write_bundle takes: the results of every built-in control over a snapshot (and
    no user test's, which would need a JUnit XML to show it ran)."""
    folder = tmp_path_factory.mktemp("made")
    snapshot = account_snapshot("123456789012")
    digest = save_snapshot(snapshot, folder / "snapshot.json")
    run = account_run(snapshot, user_test_status=None)
    run.use_stored_snapshot(folder / "snapshot.json", snapshot, digest)
    return {
        "document": document(run, tool_version=__version__),
        "snapshot_path": folder / "snapshot.json",
        "command_line": ["pytest", "--prr-snapshot=snapshot.json"],
        "tunables": TUNABLES,
        "selected_controls": builtin_controls(CATALOG),
    }


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Per key type a key pair, and another one of the same type (``<kind>-other``)."""
    folder = tmp_path_factory.mktemp("keys")
    pairs = {kind: key_pair(folder, kind) for kind in KEY_TYPES}
    pairs |= {f"{kind}-other": key_pair(folder, kind, f"{kind}-other") for kind in KEY_TYPES}
    return pairs


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


@pytest.mark.parametrize("kind", KEY_TYPES)
def test_a_signed_bundle_verifies_with_its_key_and_with_no_other(
    made: dict[str, Any], keys: dict[str, tuple[Path, Path]], kind: str, tmp_path: Path
) -> None:
    private, public = keys[kind]
    written = write_bundle(tmp_path / "bundle", signer=pem_signer(private), **made)
    bundle = tmp_path / "bundle"
    manifest = json.loads((bundle / MANIFEST).read_text())
    signer = pem_signer(private)
    assert manifest["signature"] == signer.entry()
    assert written.manifest_sha256 == digest_of(bundle)
    assert written.signed_with == f"{signer.algorithm} key {signer.key}"
    assert openssl_verifies(kind, public, bundle / MANIFEST, bundle / SIGNATURE)

    status, out = verify(bundle, "--public-key", str(public), "--expect-sha256", digest_of(bundle))
    assert status == 0, out
    assert out.splitlines()[:2] == [
        f"{digest_of(bundle)}  {bundle}/{MANIFEST}",
        f"signature: signed with {signer.algorithm} key {signer.key}; verified with {public}",
    ]
    other_type = KEY_TYPES[(KEY_TYPES.index(kind) + 1) % len(KEY_TYPES)]
    for wrong in (keys[f"{kind}-other"][1], keys[other_type][1]):
        status, out = verify(bundle, "--public-key", str(wrong))
        assert status == 1, out
        assert f"FAILED {SIGNATURE}: does not verify with {wrong} (" in out


@pytest.mark.parametrize("kind", KEY_TYPES)
def test_one_altered_byte_of_the_manifest_fails_the_signature(
    made: dict[str, Any], keys: dict[str, tuple[Path, Path]], kind: str, tmp_path: Path
) -> None:
    """The change the kept digest shows (above), the signature shows too."""
    private, public = keys[kind]
    bundle = tmp_path / "bundle"
    write_bundle(bundle, signer=pem_signer(private), **made)
    raw = (bundle / MANIFEST).read_bytes()
    (bundle / MANIFEST).write_bytes(raw.replace(b'"--prr-snapshot', b'"--prr-snapshoT', 1))
    assert (
        len(raw) == len((bundle / MANIFEST).read_bytes())
        and raw != (bundle / MANIFEST).read_bytes()
    )
    assert verify_bundle(bundle).problems == ()  # without a key or a digest, it looks intact
    status, out = verify(bundle, "--public-key", str(public))
    assert status == 1 and f"FAILED {SIGNATURE}: does not verify with {public}" in out
    assert not openssl_verifies(kind, public, bundle / MANIFEST, bundle / SIGNATURE)


@pytest.mark.parametrize("kind", KEY_TYPES)
def test_a_missing_signature_or_another_digest_fails(
    made: dict[str, Any], keys: dict[str, tuple[Path, Path]], kind: str, tmp_path: Path
) -> None:
    private, public = keys[kind]
    bundle = tmp_path / "bundle"
    write_bundle(bundle, signer=pem_signer(private), **made)
    status, out = verify(bundle, "--expect-sha256", "0" * 64)
    assert status == 1 and f"not the expected {'0' * 64}" in out
    status, out = verify(bundle, "--expect-sha256", digest_of(bundle).upper())
    assert status == 0, out
    assert NOT_CHECKED in out  # signed, but no key was given
    (bundle / SIGNATURE).unlink()
    for options in ((), ("--public-key", str(public))):
        status, out = verify(bundle, *options)
        assert status == 1, out
        assert f"FAILED {SIGNATURE}: missing: {MANIFEST} records a signature (signed with " in out


def test_an_unsigned_bundle_fails_when_a_key_is_expected(
    made: dict[str, Any], keys: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle"
    written = write_bundle(bundle, **made)
    assert written.signed_with is None and "signature" not in json.loads(
        (bundle / MANIFEST).read_text()
    )
    public = keys["ed25519"][1]
    status, out = verify(bundle, "--public-key", str(public))
    assert status == 1
    assert f"FAILED {SIGNATURE}: missing: {public} was given, but the bundle is not signed" in out
    signed_elsewhere = tmp_path / "signed"
    write_bundle(signed_elsewhere, signer=pem_signer(keys["ed25519"][0]), **made)
    shutil.copyfile(signed_elsewhere / SIGNATURE, bundle / SIGNATURE)
    status, out = verify(bundle)
    assert status == 1 and f"FAILED {SIGNATURE}: added: {MANIFEST} records no signature" in out


def test_a_failed_signature_leaves_the_previous_bundle_or_none(
    made: dict[str, Any], keys: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    signer = pem_signer(keys["ecdsa-p256"][0])

    def refused(manifest: bytes) -> bytes:
        raise SigningError("KMS key alias/evidence", "kms:Sign failed: AccessDeniedException")

    failing = Signer(signer.name, signer.key, signer.public_key, refused)
    with pytest.raises(SigningError, match="alias/evidence: kms:Sign failed"):
        write_bundle(tmp_path / "new", signer=failing, **made)
    assert list(tmp_path.iterdir()) == []
    write_bundle(tmp_path / "bundle", signer=signer, **made)
    before = digest_of(tmp_path / "bundle")
    with pytest.raises(SigningError):
        write_bundle(tmp_path / "bundle", signer=failing, **made)
    assert digest_of(tmp_path / "bundle") == before
    trusted = TrustedKey(load_public_key(keys["ecdsa-p256"][1]), "pub.pem")
    assert verify_bundle(tmp_path / "bundle", trusted=trusted).problems == ()
    write_bundle(tmp_path / "bundle", **made)  # a signed bundle is replaced by an unsigned one
    assert not (tmp_path / "bundle" / SIGNATURE).exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bundle"]


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


def test_verify_usage_errors(keys: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    bundle = str(tmp_path)
    public = str(keys["ed25519"][1])
    for options, message in [
        (("--expect-sha256", "abc"), "--expect-sha256 abc: not a SHA-256 (64 hexadecimal digits)"),
        (("--profile", "prod"), "--profile, --region and --endpoint-url only apply with --kms-key"),
        (
            ("--kms-key", "k", "--profile", "p", "--endpoint-url", "http://127.0.0.1:9"),
            "give either --profile or --endpoint-url, not both",
        ),
        (("--public-key", str(tmp_path / "absent.pem")), "absent.pem: cannot be read"),
        (("--public-key", str(keys["ed25519"][0])), "not a PEM public key"),
    ]:
        status, out = verify(Path(bundle), *options)
        assert (status, message in out) == (2, True), out
    with pytest.raises(SystemExit) as exit_:
        main(["verify", bundle, "--public-key", public, "--kms-key", "alias/evidence"])
    assert exit_.value.code == 2
    with pytest.raises(EvidenceError, match="no such directory"):
        verify_bundle(tmp_path / "absent")
