"""CodeDeploy deployment groups of Lambda applications (DEP-01/02) and Signer profiles (DEP-03).

A Lambda deployment group does not name its function: the function is named only by each
deployment (the AppSpec's ``AWS::Lambda::Function`` resource, which CodeDeploy records as the
deployment's target). So a group's function is the one its last attempted deployment
shifted; a group never deployed has ``function`` None. This is the service's own record,
read-only, whatever tool (SAM, CDK, Terraform, scripts) created the group, where names and
tags are conventions. Limitation: a group re-pointed at another function is only known
after its next deployment.

The last deployments are read in batches of 25 (BatchGetDeployments); when a deployment's
AppSpec is not inline (an S3 revision), its target is read instead (ListDeploymentTargets
and BatchGetDeploymentTargets, two calls for that group).

A deployment-group entry that could not be read is an error marker in the list, so a
function found in no group is FAIL only when the list holds no marker.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from pytest_prr.snapshot.collect.reader import Reader
from pytest_prr.snapshot.model import error_marker, is_error

#: Batch limits of BatchGetApplications / BatchGetDeploymentGroups and BatchGetDeployments.
NAMES_PER_CALL = 100
DEPLOYMENTS_PER_CALL = 25
LAMBDA_RESOURCE = "AWS::Lambda::Function"


def collect_deploy(reader: Reader, region: str, section: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "deployment_groups": _deployment_groups(reader, region),
        "signing_profiles": _signing_profiles(reader, section["lambda"]["code_signing_configs"]),
    }


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _deployment_groups(reader: Reader, region: str) -> Any:
    names = reader.pages("codedeploy", region, "list_applications", "applications")
    if is_error(names):
        return names
    applications: list[str] = []
    for batch in _chunks(names, NAMES_PER_CALL):
        info = reader.call("codedeploy", region, "batch_get_applications", applicationNames=batch)
        if is_error(info):
            return info
        applications += [
            app["applicationName"]
            for app in info.get("applicationsInfo", [])
            if app.get("computePlatform") == "Lambda"
        ]
    groups = [
        group
        for per_application in reader.map(lambda app: _groups_of(reader, region, app), applications)
        for group in per_application
    ]
    _resolve_functions(reader, region, [g for g in groups if not is_error(g)])
    return groups


def _groups_of(reader: Reader, region: str, application: str) -> list[Any]:
    names = reader.pages(
        "codedeploy",
        region,
        "list_deployment_groups",
        "deploymentGroups",
        applicationName=application,
    )
    if is_error(names):
        return [names]
    groups: list[Any] = []
    for batch in _chunks(names, NAMES_PER_CALL):
        info = reader.call(
            "codedeploy",
            region,
            "batch_get_deployment_groups",
            applicationName=application,
            deploymentGroupNames=batch,
        )
        if is_error(info):
            groups.append(info)
            continue
        found = info.get("deploymentGroupsInfo", [])
        groups += [_group(group) for group in found]
        if len(found) < len(batch):
            groups.append(
                error_marker(
                    "codedeploy:BatchGetDeploymentGroups",
                    "PartialResult",
                    info.get("errorMessage") or f"{len(batch) - len(found)} groups not returned",
                )
            )
    return groups


def _group(info: Mapping[str, Any]) -> dict[str, Any]:
    last = info.get("lastAttemptedDeployment") or info.get("lastSuccessfulDeployment") or {}
    return {
        "applicationName": info["applicationName"],
        "deploymentGroupName": info["deploymentGroupName"],
        "deploymentConfigName": info.get("deploymentConfigName"),
        "autoRollbackConfiguration": info.get("autoRollbackConfiguration"),
        "alarmConfiguration": info.get("alarmConfiguration"),
        "lastDeploymentId": last.get("deploymentId"),
        "function": None,
    }


def _resolve_functions(reader: Reader, region: str, groups: list[dict[str, Any]]) -> None:
    """Set each deployed group's ``function`` to ``{FunctionName, Alias}`` or a marker."""
    ids = [group["lastDeploymentId"] for group in groups if group["lastDeploymentId"]]
    found: dict[str, Any] = {}
    batches = _chunks(ids, DEPLOYMENTS_PER_CALL)
    for result in reader.map(lambda batch: _from_appspecs(reader, region, batch), batches):
        found.update(result)
    pending = [deployment_id for deployment_id in ids if found[deployment_id] is None]
    targets = reader.map(lambda i: _deployment_target(reader, region, i), pending)
    found.update(zip(pending, targets, strict=True))
    for group in groups:
        if group["lastDeploymentId"]:
            group["function"] = found[group["lastDeploymentId"]]


