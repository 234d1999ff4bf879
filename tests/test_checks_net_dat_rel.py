"""NET, DAT and REL checks over snapshots built in the test: each rule's FAIL, PASS, N/A
and ERROR (a failed read where the collector would put its marker)."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_prr.catalog import builtin_catalog
from pytest_prr.checks import data, network, reliability  # noqa: F401 (registration)
from pytest_prr.checks.base import REGISTRY, run_check
from pytest_prr.results.model import Result
from pytest_prr.snapshot.model import EMULATOR_GAP, Snapshot, error_marker
from snapshots import (
    ACCOUNT_ID,
    REGION,
    build_snapshot,
    failed_read,
    function_arn,
    make_function,
)

TUNABLES = {t.name: t.default for c in builtin_catalog() for t in c.tunables}
FN = function_arn("app")
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:orders"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:events"
SUBSCRIPTION = f"{TOPIC}:0b7c4a4e-7d1f-4f0e-9d53-5b0c2e6a1f11"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:db-AbCdEf"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
STREAM = f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/clicks"
TABLE_STREAM = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/orders/stream/2026-01-01T00:00:00"
RULE = f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/nightly"
VPC = {"VpcId": "vpc-1", "SubnetIds": ["subnet-a", "subnet-b"], "SecurityGroupIds": ["sg-1"]}
LOG_GROUP = "/aws/lambda/app"


def only(control: str, snapshot: Snapshot, **tunables: Any) -> Result:
    findings = run_check(REGISTRY[control], snapshot, {**TUNABLES, **tunables})
    assert len(findings) == 1
    return findings[0]


def snap(**fields: Any) -> Any:
    """A snapshot builder of one function ``app`` with ``fields``; sections by keyword
    ``sections``, so that cases are built lazily."""
    sections = fields.pop("sections", {})
    return lambda: build_snapshot([make_function(**fields)], **sections)


# -- NET --------------------------------------------------------------------------------


def subnets(zone_a: str, zone_b: str) -> dict[str, Any]:
    return {
        "security_groups": {"sg-1": {"GroupId": "sg-1", "IpPermissions": []}},
        "subnets": {
            "subnet-a": {"SubnetId": "subnet-a", "AvailabilityZone": zone_a, "VpcId": "vpc-1"},
            "subnet-b": {"SubnetId": "subnet-b", "AvailabilityZone": zone_b, "VpcId": "vpc-1"},
        },
    }


def group(ipv4: list[str], ipv6: list[str] = ()) -> dict[str, Any]:
    permission = {
        "IpProtocol": "tcp",
        "FromPort": 443,
        "ToPort": 443,
        "IpRanges": [{"CidrIp": c} for c in ipv4],
        "Ipv6Ranges": [{"CidrIpv6": c} for c in ipv6],
    }
    return {
        **subnets("us-east-1a", "us-east-1b"),
        "security_groups": {"sg-1": {"GroupId": "sg-1", "IpPermissions": [permission]}},
    }


NET = [
    ("NET-01", snap(), "fail", "app has no VPC subnets"),
    (
        "NET-01",
        snap(VpcConfig={"VpcId": "", "SubnetIds": [], "SecurityGroupIds": []}),
        "fail",
        "app",
    ),
    ("NET-01", snap(VpcConfig=VPC), "pass", "vpc-1"),
    ("NET-01", snap(Tags={"prr:network": "public"}), "not_applicable", "prr:network=public"),
    ("NET-01", snap(Tags=failed_read("lambda:GetFunction")), "error", "lambda:GetFunction"),
    (
        "NET-02",
        snap(VpcConfig=VPC, sections={"ec2": subnets("us-east-1a", "us-east-1a")}),
        "fail",
        "us-east-1a",
    ),
    (
        "NET-02",
        snap(VpcConfig=VPC, sections={"ec2": subnets("us-east-1a", "us-east-1b")}),
        "pass",
        "2 Availability Zones",
    ),
    ("NET-02", snap(), "not_applicable", "not in a VPC"),
    (
        "NET-02",
        snap(
            VpcConfig=VPC,
            sections={
                "ec2": {
                    "security_groups": {},
                    "subnets": dict.fromkeys(
                        ["subnet-a", "subnet-b"], failed_read("ec2:DescribeSubnets")
                    ),
                }
            },
        ),
        "error",
        "ec2:DescribeSubnets",
    ),
    (
        "NET-02",
        snap(VpcConfig=VPC, sections={"ec2": {"security_groups": {}, "subnets": {}}}),
        "error",
        "ec2:DescribeSubnets",
    ),
    (
        "NET-03",
        snap(VpcConfig=VPC, sections={"ec2": group(["10.0.0.0/8", "0.0.0.0/0"])}),
        "fail",
        "sg-1 allows inbound from 0.0.0.0/0",
    ),
    ("NET-03", snap(VpcConfig=VPC, sections={"ec2": group([], ["::/0"])}), "fail", "::/0"),
    ("NET-03", snap(VpcConfig=VPC, sections={"ec2": group(["10.0.0.0/8"])}), "pass", "app"),
    ("NET-03", snap(), "not_applicable", "not in a VPC"),
    (
        "NET-03",
        snap(
            VpcConfig=VPC,
            sections={
                "ec2": {
                    "security_groups": {"sg-1": failed_read("ec2:DescribeSecurityGroups")},
                    "subnets": {},
                }
            },
        ),
        "error",
        "ec2:DescribeSecurityGroups",
    ),
]

# -- DAT --------------------------------------------------------------------------------


def secret(**fields: Any) -> dict[str, Any]:
    described = {
        "exists": True,
        "RotationEnabled": True,
        "LastRotatedDate": "2026-11-01T00:00:00+00:00",
        "CreatedDate": "2024-01-01T00:00:00+00:00",
    }
    return {"secrets": {"secrets": {SECRET: {**described, **fields}}}}


REFERENCING = {"DB_SECRET": {"value": f"{SECRET}:SecretString:password::"}}
OTHER_REGION_SECRET = SECRET.replace(REGION, "eu-west-1")


def sqs(**attributes: Any) -> dict[str, Any]:
    queue = {
        "VisibilityTimeout": 60,
        "RedrivePolicy": {"deadLetterTargetArn": f"{QUEUE}-dlq", "maxReceiveCount": 5},
        "KmsMasterKeyId": None,
        "SqsManagedSseEnabled": True,
    }
    return {"sqs": {"queues": {QUEUE: {**queue, **attributes}}}}


def mapping(source: str = QUEUE, **fields: Any) -> dict[str, Any]:
    return {"UUID": "m-1", "EventSourceArn": source, "FunctionArn": FN, **fields}


SQS_SOURCE = {"event_source_mappings": [mapping()]}


def sns(redrive: Any = None, key: Any = None, endpoint: str = FN) -> dict[str, Any]:
    subscription = {
        "SubscriptionArn": SUBSCRIPTION,
        "TopicArn": TOPIC,
        "Endpoint": endpoint,
        "RedrivePolicy": redrive,
    }
    return {"sns": {"subscriptions": [subscription], "topics": {TOPIC: {"KmsMasterKeyId": key}}}}


def on_failure(destination: str) -> list[dict[str, Any]]:
    return [
        {
            "FunctionArn": f"{FN}:$LATEST",
            "DestinationConfig": {"OnSuccess": {}, "OnFailure": {"Destination": destination}},
        }
    ]


def logs(key: str | None = None, name: str = LOG_GROUP) -> dict[str, Any]:
    return {"logs": {"log_groups": {name: {"retentionInDays": 365, "kmsKeyId": key}}}}


def kms(key: Any) -> dict[str, Any]:
    return {"kms": {"keys": {KEY: key}}}


CMK = {"KeyManager": "CUSTOMER", "KeyRotationEnabled": True}

DAT = [
    (
        "DAT-01",
        snap(Environment=REFERENCING, sections=secret(RotationEnabled=False)),
        "fail",
        "db-AbCdEf (rotation disabled)",
    ),
    (
        "DAT-01",
        snap(Environment=REFERENCING, sections=secret(LastRotatedDate="2026-07-01T00:00:00+00:00")),
        "fail",
        "last rotated 150 days ago",
    ),
    (
        "DAT-01",
        snap(
            Environment=REFERENCING,
            sections=secret(LastRotatedDate=None, CreatedDate="2026-01-01T00:00:00+00:00"),
        ),
        "fail",
        "never rotated, created 331 days ago",
    ),
    (
        "DAT-01",
        snap(
            Environment=REFERENCING, sections={"secrets": {"secrets": {SECRET: {"exists": False}}}}
        ),
        "fail",
        "does not exist",
    ),
    ("DAT-01", snap(Environment=REFERENCING, sections=secret()), "pass", "app"),
    (
        "DAT-01",
        snap(
            Environment=REFERENCING,
            sections=secret(LastRotatedDate=None, CreatedDate="2026-11-20T00:00:00Z"),
        ),
        "pass",
        "app",
    ),
    (
        "DAT-01",
        snap(
            Environment={
                "LEVEL": {"value": "INFO"},
                "P": {"value": f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:parameter/db"},
            }
        ),
        "not_applicable",
        "references no Secrets Manager secret",
    ),
    (
        "DAT-01",
        snap(
            Environment={"DB_PASSWORD": {"redacted": True, "finding": "secret-name", "length": 12}}
        ),
        "not_applicable",
        "app",
    ),
    (
        "DAT-01",
        snap(
            Environment=REFERENCING,
            sections={
                "secrets": {"secrets": {SECRET: failed_read("secretsmanager:DescribeSecret")}}
            },
        ),
        "error",
        "secretsmanager:DescribeSecret",
    ),
    (
        "DAT-01",
        snap(Environment={"S": {"value": OTHER_REGION_SECRET}}),
        "error",
        "secretsmanager:DescribeSecret",
    ),
    (
        "DAT-02",
        snap(**SQS_SOURCE, sections=sqs(SqsManagedSseEnabled=False)),
        "fail",
        "app's SQS queue orders has no server-side encryption",
    ),
    (
        "DAT-02",
        snap(DeadLetterConfig={"TargetArn": QUEUE}, sections=sqs(SqsManagedSseEnabled=False)),
        "fail",
        "orders",
    ),
    (
        "DAT-02",
        snap(EventInvokeConfigs=on_failure(QUEUE), sections=sqs(SqsManagedSseEnabled=False)),
        "fail",
        "orders",
    ),
    ("DAT-02", snap(**SQS_SOURCE, sections=sqs()), "pass", "app"),
    (
        "DAT-02",
        snap(**SQS_SOURCE, sections=sqs(SqsManagedSseEnabled=False, KmsMasterKeyId=KEY)),
        "pass",
        "app",
    ),
    ("DAT-02", snap(event_source_mappings=[mapping(STREAM)]), "not_applicable", "app"),
    (
        "DAT-02",
        snap(
            **SQS_SOURCE,
            sections={"sqs": {"queues": {QUEUE: failed_read("sqs:GetQueueAttributes")}}},
        ),
        "error",
        "sqs:GetQueueAttributes",
    ),
    (
        "DAT-02",
        snap(event_source_mappings=failed_read("lambda:ListEventSourceMappings")),
        "error",
        "lambda:ListEventSourceMappings",
    ),
    ("DAT-03", snap(sections=sns()), "fail", "app's SNS topic events has no KmsMasterKeyId"),
    (
        "DAT-03",
        snap(EventInvokeConfigs=on_failure(TOPIC), sections=sns(endpoint=function_arn("other"))),
        "fail",
        "events",
    ),
    ("DAT-03", snap(sections=sns(key="alias/sns")), "pass", "app"),
    ("DAT-03", snap(sections=sns(endpoint=function_arn("other"))), "not_applicable", "app"),
    (
        "DAT-03",
        snap(
            sections={
                "sns": {
                    "subscriptions": failed_read("sns:ListSubscriptions"),
                    "topics": failed_read("sns:ListSubscriptions"),
                }
            }
        ),
        "error",
        "sns:ListSubscriptions",
    ),
    (
        "DAT-03",
        snap(
            sections={
                "sns": {**sns()["sns"], "topics": {TOPIC: failed_read("sns:GetTopicAttributes")}}
            }
        ),
        "error",
        "sns:GetTopicAttributes",
    ),
    (
        "DAT-04",
        snap(KMSKeyArn=KEY, sections=kms({**CMK, "KeyRotationEnabled": False})),
        "fail",
        f"app uses customer-managed key {KEY} with automatic rotation disabled",
    ),
    (
        "DAT-04",
        snap(sections={**logs(KEY), **kms({**CMK, "KeyRotationEnabled": False})}),
        "fail",
        KEY,
    ),
    ("DAT-04", snap(KMSKeyArn=KEY, sections={**logs(KEY), **kms(CMK)}), "pass", "app"),
    (
        "DAT-04",
        snap(KMSKeyArn=KEY, sections=kms({"KeyManager": "AWS"})),
        "not_applicable",
        "app uses no customer-managed KMS key",
    ),
    ("DAT-04", snap(sections=logs()), "not_applicable", "app"),
    (
        "DAT-04",
        snap(KMSKeyArn=KEY, sections=kms(failed_read("kms:GetKeyRotationStatus"))),
        "error",
        "kms:GetKeyRotationStatus",
    ),
    (
        "DAT-04",
        snap(sections={"logs": {"log_groups": failed_read("logs:DescribeLogGroups")}}),
        "error",
        "logs:DescribeLogGroups",
    ),
    ("DAT-05", snap(sections=logs()), "fail", "app's log group /aws/lambda/app has no kmsKeyId"),
    (
        "DAT-05",
        snap(
            LoggingConfig={"LogFormat": "JSON", "LogGroup": "shared"}, sections=logs(name="shared")
        ),
        "fail",
        "shared",
    ),
    ("DAT-05", snap(sections=logs(KEY)), "pass", KEY),
    ("DAT-05", snap(sections=logs(name="/aws/lambda/other")), "not_applicable", "does not exist"),
    (
        "DAT-05",
        snap(sections={"logs": {"log_groups": failed_read("logs:DescribeLogGroups")}}),
        "error",
        "logs:DescribeLogGroups",
    ),
]

# -- REL --------------------------------------------------------------------------------


def targets(dead_letter: Any = None, function: Any = FN) -> dict[str, Any]:
    target = {
        "Rule": "nightly",
        "RuleArn": RULE,
        "EventBusName": "default",
        "State": "ENABLED",
        "Id": "t1",
        "FunctionArn": function,
        "DeadLetterConfig": dead_letter,
        "RetryPolicy": None,
    }
    return {"events": {"targets": [target]}}


def notification(function: Any = FN) -> dict[str, Any]:
    return {
        "s3": {
            "notifications": [
                {"Bucket": "uploads", "FunctionArn": function, "Events": ["s3:ObjectCreated:*"]}
            ]
        }
    }


def stage(methods: Any) -> dict[str, Any]:
    return {
        "apigw": {
            "stages": [
                {
                    "api_id": "a1",
                    "api_name": "shop",
                    "api_type": "REST",
                    "stage": "prod",
                    "stage_arn": f"arn:aws:apigateway:{REGION}::/restapis/a1/stages/prod",
                    "access_log_destination": None,
                    "throttling": None,
                    "web_acl_arn": None,
                    "methods": methods,
                }
            ]
        }
    }


def method(function: str = FN) -> dict[str, Any]:
    return {
        "resource_path": "/orders",
        "http_method": "GET",
        "authorization_type": "NONE",
        "api_key_required": False,
        "function_arn": function,
    }


STREAM_OK = {
    "DestinationConfig": {"OnFailure": {"Destination": QUEUE}},
    "MaximumRetryAttempts": 3,
    "BisectBatchOnFunctionError": True,
}
ALIAS = {"Name": "live", "FunctionVersion": "3", "AliasArn": f"{FN}:live"}
LATEST = {"Name": "dev", "FunctionVersion": "$LATEST", "AliasArn": f"{FN}:dev"}

REL = [
    ("REL-01", snap(sections=sns()), "fail", "app is invoked asynchronously (sns_subscriptions)"),
    ("REL-01", snap(sections=targets()), "fail", "eventbridge_rules"),
    ("REL-01", snap(sections=notification()), "fail", "s3_buckets"),
    (
        "REL-01",
        snap(EventInvokeConfigs=[{"FunctionArn": FN, "MaximumRetryAttempts": 2}]),
        "fail",
        "event_invoke_configs",
    ),
    ("REL-01", snap(DeadLetterConfig={"TargetArn": QUEUE}, sections=sns()), "pass", QUEUE),
    ("REL-01", snap(EventInvokeConfigs=on_failure(QUEUE), sections=targets()), "pass", QUEUE),
    (
        "REL-01",
        snap(
            sections={
                **targets(function=function_arn("other")),
                **notification(function_arn("other")),
            }
        ),
        "not_applicable",
        "app is not invoked asynchronously",
    ),
    (
        "REL-01",
        snap(sections=targets(function=failed_read("events:ListTargetsByRule"))),
        "error",
        "events:ListTargetsByRule",
    ),
    (
        "REL-01",
        snap(sections=notification(failed_read("s3:GetBucketNotificationConfiguration"))),
        "error",
        "s3:GetBucketNotificationConfiguration",
    ),
    (
        "REL-01",
        snap(EventInvokeConfigs=failed_read("lambda:ListFunctionEventInvokeConfigs")),
        "error",
        "lambda:ListFunctionEventInvokeConfigs",
    ),
    ("REL-02", snap(), "fail", "app has no reserved concurrency"),
    ("REL-02", snap(ReservedConcurrentExecutions=50), "pass", "app has reserved concurrency 50"),
    (
        "REL-02",
        snap(ReservedConcurrentExecutions=failed_read("lambda:GetFunction")),
        "error",
        "lambda:GetFunction",
    ),
    ("REL-03", snap(), "fail", "app has no alias"),
    ("REL-03", snap(Aliases=[LATEST]), "fail", "app's aliases dev all point at $LATEST"),
    ("REL-03", snap(Aliases=[LATEST, ALIAS]), "pass", "live points at published version 3"),
    ("REL-03", snap(Aliases=failed_read("lambda:ListAliases")), "error", "lambda:ListAliases"),
    (
        "REL-04",
        snap(**SQS_SOURCE, sections=sqs(VisibilityTimeout=59)),
        "fail",
        "app's SQS queue orders has VisibilityTimeout 59s",
    ),
    ("REL-04", snap(**SQS_SOURCE, sections=sqs(VisibilityTimeout=60)), "pass", "app"),
    ("REL-04", snap(event_source_mappings=[mapping(STREAM)]), "not_applicable", "app"),
    (
        "REL-04",
        snap(**SQS_SOURCE, sections={"sqs": {"queues": {QUEUE: failed_read("sqs:GetQueueUrl")}}}),
        "error",
        "sqs:GetQueueUrl",
    ),
    (
        "REL-05",
        snap(**SQS_SOURCE, sections=sqs(RedrivePolicy=None)),
        "fail",
        "app's SQS queue orders has no RedrivePolicy",
    ),
    ("REL-05", snap(**SQS_SOURCE, sections=sqs()), "pass", "app"),
    (
        "REL-05",
        snap(DeadLetterConfig={"TargetArn": QUEUE}, sections=sqs(RedrivePolicy=None)),
        "not_applicable",
        "no SQS event source",
    ),
    (
        "REL-05",
        snap(event_source_mappings=failed_read("lambda:ListEventSourceMappings")),
        "error",
        "lambda:ListEventSourceMappings",
    ),
    (
        "REL-06",
        snap(
            event_source_mappings=[
                mapping(STREAM, MaximumRetryAttempts=-1, BisectBatchOnFunctionError=False)
            ]
        ),
        "fail",
        "no OnFailure destination, MaximumRetryAttempts -1, BisectBatchOnFunctionError",
    ),
    (
        "REL-06",
        snap(
            event_source_mappings=[
                mapping(TABLE_STREAM, **{**STREAM_OK, "MaximumRetryAttempts": -1})
            ]
        ),
        "fail",
        "app's stream mapping",
    ),
    (
        "REL-06",
        snap(
            event_source_mappings=[
                mapping(STREAM, **{**STREAM_OK, "BisectBatchOnFunctionError": False})
            ]
        ),
        "fail",
        "Bisect",
    ),
    (
        "REL-06",
        snap(
            event_source_mappings=[mapping(STREAM, **STREAM_OK), mapping(TABLE_STREAM, **STREAM_OK)]
        ),
        "pass",
        "app",
    ),
    ("REL-06", snap(**SQS_SOURCE), "not_applicable", "no Kinesis or DynamoDB stream"),
    (
        "REL-06",
        snap(event_source_mappings=failed_read("lambda:ListEventSourceMappings")),
        "error",
        "lambda:ListEventSourceMappings",
    ),
    (
        "REL-07",
        snap(event_source_mappings=[mapping(FunctionResponseTypes=[])]),
        "fail",
        "app's SQS mapping of orders lacks ReportBatchItemFailures",
    ),
    (
        "REL-07",
        snap(event_source_mappings=[mapping(FunctionResponseTypes=["ReportBatchItemFailures"])]),
        "pass",
        "app",
    ),
    ("REL-07", snap(event_source_mappings=[mapping(STREAM)]), "not_applicable", "app"),
    (
        "REL-07",
        snap(event_source_mappings=failed_read("lambda:ListEventSourceMappings")),
        "error",
        "lambda:ListEventSourceMappings",
    ),
    ("REL-08", snap(Timeout=30, sections=stage([method()])), "fail", "app is behind API Gateway"),
    ("REL-08", snap(Timeout=29, sections=stage([method()])), "pass", "app"),
    (
        "REL-08",
        snap(Timeout=900, sections=stage([method(function_arn("other"))])),
        "not_applicable",
        "app is not behind API Gateway",
    ),
    (
        "REL-08",
        snap(sections={"apigw": {"stages": [failed_read("apigateway:GetRestApis")]}}),
        "error",
        "apigateway:GetRestApis",
    ),
    (
        "REL-08",
        snap(sections=stage(failed_read("apigateway:GetResources"))),
        "error",
        "apigateway:GetResources",
    ),
    ("REL-09", snap(sections=targets()), "fail", f"app's EventBridge target {RULE}#t1"),
    ("REL-09", snap(sections=targets({"Arn": QUEUE})), "pass", "app"),
    ("REL-09", snap(sections=targets(function=function_arn("other"))), "not_applicable", "app"),
    (
        "REL-09",
        snap(sections={"events": {"targets": failed_read("events:ListRules")}}),
        "error",
        "events:ListRules",
    ),
    ("REL-10", snap(sections=sns()), "fail", f"app's SNS subscription {SUBSCRIPTION}"),
    ("REL-10", snap(sections=sns({"deadLetterTargetArn": QUEUE})), "pass", "app"),
    ("REL-10", snap(sections=sns(endpoint=function_arn("other"))), "not_applicable", "app"),
    (
        "REL-10",
        snap(sections=sns(failed_read("sns:GetSubscriptionAttributes"))),
        "error",
        "sns:GetSubscriptionAttributes",
    ),
]

CASES = NET + DAT + REL


@pytest.mark.parametrize(
    ("control", "build", "status", "text"),
    CASES,
    ids=[f"{case[0]}-{case[2]}-{i}" for i, case in enumerate(CASES)],
)
def test_verdict(control: str, build: Any, status: str, text: str) -> None:
    finding = only(control, build())
    assert (finding.status, finding.resource_id) == (status, FN), finding.message
    assert text in finding.message
    if status in ("fail", "pass", "not_applicable"):
        assert "app" in finding.message
    if status == "error":
        assert finding.evidence["operation"] == text


#: Controls whose spec rule has no N/A case.
NEVER_NA = {"REL-02", "REL-03"}


@pytest.mark.parametrize("control", sorted({case[0] for case in CASES}))
def test_every_outcome_is_covered(control: str) -> None:
    statuses = {status for cid, _, status, _ in CASES if cid == control}
    expected = {"pass", "fail", "error"} | (
        {"not_applicable"} if control not in NEVER_NA else set()
    )
    assert statuses == expected


def test_covers_every_control_of_the_domains() -> None:
    ids = {c.id for c in builtin_catalog() if c.id[:3] in ("NET", "DAT", "REL")}
    assert ids == {case[0] for case in CASES}
    assert all(REGISTRY[i].scope == "function" for i in ids)


def test_secret_age_tunable() -> None:
    build = snap(
        Environment=REFERENCING, sections=secret(LastRotatedDate="2026-07-01T00:00:00+00:00")
    )
    assert only("DAT-01", build(), prr_secret_max_age_days=180).status == "pass"
    assert only("DAT-01", build(), prr_secret_max_age_days=149).status == "fail"


def test_secret_evidence_has_no_value() -> None:
    finding = only("DAT-01", snap(Environment=REFERENCING, sections=secret())())
    assert "password" not in repr(finding.evidence)
    assert finding.evidence["secrets"][SECRET]["age_days"] == 27


def test_subscription_from_another_region_counts() -> None:
    """A topic in another region of the snapshot may deliver to the function."""
    snapshot = build_snapshot([make_function()])
    other = "eu-west-1"
    topic = TOPIC.replace(REGION, other)
    snapshot.data["regions"][other] = {
        **snapshot.data["regions"][REGION],
        "lambda": {**snapshot.data["regions"][REGION]["lambda"], "functions": {}},
        "sns": {
            "subscriptions": [
                {
                    "SubscriptionArn": f"{topic}:1",
                    "TopicArn": topic,
                    "Endpoint": FN,
                    "RedrivePolicy": None,
                }
            ],
            "topics": {topic: {"KmsMasterKeyId": None}},
        },
    }
    assert only("REL-10", snapshot).status == "fail"
    assert only("DAT-03", snapshot).message.endswith("events has no KmsMasterKeyId")
    assert only("REL-01", snapshot).status == "fail"


def test_rel08_a_readable_stage_proves_the_violation_though_another_region_is_unreadable() -> None:
    """Finding 7 of issue 12: a certain FAIL stands beside an unreadable API."""
    snapshot = build_snapshot([make_function(Timeout=60)], **stage([method()]))
    other = "eu-west-1"
    snapshot.data["regions"][other] = {
        **snapshot.data["regions"][REGION],
        "lambda": {**snapshot.data["regions"][REGION]["lambda"], "functions": {}},
        "apigw": {"stages": failed_read("apigateway:GetRestApis")},
    }
    snapshot.data["account"]["regions"].append(other)
    finding = only("REL-08", snapshot)
    assert finding.status == "fail", finding.message
    assert "not read: apigateway:GetRestApis" in finding.message
    snapshot.data["regions"][REGION]["lambda"]["functions"][FN]["Timeout"] = 10
    assert only("REL-08", snapshot).status == "error"


def test_rel08_a_missing_timeout_is_an_error() -> None:
    function = make_function()
    del function["Timeout"]
    finding = only("REL-08", build_snapshot([function], **stage([method()])))
    assert finding.status == "error" and "Timeout is missing" in finding.message


# -- REL-01 v1.1: every asynchronous caller, and a dropped DeadLetterConfig ----------------

SCHEDULE = f"arn:aws:scheduler:{REGION}:{ACCOUNT_ID}:schedule/default/nightly"


def schedules(function: str = FN) -> dict[str, Any]:
    return {
        "scheduler": {
            "targets": [
                {
                    "ScheduleArn": SCHEDULE,
                    "GroupName": "default",
                    "State": "ENABLED",
                    "FunctionArn": function,
                }
            ]
        }
    }


def grant(principal: str, **condition: Any) -> dict[str, Any]:
    statement = {
        "Sid": "s0",
        "Effect": "Allow",
        "Principal": {"Service": principal},
        "Action": "lambda:InvokeFunction",
        "Resource": FN,
    }
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def dropped(field: str) -> dict[str, Any]:
    """The marker an emulator's profile leaves where it drops ``field``."""
    return error_marker(
        "lambda:ListFunctions",
        "EmulatorGap",
        f"moto 5.2.5 does not return {field}",
        kind=EMULATOR_GAP,
    )


