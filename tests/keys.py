"""Signing keys made in tests, as PEM files, and ``openssl`` as an auditor runs it."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa

#: The key types pytest-prr signs with (RSA at two sizes).
KEY_TYPES = ("ed25519", "ecdsa-p256", "rsa-2048", "rsa-3072")


def private_key(kind: str) -> Any:
    """A new key: one of :data:`KEY_TYPES`, or ``ecdsa-p384``, ``dsa``, ``rsa-1024``."""
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "ecdsa-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ecdsa-p384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "dsa":
        return dsa.generate_private_key(2048)
    return rsa.generate_private_key(65537, int(kind.removeprefix("rsa-")))


def write_pem(path: Path, key: Any, passphrase: bytes | None = None) -> Path:
    encryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    return path


def write_public_pem(path: Path, key: Any) -> Path:
    """``key``'s public key (``key`` may be a private or a public key)."""
    public = key.public_key() if hasattr(key, "public_key") else key
    path.write_bytes(
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


def key_pair(folder: Path, kind: str, name: str | None = None) -> tuple[Path, Path]:
    """A new key of ``kind`` as ``NAME.pem`` and ``NAME.pub.pem`` in ``folder``."""
    key = private_key(kind)
    name = name or kind
    return write_pem(folder / f"{name}.pem", key), write_public_pem(folder / f"{name}.pub.pem", key)


#: The commands the README gives an auditor who does not run pytest-prr, for Ed25519 and for
#: ECDSA and RSA keys, as it writes them.
OPENSSL_COMMANDS = {
    "ed25519": "openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in DIR/manifest.json "
    "-sigfile DIR/manifest.json.sig",
    "other": "openssl dgst -sha256 -verify pub.pem -signature DIR/manifest.json.sig "
    "DIR/manifest.json",
}


def openssl_verifies(kind: str, public: Path, data: Path, signature: Path) -> bool:
    """Whether :data:`OPENSSL_COMMANDS` accepts ``signature`` of ``data``."""
    given = {"pub.pem": public, "DIR/manifest.json": data, "DIR/manifest.json.sig": signature}
    template = OPENSSL_COMMANDS["ed25519" if kind == "ed25519" else "other"]
    command = [str(given.get(word, word)) for word in shlex.split(template)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode in (0, 1), result.stderr
    said = "Signature Verified Successfully" if kind == "ed25519" else "Verified OK"
    return result.returncode == 0 and said in result.stdout
