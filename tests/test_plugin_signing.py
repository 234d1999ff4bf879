"""``--prr-sign-key`` and ``--prr-sign-kms`` through real pytest runs (pytester): the bundle
is signed, the run prints the manifest's SHA-256 as ``sha256sum`` does and records it in the
``--prr-json`` document, a key that cannot sign stops the run (exit 3) naming it, and KMS
signs through a session whose guard admits ``kms:Sign`` while every other session refuses it.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest

from keys import key_pair, private_key, write_pem
from pytest_prr.accounts.sessions import EMULATOR_CREDENTIALS
from pytest_prr.commands.cli import main
from pytest_prr.evidence.signing import PASSPHRASE_ENV
from pytest_prr.snapshot.store import save_snapshot
from snapshots import build_snapshot, make_function

MANIFEST = "bundle/manifest.json"
#: A user's test that tries to sign with the account's keys through the run's session.
SIGN_IN_A_TEST = """
import pytest
from pytest_prr.accounts.guard import WriteRefused

def test_a_test_cannot_sign_with_the_account_s_keys(prr_client):
    with pytest.raises(WriteRefused, match="kms:Sign was refused"):
        prr_client("kms").sign(
            KeyId="alias/evidence", Message=b"x" * 32, MessageType="DIGEST",
            SigningAlgorithm="ECDSA_SHA_256",
        )
"""


@pytest.fixture
def replay(project: Any) -> Any:
    """A project with a stored snapshot and one test of its own."""
    save_snapshot(build_snapshot([make_function("orders-api")]), project.path / "snapshot.json")
    project.tests("def test_the_team_s_own():\n    pass\n")
    return project


def sha256sum(project: Any, path: str = MANIFEST) -> str:
    """What ``sha256sum`` prints for ``path`` in the project."""
    return subprocess.run(
        ["sha256sum", path], cwd=project.path, capture_output=True, text=True, check=True
    ).stdout.rstrip("\n")


def digest(project: Any) -> str:
    return hashlib.sha256((project.path / MANIFEST).read_bytes()).hexdigest()


def verify(bundle: Path, *options: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``prr verify``'s exit status and output (only its own: a run's is dropped first)."""
    capsys.readouterr()
    status = main(["verify", str(bundle), *options])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


@pytest.mark.parametrize("workers", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_signed_run_prints_the_digest_and_records_it(
    replay: Any, workers: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, public = key_pair(replay.path, "ed25519", "signing")
    result, document = replay.run_json(
        "--prr-snapshot=snapshot.json",
        "--prr-evidence=bundle",
        "--prr-sign-key=signing.pem",
        *workers,
    )
    assert result.ret == 0, result.stdout.str()
    manifest = json.loads((replay.path / MANIFEST).read_text())
    key = manifest["signature"]["key"]
    result.stdout.fnmatch_lines(
        [
            f"prr: evidence bundle written to *bundle, signed with ed25519 key {key}; "
            "its manifest's SHA-256:",
            sha256sum(replay),
        ]
    )
    assert document["targets"][0]["evidence_manifest_sha256"] == digest(replay)
    bundled = json.loads((replay.path / "bundle/results.json").read_text())
    assert "evidence_manifest_sha256" not in bundled["targets"][0]
    status, out = verify(
        replay.path / "bundle",
        "--public-key",
        str(public),
        "--expect-sha256",
        digest(replay),
        capsys=capsys,
    )
    assert status == 0, out
    assert f"signature: signed with ed25519 key {key}; verified with {public}" in out


def test_an_encrypted_key_signs_with_the_passphrase_of_the_environment(
    replay: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = private_key("rsa-2048")
    write_pem(replay.path / "signing.pem", key, passphrase=b"correct horse")
    arguments = (
        "--prr-snapshot=snapshot.json",
        "--prr-evidence=bundle",
        "--prr-sign-key=signing.pem",
    )
    result = replay.run(*arguments)
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse")
    result = replay.run(*arguments)
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*, signed with rsa-pkcs1v15-sha256 key SHA256:*"])


@pytest.mark.parametrize("workers", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_key_that_cannot_sign_stops_the_run_before_its_tests(
    replay: Any, workers: list[str]
) -> None:
    write_pem(replay.path / "p384.pem", private_key("ecdsa-p384"))
    replay.tests("def test_never_runs():\n    raise AssertionError('ran')\n", name="test_never")
    result = replay.run(
        "--prr-snapshot=snapshot.json",
        "--prr-json=prr.json",
        "--prr-evidence=bundle",
        "--prr-sign-key=p384.pem",
        *workers,
    )
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    key = replay.path / "p384.pem"
    assert result.stderr.lines == [
        f"Exit: prr: cannot sign the evidence bundle with {key}: an ECDSA key on secp384r1; "
        "ECDSA keys must be P-256; nothing was run"
    ]
    assert not (replay.path / "bundle").exists() and not (replay.path / "prr.json").exists()
    assert "ran" not in result.stdout.str()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ("--prr-sign-key=k.pem",),
            "--prr-sign-key signs the evidence bundle's manifest: add --prr-evidence=DIR",
        ),
        (
            ("--prr-evidence=b", "--prr-sign-kms=alias/k"),
            "--prr-sign-kms signs with a key of the run's account, and a stored snapshot has "
            "no account session*",
        ),
        (
            ("--prr-evidence=b", "--prr-sign-key=k.pem", "--prr-sign-kms=alias/k"),
            "give either --prr-sign-key or --prr-sign-kms, not both",
        ),
    ],
)
def test_signing_usage_errors(replay: Any, options: tuple[str, ...], message: str) -> None:
    result = replay.run("--prr-snapshot=snapshot.json", *options)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}"])


