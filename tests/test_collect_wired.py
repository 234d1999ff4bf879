"""Collectors of the resources wired to functions, against moto seeded through boto3.

Each collector is run on the Lambda section that ``collect_lambda`` reads from the same
account, so the wiring the tests assert on is the wiring AWS (moto) reports.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

import pytest_prr.checks.network  # noqa: F401 (registers NET-02)
from faults import inject_fault
from moto_seed import ACCOUNT, REGION, Collector, collect, function, mocked_account
from pytest_prr.accounts.config import Account
from pytest_prr.checks.base import REGISTRY, run_check
from pytest_prr.snapshot.collect.ec2 import collect_ec2
from pytest_prr.snapshot.collect.events import collect_events
from pytest_prr.snapshot.collect.kms import collect_kms
from pytest_prr.snapshot.collect.reader import Reader
from pytest_prr.snapshot.collect.s3 import collect_s3
from pytest_prr.snapshot.collect.secrets import collect_secrets
from pytest_prr.snapshot.collect.sns import collect_sns
from pytest_prr.snapshot.collect.sqs import collect_sqs
from pytest_prr.snapshot.model import error_marker, is_error
from pytest_prr.snapshot.take import take_snapshot


@pytest.fixture
def session() -> Iterator[boto3.Session]:
    with mocked_account() as session:
        yield session


def failed(value: Any, operation: str) -> bool:
    return is_error(value) and value["$error"]["operation"] == operation


def queue(session: boto3.Session, name: str, **attributes: str) -> str:
    sqs = session.client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]


@pytest.mark.parametrize(
    ("collector", "maps"),
    [
        (collect_sqs, ["queues"]),
        (collect_sns, ["subscriptions", "topics"]),
        (collect_events, ["targets"]),
        (collect_s3, ["notifications"]),
        (collect_secrets, ["secrets"]),
        (collect_kms, ["keys"]),
        (collect_ec2, ["security_groups", "subnets"]),
    ],
)
def test_failed_function_listing_is_carried_to_every_map(
    session: boto3.Session, collector: Collector, maps: list[str]
) -> None:
    function(session, "app")
    inject_fault(session, "lambda", "ListFunctions")
    result, calls = collect(collector, session)
    assert list(result) == maps
    assert all(failed(result[name], "lambda:ListFunctions") for name in maps)
    assert calls == {}


@pytest.fixture
def queues(session: boto3.Session) -> dict[str, str]:
    """An SQS event source shared by two functions, a failure destination, and a queue
    wired to nothing (the event source's own DLQ is the queue's business, not a function's)."""
    dead = queue(session, "dead")
    redrive = {"deadLetterTargetArn": dead, "maxReceiveCount": 5}
    arns = {
        "source": queue(
            session,
            "source",
            VisibilityTimeout="180",
            RedrivePolicy=json.dumps(redrive),
            KmsMasterKeyId="alias/orders",
            SqsManagedSseEnabled="false",
        ),
        "failures": queue(session, "failures"),
    }
    lam = session.client("lambda")
    for name in ("a", "b"):
        function(session, name)
        lam.create_event_source_mapping(EventSourceArn=arns["source"], FunctionName=name)
    lam.put_function_event_invoke_config(
        FunctionName="a", DestinationConfig={"OnFailure": {"Destination": arns["failures"]}}
    )
    return arns | {"dead": dead}


def test_sqs_reads_each_wired_queue_once(session: boto3.Session, queues: dict[str, str]) -> None:
    result, calls = collect(collect_sqs, session)
    assert result == {
        "queues": {
            queues["source"]: {
                "VisibilityTimeout": 180,
                "RedrivePolicy": {"deadLetterTargetArn": queues["dead"], "maxReceiveCount": 5},
                "KmsMasterKeyId": "alias/orders",
                "SqsManagedSseEnabled": False,
            },
            queues["failures"]: {
                "VisibilityTimeout": 30,
                "RedrivePolicy": None,
                "KmsMasterKeyId": None,
                "SqsManagedSseEnabled": True,
            },
        }
    }
    assert calls == {"sqs:GetQueueUrl": 2, "sqs:GetQueueAttributes": 2}


def test_sqs_reads_stream_failure_destinations(session: boto3.Session) -> None:
    failures = queue(session, "stream-failures")
    kinesis = session.client("kinesis")
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    stream = kinesis.describe_stream(StreamName="orders")["StreamDescription"]["StreamARN"]
    function(session, "a")
    session.client("lambda").create_event_source_mapping(
        EventSourceArn=stream,
        FunctionName="a",
        StartingPosition="LATEST",
        DestinationConfig={"OnFailure": {"Destination": failures}},
    )
    result, _ = collect(collect_sqs, session)
    assert list(result["queues"]) == [failures]


def test_sqs_reads_dead_letter_queues(session: boto3.Session) -> None:
    """moto does not keep a function's DeadLetterConfig, so this Lambda section is written
    here (with event invoke configs that could not be read); the queue is read from moto."""
    dlq = queue(session, "dlq")
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:a"
    wired = {"FunctionArn": arn, "DeadLetterConfig": {"TargetArn": dlq}}
    unread = {"EventInvokeConfigs": error_marker("lambda:X", "AccessDenied", "no")}
    section = {"lambda": {"functions": {arn: wired | unread | {"event_source_mappings": []}}}}
    result = collect_sqs(Reader(session), REGION, section)
    assert list(result["queues"]) == [dlq]


@pytest.mark.parametrize("operation", ["GetQueueUrl", "GetQueueAttributes"])
def test_sqs_failure_marks_each_queue(
    session: boto3.Session, queues: dict[str, str], operation: str
) -> None:
    inject_fault(session, "sqs", operation)
    result, _ = collect(collect_sqs, session)
    assert set(result["queues"]) == {queues["source"], queues["failures"]}
    assert all(failed(value, f"sqs:{operation}") for value in result["queues"].values())


def test_sqs_missing_queue_is_marked_alone(session: boto3.Session, queues: dict[str, str]) -> None:
    sqs = session.client("sqs")
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName="failures")["QueueUrl"])
    result, _ = collect(collect_sqs, session)
    assert failed(result["queues"][queues["failures"]], "sqs:GetQueueUrl")
    assert result["queues"][queues["source"]]["VisibilityTimeout"] == 180