def two_functions(app: dict[str, Any], other: dict[str, Any], **sections: Any) -> Snapshot:
    return build_snapshot([app, other], **sections)


def rel01(snapshot: Snapshot) -> Result:
    return next(f for f in run_check(REGISTRY["REL-01"], snapshot, TUNABLES) if f.resource_id == FN)


def test_rel01_an_eventbridge_scheduler_schedule_is_an_asynchronous_caller() -> None:
    finding = only("REL-01", snap(sections=schedules())())
    assert finding.status == "fail" and "scheduler_schedules" in finding.message
    assert finding.evidence["async_sources"]["scheduler_schedules"] == [SCHEDULE]
    other = only("REL-01", snap(sections=schedules(function_arn("other")))())
    assert other.status == "not_applicable"


def test_rel01_unreadable_schedules_are_an_error_not_a_not_applicable() -> None:
    sections = {"scheduler": {"targets": failed_read("scheduler:ListSchedules")}}
    assert only("REL-01", snap(sections=sections)()).status == "error"


def test_rel01_another_function_s_destination_is_an_asynchronous_caller() -> None:
    """Lambda invokes a destination function asynchronously."""
    other = make_function(
        "other",
        EventInvokeConfigs=[
            {
                "FunctionArn": f"{function_arn('other')}:$LATEST",
                "DestinationConfig": {"OnSuccess": {"Destination": f"{FN}:live"}},
            }
        ],
    )
    finding = rel01(two_functions(make_function(), other))
    assert finding.status == "fail" and "destination_of" in finding.message
    assert finding.evidence["async_sources"]["destination_of"] == [
        f"{function_arn('other')} (OnSuccess)"
    ]


