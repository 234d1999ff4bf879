"""Signatures over a manifest: each key type signs in the format ``openssl`` verifies, a key
that cannot sign says which and why, and KMS signs the manifest's digest (on moto, through
pytest-prr's own server, which signs digests as KMS does)."""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from keys import (
    KEY_TYPES,
    OPENSSL_COMMANDS,
    key_pair,
    openssl_verifies,
    private_key,
    write_pem,
    write_public_pem,
)
from pytest_prr.accounts.guard import EVIDENCE_SIGNATURE, install_read_only_guard
from pytest_prr.accounts.motoserver import MotoServer
from pytest_prr.accounts.sessions import EMULATOR_CREDENTIALS, TargetSession
from pytest_prr.evidence.kms import kms_signer, read_kms_key
from pytest_prr.evidence.signing import (
    NOT_CHECKED,
    PASSPHRASE_ENV,
    Signer,
    SigningError,
    TrustedKey,
    check_signature,
    fingerprint,
    load_public_key,
    pem_signer,
    verifies,
)

#: Larger than the 4,096 bytes KMS signs whole, as every manifest is.
MANIFEST = b'{\n  "schema": "prr-evidence/2",\n  "files": {}\n}\n' + b" " * 5000 + b"\n"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Per key type, a private and a public key PEM file."""
    folder = tmp_path_factory.mktemp("keys")
    return {kind: key_pair(folder, kind) for kind in KEY_TYPES}


@pytest.fixture(scope="module")
def signed(keys: dict[str, tuple[Path, Path]]) -> dict[str, tuple[Signer, bytes]]:
    """Per key type, its signer and its signature over :data:`MANIFEST`."""
    signers = {kind: pem_signer(private) for kind, (private, _) in keys.items()}
    return {kind: (signer, signer.sign(MANIFEST)) for kind, signer in signers.items()}


@pytest.mark.parametrize("kind", KEY_TYPES)
def test_openssl_verifies_each_key_type_s_signature(
    keys: dict[str, tuple[Path, Path]], kind: str, tmp_path: Path
) -> None:
    private, public = keys[kind]
    signer = pem_signer(private)
    (tmp_path / "manifest.json").write_bytes(MANIFEST)
    (tmp_path / "manifest.json.sig").write_bytes(signer.sign(MANIFEST))
    assert openssl_verifies(
        kind, public, tmp_path / "manifest.json", tmp_path / "manifest.json.sig"
    )
    (tmp_path / "manifest.json").write_bytes(MANIFEST.replace(b"prr-evidence", b"prr-evidencf"))
    assert not openssl_verifies(
        kind, public, tmp_path / "manifest.json", tmp_path / "manifest.json.sig"
    )


def test_the_readme_gives_these_commands() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for command in OPENSSL_COMMANDS.values():
        assert f"$ {command}" in readme
    assert "openssl pkey -pubin -in pub.pem -outform DER | sha256sum" in readme


@pytest.mark.parametrize("kind", KEY_TYPES)
def test_the_recorded_fingerprint_is_openssl_s(
    keys: dict[str, tuple[Path, Path]], kind: str
) -> None:
    private, public = keys[kind]
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-in", str(public), "-outform", "DER"],
        capture_output=True,
        check=True,
    ).stdout
    entry = pem_signer(private).entry()
    assert entry["public_key_sha256"] == hashlib.sha256(der).hexdigest()
    assert entry["key"] == f"SHA256:{entry['public_key_sha256']}"
    assert entry["file"] == "manifest.json.sig"
    assert fingerprint(load_public_key(public)) == entry["public_key_sha256"]


def test_the_signature_formats(signed: dict[str, tuple[Signer, bytes]]) -> None:
    """Ed25519 raw, ECDSA in DER (a SEQUENCE), RSA as long as its modulus."""
    signatures = {kind: signature for kind, (_, signature) in signed.items()}
    assert len(signatures["ed25519"]) == 64
    assert signatures["ecdsa-p256"][0] == 0x30 and 68 <= len(signatures["ecdsa-p256"]) <= 72
    assert len(signatures["rsa-2048"]) == 256 and len(signatures["rsa-3072"]) == 384
    algorithms = {kind: signer.algorithm for kind, (signer, _) in signed.items()}
    assert algorithms == {
        "ed25519": "ed25519",
        "ecdsa-p256": "ecdsa-p256-sha256",
        "rsa-2048": "rsa-pkcs1v15-sha256",
        "rsa-3072": "rsa-pkcs1v15-sha256",
    }


def test_an_encrypted_key_takes_its_passphrase_from_the_environment(tmp_path: Path) -> None:
    key = write_pem(tmp_path / "k.pem", private_key("ed25519"), passphrase=b"s3cret")
    with pytest.raises(SigningError, match=f"the key is encrypted: set {PASSPHRASE_ENV}"):
        pem_signer(key)
    with pytest.raises(
        SigningError, match=f"cannot be decrypted with the passphrase in {PASSPHRASE_ENV}"
    ):
        pem_signer(key, "wrong")
    signer = pem_signer(key, "s3cret")
    assert verifies(signer.public_key, MANIFEST, signer.sign(MANIFEST))
    plain = write_pem(tmp_path / "plain.pem", private_key("ed25519"))
    assert pem_signer(plain, "set for another key").algorithm == "ed25519"


@pytest.mark.parametrize(
    ("kind", "cause"),
    [
        ("rsa-1024", "an RSA key of 1024 bits; RSA keys need 2048 or more"),
        ("ecdsa-p384", "an ECDSA key on secp384r1; ECDSA keys must be P-256"),
        ("dsa", "a DSA key; use Ed25519, ECDSA P-256 or RSA (2048+ bits)"),
    ],
)
def test_a_key_of_the_wrong_type_is_refused_naming_it(
    tmp_path: Path, kind: str, cause: str
) -> None:
    key = write_pem(tmp_path / f"{kind}.pem", private_key(kind))
    with pytest.raises(SigningError) as refused:
        pem_signer(key)
    assert str(refused.value) == f"{key}: {cause}"
    public = write_public_pem(tmp_path / "pub.pem", private_key(kind))
    with pytest.raises(ValueError, match=re.escape(cause)):
        load_public_key(public)


def test_what_is_not_a_private_key_is_refused_naming_it(
    keys: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    with pytest.raises(SigningError, match="a public key; signing needs the private key"):
        pem_signer(keys["ed25519"][1])
    (tmp_path / "junk.pem").write_text("not a key\n")
    with pytest.raises(SigningError, match=r"junk.pem: not a PEM private key \("):
        pem_signer(tmp_path / "junk.pem")
    with pytest.raises(SigningError, match=r"absent.pem: cannot be read \(No such file"):
        pem_signer(tmp_path / "absent.pem")
    with pytest.raises(ValueError, match="not a PEM public key"):
        load_public_key(keys["ed25519"][0])


def test_a_signature_that_does_not_verify_is_never_returned(
    signed: dict[str, tuple[Signer, bytes]],
) -> None:
    signer, _ = signed["ecdsa-p256"]
    broken = Signer(
        name="broken", key=signer.key, public_key=signer.public_key, sign_bytes=lambda d: b"x" * 70
    )
    with pytest.raises(SigningError, match="broken: the signature made does not verify"):
        broken.sign(MANIFEST)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_change_to_any_byte_of_the_manifest_shows(
    signed: dict[str, tuple[Signer, bytes]], data: st.DataObject
) -> None:
    """What the manifest's self-digest promised, the signature keeps, for any key type."""
    signer, signature = signed[data.draw(st.sampled_from(KEY_TYPES))]
    raw = bytearray(MANIFEST)
    position = data.draw(st.integers(0, len(raw) - 1))
    raw[position] ^= data.draw(st.integers(1, 255))
    trusted = TrustedKey(signer.public_key, "pub.pem")
    problems, _, _ = check_signature(bytes(raw), signature, signer.entry(), trusted)
    assert [where for where, _ in problems] == ["manifest.json.sig"], f"byte {position} unnoticed"
    assert check_signature(MANIFEST, signature, signer.entry(), trusted)[0] == []


