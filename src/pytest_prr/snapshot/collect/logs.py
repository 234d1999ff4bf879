"""The functions' CloudWatch Logs groups: retention (OBS-02) and encryption (DAT-05).

A group missing from ``log_groups`` does not exist, so the map must be complete for every
group a function writes to, or an error marker where it could not be read. Lambda's default
groups are listed with one paginated prefix query; groups named by ``LoggingConfig.LogGroup``
outside ``/aws/lambda/`` are asked for by name, 50 per call (``logGroupIdentifiers``), since
one query per name would cost a call per function.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_prr.snapshot.collect.reader import Reader
from pytest_prr.snapshot.model import is_error

LAMBDA_PREFIX = "/aws/lambda/"
#: DescribeLogGroups accepts at most 50 ``logGroupIdentifiers``.
NAMES_PER_CALL = 50


def collect_logs(reader: Reader, region: str, section: Mapping[str, Any]) -> dict[str, Any]:
    functions = section["lambda"]["functions"]
    if is_error(functions):
        # Custom group names come from the functions: without them the map is incomplete.
        return {"log_groups": functions}
    listed = reader.pages(
        "logs", region, "describe_log_groups", "logGroups", logGroupNamePrefix=LAMBDA_PREFIX
    )
    if is_error(listed):
        return {"log_groups": listed}
    groups = {group["logGroupName"]: _group(group) for group in listed}
    custom = sorted(_custom_names(functions.values()))
    batches = [custom[i : i + NAMES_PER_CALL] for i in range(0, len(custom), NAMES_PER_CALL)]
    for names, found in zip(
        batches, reader.map(lambda b: _by_name(reader, region, b), batches), strict=True
    ):
        for name in names:
            if is_error(found):
                groups[name] = found
            elif name in found:
                groups[name] = found[name]
    return {"log_groups": groups}


def _custom_names(functions: Any) -> set[str]:
    """Groups that functions log to outside the default prefix (already listed)."""
    names = set()
    for function in functions:
        config = function.get("LoggingConfig")
        if isinstance(config, Mapping) and not is_error(config):
            name = config.get("LogGroup")
            if name and not name.startswith(LAMBDA_PREFIX):
                names.add(name)
    return names


def _by_name(reader: Reader, region: str, names: list[str]) -> Any:
    found = reader.pages(
        "logs", region, "describe_log_groups", "logGroups", logGroupIdentifiers=names
    )
    if is_error(found):
        return found
    # Only the names asked for: a group's presence is what OBS-02 reads.
    return {g["logGroupName"]: _group(g) for g in found if g["logGroupName"] in names}


def _group(group: Mapping[str, Any]) -> dict[str, Any]:
    """``retentionInDays`` None means the group never expires events."""
    return {"retentionInDays": group.get("retentionInDays"), "kmsKeyId": group.get("kmsKeyId")}