def _from_appspecs(reader: Reader, region: str, ids: list[str]) -> dict[str, Any]:
    """The function of each deployment from its inline AppSpec; None where not inline."""
    info = reader.call("codedeploy", region, "batch_get_deployments", deploymentIds=ids)
    if is_error(info):
        return dict.fromkeys(ids, info)
    revisions = {
        d["deploymentId"]: d.get("revision") or {} for d in info.get("deploymentsInfo", [])
    }
    return {i: _appspec_target(revisions.get(i, {})) for i in ids}


def _appspec_target(revision: Mapping[str, Any]) -> dict[str, Any] | None:
    """FunctionName and Alias from an inline AppSpec; None when it is not inline."""
    content = (revision.get("appSpecContent") or revision.get("string") or {}).get("content")
    if not content:
        return None
    try:
        appspec = yaml.safe_load(content)
    except yaml.YAMLError:
        return None
    resources = appspec.get("Resources", []) if isinstance(appspec, dict) else []
    for resource in _resource_bodies(resources):
        if resource.get("Type") == LAMBDA_RESOURCE and (props := resource.get("Properties")):
            return {"FunctionName": props.get("Name"), "Alias": props.get("Alias")}
    return None


def _resource_bodies(resources: Iterable[Any]) -> Iterable[Mapping[str, Any]]:
    """An AppSpec lists resources as one-key mappings: ``- LogicalName: {Type, Properties}``."""
    for resource in resources if isinstance(resources, list) else []:
        if isinstance(resource, dict):
            yield from (body for body in resource.values() if isinstance(body, dict))


def _deployment_target(reader: Reader, region: str, deployment_id: str) -> Any:
    target_ids = reader.pages(
        "codedeploy", region, "list_deployment_targets", "targetIds", deploymentId=deployment_id
    )
    if is_error(target_ids):
        return target_ids
    if not target_ids:
        # A deployment that failed before reaching its function: which one is unknown.
        return error_marker(
            "codedeploy:ListDeploymentTargets", "NoTarget", f"{deployment_id} has no target"
        )
    targets = reader.call(
        "codedeploy",
        region,
        "batch_get_deployment_targets",
        deploymentId=deployment_id,
        targetIds=target_ids[:DEPLOYMENTS_PER_CALL],
    )
    if is_error(targets):
        return targets
    for target in targets.get("deploymentTargets", []):
        info = (target.get("lambdaTarget") or {}).get("lambdaFunctionInfo")
        if info:
            return {"FunctionName": info.get("functionName"), "Alias": info.get("functionAlias")}
    return error_marker(
        "codedeploy:BatchGetDeploymentTargets", "NoLambdaTarget", f"{deployment_id}"
    )


def _signing_profiles(reader: Reader, configs: Any) -> Any:
    """Status of every Signer profile version the region's code signing configs allow, or
    None where the profile does not exist."""
    if is_error(configs):
        return configs
    version_arns = sorted(
        {
            arn
            for config in configs.values()
            for arn in config.get("AllowedPublishers", {}).get("SigningProfileVersionArns", [])
        }
    )
    own_accounts = {arn.split(":")[4] for arn in configs}
    profiles = sorted({_profile_key(arn) for arn in version_arns})
    read = reader.map(lambda key: _profile(reader, *key, own_accounts), profiles)
    by_profile = dict(zip(profiles, read, strict=True))
    return {arn: by_profile[_profile_key(arn)] for arn in version_arns}


def _profile_key(version_arn: str) -> tuple[str, str, str]:
    """(region, owner account, profile name) of
    ``arn:aws:signer:REGION:ACCOUNT:/signing-profiles/NAME/VERSION``."""
    parts = version_arn.split(":")
    return parts[3], parts[4], parts[5].split("/")[2]


def _profile(reader: Reader, region: str, owner: str, name: str, own: set[str]) -> Any:
    # Another account's profile must be named with its owner.
    params = {"profileName": name, **({} if owner in own else {"profileOwner": owner})}
    profile = reader.call(
        "signer", region, "get_signing_profile", absent=("ResourceNotFoundException",), **params
    )
    if profile is None or is_error(profile):
        return profile
    return {
        "profileName": profile.get("profileName"),
        "status": profile.get("status"),
        "profileVersionArn": profile.get("profileVersionArn"),
    }