def test_what_the_check_says_of_each_case(keys: dict[str, tuple[Path, Path]]) -> None:
    signer = pem_signer(keys["ed25519"][0])
    other = TrustedKey(load_public_key(keys["ecdsa-p256"][1]), "other.pem")
    right = TrustedKey(signer.public_key, "right.pem")
    signature = signer.sign(MANIFEST)
    entry = signer.entry()
    signed = f"signed with ed25519 key {signer.key}"
    assert check_signature(MANIFEST, None, None, None) == ([], [], "not signed")
    assert check_signature(MANIFEST, signature, None, None)[0] == [
        ("manifest.json.sig", "added: manifest.json records no signature")
    ]
    assert check_signature(MANIFEST, None, None, right)[0] == [
        ("manifest.json.sig", "missing: right.pem was given, but the bundle is not signed")
    ]
    assert check_signature(MANIFEST, None, entry, right)[0] == [
        ("manifest.json.sig", f"missing: manifest.json records a signature ({signed})")
    ]
    assert check_signature(MANIFEST, signature, entry, None) == (
        [],
        [NOT_CHECKED],
        f"{signed}; not checked",
    )
    assert NOT_CHECKED == "signed, signature not checked: pass --public-key or --kms-key"
    assert check_signature(MANIFEST, signature, entry, right) == (
        [],
        [],
        f"{signed}; verified with right.pem",
    )
    ((where, what),) = check_signature(MANIFEST, signature, entry, other)[0]
    assert where == "manifest.json.sig"
    assert what.startswith("does not verify with other.pem (ecdsa-p256-sha256 key SHA256:")
    assert what.endswith(f"(it records {signer.key})")
    misnamed = {**entry, "public_key_sha256": "0" * 64}
    assert check_signature(MANIFEST, signature, misnamed, right)[0] == [
        ("manifest.json", f"records the key {signer.key}, but ed25519 key {signer.key} signed it")
    ]


