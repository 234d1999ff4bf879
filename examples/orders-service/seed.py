"""Seed a moto-mocked account so it mirrors what template.yaml deploys (Stage=prod).

Only public boto3 calls are used, so the readiness tests read the same API responses they
would read from a real deployment. Keep names and values in step with template.yaml.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

STAGE = "prod"
TABLE, QUEUE, DLQ = f"orders-{STAGE}", f"orders-events-{STAGE}", f"orders-events-dlq-{STAGE}"
ALARM_TOPIC = f"orders-alarms-{STAGE}"
CODE_DIR = Path(__file__).parent / "src" / "orders"
TAGS = {  # Globals.Function.Tags of template.yaml
    "Service": "orders",
    "Owner": "team-orders@example.com",
    "CostCenter": "CC-1042",
    "DataClassification": "confidential",
    "Environment": STAGE,
    "prr:runbook": "https://runbooks.example.com/orders-service",
}
ENVIRONMENT = {  # Globals.Function.Environment of template.yaml
    "ORDERS_TABLE": TABLE,
    "POWERTOOLS_SERVICE_NAME": "orders",
    "POWERTOOLS_METRICS_NAMESPACE": "Orders",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}


@dataclass(frozen=True)
class FunctionSpec:
    """The per-function properties of template.yaml."""

    component: str
    handler: str
    timeout: int
    memory: int
    reserved: int
    table_actions: tuple[str, ...]

    @property
    def name(self) -> str:
        """Deployed function name, as FunctionName in the template."""
        return f"orders-{self.component}-{STAGE}"


API = FunctionSpec(
    "api", "orders.api.lambda_handler", 10, 512, 50, ("dynamodb:PutItem", "dynamodb:GetItem")
)
CONSUMER = FunctionSpec(
    "consumer", "orders.consumer.lambda_handler", 30, 256, 10, ("dynamodb:UpdateItem",)
)


def code_zip() -> bytes:
    """Build the deployment package in memory from the real handler code in src/orders."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(CODE_DIR.glob("*.py")):
            # A fixed timestamp makes the same code give the same zip (and CodeSha256).
            info = zipfile.ZipInfo(f"orders/{path.name}", (2024, 1, 1, 0, 0, 0))
            zf.writestr(info, path.read_bytes())
    return buf.getvalue()


def _allow(actions: list[str], resource: str) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def create_role(iam: Any, fn: FunctionSpec, arn: str) -> str:
    """Create the function's own execution role: trusts only Lambda, least privilege.

    ``arn`` is a template "arn:aws:{}:REGION:ACCOUNT:{}" to fill with service and resource.
    """
    statements = [
        _allow(
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            arn.format("logs", f"log-group:/aws/lambda/{fn.name}:*"),
        ),
        # X-Ray writes support no resource-level permissions: "*" is the only valid scope.
        _allow(["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "*"),
        _allow(list(fn.table_actions), arn.format("dynamodb", f"table/{TABLE}")),
    ]
    if fn is CONSUMER:
        sqs_actions = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
        statements.append(_allow(sqs_actions, arn.format("sqs", QUEUE)))
    trust = {
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    tags = [{"Key": k, "Value": v} for k, v in TAGS.items()]
    role = iam.create_role(
        RoleName=f"{fn.name}-role", AssumeRolePolicyDocument=_policy(trust), Tags=tags
    )
    iam.put_role_policy(
        RoleName=f"{fn.name}-role",
        PolicyName="least-privilege",
        PolicyDocument=_policy(*statements),
    )
    return role["Role"]["Arn"]


def seed(session: boto3.Session, account_id: str, regions: list[str]) -> None:
    """Deploy the service into the account's primary region, as the pipeline does."""
    region = regions[0]
    ddb, sqs, sns, logs, cw, lam, iam = (
        session.client(service, region_name=region)
        for service in ("dynamodb", "sqs", "sns", "logs", "cloudwatch", "lambda", "iam")
    )
    arn = f"arn:aws:{{}}:{region}:{account_id}:{{}}"

    key = {"AttributeName": "order_id"}
    ddb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        SSESpecification={"Enabled": True},
        AttributeDefinitions=[{**key, "AttributeType": "S"}],
        KeySchema=[{**key, "KeyType": "HASH"}],
        Tags=[{"Key": k, "Value": TAGS[k]} for k in ("Service", "DataClassification")],
    )
    pitr = {"PointInTimeRecoveryEnabled": True}
    ddb.update_continuous_backups(TableName=TABLE, PointInTimeRecoverySpecification=pitr)

    sqs.create_queue(
        QueueName=DLQ,
        Attributes={"MessageRetentionPeriod": "1209600", "SqsManagedSseEnabled": "true"},
    )
    redrive = {"deadLetterTargetArn": arn.format("sqs", DLQ), "maxReceiveCount": 5}
    sqs.create_queue(
        QueueName=QUEUE,
        Attributes={
            "VisibilityTimeout": str(6 * CONSUMER.timeout),
            "SqsManagedSseEnabled": "true",
            "RedrivePolicy": json.dumps(redrive),
        },
    )
    topic = sns.create_topic(Name=ALARM_TOPIC, Attributes={"KmsMasterKeyId": "alias/aws/sns"})

    code = code_zip()
    for fn in (API, CONSUMER):
        logs.create_log_group(logGroupName=f"/aws/lambda/{fn.name}")
        logs.put_retention_policy(logGroupName=f"/aws/lambda/{fn.name}", retentionInDays=365)
        lam.create_function(
            FunctionName=fn.name,
            Runtime="python3.12",
            Architectures=["arm64"],
            Handler=fn.handler,
            Role=create_role(iam, fn, arn),
            Code={"ZipFile": code},
            Timeout=fn.timeout,
            MemorySize=fn.memory,
            TracingConfig={"Mode": "Active"},
            Environment={"Variables": ENVIRONMENT},
            Tags={**TAGS, "Component": fn.component},
        )
        lam.put_function_concurrency(FunctionName=fn.name, ReservedConcurrentExecutions=fn.reserved)
        version = lam.publish_version(FunctionName=fn.name)["Version"]
        alias = lam.create_alias(FunctionName=fn.name, Name="live", FunctionVersion=version)
        if fn is CONSUMER:  # SAM maps the queue to the alias, with partial batch responses
            lam.create_event_source_mapping(
                EventSourceArn=arn.format("sqs", QUEUE),
                FunctionName=alias["AliasArn"],
                BatchSize=10,
                FunctionResponseTypes=["ReportBatchItemFailures"],
            )
        for metric in ("Errors", "Throttles"):
            cw.put_metric_alarm(
                AlarmName=f"{fn.name}-{metric.lower()}",
                Namespace="AWS/Lambda",
                MetricName=metric,
                Dimensions=[{"Name": "FunctionName", "Value": fn.name}],
                Statistic="Sum",
                Period=60,
                EvaluationPeriods=5,
                DatapointsToAlarm=3,
                Threshold=1,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
                TreatMissingData="notBreaching",
                ActionsEnabled=True,
                AlarmActions=[topic["TopicArn"]],
                OKActions=[topic["TopicArn"]],
            )
