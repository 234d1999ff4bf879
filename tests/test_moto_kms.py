"""pytest-prr's moto server signs a KMS ``MessageType=DIGEST`` request as KMS does: the digest
as given, so the signature verifies over the message whose digest was sent. moto itself
hashes the digest again (getmoto/moto#10202)."""

from __future__ import annotations

import hashlib
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from moto import mock_aws

from pytest_prr.accounts.sessions import EMULATOR_CREDENTIALS

MESSAGE = b"manifest bytes, larger than KMS signs whole" * 200
ALGORITHMS = {"ECC_NIST_P256": "ECDSA_SHA_256", "RSA_2048": "RSASSA_PKCS1_V1_5_SHA_256"}


def kms(endpoint_url: str | None = None) -> Any:
    return boto3.client(
        "kms", region_name="us-east-1", endpoint_url=endpoint_url, **EMULATOR_CREDENTIALS
    )


def verifies(client: Any, key_id: str, signature: bytes, message: bytes) -> bool:
    public = serialization.load_der_public_key(client.get_public_key(KeyId=key_id)["PublicKey"])
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        else:
            public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def sign_digest(client: Any, key_id: str, algorithm: str, digest: bytes) -> bytes:
    return client.sign(
        KeyId=key_id, Message=digest, MessageType="DIGEST", SigningAlgorithm=algorithm
    )["Signature"]


@pytest.mark.parametrize("spec", ALGORITHMS)
def test_the_server_signs_the_digest_as_given(moto_endpoint: str, spec: str) -> None:
    client = kms(moto_endpoint)
    key = client.create_key(KeyUsage="SIGN_VERIFY", KeySpec=spec)["KeyMetadata"]["Arn"]
    signature = sign_digest(client, key, ALGORITHMS[spec], hashlib.sha256(MESSAGE).digest())
    assert verifies(client, key, signature, MESSAGE)
    raw = client.sign(KeyId=key, Message=b"short", SigningAlgorithm=ALGORITHMS[spec])
    assert verifies(client, key, raw["Signature"], b"short")  # RAW is moto's own, and right


def test_the_server_refuses_what_kms_refuses(moto_endpoint: str) -> None:
    client = kms(moto_endpoint)
    key = client.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]
    with pytest.raises(ClientError, match="Digest is invalid length for algorithm ECDSA_SHA_256"):
        sign_digest(client, key["KeyId"], "ECDSA_SHA_256", b"x" * 31)
    with pytest.raises(ClientError, match="NotFoundException"):
        sign_digest(client, "alias/absent", "ECDSA_SHA_256", b"x" * 32)
    with pytest.raises(ClientError, match="SigningAlgorithm"):
        sign_digest(client, key["KeyId"], "RSASSA_PKCS1_V1_5_SHA_256", b"x" * 32)


def test_moto_itself_signs_the_digest_of_a_digest() -> None:
    """Why the server signs digests itself: once this fails, moto signs them as KMS does
    and ``motoserver._sign_digests`` can go."""
    with mock_aws():
        client = kms()
        key = client.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]
        digest = hashlib.sha256(MESSAGE).digest()
        signature = sign_digest(client, key["Arn"], "ECDSA_SHA_256", digest)
        assert not verifies(client, key["Arn"], signature, MESSAGE)
        assert verifies(client, key["Arn"], signature, digest)
