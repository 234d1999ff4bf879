"""Account guardrails (GOV-01..08): CloudTrail, AWS Config, Security Hub, GuardDuty, SCPs.

Regional services are read per region: a guardrail is only in force where it is enabled.
Trails are listed with shadow trails, so a multi-region trail created in another region is
seen in every region it covers. Organizations is global and read once per account; every
SCP that applies to the account (attached to it, to each of its OUs up to the root, or to
the root) is kept with its parsed document, so the checks decide what the policies deny.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pytest_prr.snapshot.collect.reader import Reader
from pytest_prr.snapshot.model import error_marker, is_error

ORGANIZATIONS_REGION = "us-east-1"
TRAIL_FIELDS = (
    "Name",
    "HomeRegion",
    "IsMultiRegionTrail",
    "IsOrganizationTrail",
    "LogFileValidationEnabled",
)
#: Security Hub's answers meaning "not enabled in this account and region".
HUB_NOT_ENABLED = ("InvalidAccessException", "ResourceNotFoundException")


def collect_guardrails(reader: Reader, region: str, section: Mapping[str, Any]) -> dict[str, Any]:
    """``section`` is unused: guardrails are the account's, not any function's."""
    return {
        "cloudtrail": _trails(reader, region),
        "config": _config(reader, region),
        "securityhub": _security_hub(reader, region),
        "guardduty": _guardduty(reader, region),
    }


def _trails(reader: Reader, region: str) -> Any:
    trails = reader.call("cloudtrail", region, "describe_trails", includeShadowTrails=True)
    if is_error(trails):
        return trails
    listed = trails.get("trailList", [])
    read = reader.map(lambda trail: _trail(reader, region, trail), listed)
    return {trail["TrailARN"]: entry for trail, entry in zip(listed, read, strict=True)}


def _trail(reader: Reader, region: str, trail: Mapping[str, Any]) -> dict[str, Any]:
    arn = trail["TrailARN"]
    entry = {field: trail.get(field) for field in TRAIL_FIELDS}
    status = reader.call("cloudtrail", region, "get_trail_status", Name=arn)
    entry["IsLogging"] = status if is_error(status) else bool(status.get("IsLogging"))
    selectors = reader.call("cloudtrail", region, "get_event_selectors", TrailName=arn)
    for key in ("EventSelectors", "AdvancedEventSelectors"):
        entry[key] = selectors if is_error(selectors) else selectors.get(key, [])
    return entry


def _config(reader: Reader, region: str) -> dict[str, Any]:
    packs = reader.pages("config", region, "describe_conformance_packs", "ConformancePackDetails")
    return {
        "recorders": _recorders(reader, region),
        "conformance_packs": packs
        if is_error(packs)
        else sorted(pack["ConformancePackName"] for pack in packs),
    }


def _recorders(reader: Reader, region: str) -> Any:
    """Recorders by name with what they record and whether they are recording; a recorder
    without a status is taken as not recording."""
    recorders = reader.call("config", region, "describe_configuration_recorders")
    if is_error(recorders):
        return recorders
    statuses = reader.call("config", region, "describe_configuration_recorder_status")
    recording = (
        statuses
        if is_error(statuses)
        else {
            status["name"]: bool(status.get("recording"))
            for status in statuses.get("ConfigurationRecordersStatus", [])
        }
    )
    return {
        recorder["name"]: {
            "recordingGroup": recorder.get("recordingGroup", {}),
            "recording": recording
            if is_error(recording)
            else recording.get(recorder["name"], False),
        }
        for recorder in recorders.get("ConfigurationRecorders", [])
    }


def _security_hub(reader: Reader, region: str) -> dict[str, Any]:
    hub = reader.call("securityhub", region, "describe_hub", absent=HUB_NOT_ENABLED)
    if hub is None:
        return {"enabled": False}
    if is_error(hub):
        return hub
    standards = reader.pages(
        "securityhub", region, "get_enabled_standards", "StandardsSubscriptions"
    )
    return {
        "enabled": True,
        "hub_arn": hub.get("HubArn"),
        "standards": standards
        if is_error(standards)
        else [
            {"StandardsArn": s["StandardsArn"], "StandardsStatus": s.get("StandardsStatus")}
            for s in standards
        ],
    }


def _guardduty(reader: Reader, region: str) -> Any:
    detector_ids = reader.pages("guardduty", region, "list_detectors", "DetectorIds")
    if is_error(detector_ids):
        return {"detectors": detector_ids}
    details = reader.map(
        lambda detector_id: reader.call(
            "guardduty", region, "get_detector", DetectorId=detector_id
        ),
        detector_ids,
    )
    return {
        "detectors": {
            detector_id: detail
            if is_error(detail)
            else {
                "Status": detail.get("Status"),
                "Features": [
                    {"Name": f.get("Name"), "Status": f.get("Status")}
                    for f in detail.get("Features", [])
                ],
            }
            for detector_id, detail in zip(detector_ids, details, strict=True)
        }
    }


def collect_organizations(reader: Reader, account_id: str) -> dict[str, Any]:
    """The SCPs that apply to ``account_id``: the account's, its OUs' and the root's. Only
    the management account (or a delegated administrator) may read them; a member account's
    AccessDenied is a marker, and GOV-06/07 report ERROR, as the spec requires."""
    organization = reader.call(
        "organizations",
        ORGANIZATIONS_REGION,
        "describe_organization",
        absent=("AWSOrganizationsNotInUseException",),
    )
    if organization is None:
        return {"member": False}
    if is_error(organization):
        return {"member": organization}
    details = organization["Organization"]
    targets = _targets(reader, account_id)
    ids = sorted(
        {
            policy_id
            for target in targets
            if not is_error(target) and not is_error(target["PolicyIds"])
            for policy_id in target["PolicyIds"]
        }
    )
    policies = reader.map(lambda policy_id: _policy(reader, policy_id), ids)
    return {
        "member": True,
        "organization_id": details.get("Id"),
        "management_account_id": details.get("MasterAccountId"),
        "feature_set": details.get("FeatureSet"),
        "targets": targets,
        "policies": dict(zip(ids, policies, strict=True)),
    }


def _targets(reader: Reader, account_id: str) -> list[Any]:
    """The account, then each parent up to the root, with the SCP ids attached to each. A
    parent that could not be read is a marker in its place, ending the chain."""
    targets: list[Any] = [{"Id": account_id, "Type": "ACCOUNT"}]
    while targets[-1]["Type"] != "ROOT":
        parents = reader.pages(
            "organizations",
            ORGANIZATIONS_REGION,
            "list_parents",
            "Parents",
            ChildId=targets[-1]["Id"],
        )
        if is_error(parents) or not parents:
            targets.append(
                parents or error_marker("organizations:ListParents", "NoParent", targets[-1]["Id"])
            )
            break
        targets.append({"Id": parents[0]["Id"], "Type": parents[0]["Type"]})
    for target in targets:
        if not is_error(target):
            policies = reader.pages(
                "organizations",
                ORGANIZATIONS_REGION,
                "list_policies_for_target",
                "Policies",
                TargetId=target["Id"],
                Filter="SERVICE_CONTROL_POLICY",
            )
            target["PolicyIds"] = (
                policies if is_error(policies) else [policy["Id"] for policy in policies]
            )
    return targets


def _policy(reader: Reader, policy_id: str) -> Any:
    policy = reader.call(
        "organizations", ORGANIZATIONS_REGION, "describe_policy", PolicyId=policy_id
    )
    if is_error(policy):
        return policy
    summary = policy["Policy"]["PolicySummary"]
    return {
        "Name": summary.get("Name"),
        "Arn": summary.get("Arn"),
        "AwsManaged": summary.get("AwsManaged"),
        "Content": json.loads(policy["Policy"]["Content"]),
    }
