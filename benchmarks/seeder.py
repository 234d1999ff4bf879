"""Seed a moto server with N Lambda functions that look like a real account's.

Everything is decided up front by :func:`plan` from ``seed``: the same ``(count, seed)``
gives the same account, whatever order the parallel seeding threads run in. The account has
the variety the controls read: teams sharing an execution role and functions with a role
of their own, inline and managed policies (a few too broad), permission boundaries, tags
(some missing), runtimes (some deprecated), tracing, dead-letter queues, reserved
concurrency, function URLs (some public), resource policies, published versions and
aliases, SQS event sources, EventBridge rules, SNS subscriptions, async invoke configs,
error and throttle alarms, log groups with and without retention, and code signing configs
(some enforcing, some only warning) trusting an AWS Signer profile.

Only real boto3 calls are made, as a deployment would make them. moto has no code signing
configs: it keeps the ``CodeSigningConfigArn`` that ``CreateFunction`` names, and the configs
themselves are returned by :func:`seed` for the simulator to serve (``listings.py``).
"""

from __future__ import annotations

import datetime
import io
import json
import random
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
FUNCTIONS_PER_TEAM = 40
RUNTIMES = (
    ("python3.12", 40),
    ("nodejs20.x", 30),
    ("java21", 10),
    ("python3.9", 10),
    ("nodejs16.x", 10),
)
#: Code signing configs: name, UntrustedArtifactOnDeployment, share of the functions using it.
CODE_SIGNING = (("release", "Enforce", 0.2), ("legacy", "Warn", 0.05))
SIGNING_PROFILE = "release"
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
XRAY = "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
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


@dataclass(frozen=True)
class RolePlan:
    name: str
    managed: tuple[str, ...]
    inline_actions: tuple[str, ...]
    boundary: bool


@dataclass(frozen=True)
class FunctionPlan:
    name: str
    team: str
    role: str
    runtime: str
    memory: int
    timeout: int
    tracing: str
    environment: dict[str, str]
    tags: dict[str, str]
    dead_letter: bool
    reserved: int | None
    url_auth: str | None
    invoke_permission: str | None
    versions: int
    alias: bool
    sqs_source: bool
    rule: bool
    subscription: bool
    invoke_config: bool
    alarms: tuple[str, ...]
    log_retention: int | None
    log_group: bool
    code_signing: str | None = None


@dataclass(frozen=True)
class AccountPlan:
    teams: tuple[str, ...]
    roles: tuple[RolePlan, ...]
    functions: tuple[FunctionPlan, ...] = field(repr=False)


