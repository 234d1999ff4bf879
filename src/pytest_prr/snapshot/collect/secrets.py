"""Secrets Manager secrets referenced by ARN in functions' environments, for DAT-01.

References are found by the redaction module's own rule (:func:`references`), so this
collector and DAT-01 agree on what a reference is; redacted values are never searched.
A reference may select part of a secret (``...:secret:NAME-AbCdEf:SecretString:key::``);
the secret is keyed by its own ARN, the first seven fields. Only secrets of this region are
read here: another region's collector reads its own, each with a client of its region.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_prr.snapshot.collect.reader import Reader
from pytest_prr.snapshot.model import is_error
from pytest_prr.snapshot.redact import references


def collect_secrets(reader: Reader, region: str, section: Mapping[str, Any]) -> dict[str, Any]:
    functions = section["lambda"]["functions"]
    if is_error(functions):
        return {"secrets": functions}
    arns = sorted(
        {
            secret_arn(reference)
            for function in functions.values()
            for reference in references(function["Environment"])
            if reference.split(":")[2:4] == ["secretsmanager", region]
        }
    )
    described = reader.map(lambda arn: _secret(reader, region, arn), arns)
    return {"secrets": dict(zip(arns, described, strict=True))}


def secret_arn(reference: str) -> str:
    """The ARN of the secret a reference names, without a selector of its JSON key, stage
    or version: DAT-01 looks a function's references up in the snapshot by it."""
    return ":".join(reference.split(":")[:7])


def _secret(reader: Reader, region: str, arn: str) -> Any:
    response = reader.call(
        "secretsmanager",
        region,
        "describe_secret",
        absent=("ResourceNotFoundException",),
        SecretId=arn,
    )
    if response is None:
        return {"exists": False}
    if is_error(response):
        return response
    return {
        "exists": True,
        "RotationEnabled": bool(response.get("RotationEnabled")),
        "LastRotatedDate": response.get("LastRotatedDate"),
        "CreatedDate": response.get("CreatedDate"),
    }