def test_rel01_another_function_s_unreadable_destinations_are_an_error() -> None:
    other = make_function(
        "other", EventInvokeConfigs=failed_read("lambda:ListFunctionEventInvokeConfigs")
    )
    finding = rel01(two_functions(make_function(), other))
    assert finding.status == "error"
    assert "lambda:ListFunctionEventInvokeConfigs" in finding.message


@pytest.mark.parametrize(
    "principal", ["s3.amazonaws.com", "sns.amazonaws.com", "logs.eu-west-1.amazonaws.com"]
)
def test_rel01_a_grant_to_an_asynchronous_service_is_an_asynchronous_caller(
    principal: str,
) -> None:
    """Finding 4 of issue 12: the bucket's notification may be in another account, or one
    moto's CloudFormation dropped; the grant that lets S3 invoke the function is here."""
    finding = only("REL-01", snap(Policy=grant(principal))())
    assert finding.status == "fail" and "service_grants" in finding.message
    assert principal in finding.evidence["async_sources"]["service_grants"][0]


def test_rel01_a_grant_to_a_synchronous_caller_is_not() -> None:
    finding = only("REL-01", snap(Policy=grant("apigateway.amazonaws.com"))())
    assert finding.status == "not_applicable"


def test_rel01_an_unreadable_policy_is_an_error_where_nothing_else_calls() -> None:
    assert only("REL-01", snap(Policy=failed_read("lambda:GetPolicy"))()).status == "error"


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        # A caller is known and the dead-letter queue cannot be read: FAIL or PASS unknown.
        ({}, "error"),
        # An OnFailure destination captures failures whatever DeadLetterConfig holds.
        ({"EventInvokeConfigs": on_failure(QUEUE)}, "pass"),
    ],
)
def test_rel01_with_a_dropped_dead_letter_config(fields: dict[str, Any], status: str) -> None:
    finding = only(
        "REL-01", snap(DeadLetterConfig=dropped("DeadLetterConfig"), **fields, sections=sns())()
    )
    assert finding.status == status, finding.message
    if status == "error":
        assert "moto 5.2.5 does not return DeadLetterConfig" in finding.message