@pytest.fixture
def topics(session: boto3.Session) -> dict[str, str]:
    """Two topics feeding functions (one through an alias), a success destination, and a
    topic delivering to a queue only."""
    sns = session.client("sns")
    arns = {
        "orders": sns.create_topic(Name="orders", Attributes={"KmsMasterKeyId": "alias/k"}),
        "plain": sns.create_topic(Name="plain"),
        "outcomes": sns.create_topic(Name="outcomes"),
        "queued": sns.create_topic(Name="queued"),
    }
    arns = {name: response["TopicArn"] for name, response in arns.items()}
    a, b = function(session, "a"), function(session, "b")
    for topic, protocol, endpoint in [
        ("orders", "lambda", f"{a}:live"),
        ("plain", "lambda", b),
        ("queued", "sqs", queue(session, "fanout")),
    ]:
        arns[f"{topic}-sub"] = sns.subscribe(
            TopicArn=arns[topic], Protocol=protocol, Endpoint=endpoint, ReturnSubscriptionArn=True
        )["SubscriptionArn"]
    sns.set_subscription_attributes(
        SubscriptionArn=arns["orders-sub"],
        AttributeName="RedrivePolicy",
        AttributeValue=json.dumps({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:dlq"}),
    )
    session.client("lambda").put_function_event_invoke_config(
        FunctionName="b", DestinationConfig={"OnSuccess": {"Destination": arns["outcomes"]}}
    )
    return arns | {"a": a, "b": b}


def test_sns_reads_lambda_subscriptions_and_wired_topics(
    session: boto3.Session, topics: dict[str, str]
) -> None:
    result, calls = collect(collect_sns, session)
    assert sorted(result["subscriptions"], key=lambda s: s["Endpoint"]) == [
        {
            "SubscriptionArn": topics["orders-sub"],
            "TopicArn": topics["orders"],
            "Endpoint": topics["a"],
            "RedrivePolicy": {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:dlq"},
        },
        {
            "SubscriptionArn": topics["plain-sub"],
            "TopicArn": topics["plain"],
            "Endpoint": topics["b"],
            "RedrivePolicy": None,
        },
    ]
    assert result["topics"] == {
        topics["orders"]: {"KmsMasterKeyId": "alias/k"},
        topics["plain"]: {"KmsMasterKeyId": None},
        topics["outcomes"]: {"KmsMasterKeyId": None},
    }
    assert calls == {
        "sns:ListSubscriptions": 1,
        "sns:GetSubscriptionAttributes": 2,
        "sns:GetTopicAttributes": 3,
    }


@pytest.mark.parametrize(
    ("operation", "in_subscriptions", "in_topics"),
    [("GetSubscriptionAttributes", {True}, {False}), ("GetTopicAttributes", {False}, {True})],
)
def test_sns_failure_marks_exactly_what_it_would_have_read(
    session: boto3.Session,
    topics: dict[str, str],
    operation: str,
    in_subscriptions: set[bool],
    in_topics: set[bool],
) -> None:
    inject_fault(session, "sns", operation)
    result, _ = collect(collect_sns, session)
    redrives = [subscription["RedrivePolicy"] for subscription in result["subscriptions"]]
    assert len(redrives) == 2 and len(result["topics"]) == 3
    assert {failed(redrive, f"sns:{operation}") for redrive in redrives} == in_subscriptions
    assert {failed(topic, f"sns:{operation}") for topic in result["topics"].values()} == in_topics


def test_sns_failed_listing_leaves_topics_unknown(
    session: boto3.Session, topics: dict[str, str]
) -> None:
    inject_fault(session, "sns", "ListSubscriptions")
    result, _ = collect(collect_sns, session)
    assert failed(result["subscriptions"], "sns:ListSubscriptions")
    assert failed(result["topics"], "sns:ListSubscriptions")


@pytest.fixture
def rules(session: boto3.Session) -> dict[str, str]:
    """A scheduled rule on the default bus (function through an alias, with a DLQ and a retry
    policy, plus a queue target), a rule on a custom bus, and a rule targeting a queue."""
    events = session.client("events")
    events.create_event_bus(Name="orders")
    a, b = function(session, "a"), function(session, "b")
    target_queue = queue(session, "targets")
    arns = {
        "nightly": events.put_rule(Name="nightly", ScheduleExpression="rate(1 day)"),
        "placed": events.put_rule(
            Name="placed", EventBusName="orders", EventPattern=json.dumps({"source": ["shop"]})
        ),
        "audit": events.put_rule(Name="audit", EventPattern=json.dumps({"source": ["iam"]})),
    }
    arns = {name: response["RuleArn"] for name, response in arns.items()}
    events.put_targets(
        Rule="nightly",
        Targets=[
            {
                "Id": "report",
                "Arn": f"{a}:live",
                "DeadLetterConfig": {"Arn": target_queue},
                "RetryPolicy": {"MaximumRetryAttempts": 3},
            },
            {"Id": "archive", "Arn": target_queue},
        ],
    )
    events.put_targets(Rule="placed", EventBusName="orders", Targets=[{"Id": "fulfil", "Arn": b}])
    events.put_targets(Rule="audit", Targets=[{"Id": "keep", "Arn": target_queue}])
    return arns | {"a": a, "b": b, "queue": target_queue}


def test_events_reads_function_targets_on_every_bus(
    session: boto3.Session, rules: dict[str, str]
) -> None:
    result, calls = collect(collect_events, session)
    assert sorted(result["targets"], key=lambda t: t["Rule"]) == [
        {
            "Rule": "nightly",
            "RuleArn": rules["nightly"],
            "EventBusName": "default",
            "State": "ENABLED",
            "Id": "report",
            "FunctionArn": rules["a"],
            "DeadLetterConfig": {"Arn": rules["queue"]},
            "RetryPolicy": {"MaximumRetryAttempts": 3},
        },
        {
            "Rule": "placed",
            "RuleArn": rules["placed"],
            "EventBusName": "orders",
            "State": "ENABLED",
            "Id": "fulfil",
            "FunctionArn": rules["b"],
            "DeadLetterConfig": None,
            "RetryPolicy": None,
        },
    ]
    assert calls == {
        "events:ListEventBuses": 1,
        "events:ListRules": 2,
        "events:ListTargetsByRule": 3,
    }


def test_events_rule_with_unreadable_targets_stays_as_a_marker(
    session: boto3.Session, rules: dict[str, str]
) -> None:
    inject_fault(session, "events", "ListTargetsByRule")
    result, _ = collect(collect_events, session)
    assert {target["Rule"] for target in result["targets"]} == {"nightly", "placed", "audit"}
    for target in result["targets"]:
        assert failed(target["FunctionArn"], "events:ListTargetsByRule")
        assert target["RuleArn"] == rules[target["Rule"]]


@pytest.mark.parametrize("operation", ["ListEventBuses", "ListRules"])
def test_events_failed_listing_marks_all_targets(
    session: boto3.Session, rules: dict[str, str], operation: str
) -> None:
    inject_fault(session, "events", operation)
    result, _ = collect(collect_events, session)
    assert failed(result["targets"], f"events:{operation}")


@pytest.fixture
def buckets(session: boto3.Session) -> dict[str, str]:
    """In us-east-1 a bucket notifying two functions (one through an alias) and a quiet
    bucket; in us-west-2 a bucket notifying a function of its own region."""
    a, b = function(session, "a"), function(session, "b")
    west = function(session, "w", region="us-west-2")
    east_s3, west_s3 = session.client("s3"), session.client("s3", region_name="us-west-2")
    east_s3.create_bucket(Bucket="uploads")
    east_s3.create_bucket(Bucket="quiet")
    west_s3.create_bucket(
        Bucket="west-uploads", CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
    )
    for client, bucket, targets in [
        (east_s3, "uploads", [(f"{a}:live", "s3:ObjectCreated:*"), (b, "s3:ObjectRemoved:*")]),
        (west_s3, "west-uploads", [(west, "s3:ObjectCreated:Put")]),
    ]:
        client.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "LambdaFunctionConfigurations": [
                    {"LambdaFunctionArn": arn, "Events": [event]} for arn, event in targets
                ]
            },
        )
    return {"a": a, "b": b, "west": west}


def test_s3_reads_notifications_of_the_region_s_buckets(
    session: boto3.Session, buckets: dict[str, str]
) -> None:
    east, calls = collect(collect_s3, session)
    assert sorted(east["notifications"], key=lambda n: n["FunctionArn"]) == [
        {"Bucket": "uploads", "FunctionArn": buckets["a"], "Events": ["s3:ObjectCreated:*"]},
        {"Bucket": "uploads", "FunctionArn": buckets["b"], "Events": ["s3:ObjectRemoved:*"]},
    ]
    assert calls == {"s3:ListBuckets": 1, "s3:GetBucketNotificationConfiguration": 2}
    west, _ = collect(collect_s3, session, region="us-west-2")
    assert west["notifications"] == [
        {
            "Bucket": "west-uploads",
            "FunctionArn": buckets["west"],
            "Events": ["s3:ObjectCreated:Put"],
        }
    ]


def test_s3_bucket_with_unreadable_notifications_stays_as_a_marker(
    session: boto3.Session, buckets: dict[str, str]
) -> None:
    inject_fault(session, "s3", "GetBucketNotificationConfiguration")
    result, _ = collect(collect_s3, session)
    assert sorted(n["Bucket"] for n in result["notifications"]) == ["quiet", "uploads"]
    for notification in result["notifications"]:
        assert failed(notification["FunctionArn"], "s3:GetBucketNotificationConfiguration")


def test_s3_failed_bucket_listing_marks_all_notifications(
    session: boto3.Session, buckets: dict[str, str]
) -> None:
    inject_fault(session, "s3", "ListBuckets")
    result, _ = collect(collect_s3, session)
    assert failed(result["notifications"], "s3:ListBuckets")


@pytest.fixture
def secrets(session: boto3.Session) -> dict[str, str]:
    """A rotating secret shared by two functions, a secret referenced with a JSON key
    selector, a reference to a secret that does not exist, one to another region's secret, and a
    plaintext password (redacted, so never searched)."""
    manager = session.client("secretsmanager")
    arns = {
        name: manager.create_secret(Name=name, SecretString="s")["ARN"] for name in ("db", "api")
    }
    manager.rotate_secret(SecretId=arns["db"], RotationRules={"AutomaticallyAfterDays": 30})
    arns["gone"] = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:gone-AbCdEf"
    arns["west"] = session.client("secretsmanager", region_name="us-west-2").create_secret(
        Name="west", SecretString="s"
    )["ARN"]
    function(
        session,
        "a",
        Environment={
            "Variables": {
                "DB_SECRET": arns["db"],
                "API_TOKEN": f"{arns['api']}:SecretString:token::",
            }
        },
    )
    function(
        session,
        "b",
        Environment={
            "Variables": {
                "DB_SECRET": arns["db"],
                "OLD": arns["gone"],
                "WEST": arns["west"],
                "PASSWORD": "p4ss",
            }
        },
    )
    return arns


def test_secrets_describes_each_referenced_secret_of_the_region(
    session: boto3.Session, secrets: dict[str, str]
) -> None:
    result, calls = collect(collect_secrets, session)
    described = {
        name: session.client("secretsmanager").describe_secret(SecretId=secrets[name])
        for name in ("db", "api")
    }
    assert result == {
        "secrets": {
            secrets["db"]: {
                "exists": True,
                "RotationEnabled": True,
                "LastRotatedDate": described["db"]["LastRotatedDate"].isoformat(),
                "CreatedDate": described["db"]["CreatedDate"].isoformat(),
            },
            secrets["api"]: {
                "exists": True,
                "RotationEnabled": False,
                "LastRotatedDate": None,
                "CreatedDate": described["api"]["CreatedDate"].isoformat(),
            },
            secrets["gone"]: {"exists": False},
        }
    }
    assert calls == {"secretsmanager:DescribeSecret": 3}


def test_secrets_failure_marks_each_secret(session: boto3.Session, secrets: dict[str, str]) -> None:
    inject_fault(session, "secretsmanager", "DescribeSecret")
    result, _ = collect(collect_secrets, session)
    assert set(result["secrets"]) == {secrets["db"], secrets["api"], secrets["gone"]}
    assert all(failed(v, "secretsmanager:DescribeSecret") for v in result["secrets"].values())


@pytest.fixture
def keys(session: boto3.Session) -> dict[str, str]:
    """A rotating key shared by two functions, a key that does not rotate (also named by an
    alias), a rotating key of a log group, and a key of a deleted function's log group."""
    kms = session.client("kms")
    arns = {
        name: kms.create_key(Description=name)["KeyMetadata"]["Arn"]
        for name in ("rotating", "still", "logs", "unused")
    }
    for name in ("rotating", "logs"):
        kms.enable_key_rotation(KeyId=arns[name])
    function(session, "a", KMSKeyArn=arns["rotating"])
    function(session, "b", KMSKeyArn=arns["rotating"])
    function(session, "c", KMSKeyArn=arns["still"])
    kms.create_alias(AliasName="alias/still", TargetKeyId=arns["still"])
    arns["alias"] = f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/still"
    function(session, "d", KMSKeyArn=arns["alias"])
    return arns


def logs_section(keys: dict[str, str]) -> dict[str, Any]:
    """The logs collector's part of a section: group name → kmsKeyId. Function b's group
    could not be read, c's is not encrypted, and a deleted function's group is left over."""
    unread = error_marker("logs:DescribeLogGroups", "AccessDenied", "no")
    groups = {
        "/aws/lambda/a": {"kmsKeyId": keys["logs"]},
        "/aws/lambda/b": unread,
        "/aws/lambda/c": {"kmsKeyId": None},
        "/aws/lambda/deleted": {"kmsKeyId": keys["unused"]},
    }
    return {"logs": {"log_groups": groups}}


def test_kms_reads_keys_of_functions_and_log_groups(
    session: boto3.Session, keys: dict[str, str]
) -> None:
    result, calls = collect(collect_kms, session, extra=logs_section(keys))
    assert result == {
        "keys": {
            keys["rotating"]: {"KeyManager": "CUSTOMER", "KeyRotationEnabled": True},
            keys["still"]: {"KeyManager": "CUSTOMER", "KeyRotationEnabled": False},
            keys["alias"]: {"KeyManager": "CUSTOMER", "KeyRotationEnabled": False},
            keys["logs"]: {"KeyManager": "CUSTOMER", "KeyRotationEnabled": True},
        }
    }
    assert calls == {"kms:DescribeKey": 4, "kms:GetKeyRotationStatus": 4}
    without_logs, _ = collect(collect_kms, session)
    assert set(without_logs["keys"]) == {keys["rotating"], keys["still"], keys["alias"]}


@pytest.mark.parametrize("operation", ["DescribeKey", "GetKeyRotationStatus"])
def test_kms_failure_marks_each_key(
    session: boto3.Session, keys: dict[str, str], operation: str
) -> None:
    inject_fault(session, "kms", operation)
    result, _ = collect(collect_kms, session)
    assert set(result["keys"]) == {keys["rotating"], keys["still"], keys["alias"]}
    assert all(failed(key, f"kms:{operation}") for key in result["keys"].values())


#: Ingress of the test's security groups, as authorized and as the snapshot keeps it.
INGRESS = {
    "open": {
        "IpProtocol": "tcp",
        "FromPort": 443,
        "ToPort": 443,
        "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
        "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
    },
    "internal": {
        "IpProtocol": "tcp",
        "FromPort": 5432,
        "ToPort": 5432,
        "IpRanges": [{"CidrIp": "10.0.0.0/16"}],
        "Ipv6Ranges": [],
    },
}


@pytest.fixture
def network(session: boto3.Session) -> dict[str, str]:
    """Subnets in three AZs (one unused); the open group shared by two functions."""
    ec2 = session.client("ec2")
    ids = {"vpc": ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]}
    for index, zone in enumerate(("us-east-1a", "us-east-1b", "us-east-1c")):
        ids[zone] = ec2.create_subnet(
            VpcId=ids["vpc"], CidrBlock=f"10.0.{index}.0/24", AvailabilityZone=zone
        )["Subnet"]["SubnetId"]
    for name, ingress in INGRESS.items():
        ids[name] = ec2.create_security_group(GroupName=name, Description=name, VpcId=ids["vpc"])[
            "GroupId"
        ]
        ec2.authorize_security_group_ingress(GroupId=ids[name], IpPermissions=[ingress])
    for name, zones, groups in [
        ("a", ["us-east-1a", "us-east-1b"], ["open"]),
        ("b", ["us-east-1a"], ["open", "internal"]),
    ]:
        vpc_config = {
            "SubnetIds": [ids[z] for z in zones],
            "SecurityGroupIds": [ids[g] for g in groups],
        }
        function(session, name, VpcConfig=vpc_config)
    function(session, "outside")
    return ids


