"""Security groups and subnets of functions' VPC configuration, for NET-02 and NET-03.

Each group and subnet is read once however many functions share it, in batches of the size
EC2 accepts per call. A batch refused because of one of its IDs (a subnet deleted after the
function was configured) is split until that ID stands alone, so it is the only one marked;
a batch that failed otherwise leaves its marker on every ID of the batch, since any of them
may be the one a check needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pytest_prr.snapshot.collect.reader import Reader
from pytest_prr.snapshot.model import ERROR_KEY, is_error

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

    def describe(batch: list[str]) -> dict[str, Any]:
        response = reader.call("ec2", region, method, **{parameter: batch})
        if is_error(response):
            if len(batch) > 1 and _names_an_id(response):
                # EC2 refuses the whole batch for one unknown ID (a deleted subnet, say):
                # halve it until that ID stands alone, so only its functions are affected.
                half = len(batch) // 2
                return {**describe(batch[:half]), **describe(batch[half:])}
            return dict.fromkeys(batch, response)
        return dict(keep(item) for item in response.get(result_key, []))

    described: dict[str, Any] = {}
    for found in reader.map(describe, batches):
        described.update(found)
    return described


def _names_an_id(marker: Mapping[str, Any]) -> bool:
    """Whether EC2 refused a request because of one of its IDs (``InvalidSubnetID.NotFound``,
    ``InvalidGroupId.Malformed``), not because of the caller or the service."""
    return marker[ERROR_KEY]["code"].endswith((".NotFound", ".Malformed"))


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