# KMS ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto_kms() -> Iterator[str]:
    server = MotoServer()
    yield server.start()
    server.stop()


def signing_session(endpoint_url: str) -> TargetSession:
    """What the plugin opens for --prr-sign-kms on an endpoint account."""
    session = TargetSession(
        endpoint_url=endpoint_url, region_name="us-east-1", **EMULATOR_CREDENTIALS
    )
    install_read_only_guard(session, admit={EVIDENCE_SIGNATURE})
    return session


def create_kms_key(endpoint_url: str, spec: str, usage: str = "SIGN_VERIFY") -> dict[str, Any]:
    kms = boto3.client(
        "kms", region_name="us-east-1", endpoint_url=endpoint_url, **EMULATOR_CREDENTIALS
    )
    return kms.create_key(KeyUsage=usage, KeySpec=spec)["KeyMetadata"]


@pytest.mark.parametrize("spec", ["ECC_NIST_P256", "RSA_2048", "RSA_3072", "RSA_4096"])
def test_kms_signs_the_manifest_s_digest_as_openssl_verifies(
    moto_kms: str, spec: str, tmp_path: Path
) -> None:
    key = create_kms_key(moto_kms, spec)
    signer = kms_signer(signing_session(moto_kms), key["KeyId"])
    assert signer.key == key["Arn"]
    assert signer.algorithm == (
        "ecdsa-p256-sha256" if spec.startswith("ECC") else "rsa-pkcs1v15-sha256"
    )
    (tmp_path / "manifest.json").write_bytes(MANIFEST)
    (tmp_path / "manifest.json.sig").write_bytes(signer.sign(MANIFEST))
    public = tmp_path / "pub.pem"
    public.write_bytes(
        signer.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    assert openssl_verifies(
        "kms", public, tmp_path / "manifest.json", tmp_path / "manifest.json.sig"
    )


def test_a_kms_key_that_cannot_sign_is_refused_naming_it(moto_kms: str) -> None:
    session = signing_session(moto_kms)
    encrypting = create_kms_key(moto_kms, "SYMMETRIC_DEFAULT", usage="ENCRYPT_DECRYPT")
    with pytest.raises(SigningError) as refused:
        kms_signer(session, encrypting["KeyId"])
    assert str(refused.value) == (
        f"KMS key {encrypting['KeyId']}: a key for ENCRYPT_DECRYPT, not for SIGN_VERIFY"
    )
    p384 = create_kms_key(moto_kms, "ECC_NIST_P384")
    with pytest.raises(
        SigningError, match="its key spec is ECC_NIST_P384; use one of ECC_NIST_P256"
    ):
        kms_signer(session, p384["Arn"])
    with pytest.raises(
        SigningError, match=r"KMS key alias/absent: kms:GetPublicKey failed: .*NotFound"
    ):
        kms_signer(session, "alias/absent")


def test_kms_denying_the_signature_is_a_signing_error_naming_the_key(moto_kms: str) -> None:
    """As AWS answers when the role may read the key but not sign with it."""
    key = create_kms_key(moto_kms, "ECC_NIST_P256")
    session = signing_session(moto_kms)
    client = session.client("kms")
    signer_session = _OneClient(client)
    signer = kms_signer(signer_session, key["Arn"])
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "sign",
            service_error_code="AccessDeniedException",
            service_message=f"not authorized to perform: kms:Sign on resource: {key['Arn']}",
            http_status_code=400,
        )
        with pytest.raises(SigningError) as denied:
            signer.sign(MANIFEST)
    assert str(denied.value).startswith(f"KMS key {key['Arn']}: kms:Sign failed: ")
    assert "AccessDeniedException" in str(denied.value)


class _OneClient:
    """A session stand-in that hands out one client, so a test can stub it."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def client(self, service: str, **kwargs: Any) -> Any:
        return self._client


def test_the_kms_key_is_read_for_verifying_too(moto_kms: str) -> None:
    key = create_kms_key(moto_kms, "RSA_2048")
    client = boto3.client(
        "kms", region_name="us-east-1", endpoint_url=moto_kms, **EMULATOR_CREDENTIALS
    )
    read = read_kms_key(client, key["Arn"])
    assert (read.arn, read.signing_algorithm) == (key["Arn"], "RSASSA_PKCS1_V1_5_SHA_256")
