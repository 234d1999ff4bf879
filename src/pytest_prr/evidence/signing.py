"""Detached signatures over ``manifest.json``, in the formats standard tools verify.

A SHA-256 shows that a file changed, not who changed it: whoever can rewrite a bundle can
rewrite its manifest too. A signature ties the manifest's exact bytes, and through its hashes
every file of the bundle, to the holder of a private key. ``manifest.json.sig`` holds it raw,
so that ``openssl`` verifies it without pytest-prr:

* Ed25519: the 64-byte signature (``openssl pkeyutl -verify -rawin``);
* ECDSA P-256: DER over SHA-256 (``openssl dgst -sha256 -verify``), as KMS's ``ECDSA_SHA_256``;
* RSA of 2048 bits or more: PKCS#1 v1.5 over SHA-256, as KMS's ``RSASSA_PKCS1_V1_5_SHA_256``.

The key signs through a :class:`Signer`: a PEM private key here, an AWS KMS key in
:mod:`pytest_prr.evidence.kms`. Both are checked before anything is run, and every signature
is verified before it is written, so a bundle never carries one that does not verify.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from pytest_prr.evidence.bundle import MANIFEST, SIGNATURE

#: The environment variable that holds the passphrase of an encrypted ``--prr-sign-key``: a
#: passphrase on the command line would be in the shell history and the process list.
PASSPHRASE_ENV = "PRR_SIGN_KEY_PASSPHRASE"
ED25519 = "ed25519"
ECDSA_P256 = "ecdsa-p256-sha256"
RSA_PKCS1 = "rsa-pkcs1v15-sha256"
#: NIST's floor for RSA signatures; shorter keys are refused for signing and for verifying.
MIN_RSA_BITS = 2048
#: What a bundle signed but not checked is reported as.
NOT_CHECKED = "signed, signature not checked: pass --public-key or --kms-key"

PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey


class SigningError(Exception):
    """A manifest that cannot be signed: ``key`` names the key as it was given, ``cause``
    says why, so that one line tells the operator what to fix."""

    def __init__(self, key: str, cause: str) -> None:
        super().__init__(f"{key}: {cause}")
        self.key = key
        self.cause = cause


def algorithm_of(public_key: Any) -> str:
    """The signature algorithm of ``public_key``; a ValueError for a key pytest-prr does not
    sign or verify with, saying which it takes."""
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return ED25519
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if isinstance(public_key.curve, ec.SECP256R1):
            return ECDSA_P256
        raise ValueError(f"an ECDSA key on {public_key.curve.name}; ECDSA keys must be P-256")
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size >= MIN_RSA_BITS:
            return RSA_PKCS1
        raise ValueError(
            f"an RSA key of {public_key.key_size} bits; RSA keys need {MIN_RSA_BITS} or more"
        )
    kind = type(public_key).__name__.removesuffix("PublicKey")
    raise ValueError(f"a {kind} key; use Ed25519, ECDSA P-256 or RSA ({MIN_RSA_BITS}+ bits)")


def fingerprint(public_key: PublicKey) -> str:
    """The SHA-256 of the key's DER SubjectPublicKeyInfo, as
    ``openssl pkey -pubin -in pub.pem -outform DER | sha256sum`` prints it."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def verifies(public_key: PublicKey, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s over ``data``, in the format of its type."""
    try:
        if isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, data)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class Signer:
    """A key ready to sign manifests. What the manifest records about it (:meth:`entry`) is
    known before the manifest is signed, so the manifest can name its own signer."""

    #: The key as the operator named it (a file, a KMS key id or alias), for messages.
    name: str
    #: The key as the manifest records it: the public key's fingerprint, or the KMS key ARN.
    key: str
    public_key: PublicKey
    sign_bytes: Callable[[bytes], bytes]
    #: Added to the message when a signature made does not verify (a KMS endpoint's doing).
    mismatch_hint: str = ""

    @property
    def algorithm(self) -> str:
        return algorithm_of(self.public_key)

    def entry(self) -> dict[str, str]:
        """The manifest's ``signature`` section."""
        return {
            "file": SIGNATURE,
            "algorithm": self.algorithm,
            "key": self.key,
            "public_key_sha256": fingerprint(self.public_key),
        }

    def describe(self) -> str:
        return f"{self.algorithm} key {self.key}"

    def sign(self, manifest: bytes) -> bytes:
        """The signature over ``manifest``, checked with the public key before it is
        returned: a signature that does not verify is never written."""
        signature = self.sign_bytes(manifest)
        if not verifies(self.public_key, manifest, signature):
            raise SigningError(
                self.name,
                f"the signature made does not verify with the key's public key{self.mismatch_hint}",
            )
        return signature


