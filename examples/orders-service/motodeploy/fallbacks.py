"""The API calls CloudFormation makes, for the resources moto's CloudFormation gets wrong.

moto 5's CloudFormation creates the queues, topic, event source mappings and permissions
of this template as declared. It has no Lambda aliases, CloudWatch alarms, API Gateway
stages or function URLs, and creates other resources without some of their properties: a
function without its tags, tracing, architecture or KMS key; a role without its managed
policies; a table without point-in-time recovery or encryption; a log group without its
KMS key; a KMS key whose stored policy breaks DescribeKey. Its Lambda versions cannot
answer ``Fn::GetAtt Version``, which every alias reads (API Gateway: see ``apigateway``).
For those the deployer makes the calls CloudFormation itself would make, with the
properties moto's CloudFormation resolved (parameters, Refs and Subs are evaluated by
CloudFormation, not here).

Types that neither moto's CloudFormation nor its APIs can create are in ``NOT_ON_MOTO``
with the reason; the deployer leaves them out, and the controls that read them report what
is missing (see the README's table of gaps).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from motodeploy import apigateway
from motodeploy.intrinsics import Resolved
from motodeploy.target import Fallback, Target, check_known

NOT_ON_MOTO = {
    "AWS::Lambda::CodeSigningConfig": "moto implements no Lambda code signing configs",
    "AWS::CodeDeploy::Application": "moto's CloudFormation does not implement CodeDeploy",
    "AWS::CodeDeploy::DeploymentGroup": "moto's CloudFormation does not implement CodeDeploy",
}


def fallback_for(resource: Mapping[str, Any]) -> Fallback | None:
    """The API fallback a resource needs on moto, or None when moto's CloudFormation does it."""
    kind = resource["Type"]
    if kind == "AWS::ApiGateway::RestApi":
        return apigateway.rest_api if "Body" in resource.get("Properties", {}) else None
    return FALLBACKS.get(kind)


#: AWS::Lambda::Function properties CreateFunction takes under the same name.
FUNCTION_PROPERTIES = (
    "Architectures",
    "Code",
    "DeadLetterConfig",
    "Description",
    "Environment",
    "FunctionName",
    "Handler",
    "Layers",
    "LoggingConfig",
    "MemorySize",
    "Role",
    "Runtime",
    "Timeout",
    "TracingConfig",
    "VpcConfig",
)


