"""IAM, data, messaging and monitoring resources that moto's CloudFormation lacks or creates
without some of their properties: each is the API call (or calls) CloudFormation's handler
makes, with CloudFormation's property names mapped to the API's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pytest_prr.deploy.intrinsics import Resolved
from pytest_prr.deploy.target import (
    Target,
    attribute_text,
    check_known,
    request_for,
    tag_list,
    tag_map,
)


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def role(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    """CreateRole, then its inline and managed policies (moto drops ManagedPolicyArns)."""
    properties = dict(properties)
    name = properties.setdefault("RoleName", target.default_name(logical_id))
    properties["AssumeRolePolicyDocument"] = _json(properties["AssumeRolePolicyDocument"])
    request = request_for(target, "iam", "CreateRole", properties)
    request["Tags"] = tag_list(properties.get("Tags"))
    check_known(logical_id, properties, (*request, "Policies", "ManagedPolicyArns"))
    created = target.call("iam", "CreateRole", **request)["Role"]
    for policy in properties.get("Policies", []):
        target.call(
            "iam",
            "PutRolePolicy",
            RoleName=name,
            PolicyName=policy["PolicyName"],
            PolicyDocument=_json(policy["PolicyDocument"]),
        )
    for arn in properties.get("ManagedPolicyArns", []):
        target.call("iam", "AttachRolePolicy", RoleName=name, PolicyArn=arn)
    return Resolved(name, {"Arn": created["Arn"], "RoleId": created["RoleId"]})


def table(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    """CreateTable, then point-in-time recovery and TTL (moto drops PITR and SSE)."""
    properties = dict(properties)
    name = properties.setdefault("TableName", target.default_name(logical_id, 255))
    request = request_for(target, "dynamodb", "CreateTable", properties)
    request.pop("SSESpecification", None)
    request.pop("StreamSpecification", None)
    if "SSESpecification" in properties:
        # CloudFormation spells SSEEnabled what the API calls Enabled.
        sse = dict(properties["SSESpecification"])
        request["SSESpecification"] = {"Enabled": sse.pop("SSEEnabled", False), **sse}
    if "StreamSpecification" in properties:
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            **properties["StreamSpecification"],
        }
    follow_ups = ("PointInTimeRecoverySpecification", "TimeToLiveSpecification")
    check_known(logical_id, properties, (*request, *follow_ups))
    created = target.call("dynamodb", "CreateTable", **request)["TableDescription"]
    if "PointInTimeRecoverySpecification" in properties:
        target.call(
            "dynamodb",
            "UpdateContinuousBackups",
            TableName=name,
            PointInTimeRecoverySpecification=properties["PointInTimeRecoverySpecification"],
        )
    if "TimeToLiveSpecification" in properties:
        target.call(
            "dynamodb",
            "UpdateTimeToLive",
            TableName=name,
            TimeToLiveSpecification=properties["TimeToLiveSpecification"],
        )
    attributes = {"Arn": created["TableArn"]}
    if "LatestStreamArn" in created:
        attributes["StreamArn"] = created["LatestStreamArn"]
    return Resolved(name, attributes)


def key(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    """CreateKey with the key policy as a string (moto's CloudFormation stores it so that
    DescribeKey fails), then rotation."""
    properties = dict(properties)
    if "KeyPolicy" in properties:
        properties["Policy"] = _json(properties.pop("KeyPolicy"))
    request = request_for(target, "kms", "CreateKey", properties)
    request["Tags"] = [
        {"TagKey": t["Key"], "TagValue": t["Value"]} for t in tag_list(properties.get("Tags"))
    ]
    check_known(logical_id, properties, (*request, "EnableKeyRotation"))
    created = target.call("kms", "CreateKey", **request)["KeyMetadata"]
    if str(properties.get("EnableKeyRotation")).lower() == "true":
        target.call("kms", "EnableKeyRotation", KeyId=created["KeyId"])
    return Resolved(created["KeyId"], {"Arn": created["Arn"], "KeyId": created["KeyId"]})


def log_group(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    """CreateLogGroup with its KMS key (moto's CloudFormation drops it), then retention."""
    renamed = {
        "LogGroupName": "logGroupName",
        "KmsKeyId": "kmsKeyId",
        "LogGroupClass": "logGroupClass",
    }
    check_known(logical_id, properties, (*renamed, "RetentionInDays", "Tags"))
    name = properties.get("LogGroupName", target.default_name(logical_id, 512))
    request = {renamed[k]: v for k, v in properties.items() if k in renamed}
    request.update(logGroupName=name, tags=tag_map(properties.get("Tags")))
    target.call("logs", "CreateLogGroup", **request)
    if "RetentionInDays" in properties:
        target.call(
            "logs",
            "PutRetentionPolicy",
            logGroupName=name,
            retentionInDays=properties["RetentionInDays"],
        )
    group = target.client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]
    return Resolved(name, {"Arn": group["arn"]})


