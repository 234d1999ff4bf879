"""Signing a manifest with an asymmetric AWS KMS key, and reading the key to verify one.

The private key never leaves KMS: pytest-prr reads the public key (``kms:GetPublicKey``, a
read) and asks KMS to sign the manifest's SHA-256 (``kms:Sign`` with ``MessageType=DIGEST``,
since a manifest is larger than the 4,096 bytes KMS signs whole). ``kms:Sign`` is the second
write pytest-prr may make, on a session whose guard admits it and nothing else. Only the key
specs whose signatures standard tools verify over the manifest's bytes are taken.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from cryptography.hazmat.primitives import serialization

from pytest_prr.evidence.signing import PublicKey, Signer, SigningError, supported_public_key

#: Per key spec, the signing algorithm whose output is a standard signature over SHA-256:
#: ECDSA in DER, RSA in PKCS#1 v1.5 (:mod:`pytest_prr.evidence.signing`).
SIGNING_ALGORITHMS = {
    "ECC_NIST_P256": "ECDSA_SHA_256",
    "RSA_2048": "RSASSA_PKCS1_V1_5_SHA_256",
    "RSA_3072": "RSASSA_PKCS1_V1_5_SHA_256",
    "RSA_4096": "RSASSA_PKCS1_V1_5_SHA_256",
}


@dataclass(frozen=True)
class KmsKey:
    """An asymmetric KMS key pytest-prr signs with: its ARN, public key and algorithm."""

    arn: str
    public_key: PublicKey
    signing_algorithm: str


def kms_client(session: Any, key_id: str) -> Any:
    """A KMS client of ``session`` in the key's region: an ARN names it; an id or alias is
    looked up in the session's region."""
    if key_id.startswith("arn:"):
        return session.client("kms", region_name=key_id.split(":")[3])
    return session.client("kms")


def read_kms_key(client: Any, key_id: str) -> KmsKey:
    """``key_id`` (an id, ARN, alias name or alias ARN) read with ``kms:GetPublicKey``;
    :class:`SigningError` when it cannot be read or is not a key pytest-prr signs with."""
    name = f"KMS key {key_id}"
    try:
        response = client.get_public_key(KeyId=key_id)
        arn = response["KeyId"]
        if not arn.startswith("arn:"):  # moto answers with the key's id, KMS with its ARN
            arn = client.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    except (ClientError, BotoCoreError) as error:
        raise SigningError(name, f"kms:GetPublicKey failed: {error}") from error
    # moto names the spec only by its deprecated name, which KMS still sends beside KeySpec
    usage = response.get("KeyUsage")
    spec = response.get("KeySpec") or response.get("CustomerMasterKeySpec")
    if usage != "SIGN_VERIFY":
        raise SigningError(name, f"a key for {usage}, not for SIGN_VERIFY")
    algorithm = SIGNING_ALGORITHMS.get(spec or "")
    if algorithm is None:
        specs = ", ".join(SIGNING_ALGORITHMS)
        raise SigningError(name, f"its key spec is {spec}; use one of {specs}")
    if algorithm not in response.get("SigningAlgorithms", [algorithm]):
        raise SigningError(name, f"the key does not offer {algorithm}")
    public_key = supported_public_key(serialization.load_der_public_key(response["PublicKey"]))
    return KmsKey(arn, public_key, algorithm)


def kms_signer(session: Any, key_id: str) -> Signer:
    """A signer with the KMS key ``key_id``, read now so that a key that cannot sign stops
    the run before its tests; ``session`` must admit ``kms:Sign`` (``EVIDENCE_SIGNATURE``)."""
    client = kms_client(session, key_id)
    key = read_kms_key(client, key_id)

    def sign(manifest: bytes) -> bytes:
        try:
            response = client.sign(
                KeyId=key.arn,
                Message=hashlib.sha256(manifest).digest(),
                MessageType="DIGEST",
                SigningAlgorithm=key.signing_algorithm,
            )
        except (ClientError, BotoCoreError) as error:
            raise SigningError(f"KMS key {key_id}", f"kms:Sign failed: {error}") from error
        return response["Signature"]

    return Signer(
        name=f"KMS key {key_id}",
        key=key.arn,
        public_key=key.public_key,
        sign_bytes=sign,
        mismatch_hint=" (does the endpoint sign MessageType=DIGEST as KMS does?)",
    )