def test_rel01_a_function_no_one_calls_asynchronously_is_not_applicable_on_any_target() -> None:
    """Whether it has a DLQ does not matter, so a dropped DeadLetterConfig does not either."""
    finding = only("REL-01", snap(DeadLetterConfig=dropped("DeadLetterConfig"))())
    assert finding.status == "not_applicable"


def test_rel01_a_caller_proves_the_rule_applies_though_another_source_is_unreadable() -> None:
    sections = {**sns(), "s3": {"notifications": failed_read("s3:ListBuckets")}}
    finding = only("REL-01", snap(sections=sections)())
    assert finding.status == "fail" and "not read: s3:ListBuckets" in finding.message
    passing = only("REL-01", snap(EventInvokeConfigs=on_failure(QUEUE), sections=sections)())
    assert passing.status == "pass"


# -- fields an emulator drops: SEC-03, DAT-02/03/04 (finding 5 of issue 12) ------------------

STATIC_CMK = {"KeyManager": "CUSTOMER", "KeyRotationEnabled": False}


def test_dat04_a_dropped_environment_key_is_an_error_not_a_pass() -> None:
    """LocalStack drops KMSKeyArn: DAT-04 passed on the log group's rotating key alone."""
    build = snap(KMSKeyArn=dropped("KMSKeyArn"), sections={**logs(KEY), **kms(CMK)})
    finding = only("DAT-04", build())
    assert finding.status == "error" and "KMSKeyArn" in finding.message