def subscription_filter(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    renamed = {
        "LogGroupName": "logGroupName",
        "FilterName": "filterName",
        "FilterPattern": "filterPattern",
        "DestinationArn": "destinationArn",
        "RoleArn": "roleArn",
        "Distribution": "distribution",
    }
    check_known(logical_id, properties, renamed)
    request = {renamed[k]: v for k, v in properties.items()}
    request.setdefault("filterName", target.default_name(logical_id, 512))
    target.call("logs", "PutSubscriptionFilter", **request)
    return Resolved(request["filterName"])


def alarm(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    """A metric alarm's CloudFormation properties are PutMetricAlarm's parameters, by name."""
    properties = dict(properties)
    name = properties.setdefault("AlarmName", target.default_name(logical_id, 255))
    request = request_for(target, "cloudwatch", "PutMetricAlarm", properties)
    check_known(logical_id, properties, request)
    target.call("cloudwatch", "PutMetricAlarm", **request)
    found = target.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    return Resolved(name, {"Arn": found["AlarmArn"]})


def queue_policy(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    check_known(logical_id, properties, ("Queues", "PolicyDocument"))
    for queue in properties["Queues"]:
        target.call(
            "sqs",
            "SetQueueAttributes",
            QueueUrl=queue,
            Attributes={"Policy": _json(properties["PolicyDocument"])},
        )
    return Resolved(target.default_name(logical_id))


def topic_policy(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    check_known(logical_id, properties, ("Topics", "PolicyDocument"))
    for topic in properties["Topics"]:
        target.call(
            "sns",
            "SetTopicAttributes",
            TopicArn=topic,
            AttributeName="Policy",
            AttributeValue=_json(properties["PolicyDocument"]),
        )
    return Resolved(target.default_name(logical_id))


#: AWS::SNS::Subscription properties that are subscription attributes in the API.
SUBSCRIPTION_ATTRIBUTES = (
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "SubscriptionRoleArn",
)


def subscription(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    check_known(
        logical_id,
        properties,
        ("TopicArn", "Protocol", "Endpoint", "Region", *SUBSCRIPTION_ATTRIBUTES),
    )
    attributes = {
        name: attribute_text(value)
        for name, value in properties.items()
        if name in SUBSCRIPTION_ATTRIBUTES
    }
    created = target.call(
        "sns",
        "Subscribe",
        TopicArn=properties["TopicArn"],
        Protocol=properties["Protocol"],
        Endpoint=properties.get("Endpoint", ""),
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )
    return Resolved(created["SubscriptionArn"])


def bucket_policy(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    check_known(logical_id, properties, ("Bucket", "PolicyDocument"))
    target.call(
        "s3",
        "PutBucketPolicy",
        Bucket=properties["Bucket"],
        Policy=_json(properties["PolicyDocument"]),
    )
    return Resolved(target.default_name(logical_id))


def secret(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    """CreateSecret; a generated value is made as Secrets Manager makes it."""
    properties = dict(properties)
    name = properties.setdefault("Name", target.default_name(logical_id, 512))
    generate = properties.pop("GenerateSecretString", None)
    if generate is not None and "SecretString" not in properties:
        properties["SecretString"] = _generated(target, generate)
    request = request_for(target, "secretsmanager", "CreateSecret", properties)
    request["Tags"] = tag_list(properties.get("Tags"))
    check_known(logical_id, properties, request)
    created = target.call("secretsmanager", "CreateSecret", **request)
    return Resolved(created["ARN"], {"Id": created["ARN"], "Name": name})


def _generated(target: Target, generate: dict[str, Any]) -> str:
    options = {
        k: v for k, v in generate.items() if k not in ("SecretStringTemplate", "GenerateStringKey")
    }
    password = target.call("secretsmanager", "GetRandomPassword", **options)["RandomPassword"]
    if "SecretStringTemplate" not in generate:
        return password
    document = json.loads(generate["SecretStringTemplate"])
    document[generate.get("GenerateStringKey", "password")] = password
    return json.dumps(document)


def schedule(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    properties = dict(properties)
    name = properties.setdefault("Name", target.default_name(logical_id))
    request = request_for(target, "scheduler", "CreateSchedule", properties)
    check_known(logical_id, properties, request)
    created = target.call("scheduler", "CreateSchedule", **request)
    return Resolved(name, {"Arn": created["ScheduleArn"]})


def schedule_group(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    properties = dict(properties)
    name = properties.setdefault("Name", target.default_name(logical_id))
    request = request_for(target, "scheduler", "CreateScheduleGroup", properties)
    request["Tags"] = tag_list(properties.get("Tags"))
    check_known(logical_id, properties, request)
    created = target.call("scheduler", "CreateScheduleGroup", **request)
    return Resolved(name, {"Arn": created["ScheduleGroupArn"]})


def stream_consumer(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    check_known(logical_id, properties, ("StreamARN", "ConsumerName"))
    created = target.call("kinesis", "RegisterStreamConsumer", **properties)["Consumer"]
    arn = created["ConsumerARN"]
    return Resolved(arn, {"ConsumerARN": arn, "ConsumerName": created["ConsumerName"]})


#: NotificationConfiguration keys -> (API key, target property -> API target key).
NOTIFICATIONS = {
    "LambdaConfigurations": ("LambdaFunctionConfigurations", "Function", "LambdaFunctionArn"),
    "QueueConfigurations": ("QueueConfigurations", "Queue", "QueueArn"),
    "TopicConfigurations": ("TopicConfigurations", "Topic", "TopicArn"),
}


def bucket(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    """CreateBucket, then the settings moto's CloudFormation drops: its notifications (which
    REL-01 reads), encryption, versioning, public access block and tags."""
    known = ("BucketName", "Tags", "BucketEncryption", "NotificationConfiguration")
    check_known(
        logical_id,
        properties,
        (*known, "VersioningConfiguration", "PublicAccessBlockConfiguration"),
    )
    name = properties.get("BucketName") or target.default_name(logical_id, 63).lower()
    request: dict[str, Any] = {"Bucket": name}
    if target.region != "us-east-1":
        request["CreateBucketConfiguration"] = {"LocationConstraint": target.region}
    target.call("s3", "CreateBucket", **request)
    if properties.get("Tags"):
        target.call(
            "s3", "PutBucketTagging", Bucket=name, Tagging={"TagSet": tag_list(properties["Tags"])}
        )
    encryption = properties.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration")
    if encryption:
        rules = [
            {
                "ApplyServerSideEncryptionByDefault": rule.get("ServerSideEncryptionByDefault", {}),
                **(
                    {"BucketKeyEnabled": rule["BucketKeyEnabled"]}
                    if "BucketKeyEnabled" in rule
                    else {}
                ),
            }
            for rule in encryption
        ]
        target.call(
            "s3",
            "PutBucketEncryption",
            Bucket=name,
            ServerSideEncryptionConfiguration={"Rules": rules},
        )
    if "VersioningConfiguration" in properties:
        target.call(
            "s3",
            "PutBucketVersioning",
            Bucket=name,
            VersioningConfiguration=properties["VersioningConfiguration"],
        )
    if "PublicAccessBlockConfiguration" in properties:
        target.call(
            "s3",
            "PutPublicAccessBlock",
            Bucket=name,
            PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"],
        )
    if properties.get("NotificationConfiguration"):
        target.call(
            "s3",
            "PutBucketNotificationConfiguration",
            Bucket=name,
            NotificationConfiguration=_notifications(properties["NotificationConfiguration"]),
        )
    domain = f"{name}.s3.amazonaws.com"
    attributes = {
        "Arn": f"arn:aws:s3:::{name}",
        "DomainName": domain,
        "RegionalDomainName": f"{name}.s3.{target.region}.amazonaws.com",
        "DualStackDomainName": f"{name}.s3.dualstack.{target.region}.amazonaws.com",
        "WebsiteURL": f"http://{name}.s3-website-{target.region}.amazonaws.com",
    }
    return Resolved(name, attributes)


def _notifications(configuration: Mapping[str, Any]) -> dict[str, Any]:
    """CloudFormation's NotificationConfiguration as PutBucketNotificationConfiguration's."""
    converted: dict[str, Any] = {}
    for key, (api_key, target_key, api_target_key) in NOTIFICATIONS.items():
        entries = []
        for entry in configuration.get(key, []):
            item: dict[str, Any] = {api_target_key: entry[target_key], "Events": [entry["Event"]]}
            rules = entry.get("Filter", {}).get("S3Key", {}).get("Rules")
            if rules:
                item["Filter"] = {"Key": {"FilterRules": rules}}
            entries.append(item)
        if entries:
            converted[api_key] = entries
    if (
        str(configuration.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled")).lower()
        == "true"
    ):
        converted["EventBridgeConfiguration"] = {}
    return converted
