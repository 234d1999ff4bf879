"""API calls per function of one snapshot, on a moto server seeded with N functions.

Run by hand: ``.venv/bin/python benchmarks/calls_per_function.py 1000``. Prints the calls
per operation, the total per function (the target is at most 8, all services), and the
wall time. moto answers at once, so the time says nothing about AWS latency or throttling.
"""

from __future__ import annotations

import io
import json
import sys
import time
import zipfile

import boto3

from pytest_prr.accounts import Account
from pytest_prr.motoserver import MotoServer
from pytest_prr.sessions import open_session
from pytest_prr.snapshot.take import take_snapshot

REGION = "us-east-1"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def seed(endpoint: str, count: int) -> None:
    """``count`` functions: a role per ten, a queue per twenty, a log group and an alarm
    and an alias for every other one."""
    session = boto3.Session(
        region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    iam, lam, sqs, logs, cloudwatch = (
        session.client(service, endpoint_url=endpoint)
        for service in ("iam", "lambda", "sqs", "logs", "cloudwatch")
    )
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\n    return event\n")
    roles = [
        iam.create_role(RoleName=f"role-{i}", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"][
            "Arn"
        ]
        for i in range((count + 9) // 10)
    ]
    for i in range(count):
        name = f"fn-{i:05d}"
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=roles[i // 10],
            Handler="app.handler",
            Code={"ZipFile": archive.getvalue()},
            Environment={"Variables": {"POWERTOOLS_SERVICE_NAME": name}},
            Tags={"Owner": "bench"},
        )
        if i % 2 == 0:
            logs.create_log_group(logGroupName=f"/aws/lambda/{name}")
            cloudwatch.put_metric_alarm(
                AlarmName=f"{name}-errors",
                Namespace="AWS/Lambda",
                MetricName="Errors",
                Dimensions=[{"Name": "FunctionName", "Value": name}],
                Statistic="Sum",
                Period=60,
                EvaluationPeriods=1,
                Threshold=1,
                ComparisonOperator="GreaterThanThreshold",
            )
            version = lam.publish_version(FunctionName=name)["Version"]
            lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
        if i % 20 == 0:
            url = sqs.create_queue(QueueName=f"q-{i}")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)


def main(count: int) -> None:
    server = MotoServer()
    endpoint = server.start()
    try:
        started = time.monotonic()
        seed(endpoint, count)
        print(f"seeded {count} functions in {time.monotonic() - started:.1f} s")
        account = Account(
            name="bench",
            account_id="123456789012",
            regions=(REGION,),
            mode="endpoint",
            endpoint_url=endpoint,
        )
        started = time.monotonic()
        snapshot = take_snapshot(open_session(account), account)
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    calls = snapshot.data["calls"]
    for operation, number in sorted(calls.items(), key=lambda item: -item[1]):
        print(f"{number:>7}  {operation}")
    total = sum(calls.values())
    print(
        f"{total} calls for {count} functions: {total / count:.2f} per function; "
        f"snapshot in {elapsed:.1f} s; {len(snapshot.errors())} failed reads"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
