"""The resources most serverless templates wire their functions with: queues, topics, rules,
streams, state machines, permissions and role policies, through their APIs.

moto's CloudFormation creates these faithfully, but a template that needs it at all waits
seconds while moto imports every model it has; through the API the deployer needs no
stack, and the requests are converted to the API's types (a queue's ``VisibilityTimeout:
"180"``, a rule's ``State``) like every fallback's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pytest_prr.deploy.intrinsics import Resolved
from pytest_prr.deploy.service_resources import subscription
from pytest_prr.deploy.target import (
    Target,
    attribute_text,
    check_known,
    request_for,
    tag_list,
    tag_map,
)

#: AWS::SQS::Queue properties that are queue attributes (the rest: QueueName, Tags).
QUEUE_ATTRIBUTES = (
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "RedriveAllowPolicy",
    "RedrivePolicy",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
)
#: AWS::SNS::Topic properties that are topic attributes.
TOPIC_ATTRIBUTES = (
    "ArchivePolicy",
    "ContentBasedDeduplication",
    "DisplayName",
    "FifoTopic",
    "KmsMasterKeyId",
    "SignatureVersion",
    "TracingConfig",
)


def queue(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    check_known(logical_id, properties, (*QUEUE_ATTRIBUTES, "QueueName", "Tags"))
    fifo = str(properties.get("FifoQueue", "")).lower() == "true"
    default = target.default_name(logical_id, 75 if fifo else 80) + (".fifo" if fifo else "")
    name = properties.get("QueueName", default)
    attributes = {k: attribute_text(v) for k, v in properties.items() if k in QUEUE_ATTRIBUTES}
    url = target.call(
        "sqs",
        "CreateQueue",
        QueueName=name,
        Attributes=attributes,
        tags=tag_map(properties.get("Tags")),
    )["QueueUrl"]
    arn = f"arn:aws:sqs:{target.region}:{url.rstrip('/').split('/')[-2]}:{name}"
    return Resolved(url, {"Arn": arn, "QueueName": name, "QueueUrl": url})


def topic(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    """CreateTopic, then its inline subscriptions (``Subscription``) as Subscribe calls."""
    known = (*TOPIC_ATTRIBUTES, "TopicName", "Tags", "Subscription", "DataProtectionPolicy")
    check_known(logical_id, properties, known)
    fifo = str(properties.get("FifoTopic", "")).lower() == "true"
    default = target.default_name(logical_id, 251 if fifo else 256) + (".fifo" if fifo else "")
    name = properties.get("TopicName", default)
    attributes = {k: attribute_text(v) for k, v in properties.items() if k in TOPIC_ATTRIBUTES}
    arn = target.call(
        "sns",
        "CreateTopic",
        Name=name,
        Attributes=attributes,
        Tags=tag_list(properties.get("Tags")),
    )["TopicArn"]
    for index, entry in enumerate(properties.get("Subscription", [])):
        subscription(target, f"{logical_id}.Subscription[{index}]", {"TopicArn": arn, **entry})
    return Resolved(arn, {"TopicArn": arn, "TopicName": name})


def permission(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    """AddPermission: the statement ID is the resource's, as CloudFormation names it."""
    request = request_for(target, "lambda", "AddPermission", properties)
    check_known(logical_id, properties, request)
    statement = target.default_name(logical_id, 100)
    target.call("lambda", "AddPermission", StatementId=statement, **request)
    return Resolved(f"{properties['FunctionName']}:{statement}")