def _function(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    """CreateFunction, tagged as CloudFormation tags what it creates."""
    extra = ("KmsKeyArn", "Tags", "ReservedConcurrentExecutions")
    check_known(logical_id, properties, (*FUNCTION_PROPERTIES, *extra))
    lam = target.client("lambda")
    request = {key: properties[key] for key in FUNCTION_PROPERTIES if key in properties}
    request.setdefault("FunctionName", f"{target.stack_name}-{logical_id}")
    if "KmsKeyArn" in properties:
        request["KMSKeyArn"] = properties["KmsKeyArn"]
    tags = {tag["Key"]: tag["Value"] for tag in properties.get("Tags", [])}
    function = lam.create_function(**request, Tags=tags)
    if "ReservedConcurrentExecutions" in properties:
        lam.put_function_concurrency(
            FunctionName=function["FunctionName"],
            ReservedConcurrentExecutions=properties["ReservedConcurrentExecutions"],
        )
    return Resolved(function["FunctionName"], {"Arn": function["FunctionArn"]})


def _log_group(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    check_known(logical_id, properties, ("LogGroupName", "RetentionInDays", "KmsKeyId", "Tags"))
    logs = target.client("logs")
    name = properties.get("LogGroupName", f"{target.stack_name}-{logical_id}")
    tags = {tag["Key"]: tag["Value"] for tag in properties.get("Tags", [])}
    request = {"logGroupName": name, "tags": tags}
    if "KmsKeyId" in properties:
        request["kmsKeyId"] = properties["KmsKeyId"]
    logs.create_log_group(**request)
    if "RetentionInDays" in properties:
        logs.put_retention_policy(logGroupName=name, retentionInDays=properties["RetentionInDays"])
    group = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]
    return Resolved(name, {"Arn": group["arn"]})


def _role(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    known = ("AssumeRolePolicyDocument", "ManagedPolicyArns", "Policies", "Tags", "Path")
    check_known(logical_id, properties, (*known, "RoleName", "PermissionsBoundary"))
    iam = target.client("iam")
    name = properties.get("RoleName", f"{target.stack_name}-{logical_id}")
    request = {
        "RoleName": name,
        "AssumeRolePolicyDocument": json.dumps(properties["AssumeRolePolicyDocument"]),
        "Tags": properties.get("Tags", []),
        **{key: properties[key] for key in ("Path", "PermissionsBoundary") if key in properties},
    }
    role = iam.create_role(**request)["Role"]
    for policy in properties.get("Policies", []):
        iam.put_role_policy(
            RoleName=name,
            PolicyName=policy["PolicyName"],
            PolicyDocument=json.dumps(policy["PolicyDocument"]),
        )
    for arn in properties.get("ManagedPolicyArns", []):
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    return Resolved(name, {"Arn": role["Arn"], "RoleId": role["RoleId"]})


def _table(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    known = ("TableName", "AttributeDefinitions", "KeySchema", "BillingMode", "Tags")
    check_known(
        logical_id, properties, (*known, "SSESpecification", "PointInTimeRecoverySpecification")
    )
    dynamodb = target.client("dynamodb")
    request = {key: properties[key] for key in known if key in properties}
    request.setdefault("TableName", f"{target.stack_name}-{logical_id}")
    if "SSESpecification" in properties:
        # CloudFormation spells SSEEnabled/KMSMasterKeyId what the API calls Enabled/...
        sse = properties["SSESpecification"]
        request["SSESpecification"] = {
            "Enabled": sse["SSEEnabled"],
            **{key: sse[key] for key in ("SSEType", "KMSMasterKeyId") if key in sse},
        }
    table = dynamodb.create_table(**request)["TableDescription"]
    if "PointInTimeRecoverySpecification" in properties:
        dynamodb.update_continuous_backups(
            TableName=request["TableName"],
            PointInTimeRecoverySpecification=properties["PointInTimeRecoverySpecification"],
        )
    return Resolved(request["TableName"], {"Arn": table["TableArn"]})


def _key(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    same_name = ("Description", "KeySpec", "KeyUsage", "Tags")
    check_known(logical_id, properties, (*same_name, "KeyPolicy", "EnableKeyRotation"))
    kms = target.client("kms")
    request = {key: properties[key] for key in same_name if key in properties}
    key = kms.create_key(**request, Policy=json.dumps(properties["KeyPolicy"]))["KeyMetadata"]
    if properties.get("EnableKeyRotation"):
        kms.enable_key_rotation(KeyId=key["KeyId"])
    return Resolved(key["KeyId"], {"Arn": key["Arn"], "KeyId": key["KeyId"]})


def _version(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    check_known(logical_id, properties, ("FunctionName", "Description", "CodeSha256"))
    version = target.client("lambda").publish_version(**properties)
    return Resolved(version["FunctionArn"], {"Version": version["Version"]})


def _alias(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    check_known(logical_id, properties, ("FunctionName", "FunctionVersion", "Name", "Description"))
    alias = target.client("lambda").create_alias(**properties)
    return Resolved(alias["AliasArn"])


def _alarm(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    # A metric alarm's CloudFormation properties are PutMetricAlarm's parameters, by name.
    cloudwatch = target.client("cloudwatch")
    name = properties.setdefault("AlarmName", f"{target.stack_name}-{logical_id}")
    cloudwatch.put_metric_alarm(**properties)
    alarm = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    return Resolved(name, {"Arn": alarm["AlarmArn"]})


def _url(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    check_known(logical_id, properties, ("TargetFunctionArn", "AuthType", "Cors", "InvokeMode"))
    config = target.client("lambda").create_function_url_config(
        FunctionName=properties["TargetFunctionArn"],
        AuthType=properties["AuthType"],
        **{key: properties[key] for key in ("Cors", "InvokeMode") if key in properties},
    )
    attributes = {"FunctionArn": config["FunctionArn"], "FunctionUrl": config["FunctionUrl"]}
    return Resolved(config["FunctionArn"], attributes)


FALLBACKS: dict[str, Fallback] = {
    "AWS::Lambda::Function": _function,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::IAM::Role": _role,
    "AWS::DynamoDB::Table": _table,
    "AWS::KMS::Key": _key,
    "AWS::Lambda::Version": _version,
    "AWS::Lambda::Alias": _alias,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::ApiGateway::Deployment": apigateway.deployment,
    "AWS::ApiGateway::Stage": apigateway.stage,
    "AWS::Lambda::Url": _url,
}