def test_dat04_a_static_log_group_key_fails_though_the_environment_key_is_dropped() -> None:
    build = snap(KMSKeyArn=dropped("KMSKeyArn"), sections={**logs(KEY), **kms(STATIC_CMK)})
    finding = only("DAT-04", build())
    assert finding.status == "fail" and "not read: lambda:ListFunctions" in finding.message


def test_dat04_a_dropped_logging_config_is_an_error() -> None:
    build = snap(LoggingConfig=dropped("LoggingConfig"), sections={**logs(KEY), **kms(CMK)})
    assert only("DAT-04", build()).status == "error"


def test_dat02_a_dropped_dead_letter_config_is_an_error_where_nothing_else_is_wired() -> None:
    finding = only("DAT-02", snap(DeadLetterConfig=dropped("DeadLetterConfig"))())
    assert finding.status == "error" and "DeadLetterConfig" in finding.message


def test_dat02_an_unencrypted_wired_queue_fails_though_the_dlq_is_dropped() -> None:
    build = snap(
        DeadLetterConfig=dropped("DeadLetterConfig"),
        EventInvokeConfigs=on_failure(QUEUE),
        sections={"sqs": {"queues": {QUEUE: {"VisibilityTimeout": 30, "KmsMasterKeyId": None}}}},
    )
    finding = only("DAT-02", build())
    assert finding.status == "fail" and "DeadLetterConfig could not be read" in finding.message


def test_dat03_a_dropped_dead_letter_config_is_an_error_where_nothing_else_is_wired() -> None:
    finding = only("DAT-03", snap(DeadLetterConfig=dropped("DeadLetterConfig"))())
    assert finding.status == "error"