# KMS ------------------------------------------------------------------------------------

SEED_A_SIGNING_KEY = """
from cryptography.hazmat.primitives import serialization

def pytest_prr_seed_account(session, account):
    kms = session.client("kms")
    key = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="{spec}")["KeyMetadata"]
    kms.create_alias(AliasName="alias/evidence", TargetKeyId=key["KeyId"])
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=key["KeyId"])["PublicKey"])
    with open("kms.pub.pem", "wb") as file:
        file.write(public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ))
    with open("kms.arn", "w") as file:
        file.write(key["Arn"])
"""


@pytest.mark.parametrize("spec", ["ECC_NIST_P256", "RSA_2048"])
def test_the_moto_account_s_kms_key_signs_the_bundle(
    project: Any, spec: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """moto signs with every key spec pytest-prr takes (RSA_3072 and RSA_4096 are signed
    and checked with openssl in test_signing); pytest-prr's moto server signs the digest."""
    project.conftest(SEED_A_SIGNING_KEY.replace("{spec}", spec))
    project.tests("def test_the_team_s_own():\n    pass\n")
    result, document = project.run_json(
        "--prr-account=moto", "--prr-evidence=bundle", "--prr-sign-kms=alias/evidence"
    )
    assert result.ret == 0, result.stdout.str()
    arn = (project.path / "kms.arn").read_text()
    manifest = json.loads((project.path / MANIFEST).read_text())
    assert manifest["signature"]["key"] == arn
    algorithm = "ecdsa-p256-sha256" if spec.startswith("ECC") else "rsa-pkcs1v15-sha256"
    result.stdout.fnmatch_lines(
        [f"*bundle, signed with {algorithm} key {arn}; *", sha256sum(project)]
    )
    assert document["targets"][0]["evidence_manifest_sha256"] == digest(project)
    status, out = verify(
        project.path / "bundle", "--public-key", str(project.path / "kms.pub.pem"), capsys=capsys
    )
    assert status == 0, out


def kms_key(endpoint_url: str, spec: str = "ECC_NIST_P256") -> str:
    kms = boto3.client(
        "kms", region_name="us-east-1", endpoint_url=endpoint_url, **EMULATOR_CREDENTIALS
    )
    return kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec=spec)["KeyMetadata"]["Arn"]


def test_an_endpoint_account_signs_through_its_one_signing_session(
    project: Any, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The run's sessions refuse kms:Sign (a test of the run tries); the signing session
    admits it; ``prr verify --kms-key`` reads the public key from the emulator."""
    arn = kms_key(moto_endpoint)
    project.endpoint_account(moto_endpoint)
    project.tests(SIGN_IN_A_TEST)
    result = project.run("--prr-account=local", "--prr-evidence=bundle", f"--prr-sign-kms={arn}")
    result.assert_outcomes(passed=1)
    assert result.ret == 0
    bundle = project.path / "bundle"
    status, out = verify(bundle, "--kms-key", arn, "--endpoint-url", moto_endpoint, capsys=capsys)
    assert status == 0, out
    assert out.splitlines()[:2] == [
        f"{digest(project)}  {bundle}/manifest.json",
        f"signature: signed with ecdsa-p256-sha256 key {arn}; verified with KMS key {arn}",
    ]
    other = kms_key(moto_endpoint, "RSA_2048")
    status, out = verify(bundle, "--kms-key", other, "--endpoint-url", moto_endpoint, capsys=capsys)
    assert status == 1 and f"FAILED manifest.json.sig: does not verify with KMS key {other}" in out
    absent = ("--kms-key", "alias/absent", "--endpoint-url", moto_endpoint)
    status, out = verify(bundle, *absent, capsys=capsys)
    assert (status, out) == (2, "prr verify: KMS key alias/absent: You must specify a region.\n")
    status, out = verify(bundle, *absent, "--region", "us-east-1", capsys=capsys)
    assert status == 2 and "KMS key alias/absent: kms:GetPublicKey failed" in out


RESET_THE_ACCOUNT_AT_THE_END = """
import urllib.request

def pytest_sessionfinish(session):
    urllib.request.urlopen(urllib.request.Request("{endpoint}/moto-api/reset", method="POST"))
"""


def test_kms_refusing_to_sign_fails_the_run_and_writes_no_bundle(
    project: Any, moto_endpoint: str
) -> None:
    """The key is gone by the time the bundle is signed (the account was reset after the
    tests): one line names the key and the cause; the results are still written."""
    arn = kms_key(moto_endpoint)
    project.endpoint_account(moto_endpoint)
    project.conftest(RESET_THE_ACCOUNT_AT_THE_END.replace("{endpoint}", moto_endpoint))
    project.tests("def test_the_team_s_own():\n    pass\n")
    result, document = project.run_json(
        "--prr-account=local", "--prr-evidence=bundle", f"--prr-sign-kms={arn}"
    )
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    failed = [line for line in result.stdout.lines if "cannot sign" in line]
    assert len(failed) == 1
    assert failed[0].startswith(
        f"prr: cannot sign the evidence bundle with KMS key {arn}: kms:Sign failed: "
        "An error occurred (NotFoundException)"
    )
    assert failed[0].endswith("; no bundle written")
    assert not (project.path / "bundle").exists()
    assert [p.name for p in project.path.iterdir() if p.name.startswith(".bundle")] == []
    assert "evidence_manifest_sha256" not in document["targets"][0]