def rule(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    """PutRule, then PutTargets: a target's CloudFormation properties are the API's."""
    properties = dict(properties)
    name = properties.setdefault("Name", target.default_name(logical_id))
    if isinstance(properties.get("EventPattern"), dict):
        properties["EventPattern"] = json.dumps(properties["EventPattern"])
    request = request_for(target, "events", "PutRule", properties)
    request["Tags"] = tag_list(properties.get("Tags"))
    check_known(logical_id, properties, (*request, "Targets"))
    arn = target.call("events", "PutRule", **request)["RuleArn"]
    targets = properties.get("Targets", [])
    if targets:
        bus = {"EventBusName": properties["EventBusName"]} if "EventBusName" in properties else {}
        target.call("events", "PutTargets", Rule=name, Targets=targets, **bus)
    return Resolved(name, {"Arn": arn})


def event_bus(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    request = request_for(target, "events", "CreateEventBus", properties)
    request["Tags"] = tag_list(properties.get("Tags"))
    check_known(logical_id, properties, (*request, "Policy"))
    arn = target.call("events", "CreateEventBus", **request)["EventBusArn"]
    return Resolved(properties["Name"], {"Arn": arn, "Name": properties["Name"]})


def role_policy(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    """AWS::IAM::Policy: an inline policy on each role, user and group it names."""
    check_known(
        logical_id, properties, ("PolicyName", "PolicyDocument", "Roles", "Users", "Groups")
    )
    document = json.dumps(properties["PolicyDocument"])
    name = properties["PolicyName"]
    for key, operation, parameter in (
        ("Roles", "PutRolePolicy", "RoleName"),
        ("Users", "PutUserPolicy", "UserName"),
        ("Groups", "PutGroupPolicy", "GroupName"),
    ):
        for holder in properties.get(key, []):
            target.call(
                "iam", operation, PolicyName=name, PolicyDocument=document, **{parameter: holder}
            )
    return Resolved(name)


def managed_policy(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    """CreatePolicy, attached to the roles it names."""
    known = (
        "ManagedPolicyName",
        "PolicyDocument",
        "Path",
        "Description",
        "Roles",
        "Users",
        "Groups",
    )
    check_known(logical_id, properties, known)
    request = {
        "PolicyName": properties.get("ManagedPolicyName", target.default_name(logical_id, 128)),
        "PolicyDocument": json.dumps(properties["PolicyDocument"]),
        **{key: properties[key] for key in ("Path", "Description") if key in properties},
    }
    arn = target.call("iam", "CreatePolicy", **request)["Policy"]["Arn"]
    for role_name in properties.get("Roles", []):
        target.call("iam", "AttachRolePolicy", RoleName=role_name, PolicyArn=arn)
    return Resolved(arn, {"PolicyArn": arn})


def stream(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    known = ("Name", "ShardCount", "StreamModeDetails", "RetentionPeriodHours")
    check_known(logical_id, properties, (*known, "StreamEncryption", "Tags"))
    name = properties.get("Name", target.default_name(logical_id, 128))
    request: dict[str, Any] = {"StreamName": name}
    if "StreamModeDetails" in properties:
        request["StreamModeDetails"] = properties["StreamModeDetails"]
    if properties.get("StreamModeDetails", {}).get("StreamMode") != "ON_DEMAND":
        request["ShardCount"] = properties.get("ShardCount", 1)
    target.call("kinesis", "CreateStream", **request)
    encryption = properties.get("StreamEncryption")
    if encryption:
        target.call("kinesis", "StartStreamEncryption", StreamName=name, **encryption)
    arn = target.client("kinesis").describe_stream_summary(StreamName=name)[
        "StreamDescriptionSummary"
    ]
    return Resolved(name, {"Arn": arn["StreamARN"]})


def state_machine(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    """CreateStateMachine from an inline, a string or a packaged definition, with its
    substitutions made as CloudFormation makes them."""
    known = ("StateMachineName", "StateMachineType", "RoleArn", "LoggingConfiguration")
    definitions = (
        "Definition",
        "DefinitionString",
        "DefinitionS3Location",
        "DefinitionSubstitutions",
    )
    check_known(logical_id, properties, (*known, *definitions, "TracingConfiguration", "Tags"))
    definition = _definition(target, properties)
    for key, value in properties.get("DefinitionSubstitutions", {}).items():
        definition = definition.replace("${" + key + "}", str(value))
    request = {
        "name": properties.get("StateMachineName", target.default_name(logical_id, 80)),
        "definition": definition,
        "roleArn": properties["RoleArn"],
        "type": properties.get("StateMachineType", "STANDARD"),
        "tags": [{"key": t["Key"], "value": t["Value"]} for t in tag_list(properties.get("Tags"))],
        **_lower_first(properties, ("LoggingConfiguration", "TracingConfiguration")),
    }
    arn = target.call("stepfunctions", "CreateStateMachine", **request)["stateMachineArn"]
    return Resolved(arn, {"Arn": arn, "Name": request["name"]})


def _definition(target: Target, properties: Mapping[str, Any]) -> str:
    if "DefinitionString" in properties:
        return str(properties["DefinitionString"])
    if "Definition" in properties:
        return json.dumps(properties["Definition"])
    location = properties["DefinitionS3Location"]
    found = target.client("s3").get_object(Bucket=location["Bucket"], Key=location["Key"])
    return found["Body"].read().decode()


def _lower_first(properties: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """CloudFormation's PascalCase structures as Step Functions' camelCase parameters."""

    def lower(node: Any) -> Any:
        if isinstance(node, dict):
            return {key[0].lower() + key[1:]: lower(value) for key, value in node.items()}
        if isinstance(node, list):
            return [lower(item) for item in node]
        return node

    return {key[0].lower() + key[1:]: lower(properties[key]) for key in keys if key in properties}
