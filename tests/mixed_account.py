"""A moto account with a compliant function, a non-compliant one and a bare one, seeded
through boto3 alone, so every control that moto can represent is seen to PASS and to FAIL
through the real collectors.

``good`` satisfies every function control moto can store; ``bad`` breaks every one it can;
``shared`` has ``bad``'s role (IAM-01) and nothing else, for the not-applicable verdicts. The
``orders`` API stage is protected, the ``open`` stage is not; the account has the trail,
recorder, GuardDuty and Security Hub the GOV controls ask for.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3

from moto_seed import protect_stage

REGION = "us-east-1"
ACCOUNT = "123456789012"
TRUSTED_ACCOUNT = "210987654321"
UNTRUSTED_ACCOUNT = "444455556666"
#: Tunables as a team would set them: the allow-listed partner account, and the tag its
#: Terraform pipeline stamps (the default ``aws:cloudformation:stack-name`` cannot be set
#: by hand, and moto's CloudFormation is not what this account is about).
TUNABLES = {"prr_trusted_accounts": [TRUSTED_ACCOUNT], "prr_iac_tags": ["iac:stack"]}
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
TAGS = {
    "Owner": "team-payments@example.com",
    "CostCenter": "CC-2001",
    "DataClassification": "confidential",
    "Environment": "prod",
    "prr:runbook": "https://runbooks.example.com/payments",
    "iac:stack": "payments-prod",
}


def function_zip() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as package:
        package.writestr("app.py", "def handler(event, context):\n    return event\n")
    return archive.getvalue()


def arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


def seed(session: boto3.Session, lacks: frozenset[str] = frozenset()) -> dict[str, str]:
    """Seed the account; the ARNs of what the tests name. ``lacks`` names the services the
    emulator does not have (LocalStack community: cloudtrail, guardduty, securityhub,
    wafv2), whose part of the account is left out."""
    keys = _keys(session)
    queues = _queues(session, keys["rotating"])
    roles = _roles(session)
    functions = _functions(session, roles, keys, queues)
    _event_sources(session, functions, keys, queues)
    _alarms(session, keys)
    _apis(session, functions, waf="wafv2" not in lacks)
    _guardrails(session, lacks)
    return functions


def _keys(session: boto3.Session) -> dict[str, str]:
    kms = session.client("kms")
    rotating = kms.create_key(Description="rotating")["KeyMetadata"]["Arn"]
    kms.enable_key_rotation(KeyId=rotating)
    stale = kms.create_key(Description="never rotated")["KeyMetadata"]["Arn"]
    return {"rotating": rotating, "stale": stale}


def _queues(session: boto3.Session, key: str) -> dict[str, str]:
    sqs = session.client("sqs")

    def queue(name: str, **attributes: str) -> str:
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]

    dlq = queue("good-dlq", KmsMasterKeyId=key)
    redrive = json.dumps({"deadLetterTargetArn": dlq, "maxReceiveCount": 5})
    return {
        "dlq": dlq,
        "good_source": queue(
            "good-source", KmsMasterKeyId=key, VisibilityTimeout="60", RedrivePolicy=redrive
        ),
        "good_failures": queue("good-failures", SqsManagedSseEnabled="true"),
        "bad_source": queue("bad-source", SqsManagedSseEnabled="false", VisibilityTimeout="30"),
    }


def _roles(session: boto3.Session) -> dict[str, str]:
    iam = session.client("iam")
    boundary = iam.create_policy(
        PolicyName="lambda-boundary",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    good = iam.create_role(
        RoleName="good-role",
        AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST),
        PermissionsBoundary=boundary,
    )["Role"]["Arn"]
    scoped = [
        (
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            arn("logs", "log-group:/aws/lambda/good:*"),
        ),
        (["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "*"),
        (["sqs:ReceiveMessage", "sqs:DeleteMessage"], arn("sqs", "good-source")),
        (["sqs:SendMessage"], arn("sqs", "good-failures")),
        (["secretsmanager:GetSecretValue"], arn("secretsmanager", "secret:good-db-*")),
    ]
    iam.put_role_policy(
        RoleName="good-role",
        PolicyName="least-privilege",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": actions, "Resource": resource}
                    for actions, resource in scoped
                ],
            }
        ),
    )
    anyone_in_partner = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{UNTRUSTED_ACCOUNT}:root"},
        "Action": "sts:AssumeRole",
    }
    shared = iam.create_role(
        RoleName="shared-role",
        AssumeRolePolicyDocument=json.dumps(
            {**LAMBDA_TRUST, "Statement": [*LAMBDA_TRUST["Statement"], anyone_in_partner]}
        ),
    )["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="shared-role",
        PolicyName="everything-s3",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
        ),
    )
    iam.attach_role_policy(
        RoleName="shared-role", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    )
    return {"good": good, "shared": shared}


def _functions(
    session: boto3.Session,
    roles: dict[str, str],
    keys: dict[str, str],
    queues: dict[str, str],
) -> dict[str, str]:
    lam = session.client("lambda")
    secrets = session.client("secretsmanager")
    logs = session.client("logs")
    code = {"ZipFile": function_zip()}
    layer = lam.publish_layer_version(LayerName="payments-common", Content=code)["LayerVersionArn"]
    good_secret = secrets.create_secret(Name="good-db", SecretString="s3cr3t-value")["ARN"]
    stale_secret = secrets.create_secret(Name="bad-db", SecretString="s3cr3t-value")["ARN"]
    network = _network(session)

    def create(name: str, role: str, **config: Any) -> str:
        return lam.create_function(
            FunctionName=name,
            Role=role,
            Handler="app.handler",
            Code=code,
            **{"Runtime": "python3.12", **config},
        )["FunctionArn"]

    functions = {
        "good": create(
            "good",
            roles["good"],
            Architectures=["arm64"],
            MemorySize=512,
            Timeout=10,
            TracingConfig={"Mode": "Active"},
            KMSKeyArn=keys["rotating"],
            Layers=[layer],
            VpcConfig={"SubnetIds": network["two_zones"], "SecurityGroupIds": [network["closed"]]},
            Environment={
                "Variables": {
                    "POWERTOOLS_SERVICE_NAME": "payments",
                    "POWERTOOLS_LOG_LEVEL": "INFO",
                    "DB_SECRET_ARN": good_secret,
                }
            },
            Tags=TAGS,
        ),
        "bad": create(
            "bad",
            roles["shared"],
            Runtime="python3.8",
            Architectures=["x86_64"],
            MemorySize=4096,
            Timeout=60,
            TracingConfig={"Mode": "PassThrough"},
            VpcConfig={"SubnetIds": network["one_zone"], "SecurityGroupIds": [network["open"]]},
            Environment={
                "Variables": {
                    "DB_PASSWORD": "hunter2-not-a-reference",
                    "LOG_LEVEL": "DEBUG",
                    "DB_SECRET_ARN": stale_secret,
                }
            },
            Tags={"Owner": "", "prr:runbook": "http://wiki.example.com/bad"},
        ),
        "shared": create("shared", roles["shared"], Architectures=["arm64"], MemorySize=256),
    }
    lam.put_function_concurrency(FunctionName="good", ReservedConcurrentExecutions=20)
    version = lam.publish_version(FunctionName="good")["Version"]
    lam.create_alias(FunctionName="good", Name="live", FunctionVersion=version)
    lam.create_alias(FunctionName="bad", Name="live", FunctionVersion="$LATEST")
    lam.create_function_url_config(FunctionName="good", AuthType="AWS_IAM")
    lam.create_function_url_config(FunctionName="bad", AuthType="NONE")
    permissions = {
        "good": [
            {"Principal": "*", "PrincipalOrgID": "o-a1b2c3d4e5"},
            {"Principal": TRUSTED_ACCOUNT},
        ],
        "bad": [{"Principal": "*"}, {"Principal": UNTRUSTED_ACCOUNT}],
    }
    for name, grants in permissions.items():
        for index, grant in enumerate(grants):
            lam.add_permission(
                FunctionName=name,
                StatementId=f"grant-{index}",
                Action="lambda:InvokeFunction",
                **grant,
            )
    lam.put_function_event_invoke_config(
        FunctionName="good",
        DestinationConfig={"OnFailure": {"Destination": queues["good_failures"]}},
    )
    for name, retention, key in [("good", 400, keys["rotating"]), ("shared", 365, keys["stale"])]:
        logs.create_log_group(logGroupName=f"/aws/lambda/{name}", kmsKeyId=key)
        logs.put_retention_policy(logGroupName=f"/aws/lambda/{name}", retentionInDays=retention)
    logs.create_log_group(logGroupName="/aws/lambda/bad")
    secrets.rotate_secret(  # any function: moto cannot run one
        SecretId=good_secret,
        RotationLambdaARN=functions["shared"],
        RotationRules={"AutomaticallyAfterDays": 30},
    )
    return functions


def _network(session: boto3.Session) -> dict[str, Any]:
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{index}.0/24", AvailabilityZone=zone)[
            "Subnet"
        ]["SubnetId"]
        for index, zone in enumerate([f"{REGION}a", f"{REGION}b", f"{REGION}a"])
    ]
    groups = {}
    for name, cidr in [("closed", "10.0.0.0/16"), ("open", "0.0.0.0/0")]:
        groups[name] = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)[
            "GroupId"
        ]
        ec2.authorize_security_group_ingress(
            GroupId=groups[name],
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 443,
                    "ToPort": 443,
                    "IpRanges": [{"CidrIp": cidr}],
                }
            ],
        )
    return {"two_zones": subnets[:2], "one_zone": [subnets[0], subnets[2]], **groups}


def _event_sources(
    session: boto3.Session,
    functions: dict[str, str],
    keys: dict[str, str],
    queues: dict[str, str],
) -> None:
    lam = session.client("lambda")
    kinesis = session.client("kinesis")
    kinesis.create_stream(StreamName="payments", ShardCount=1)
    stream = kinesis.describe_stream(StreamName="payments")["StreamDescription"]["StreamARN"]
    lam.create_event_source_mapping(
        EventSourceArn=queues["good_source"],
        FunctionName="good",
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    lam.create_event_source_mapping(EventSourceArn=queues["bad_source"], FunctionName="bad")
    lam.create_event_source_mapping(
        EventSourceArn=stream,
        FunctionName="good",
        StartingPosition="LATEST",
        MaximumRetryAttempts=3,
        BisectBatchOnFunctionError=True,
        DestinationConfig={"OnFailure": {"Destination": queues["good_failures"]}},
    )
    lam.create_event_source_mapping(
        EventSourceArn=stream,
        FunctionName="bad",
        StartingPosition="LATEST",
        MaximumRetryAttempts=-1,
        BisectBatchOnFunctionError=False,
    )
    sns = session.client("sns")
    redrive = json.dumps({"deadLetterTargetArn": queues["dlq"]})
    for name, attributes, subscription in [
        ("good", {"KmsMasterKeyId": keys["rotating"]}, {"RedrivePolicy": redrive}),
        ("bad", {}, {}),
    ]:
        topic = sns.create_topic(Name=f"{name}-events", Attributes=attributes)["TopicArn"]
        sns.subscribe(
            TopicArn=topic,
            Protocol="lambda",
            Endpoint=functions[name],
            Attributes=subscription,
        )
    events = session.client("events")
    for name, dead_letter in [("good", {"DeadLetterConfig": {"Arn": queues["dlq"]}}), ("bad", {})]:
        events.put_rule(Name=f"{name}-nightly", ScheduleExpression="cron(0 2 * * ? *)")
        events.put_targets(
            Rule=f"{name}-nightly", Targets=[{"Id": name, "Arn": functions[name], **dead_letter}]
        )


def _alarms(session: boto3.Session, keys: dict[str, str]) -> None:
    pager = session.client("sns").create_topic(
        Name="payments-pager", Attributes={"KmsMasterKeyId": keys["rotating"]}
    )["TopicArn"]
    cloudwatch = session.client("cloudwatch")
    for function, metric, actions in [
        ("good", "Errors", [pager]),
        ("good", "Throttles", [pager]),
        ("bad", "Errors", []),
    ]:
        cloudwatch.put_metric_alarm(
            AlarmName=f"{function}-{metric}",
            Namespace="AWS/Lambda",
            MetricName=metric,
            Dimensions=[{"Name": "FunctionName", "Value": function}],
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            AlarmActions=actions,
            ActionsEnabled=bool(actions),
        )


def _apis(session: boto3.Session, functions: dict[str, str], *, waf: bool) -> None:
    rest = session.client("apigateway")
    for name, function, authorization in [
        ("orders", "good", "AWS_IAM"),
        ("open", "bad", "NONE"),
    ]:
        api_id = rest.create_rest_api(name=name)["id"]
        root = rest.get_resources(restApiId=api_id)["items"][0]["id"]
        resource = rest.create_resource(restApiId=api_id, parentId=root, pathPart=name)["id"]
        rest.put_method(
            restApiId=api_id,
            resourceId=resource,
            httpMethod="POST",
            authorizationType=authorization,
        )
        rest.put_integration(
            restApiId=api_id,
            resourceId=resource,
            httpMethod="POST",
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/"
            f"{functions[function]}/invocations",
        )
        rest.create_deployment(restApiId=api_id, stageName="prod")
        if name == "orders":
            protect_stage(session, api_id, "prod", arn("logs", "log-group:api-access"), waf=waf)


def _guardrails(session: boto3.Session, lacks: frozenset[str]) -> None:
    s3 = session.client("s3")
    s3.create_bucket(Bucket="org-audit-logs")
    if "cloudtrail" not in lacks:
        _trail(session)
    config = session.client("config")
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{ACCOUNT}:role/config",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
        }
    )
    config.put_delivery_channel(
        DeliveryChannel={"name": "default", "s3BucketName": "org-audit-logs"}
    )
    config.start_configuration_recorder(ConfigurationRecorderName="default")
    if "guardduty" not in lacks:
        session.client("guardduty").create_detector(
            Enable=True, Features=[{"Name": "LAMBDA_NETWORK_LOGS", "Status": "ENABLED"}]
        )
    if "securityhub" not in lacks:
        session.client("securityhub").enable_security_hub(EnableDefaultStandards=True)


def _trail(session: boto3.Session) -> None:
    cloudtrail = session.client("cloudtrail")
    cloudtrail.create_trail(
        Name="org-trail",
        S3BucketName="org-audit-logs",
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
    )
    cloudtrail.start_logging(Name="org-trail")
    cloudtrail.put_event_selectors(
        TrailName="org-trail",
        EventSelectors=[
            {
                "ReadWriteType": "All",
                "IncludeManagementEvents": True,
                "DataResources": [{"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]}],
            }
        ],
    )