def pem_signer(path: Path, passphrase: str | None = None) -> Signer:
    """A signer with the PEM private key at ``path`` (PKCS#8 or traditional), decrypted with
    ``passphrase`` when it is encrypted; :class:`SigningError` names the file and the cause."""
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SigningError(name, f"cannot be read ({error.strerror})") from error
    encrypted = b"ENCRYPTED" in data
    if encrypted and passphrase is None:
        raise SigningError(name, f"the key is encrypted: set {PASSPHRASE_ENV} to its passphrase")
    try:
        private_key = serialization.load_pem_private_key(
            data, password=passphrase.encode() if encrypted and passphrase is not None else None
        )
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        if encrypted:
            cause = f"cannot be decrypted with the passphrase in {PASSPHRASE_ENV} ({error})"
        elif b"PUBLIC KEY" in data:
            cause = "a public key; signing needs the private key"
        else:
            cause = f"not a PEM private key ({error})"
        raise SigningError(name, cause) from error
    try:
        public_key = supported_public_key(private_key.public_key())
    except ValueError as error:
        raise SigningError(name, str(error)) from error

    def sign(data: bytes) -> bytes:
        if isinstance(private_key, ed25519.Ed25519PrivateKey):
            return private_key.sign(data)
        if isinstance(private_key, ec.EllipticCurvePrivateKey):
            return private_key.sign(data, ec.ECDSA(hashes.SHA256()))
        assert isinstance(private_key, rsa.RSAPrivateKey)
        return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    key = f"SHA256:{fingerprint(public_key)}"
    return Signer(name=name, key=key, public_key=public_key, sign_bytes=sign)


def load_public_key(path: Path) -> PublicKey:
    """The PEM public key at ``path``; a ValueError saying what is wrong with it."""
    try:
        public_key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as error:
        raise ValueError(f"{path}: cannot be read ({error.strerror})") from error
    except (ValueError, UnsupportedAlgorithm) as error:
        raise ValueError(f"{path}: not a PEM public key ({error})") from error
    try:
        return supported_public_key(public_key)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error


def supported_public_key(public_key: Any) -> PublicKey:
    """``public_key``, once :func:`algorithm_of` has found it one pytest-prr takes."""
    algorithm_of(public_key)
    return cast(PublicKey, public_key)


@dataclass(frozen=True)
class TrustedKey:
    """The public key an auditor verifies a bundle with, and how to name it in messages."""

    public_key: PublicKey
    name: str


def check_signature(
    raw: bytes,
    signature: bytes | None,
    declared: Mapping[str, Any] | None,
    trusted: TrustedKey | None,
) -> tuple[list[tuple[str, str]], list[str], str]:
    """Problems (the bundle file, what is wrong), notes, and what to say of the signature.

    ``raw`` is manifest.json's bytes, ``signature`` the signature file's (None when absent),
    ``declared`` the manifest's ``signature`` section (None when it records none) and
    ``trusted`` the key to verify with (None when the auditor gave none).
    """
    if declared is None:
        problems = []
        if signature is not None:
            problems.append((SIGNATURE, f"added: {MANIFEST} records no signature"))
        if trusted is not None:
            problems.append(
                (SIGNATURE, f"missing: {trusted.name} was given, but the bundle is not signed")
            )
        return problems, [], "not signed"
    signed = f"signed with {declared['algorithm']} key {declared['key']}"
    if signature is None:
        return [(SIGNATURE, f"missing: {MANIFEST} records a signature ({signed})")], [], signed
    if trusted is None:
        return [], [NOT_CHECKED], f"{signed}; not checked"
    given = f"{algorithm_of(trusted.public_key)} key SHA256:{fingerprint(trusted.public_key)}"
    if not verifies(trusted.public_key, raw, signature):
        what = (
            f"does not verify with {trusted.name} ({given}): {MANIFEST} was altered, or it "
            f"was signed with another key (it records {declared['key']})"
        )
        return [(SIGNATURE, what)], [], signed
    verified = f"{signed}; verified with {trusted.name}"
    if declared["public_key_sha256"] != fingerprint(trusted.public_key):
        return (
            [(MANIFEST, f"records the key {declared['key']}, but {given} signed it")],
            [],
            verified,
        )
    return [], [], verified
