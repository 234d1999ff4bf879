"""KMS keys used by functions and their log groups, with their rotation status, for DAT-04.

Keys are keyed by the ARN exactly as the function or log group names it, so a check finds
each without resolving anything. Lambda and CloudWatch Logs only accept keys of their own
region, so every key is read with this region's client. AWS-managed keys are kept with
their ``KeyManager`` alone: AWS rotates them and ``GetKeyRotationStatus`` says nothing a
control reads, but leaving them out would make them indistinguishable from keys not read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_prr.snapshot.collect.reader import Reader
from pytest_prr.snapshot.model import is_error


def collect_kms(reader: Reader, region: str, section: Mapping[str, Any]) -> dict[str, Any]:
    functions = section["lambda"]["functions"]
    if is_error(functions):
        return {"keys": functions}
    used = {
        key for function in functions.values() if isinstance(key := function.get("KMSKeyArn"), str)
    }
    log_groups = section.get("logs", {}).get("log_groups", {})
    if not is_error(log_groups):
        groups = [log_groups.get(_log_group(function)) for function in functions.values()]
        used |= {group.get("kmsKeyId") for group in groups if group and not is_error(group)}
    arns = sorted(arn for arn in used if arn)
    keys = reader.map(lambda arn: _key(reader, region, arn), arns)
    return {"keys": dict(zip(arns, keys, strict=True))}


def _log_group(function: Mapping[str, Any]) -> str:
    """The group a function logs to (as OBS-02 reads it): the logs section also lists the
    groups of functions long deleted, whose keys no control asks about."""
    config = function.get("LoggingConfig")
    configured = None if is_error(config) else (config or {}).get("LogGroup")
    return configured or f"/aws/lambda/{function['FunctionName']}"


def _key(reader: Reader, region: str, arn: str) -> Any:
    described = reader.call("kms", region, "describe_key", KeyId=arn)
    if is_error(described):
        return described
    metadata = described["KeyMetadata"]
    manager = metadata["KeyManager"]
    if manager != "CUSTOMER":
        return {"KeyManager": manager}
    # By the key's own ARN: GetKeyRotationStatus takes no alias, and a function may name one.
    rotation = reader.call("kms", region, "get_key_rotation_status", KeyId=metadata["Arn"])
    if is_error(rotation):
        return rotation
    return {"KeyManager": manager, "KeyRotationEnabled": rotation["KeyRotationEnabled"]}