def plan(count: int, seed: int) -> AccountPlan:
    """The account to seed: ``count`` functions, decided by ``seed`` alone."""
    rng = random.Random(seed)
    # Drawn apart, so that adding code signing left every other choice of a seed as it was.
    signing_rng = random.Random(f"{seed}:code-signing")
    teams = tuple(f"team-{i:02d}" for i in range(max(1, count // FUNCTIONS_PER_TEAM)))
    roles = [
        RolePlan(
            name=f"{team}-lambda",
            managed=(BASIC_EXECUTION, XRAY),
            inline_actions=("*",) if rng.random() < 0.1 else ("sqs:SendMessage", "s3:GetObject"),
            boundary=False,
        )
        for team in teams
    ]
    runtimes = [runtime for runtime, _ in RUNTIMES]
    weights = [weight for _, weight in RUNTIMES]
    functions = []
    for i in range(count):
        name = f"fn-{i:05d}"
        team = teams[i % len(teams)]
        role = f"{team}-lambda"
        if rng.random() < 0.3:
            role = f"{name}-role"
            roles.append(
                RolePlan(
                    name=role,
                    managed=(BASIC_EXECUTION, ADMIN) if rng.random() < 0.05 else (BASIC_EXECUTION,),
                    inline_actions=("dynamodb:GetItem", "dynamodb:PutItem"),
                    boundary=rng.random() < 0.2,
                )
            )
        versions = rng.choices((0, 1, 2, 3), weights=(30, 50, 15, 5))[0]
        environment = {"POWERTOOLS_SERVICE_NAME": name, "LOG_LEVEL": "INFO"}
        if rng.random() < 0.05:
            environment["DB_PASSWORD"] = f"not-a-real-password-{i}"
        tags = {"Owner": f"{team}@example.com", "CostCenter": f"CC-{i % 7:03d}"}
        if rng.random() < 0.15:
            tags = {"Owner": f"{team}@example.com"}
        url_roll = rng.random()
        functions.append(
            FunctionPlan(
                name=name,
                team=team,
                role=role,
                runtime=rng.choices(runtimes, weights=weights)[0],
                memory=rng.choice((128, 256, 512, 1024, 2048)),
                timeout=rng.choice((3, 10, 30, 60, 300, 900)),
                tracing="Active" if rng.random() < 0.6 else "PassThrough",
                environment=environment,
                tags=tags,
                dead_letter=rng.random() < 0.3,
                reserved=rng.choice((5, 10, 50)) if rng.random() < 0.25 else None,
                url_auth="NONE" if url_roll < 0.02 else "AWS_IAM" if url_roll < 0.05 else None,
                invoke_permission=rng.choice(("events", "sns", "apigateway"))
                if rng.random() < 0.4
                else None,
                versions=versions,
                alias=versions > 0 and rng.random() < 0.7,
                sqs_source=rng.random() < 0.15,
                rule=rng.random() < 0.1,
                subscription=rng.random() < 0.05,
                invoke_config=rng.random() < 0.1,
                alarms=tuple(
                    metric
                    for metric, share in (("Errors", 0.6), ("Throttles", 0.3))
                    if rng.random() < share
                ),
                log_group=rng.random() < 0.9,
                log_retention=rng.choice((14, 30, 365)) if rng.random() < 0.7 else None,
                code_signing=_code_signing(signing_rng.random()),
            )
        )
    return AccountPlan(teams=teams, roles=tuple(roles), functions=tuple(functions))


def _code_signing(roll: float) -> str | None:
    """The config a function uses, by where ``roll`` (0 to 1) falls in the shares."""
    for name, _, share in CODE_SIGNING:
        if roll < share:
            return name
        roll -= share
    return None


def code_signing_config_arn(name: str) -> str:
    number = [config for config, _, _ in CODE_SIGNING].index(name) + 1
    return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:code-signing-config:csc-{number:017x}"


class Seeder:
    """Applies an :class:`AccountPlan` to the moto server at ``endpoint``."""

    def __init__(self, endpoint: str, workers: int = 8) -> None:
        session = boto3.Session(
            region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        config = Config(max_pool_connections=workers * 2, retries={"max_attempts": 1})
        self._client = {
            service: session.client(service, endpoint_url=endpoint, config=config)
            for service in ("iam", "lambda", "sqs", "sns", "events", "logs", "cloudwatch", "signer")
        }
        self._workers = workers
        self._zip = _package()

    def seed(self, account: AccountPlan) -> list[dict[str, Any]]:
        """Apply ``account``; return its code signing configs, as ListCodeSigningConfigs
        would list them (moto cannot hold them)."""
        iam = self._client["iam"]
        boundary = iam.create_policy(
            PolicyName="lambda-boundary",
            PolicyDocument=_policy(("logs:*", "dynamodb:*", "sqs:*", "s3:GetObject")),
        )["Policy"]["Arn"]
        # moto's IAM is not safe for concurrent writes (it answers some with a 500): one
        # thread for the roles, which are few next to the functions.
        for role in account.roles:
            self._role(role, boundary)
        self._parallel(self._team, account.teams)
        self._parallel(self._function, account.functions)
        return self._code_signing_configs()

    def _code_signing_configs(self) -> list[dict[str, Any]]:
        profile = self._client["signer"].put_signing_profile(
            profileName=SIGNING_PROFILE, platformId="AWSLambda-SHA384-ECDSA"
        )
        now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        return [
            {
                "CodeSigningConfigId": code_signing_config_arn(name).rsplit(":", 1)[1],
                "CodeSigningConfigArn": code_signing_config_arn(name),
                "Description": f"{name} builds",
                "AllowedPublishers": {"SigningProfileVersionArns": [profile["profileVersionArn"]]},
                "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": policy},
                "LastModified": now,
            }
            for name, policy, _ in CODE_SIGNING
        ]

    def _parallel(self, work: Callable[[Any], None], items: tuple[Any, ...]) -> None:
        with ThreadPoolExecutor(self._workers) as pool:
            for _ in pool.map(work, items):
                pass

    def _role(self, role: RolePlan, boundary: str) -> None:
        iam = self._client["iam"]
        extra = {"PermissionsBoundary": boundary} if role.boundary else {}
        iam.create_role(RoleName=role.name, AssumeRolePolicyDocument=json.dumps(TRUST), **extra)
        for arn in role.managed:
            iam.attach_role_policy(RoleName=role.name, PolicyArn=arn)
        iam.put_role_policy(
            RoleName=role.name, PolicyName="app", PolicyDocument=_policy(role.inline_actions)
        )

    def _team(self, team: str) -> None:
        self._client["sqs"].create_queue(QueueName=f"{team}-dlq")
        self._client["sns"].create_topic(Name=f"{team}-alarms")
        self._client["sns"].create_topic(Name=f"{team}-events")

    def _function(self, plan: FunctionPlan) -> None:
        lam = self._client["lambda"]
        extra: dict[str, Any] = {}
        if plan.dead_letter:
            extra["DeadLetterConfig"] = {"TargetArn": _arn("sqs", f"{plan.team}-dlq")}
        if plan.code_signing is not None:
            extra["CodeSigningConfigArn"] = code_signing_config_arn(plan.code_signing)
        arn = lam.create_function(
            FunctionName=plan.name,
            Runtime=plan.runtime,
            Role=f"arn:aws:iam::{ACCOUNT_ID}:role/{plan.role}",
            Handler="app.handler",
            Code={"ZipFile": self._zip},
            MemorySize=plan.memory,
            Timeout=plan.timeout,
            TracingConfig={"Mode": plan.tracing},
            Environment={"Variables": plan.environment},
            Tags=plan.tags,
            **extra,
        )["FunctionArn"]
        if plan.reserved is not None:
            lam.put_function_concurrency(
                FunctionName=plan.name, ReservedConcurrentExecutions=plan.reserved
            )
        if plan.url_auth is not None:
            lam.create_function_url_config(FunctionName=plan.name, AuthType=plan.url_auth)
        if plan.url_auth == "NONE":
            lam.add_permission(
                FunctionName=plan.name,
                StatementId="public-url",
                Action="lambda:InvokeFunctionUrl",
                Principal="*",
                FunctionUrlAuthType="NONE",
            )
        if plan.invoke_permission is not None:
            lam.add_permission(
                FunctionName=plan.name,
                StatementId=f"{plan.invoke_permission}-invoke",
                Action="lambda:InvokeFunction",
                Principal=f"{plan.invoke_permission}.amazonaws.com",
                SourceArn=_arn(plan.invoke_permission, f"{plan.team}-events"),
            )
        self._versions(plan)
        self._event_sources(plan, arn)
        self._observability(plan)

    def _versions(self, plan: FunctionPlan) -> None:
        lam = self._client["lambda"]
        version = None
        for release in range(plan.versions):
            if release:
                lam.update_function_configuration(
                    FunctionName=plan.name, Description=f"release {release + 1}"
                )
            version = lam.publish_version(FunctionName=plan.name)["Version"]
        if plan.alias and version is not None:
            lam.create_alias(FunctionName=plan.name, Name="live", FunctionVersion=version)

    def _event_sources(self, plan: FunctionPlan, arn: str) -> None:
        if plan.sqs_source:
            self._client["sqs"].create_queue(QueueName=f"{plan.name}-events")
            self._client["lambda"].create_event_source_mapping(
                EventSourceArn=_arn("sqs", f"{plan.name}-events"), FunctionName=plan.name
            )
        if plan.rule:
            events = self._client["events"]
            events.put_rule(Name=f"{plan.name}-schedule", ScheduleExpression="rate(5 minutes)")
            events.put_targets(Rule=f"{plan.name}-schedule", Targets=[{"Id": "fn", "Arn": arn}])
        if plan.subscription:
            self._client["sns"].subscribe(
                TopicArn=_arn("sns", f"{plan.team}-events"), Protocol="lambda", Endpoint=arn
            )
        if plan.invoke_config:
            self._client["lambda"].put_function_event_invoke_config(
                FunctionName=plan.name,
                MaximumRetryAttempts=1,
                DestinationConfig={"OnFailure": {"Destination": _arn("sqs", f"{plan.team}-dlq")}},
            )

    def _observability(self, plan: FunctionPlan) -> None:
        for metric in plan.alarms:
            self._client["cloudwatch"].put_metric_alarm(
                AlarmName=f"{plan.name}-{metric.lower()}",
                Namespace="AWS/Lambda",
                MetricName=metric,
                Dimensions=[{"Name": "FunctionName", "Value": plan.name}],
                Statistic="Sum",
                Period=60,
                EvaluationPeriods=1,
                Threshold=1,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
                AlarmActions=[_arn("sns", f"{plan.team}-alarms")],
            )
        if plan.log_group:
            logs = self._client["logs"]
            group = f"/aws/lambda/{plan.name}"
            logs.create_log_group(logGroupName=group)
            if plan.log_retention is not None:
                logs.put_retention_policy(logGroupName=group, retentionInDays=plan.log_retention)


def _arn(service: str, name: str) -> str:
    if service == "apigateway":
        return f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{name}/*/*/*"
    if service == "events":
        return f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{name}"
    return f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{name}"


def _policy(actions: tuple[str, ...]) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
        }
    )


def _package() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as package:
        package.writestr("app.py", "def handler(event, context):\n    return None\n")
    return archive.getvalue()


def seed(
    endpoint: str, count: int, seed: int = 1, workers: int = 8
) -> tuple[AccountPlan, list[dict[str, Any]]]:
    """Seed ``count`` functions at ``endpoint``; return the plan that was applied and the
    account's code signing configs, for the simulator to serve."""
    account = plan(count, seed)
    return account, Seeder(endpoint, workers).seed(account)
