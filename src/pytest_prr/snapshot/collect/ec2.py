"""Security groups and subnets of functions' VPC configuration, for NET-02 and NET-03.

Each group and subnet is read once however many functions share it, in batches of the size
EC2 accepts per call. A failed batch leaves its marker on every ID of the batch, since
any of them may be the one a check needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pytest_prr.snapshot.collect.reader import Reader
from pytest_prr.snapshot.model import is_error

BATCH = 200


def collect_ec2(reader: Reader, region: str, section: Mapping[str, Any]) -> dict[str, Any]:
    functions = section["lambda"]["functions"]
    if is_error(functions):
        return {"security_groups": functions, "subnets": functions}
    configs = [function.get("VpcConfig") or {} for function in functions.values()]
    group_ids = sorted({i for config in configs for i in config.get("SecurityGroupIds", [])})
    subnet_ids = sorted({i for config in configs for i in config.get("SubnetIds", [])})
    return {
        "security_groups": _described(
            reader,
            region,
            group_ids,
            _group,
            method="describe_security_groups",
            parameter="GroupIds",
            result_key="SecurityGroups",
        ),
        "subnets": _described(
            reader,
            region,
            subnet_ids,
            _subnet,
            method="describe_subnets",
            parameter="SubnetIds",
            result_key="Subnets",
        ),
    }


def _described(
    reader: Reader,
    region: str,
    ids: list[str],
    keep: Callable[[Mapping[str, Any]], tuple[str, dict[str, Any]]],
    *,
    method: str,
    parameter: str,
    result_key: str,
) -> dict[str, Any]:
    """``ids`` (never empty per call: an empty ID list means "all of them") by batches."""
    batches = [ids[start : start + BATCH] for start in range(0, len(ids), BATCH)]
    responses = reader.map(
        lambda batch: reader.call("ec2", region, method, **{parameter: batch}), batches
    )
    described: dict[str, Any] = {}
    for batch, response in zip(batches, responses, strict=True):
        if is_error(response):
            described.update(dict.fromkeys(batch, response))
        else:
            described.update(keep(item) for item in response.get(result_key, []))
    return described


def _group(group: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    return group["GroupId"], {
        "GroupId": group["GroupId"],
        "IpPermissions": [
            {
                "IpProtocol": permission.get("IpProtocol"),
                "FromPort": permission.get("FromPort"),
                "ToPort": permission.get("ToPort"),
                "IpRanges": [{"CidrIp": r["CidrIp"]} for r in permission.get("IpRanges", [])],
                "Ipv6Ranges": [
                    {"CidrIpv6": r["CidrIpv6"]} for r in permission.get("Ipv6Ranges", [])
                ],
            }
            for permission in group.get("IpPermissions", [])
        ],
    }


def _subnet(subnet: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    return subnet["SubnetId"], {
        "SubnetId": subnet["SubnetId"],
        "AvailabilityZone": subnet["AvailabilityZone"],
        "VpcId": subnet["VpcId"],
    }