def test_ec2_reads_groups_and_subnets_of_functions(
    session: boto3.Session, network: dict[str, str]
) -> None:
    result, calls = collect(collect_ec2, session)
    assert result["security_groups"] == {
        network[name]: {"GroupId": network[name], "IpPermissions": [ingress]}
        for name, ingress in INGRESS.items()
    }
    assert result["subnets"] == {
        network[zone]: {
            "SubnetId": network[zone],
            "AvailabilityZone": zone,
            "VpcId": network["vpc"],
        }
        for zone in ("us-east-1a", "us-east-1b")
    }
    assert calls == {"ec2:DescribeSecurityGroups": 1, "ec2:DescribeSubnets": 1}


@pytest.mark.parametrize(
    ("operation", "marked", "intact"),
    [
        ("DescribeSecurityGroups", "security_groups", "subnets"),
        ("DescribeSubnets", "subnets", "security_groups"),
    ],
)
def test_ec2_failure_marks_each_id_and_leaves_the_rest(
    session: boto3.Session, network: dict[str, str], operation: str, marked: str, intact: str
) -> None:
    inject_fault(session, "ec2", operation)
    result, _ = collect(collect_ec2, session)
    assert len(result[marked]) == 2
    assert all(failed(value, f"ec2:{operation}") for value in result[marked].values())
    assert len(result[intact]) == 2
    assert not any(is_error(value) for value in result[intact].values())


