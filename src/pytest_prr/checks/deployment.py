"""DEP — deployment and change management: gradual, reversible, signed, traceable releases.

A CodeDeploy group's function is the one its last deployment shifted (see the deploy
collector). A group that could not be read might be the one deploying a function, so a
function found in no group is ERROR, not FAIL, while any group is unreadable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pytest_prr.checks.base import (
    Context,
    Verdict,
    failed,
    function_check,
    not_applicable,
    passed,
)
from pytest_prr.snapshot.guarded import member
from pytest_prr.snapshot.model import DataUnavailable, is_error, require

ALL_AT_ONCE = "CodeDeployDefault.LambdaAllAtOnce"
ROLLBACK_EVENTS = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM")
RUNBOOK_TAG = "prr:runbook"


def _deploys(target: Mapping[str, Any], function: Mapping[str, Any]) -> bool:
    """Whether an AppSpec target (a function name, or its ARN) is this function."""
    named = target.get("FunctionName") or ""
    if named.startswith("arn:"):
        return ":".join(named.split(":")[:7]) == function["FunctionArn"]
    return named == function["FunctionName"]


def _groups_of(function: Mapping[str, Any], context: Context) -> list[Mapping[str, Any]]:
    """The deployment groups that deploy the function; DataUnavailable when there is none
    among the readable ones and some group (or its target) could not be read."""
    groups = require(require(context.section["deploy"])["deployment_groups"])
    found: list[Mapping[str, Any]] = []
    unreadable: list[Any] = []
    for group in groups:
        target = group if is_error(group) else group.get("function")
        if is_error(target):
            unreadable.append(target)
        elif target and _deploys(target, function):
            found.append(group)
    if not found and unreadable:
        require(unreadable[0])
    return found


def _group_name(group: Mapping[str, Any]) -> str:
    return f"{group.get('applicationName')}/{group.get('deploymentGroupName')}"


@function_check("DEP-01")
def gradual_deployment(function: Mapping[str, Any], context: Context) -> Verdict:
    """Shifting all traffic to a new version at once exposes every customer to a defect the
    moment it is deployed."""
    name = function["FunctionName"]
    groups = _groups_of(function, context)
    configs = {_group_name(g): g.get("deploymentConfigName") for g in groups}
    if not groups:
        return failed(f"No CodeDeploy deployment group deploys {name}.", deployment_groups={})
    # A group without a config name is not shown to be gradual.
    sudden = [group for group, config in configs.items() if config in (ALL_AT_ONCE, None)]
    if sudden:
        return failed(
            f"{name} is deployed all at once by {', '.join(sudden)}.", deployment_groups=configs
        )
    return passed(
        f"{name} is deployed gradually by {', '.join(configs)}.", deployment_groups=configs
    )


def _rollback_gaps(group: Mapping[str, Any]) -> list[str]:
    """What the group lacks for alarm-driven automatic rollback."""
    gaps = []
    rollback = group.get("autoRollbackConfiguration") or {}
    events = set(rollback.get("events") or []) if rollback.get("enabled") is True else set()
    gaps += [f"rollback on {event}" for event in ROLLBACK_EVENTS if event not in events]
    alarms = group.get("alarmConfiguration") or {}
    if alarms.get("enabled") is not True or not alarms.get("alarms"):
        gaps.append("an enabled alarm configuration")
    return gaps


@function_check("DEP-02")
def automatic_rollback(function: Mapping[str, Any], context: Context) -> Verdict:
    """A gradual deployment limits damage only if an alarm stops it and the traffic returns
    to the previous version without waiting for someone to act."""
    name = function["FunctionName"]
    groups = _groups_of(function, context)
    if not groups:
        return not_applicable(f"No CodeDeploy deployment group deploys {name} (DEP-01 fails).")
    evidence = {
        _group_name(g): {
            "autoRollbackConfiguration": g.get("autoRollbackConfiguration"),
            "alarmConfiguration": g.get("alarmConfiguration"),
        }
        for g in groups
    }
    gaps = {_group_name(g): gaps for g in groups if (gaps := _rollback_gaps(g))}
    if gaps:
        group, lacking = next(iter(gaps.items()))
        return failed(
            f"{name}'s deployment group {group} lacks {', '.join(lacking)}.",
            deployment_groups=evidence,
        )
    return passed(
        f"{name}'s deployment group(s) {', '.join(evidence)} roll back on failure and alarm.",
        deployment_groups=evidence,
    )


@function_check("DEP-03")
def active_signing_profile(function: Mapping[str, Any], context: Context) -> Verdict:
    """Code signing only proves provenance while the publisher it trusts is a live, controlled
    signing profile; a cancelled or deleted one means nobody can sign a release legitimately."""
    name = function["FunctionName"]
    config_arn = require(function.get("CodeSigningConfigArn"))
    if not config_arn:
        return not_applicable(f"{name} has no code signing config (SEC-04 fails).")
    configs = require(require(context.section["lambda"])["code_signing_configs"])
    if config_arn not in configs:
        raise DataUnavailable(
            "lambda:ListCodeSigningConfigs", "MissingResult", f"{config_arn} was not listed"
        )
    publishers = require(configs[config_arn]).get("AllowedPublishers") or {}
    versions = publishers.get("SigningProfileVersionArns") or []
    profiles = require(require(context.section["deploy"])["signing_profiles"])
    statuses: dict[str, Any] = {}
    unreadable = []
    for version in versions:
        if version not in profiles:
            raise DataUnavailable("signer:GetSigningProfile", "MissingResult", version)
        profile = member(profiles, version)
        if is_error(profile):
            unreadable.append(profile)
            statuses[version] = "unreadable"
        else:
            statuses[version] = "missing" if profile is None else profile.get("status")
    evidence = {"CodeSigningConfigArn": config_arn, "signing_profiles": statuses}
    active = [version for version, status in statuses.items() if status == "Active"]
    if active:
        return passed(f"{name} trusts the active signing profile {active[0]}.", **evidence)
    if unreadable:
        require(unreadable[0])
    return failed(
        f"{name}'s code signing config {config_arn} allows no existing, Active signing profile.",
        **evidence,
    )


def _tags(function: Mapping[str, Any]) -> Mapping[str, str]:
    return require(function.get("Tags")) or {}


@function_check("DEP-04")
def deployed_from_iac(function: Mapping[str, Any], context: Context) -> Verdict:
    """A function changed by hand has no reviewed, versioned definition to rebuild or audit
    it from, and drifts from what was approved."""
    name = function["FunctionName"]
    wanted = list(context.tunables["prr_iac_tags"])
    tags = _tags(function)
    present = {tag: tags[tag] for tag in wanted if tag in tags}
    if not present:
        return failed(
            f"{name} has none of the infrastructure-as-code tags {', '.join(wanted)}.",
            iac_tags=wanted,
        )
    return passed(
        f"{name} is managed as code ({', '.join(present)}).", iac_tags=wanted, present=present
    )


@function_check("DEP-05")
def required_tags(function: Mapping[str, Any], context: Context) -> Verdict:
    """Without owner, cost centre, data classification and environment tags, nobody is
    accountable for the function and its data cannot be handled by its classification."""
    name = function["FunctionName"]
    wanted = list(context.tunables["prr_required_tags"])
    tags = _tags(function)
    values = {tag: tags.get(tag) for tag in wanted}
    missing = [tag for tag, value in values.items() if not (value or "").strip()]
    if missing:
        return failed(
            f"{name} is missing or has empty tags {', '.join(missing)}.",
            required_tags=values,
        )
    return passed(f"{name} has every required tag.", required_tags=values)


@function_check("DEP-06")
def runbook_linked(function: Mapping[str, Any], context: Context) -> Verdict:
    """An on-call engineer paged at night needs the function's runbook at hand; a missing or
    unsafe link costs response time."""
    name = function["FunctionName"]
    link = _tags(function).get(RUNBOOK_TAG)
    if link is None:
        return failed(f"{name} has no {RUNBOOK_TAG} tag.", runbook=None)
    parts = urlsplit(link)
    if not (link.startswith("https://") and parts.hostname and not any(c.isspace() for c in link)):
        return failed(f"{name}'s {RUNBOOK_TAG} tag {link!r} is not an https:// URL.", runbook=link)
    return passed(f"{name} links its runbook {link}.", runbook=link)
