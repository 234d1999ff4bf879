"""NET controls: where a function's network traffic can come from and go to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_prr.checks.base import (
    NOT_IN_SNAPSHOT,
    Context,
    Verdict,
    failed,
    function_check,
    not_applicable,
    passed,
)
from pytest_prr.snapshot.model import DataUnavailable, require

#: The tag by which a team declares that a function deliberately runs outside a VPC.
PUBLIC_TAG = ("prr:network", "public")
OPEN_RANGES = ("0.0.0.0/0", "::/0")


def subnet_ids(function: Mapping[str, Any]) -> list[str]:
    """The function's VPC subnets; none means it is not in a VPC."""
    return list((function.get("VpcConfig") or {}).get("SubnetIds") or [])


def _described(context: Context, kind: str, ids: list[str], operation: str) -> dict[str, Any]:
    """Each described EC2 resource by ID; one never read stops the check, never passes it."""
    described = require(require(context.section["ec2"])[kind])
    found: dict[str, Any] = {}
    for resource_id in ids:
        if resource_id not in described:
            raise DataUnavailable(operation, NOT_IN_SNAPSHOT, f"{resource_id} was not read")
        found[resource_id] = require(described[resource_id])
    return found


@function_check("NET-01")
def runs_in_vpc(function: Mapping[str, Any], context: Context) -> Verdict:
    """Outside a VPC a function reaches the internet and private data stores only through
    public endpoints, with no security group or network ACL between it and the world."""
    name = function["FunctionName"]
    tags = require(function["Tags"])
    if tags.get(PUBLIC_TAG[0]) == PUBLIC_TAG[1]:
        return not_applicable(
            f"{name} is tagged prr:network=public: it runs outside a VPC by design",
            Tags={PUBLIC_TAG[0]: PUBLIC_TAG[1]},
        )
    subnets = subnet_ids(function)
    if not subnets:
        return failed(f"{name} has no VPC subnets: it runs outside a VPC", VpcConfig=None)
    return passed(
        f"{name} runs in VPC {function['VpcConfig'].get('VpcId')}",
        VpcConfig={"VpcId": function["VpcConfig"].get("VpcId"), "SubnetIds": subnets},
    )


@function_check("NET-02")
def subnets_span_zones(function: Mapping[str, Any], context: Context) -> Verdict:
    """With every subnet in one Availability Zone, that zone's outage leaves the function
    no network interface to run with, although Lambda itself is multi-AZ."""
    name = function["FunctionName"]
    ids = subnet_ids(function)
    if not ids:
        return not_applicable(f"{name} is not in a VPC")
    subnets = _described(context, "subnets", ids, "ec2:DescribeSubnets")
    zones = {subnet_id: subnet["AvailabilityZone"] for subnet_id, subnet in subnets.items()}
    distinct = sorted(set(zones.values()))
    if len(distinct) < 2:
        return failed(
            f"{name} has all its subnets in one Availability Zone ({distinct[0]})",
            AvailabilityZones=zones,
        )
    return passed(
        f"{name} has subnets in {len(distinct)} Availability Zones ({', '.join(distinct)})",
        AvailabilityZones=zones,
    )


@function_check("NET-03")
def no_open_inbound(function: Mapping[str, Any], context: Context) -> Verdict:
    """A security group open to the internet lets anyone reach whatever listens on the
    function's network interfaces and the other members of the group."""
    name = function["FunctionName"]
    if not subnet_ids(function):
        return not_applicable(f"{name} is not in a VPC")
    group_ids = list((function.get("VpcConfig") or {}).get("SecurityGroupIds") or [])
    groups = _described(context, "security_groups", group_ids, "ec2:DescribeSecurityGroups")
    open_rules = [
        {
            "GroupId": group_id,
            "IpProtocol": permission.get("IpProtocol"),
            "FromPort": permission.get("FromPort"),
            "ToPort": permission.get("ToPort"),
            "Source": source,
        }
        for group_id, group in groups.items()
        for permission in group.get("IpPermissions", [])
        for source in [r.get("CidrIp") for r in permission.get("IpRanges", [])]
        + [r.get("CidrIpv6") for r in permission.get("Ipv6Ranges", [])]
        if source in OPEN_RANGES
    ]
    if open_rules:
        first = open_rules[0]
        return failed(
            f"{name}'s security group {first['GroupId']} allows inbound from {first['Source']}",
            OpenInboundRules=open_rules,
        )
    return passed(
        f"{name}'s security groups allow no inbound traffic from 0.0.0.0/0 or ::/0",
        SecurityGroupIds=group_ids,
    )