def test_ec2_an_unknown_id_marks_only_itself(session: boto3.Session) -> None:
    """201 groups make two batches (200 + 1); a group deleted after wiring makes EC2 refuse
    its whole batch, which is halved until the deleted group stands alone (finding 6 of
    issue 12: before, all 200 were marked)."""
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    groups = sorted(
        ec2.create_security_group(GroupName=f"g{i}", Description="g", VpcId=vpc)["GroupId"]
        for i in range(201)
    )
    function(session, "wide", VpcConfig={"SubnetIds": [], "SecurityGroupIds": groups})
    ec2.delete_security_group(GroupId=groups[0])
    result, calls = collect(collect_ec2, session)
    gone = result["security_groups"][groups[0]]
    assert failed(gone, "ec2:DescribeSecurityGroups")
    assert gone["$error"]["code"] == "InvalidGroup.NotFound"
    assert all(result["security_groups"][g]["GroupId"] == g for g in groups[1:])
    # One call per batch, then two per halving of the refused one: 2 + 2 x ceil(log2 200).
    assert calls["ec2:DescribeSecurityGroups"] <= 2 + 2 * 8


def test_ec2_a_deleted_subnet_spoils_only_its_own_functions(session: boto3.Session) -> None:
    """NET-02 for a function whose subnets exist is decided although another function of
    the same batch names a deleted subnet."""
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate(("us-east-1a", "us-east-1b", "us-east-1c"))
    ]
    function(session, "healthy", VpcConfig={"SubnetIds": subnets[:2], "SecurityGroupIds": []})
    function(session, "dangling", VpcConfig={"SubnetIds": subnets[2:], "SecurityGroupIds": []})
    ec2.delete_subnet(SubnetId=subnets[2])
    snapshot = take_snapshot(session, Account("moto", ACCOUNT, (REGION,), "moto"))
    verdicts = {
        f.resource_id.rsplit(":", 1)[1]: f for f in run_check(REGISTRY["NET-02"], snapshot, {})
    }
    assert verdicts["healthy"].status == "pass", verdicts["healthy"].message
    assert verdicts["dangling"].status == "error"
    assert "InvalidSubnetID.NotFound" in verdicts["dangling"].message
    assert "no longer exists" in verdicts["dangling"].message
