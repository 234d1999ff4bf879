"""Collectors of the account around the functions (logs, alarms, deployments, API Gateway,
guardrails, SCPs), against moto (``mock_aws``) seeded through boto3.

Where moto lacks an operation or a field, the test says so and asserts the error marker that
stands in its place: a moto gap is an error in the snapshot, never data.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from faults import inject_fault
from moto_seed import ACCOUNT, REGION, collect, function, mocked_account, protect_stage
from pytest_prr.snapshot.collect import cloudwatch
from pytest_prr.snapshot.collect.apigw import collect_apigw
from pytest_prr.snapshot.collect.cloudwatch import collect_cloudwatch
from pytest_prr.snapshot.collect.deploy import (
    _from_appspecs,
    _profile_key,
    collect_deploy,
)
from pytest_prr.snapshot.collect.guardrails import collect_guardrails, collect_organizations
from pytest_prr.snapshot.collect.logs import collect_logs
from pytest_prr.snapshot.collect.reader import Reader
from pytest_prr.snapshot.model import is_error


@pytest.fixture
def session() -> Iterator[boto3.Session]:
    with mocked_account() as session:
        yield session


def failed(value: Any, operation: str) -> bool:
    return is_error(value) and value["$error"]["operation"] == operation


# --- logs (OBS-02, DAT-05) -------------------------------------------------------------


@pytest.fixture
def log_groups(session: boto3.Session) -> dict[str, str]:
    """Functions with a compliant, a never-expiring and a missing log group."""
    logs = session.client("logs")
    key = session.client("kms").create_key()["KeyMetadata"]["Arn"]
    for name in ("kept", "forever"):
        function(session, name)
    function(session, "missing")
    logs.create_log_group(logGroupName="/aws/lambda/kept", kmsKeyId=key)
    logs.put_retention_policy(logGroupName="/aws/lambda/kept", retentionInDays=400)
    logs.create_log_group(logGroupName="/aws/lambda/forever")
    logs.create_log_group(logGroupName="/other/app")
    return {"key": key}


def test_logs_reads_the_lambda_groups_in_one_listing(
    session: boto3.Session, log_groups: dict[str, str]
) -> None:
    result, calls = collect(collect_logs, session)
    assert result == {
        "log_groups": {
            "/aws/lambda/kept": {"retentionInDays": 400, "kmsKeyId": log_groups["key"]},
            "/aws/lambda/forever": {"retentionInDays": None, "kmsKeyId": None},
        }
    }
    assert calls == {"logs:DescribeLogGroups": 1}


def test_logs_reads_custom_groups_by_name(session: boto3.Session) -> None:
    """moto does not keep a function's LoggingConfig, so this Lambda section is written here;
    the groups are read from moto. moto also ignores ``logGroupIdentifiers`` and answers every
    group, which is why the collector keeps only the names it asked for."""
    logs = session.client("logs")
    logs.create_log_group(logGroupName="/shared/orders")
    logs.put_retention_policy(logGroupName="/shared/orders", retentionInDays=731)
    logs.create_log_group(logGroupName="/shared/orders-archive")
    functions = {
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}": {
            "FunctionName": name,
            "LoggingConfig": {"LogFormat": "JSON", "LogGroup": group},
        }
        for name, group in [
            ("a", "/shared/orders"),
            ("b", "/shared/orders"),
            ("c", "/shared/absent"),
            ("d", "/aws/lambda/d"),
        ]
    }
    reader = Reader(session)
    result = collect_logs(reader, REGION, {"lambda": {"functions": functions}})
    assert result == {"log_groups": {"/shared/orders": {"retentionInDays": 731, "kmsKeyId": None}}}
    assert reader.calls == {"logs:DescribeLogGroups": 2}


def test_logs_failure_marks_the_whole_map(
    session: boto3.Session, log_groups: dict[str, str]
) -> None:
    """A missing group means "does not exist": a map read only in part would say so falsely."""
    inject_fault(session, "logs", "DescribeLogGroups")
    result, _ = collect(collect_logs, session)
    assert failed(result["log_groups"], "logs:DescribeLogGroups")


def test_logs_without_functions_is_marked(
    session: boto3.Session, log_groups: dict[str, str]
) -> None:
    inject_fault(session, "lambda", "ListFunctions")
    result, calls = collect(collect_logs, session)
    assert failed(result["log_groups"], "lambda:ListFunctions")
    assert calls == {}


# --- cloudwatch (OBS-03/04/05/08) --------------------------------------------------------


@pytest.fixture
def alarms(session: boto3.Session) -> dict[str, str]:
    """An Errors alarm that pages, a Throttles alarm with actions disabled, an SQS alarm,
    and a week of metrics for one of two functions."""
    cloudwatch = session.client("cloudwatch")
    arns = {"busy": function(session, "busy"), "idle": function(session, "idle")}
    topic = session.client("sns").create_topic(Name="pager")["TopicArn"]
    common = {"Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 1.0}
    for name, metric, namespace, enabled in [
        ("busy-errors", "Errors", "AWS/Lambda", True),
        ("busy-throttles", "Throttles", "AWS/Lambda", False),
        ("queue-depth", "ApproximateNumberOfMessagesVisible", "AWS/SQS", True),
    ]:
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            MetricName=metric,
            Namespace=namespace,
            Dimensions=[{"Name": "FunctionName", "Value": "busy"}],
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            ActionsEnabled=enabled,
            AlarmActions=[topic] if enabled else [],
            **common,
        )
    when = datetime.now(UTC) - timedelta(days=2)
    for metric, value in [("Errors", 3.0), ("Invocations", 1000.0)]:
        cloudwatch.put_metric_data(
            Namespace="AWS/Lambda",
            MetricData=[
                {
                    "MetricName": metric,
                    "Dimensions": [{"Name": "FunctionName", "Value": "busy"}],
                    "Timestamp": when,
                    "Value": value,
                }
            ],
        )
    return arns | {"topic": topic}


def test_cloudwatch_reads_lambda_alarms_and_slo_totals(
    session: boto3.Session, alarms: dict[str, str]
) -> None:
    result, calls = collect(collect_cloudwatch, session, window_days=7)
    dimensions = [{"Name": "FunctionName", "Value": "busy"}]
    assert result["alarms"] == [
        {
            "AlarmName": name,
            "AlarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}",
            "MetricName": metric,
            "Dimensions": dimensions,
            "ActionsEnabled": enabled,
            "AlarmActions": actions,
        }
        for name, metric, enabled, actions in [
            ("busy-errors", "Errors", True, [alarms["topic"]]),
            ("busy-throttles", "Throttles", False, []),
        ]
    ]
    assert result["metrics"] == {
        alarms["busy"]: {"Errors": 3.0, "Invocations": 1000.0, "window_days": 7},
        alarms["idle"]: {"Errors": 0.0, "Invocations": 0.0, "window_days": 7},
    }
    assert calls == {"cloudwatch:DescribeAlarms": 1, "cloudwatch:GetMetricData": 1}


def test_cloudwatch_window_excludes_older_datapoints(
    session: boto3.Session, alarms: dict[str, str]
) -> None:
    result, _ = collect(collect_cloudwatch, session, window_days=1)
    assert result["metrics"][alarms["busy"]] == {
        "Errors": 0.0,
        "Invocations": 0.0,
        "window_days": 1,
    }


def test_cloudwatch_batches_metric_queries(
    session: boto3.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of 250 functions, shrunk to 2 here: 250 functions take moto half a minute."""
    assert cloudwatch.FUNCTIONS_PER_CALL * len(cloudwatch.SLO_METRICS) == 500
    monkeypatch.setattr(cloudwatch, "FUNCTIONS_PER_CALL", 2)
    arns = [function(session, f"fn-{index}") for index in range(5)]
    result, calls = collect(collect_cloudwatch, session)
    assert sorted(result["metrics"]) == sorted(arns)
    assert calls["cloudwatch:GetMetricData"] == 3


@pytest.mark.parametrize(
    ("operation", "broken", "intact"),
    [("DescribeAlarms", "alarms", "metrics"), ("GetMetricData", "metrics", "alarms")],
)
def test_cloudwatch_failure_marks_only_its_part(
    session: boto3.Session, alarms: dict[str, str], operation: str, broken: str, intact: str
) -> None:
    inject_fault(session, "cloudwatch", operation)
    result, _ = collect(collect_cloudwatch, session)
    marked = result[broken].values() if broken == "metrics" else [result[broken]]
    assert all(failed(value, f"cloudwatch:{operation}") for value in marked)
    assert result[intact] and not is_error(result[intact])
    assert not any(is_error(value) for value in result[intact])


# --- API Gateway (API-01..04, REL-08) ----------------------------------------------------


def invoke_uri(function_arn: str) -> str:
    return (
        f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    )


@pytest.fixture
def apis(session: boto3.Session) -> dict[str, str]:
    """A REST API with a protected prod stage and a bare dev stage (one method's function is
    a stage variable), a REST API fronting no function, and an HTTP API."""
    orders, admin = function(session, "orders"), function(session, "admin")
    rest = session.client("apigateway")

    def api(name: str, methods: list[tuple[str, str, str, bool, dict[str, str]]]) -> str:
        api_id = rest.create_rest_api(name=name)["id"]
        root = rest.get_resources(restApiId=api_id)["items"][0]["id"]
        for path, verb, authorization, key, integration in methods:
            resource = rest.create_resource(restApiId=api_id, parentId=root, pathPart=path)["id"]
            rest.put_method(
                restApiId=api_id,
                resourceId=resource,
                httpMethod=verb,
                authorizationType=authorization,
                apiKeyRequired=key,
            )
            rest.put_integration(
                restApiId=api_id, resourceId=resource, httpMethod=verb, **integration
            )
        return api_id

    proxy = {"type": "AWS_PROXY", "integrationHttpMethod": "POST"}
    ids = {
        "orders": api(
            "orders",
            [
                ("orders", "GET", "NONE", False, {**proxy, "uri": invoke_uri(orders)}),
                (
                    "admin",
                    "POST",
                    "NONE",
                    True,
                    {
                        **proxy,
                        "uri": invoke_uri(
                            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:${{stageVariables.fn}}:live"
                        ),
                    },
                ),
            ],
        ),
        "static": api(
            "static",
            [
                (
                    "page",
                    "GET",
                    "NONE",
                    False,
                    {"type": "HTTP", "integrationHttpMethod": "GET", "uri": "https://example.com/"},
                )
            ],
        ),
    }
    rest.create_deployment(restApiId=ids["orders"], stageName="prod", variables={"fn": "admin"})
    rest.create_stage(
        restApiId=ids["orders"],
        stageName="dev",
        deploymentId=rest.get_deployments(restApiId=ids["orders"])["items"][0]["id"],
    )
    acl = protect_stage(session, ids["orders"], "prod", "arn:logs")
    prefix = f"arn:aws:apigateway:{REGION}::"
    http = session.client("apigatewayv2")
    ids["public"] = http.create_api(Name="public", ProtocolType="HTTP")["ApiId"]
    integration = http.create_integration(
        ApiId=ids["public"],
        IntegrationType="AWS_PROXY",
        IntegrationUri=orders,
        PayloadFormatVersion="2.0",
    )["IntegrationId"]
    for key, authorization in [("GET /items", "NONE"), ("$default", "AWS_IAM")]:
        http.create_route(
            ApiId=ids["public"],
            RouteKey=key,
            Target=f"integrations/{integration}",
            AuthorizationType=authorization,
        )
    http.create_stage(
        ApiId=ids["public"],
        StageName="$default",
        DefaultRouteSettings={"ThrottlingRateLimit": 10.0, "ThrottlingBurstLimit": 5},
    )
    return ids | {"orders_fn": orders, "admin_fn": admin, "acl": acl, "prefix": prefix}


def rest_methods(apis: dict[str, str], admin: str) -> list[dict[str, Any]]:
    return [
        {
            "resource_path": "/orders",
            "http_method": "GET",
            "authorization_type": "NONE",
            "api_key_required": False,
            "function_arn": apis["orders_fn"],
        },
        {
            "resource_path": "/admin",
            "http_method": "POST",
            "authorization_type": "NONE",
            "api_key_required": True,
            "function_arn": admin,
        },
    ]


def test_apigw_reads_stages_fronting_functions(
    session: boto3.Session, apis: dict[str, str]
) -> None:
    result, calls = collect(collect_apigw, session)
    stages = sorted(result["stages"], key=lambda s: (s["api_name"], s["stage"]))
    unresolved = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:${{stageVariables.fn}}:live"
    orders = {"api_id": apis["orders"], "api_name": "orders", "api_type": "REST"}
    assert stages == [
        {
            **orders,
            "stage": "dev",
            "stage_arn": f"{apis['prefix']}/restapis/{apis['orders']}/stages/dev",
            "access_log_destination": None,
            "throttling": None,
            "web_acl_arn": None,
            "methods": rest_methods(apis, unresolved),
        },
        {
            **orders,
            "stage": "prod",
            "stage_arn": f"{apis['prefix']}/restapis/{apis['orders']}/stages/prod",
            "access_log_destination": "arn:logs",
            "throttling": {"rate_limit": 100.0, "burst_limit": 50},
            "web_acl_arn": apis["acl"],
            "methods": rest_methods(apis, apis["admin_fn"]),
        },
        {
            "api_id": apis["public"],
            "api_name": "public",
            "api_type": "HTTP",
            "stage": "$default",
            "stage_arn": f"{apis['prefix']}/apis/{apis['public']}/stages/$default",
            "access_log_destination": None,
            "throttling": {"rate_limit": 10.0, "burst_limit": 5},
            "web_acl_arn": None,
            "methods": [
                {
                    "resource_path": path,
                    "http_method": verb,
                    "authorization_type": authorization,
                    "api_key_required": False,
                    "function_arn": apis["orders_fn"],
                }
                for path, verb, authorization in [
                    ("/items", "GET", "NONE"),
                    ("$default", None, "AWS_IAM"),
                ]
            ],
        },
    ]
    assert calls == {
        "apigateway:GetRestApis": 1,
        "apigateway:GetResources": 2,
        "apigateway:GetStages": 1,
        "apigatewayv2:GetApis": 1,
        "apigatewayv2:GetIntegrations": 1,
        "apigatewayv2:GetRoutes": 1,
        "apigatewayv2:GetStages": 1,
    }


@pytest.mark.parametrize(
    ("connect", "expected"),
    [
        ({"AuthorizationType": "AWS_IAM"}, ("AWS_IAM", False)),
        ({"AuthorizationType": "NONE", "ApiKeyRequired": True}, ("NONE", True)),
        ({"AuthorizationType": "NONE"}, ("NONE", False)),
        (None, (None, False)),
    ],
    ids=["iam-on-connect", "key-on-connect", "open-connect", "no-connect"],
)
def test_apigw_websocket_routes_are_as_protected_as_connect(
    session: boto3.Session, connect: dict[str, Any] | None, expected: tuple[Any, bool]
) -> None:
    """A message route never has its own authorizer: the connection was authorised once, on
    ``$connect``, or not at all."""
    chat = function(session, "chat")
    ws = session.client("apigatewayv2")
    api_id = ws.create_api(
        Name="chat", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )["ApiId"]
    integration = ws.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=invoke_uri(chat)
    )["IntegrationId"]
    if connect is not None:
        ws.create_route(ApiId=api_id, RouteKey="$connect", **connect)
    ws.create_route(
        ApiId=api_id,
        RouteKey="sendMessage",
        Target=f"integrations/{integration}",
        AuthorizationType="NONE",
    )
    ws.create_stage(ApiId=api_id, StageName="prod")
    result, _ = collect(collect_apigw, session)
    (stage,) = result["stages"]
    assert stage["api_type"] == "WEBSOCKET"
    assert stage["methods"] == [
        {
            "resource_path": "sendMessage",
            "http_method": None,
            "authorization_type": expected[0],
            "api_key_required": expected[1],
            "function_arn": chat,
            "authorized_on": "$connect",
        }
    ]


def test_apigw_unreadable_methods_are_marked_per_stage(
    session: boto3.Session, apis: dict[str, str]
) -> None:
    """An API whose methods could not be read may front any function: every API's stages
    are kept, with the marker for methods."""
    inject_fault(session, "apigateway", "GetResources")
    result, _ = collect(collect_apigw, session)
    rest = [s for s in result["stages"] if s["api_type"] == "REST"]
    assert sorted((s["api_name"], s["stage"]) for s in rest) == [
        ("orders", "dev"),
        ("orders", "prod"),
    ]
    assert all(failed(s["methods"], "apigateway:GetResources") for s in rest)
    prod = next(s for s in rest if s["stage"] == "prod")
    assert prod["web_acl_arn"] == apis["acl"]
    http = [s for s in result["stages"] if s["api_type"] == "HTTP"]
    assert [s["methods"][0]["function_arn"] for s in http] == [apis["orders_fn"]]


def test_apigw_unreadable_stages_are_marked_with_methods_kept(
    session: boto3.Session, apis: dict[str, str]
) -> None:
    inject_fault(session, "apigateway", "GetStages")
    result, _ = collect(collect_apigw, session)
    (rest,) = [s for s in result["stages"] if s["api_type"] == "REST"]
    for field in ("stage", "stage_arn", "access_log_destination", "throttling", "web_acl_arn"):
        assert failed(rest[field], "apigateway:GetStages")
    unresolved = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:${{stageVariables.fn}}:live"
    assert rest["methods"] == rest_methods(apis, unresolved)


@pytest.mark.parametrize(
    ("service", "operation", "kept"),
    [("apigateway", "GetRestApis", "HTTP"), ("apigatewayv2", "GetApis", "REST")],
)
def test_apigw_unreadable_api_listing_is_a_marker_in_the_list(
    session: boto3.Session, apis: dict[str, str], service: str, operation: str, kept: str
) -> None:
    inject_fault(session, service, operation)
    result, _ = collect(collect_apigw, session)
    markers = [s for s in result["stages"] if is_error(s)]
    assert len(markers) == 1 and failed(markers[0], f"{service}:{operation}")
    assert {s["api_type"] for s in result["stages"] if not is_error(s)} == {kept}


# --- CodeDeploy and Signer (DEP-01/02/03) --------------------------------------------------

ROLE = f"arn:aws:iam::{ACCOUNT}:role/codedeploy"


def deployment_group(session: boto3.Session, application: str, platform: str) -> None:
    codedeploy = session.client("codedeploy")
    codedeploy.create_application(applicationName=application, computePlatform=platform)
    codedeploy.create_deployment_group(
        applicationName=application,
        deploymentGroupName=f"{application}-live",
        serviceRoleArn=ROLE,
        deploymentConfigName="CodeDeployDefault.LambdaCanary10Percent5Minutes",
        autoRollbackConfiguration={
            "enabled": True,
            "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"],
        },
        alarmConfiguration={"enabled": True, "alarms": [{"name": "errors"}]},
    )


def test_deploy_without_applications_reads_nothing_more(session: boto3.Session) -> None:
    """moto implements no code signing config listing, so the profiles are its marker."""
    result, calls = collect(collect_deploy, session)
    assert result["deployment_groups"] == []
    assert failed(result["signing_profiles"], "lambda:ListCodeSigningConfigs")
    assert calls == {"codedeploy:ListApplications": 1}


def test_deploy_reads_groups_of_lambda_applications(session: boto3.Session) -> None:
    """moto does not implement BatchGetDeploymentGroups: the Lambda application's groups
    are its marker, and the server application's groups are not read at all."""
    deployment_group(session, "orders", "Lambda")
    deployment_group(session, "legacy", "Server")
    result, calls = collect(collect_deploy, session)
    (groups,) = result["deployment_groups"]
    assert failed(groups, "codedeploy:BatchGetDeploymentGroups")
    assert calls == {
        "codedeploy:ListApplications": 1,
        "codedeploy:BatchGetApplications": 1,
        "codedeploy:ListDeploymentGroups": 1,
        "codedeploy:BatchGetDeploymentGroups": 1,
    }


@pytest.mark.parametrize("operation", ["ListApplications", "BatchGetApplications"])
def test_deploy_unreadable_applications_mark_the_groups(
    session: boto3.Session, operation: str
) -> None:
    deployment_group(session, "orders", "Lambda")
    inject_fault(session, "codedeploy", operation)
    result, _ = collect(collect_deploy, session)
    assert failed(result["deployment_groups"], f"codedeploy:{operation}")


@pytest.fixture
def deployments(session: boto3.Session) -> dict[str, str]:
    """Deployments of one group: an inline JSON AppSpec, an inline YAML one, an S3 revision."""
    deployment_group(session, "orders", "Lambda")
    codedeploy = session.client("codedeploy")
    appspec = {
        "version": 0.0,
        "Resources": [
            {
                "orders": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Name": "orders",
                        "Alias": "live",
                        "CurrentVersion": "1",
                        "TargetVersion": "2",
                    },
                }
            }
        ],
    }
    yaml_appspec = (
        "version: 0.0\nResources:\n  - billing:\n      Type: AWS::Lambda::Function\n"
        "      Properties: {Name: billing, Alias: prod, CurrentVersion: '3', TargetVersion: '4'}\n"
    )
    revisions = {
        "json": {
            "revisionType": "AppSpecContent",
            "appSpecContent": {"content": json.dumps(appspec)},
        },
        "yaml": {"revisionType": "String", "string": {"content": yaml_appspec}},
        "s3": {
            "revisionType": "S3",
            "s3Location": {"bucket": "releases", "key": "appspec.yaml", "bundleType": "YAML"},
        },
    }
    return {
        kind: codedeploy.create_deployment(
            applicationName="orders", deploymentGroupName="orders-live", revision=revision
        )["deploymentId"]
        for kind, revision in revisions.items()
    }


def test_deploy_reads_the_function_from_inline_appspecs(
    session: boto3.Session, deployments: dict[str, str]
) -> None:
    """moto keeps no last deployment on a group, so the deployments are read directly; an S3
    revision is left to the deployment's target (None here)."""
    reader = Reader(session)
    ids = [deployments[kind] for kind in ("json", "yaml", "s3")]
    assert _from_appspecs(reader, REGION, ids) == {
        deployments["json"]: {"FunctionName": "orders", "Alias": "live"},
        deployments["yaml"]: {"FunctionName": "billing", "Alias": "prod"},
        deployments["s3"]: None,
    }
    assert reader.calls == {"codedeploy:BatchGetDeployments": 1}


def test_deploy_unreadable_deployments_are_marked(
    session: boto3.Session, deployments: dict[str, str]
) -> None:
    inject_fault(session, "codedeploy", "BatchGetDeployments")
    result = _from_appspecs(Reader(session), REGION, list(deployments.values()))
    assert all(failed(value, "codedeploy:BatchGetDeployments") for value in result.values())


@pytest.fixture
def profiles(session: boto3.Session) -> dict[str, str]:
    signer = session.client("signer")
    arns = {
        name: signer.put_signing_profile(profileName=name, platformId="AWSLambda-SHA384-ECDSA")[
            "profileVersionArn"
        ]
        for name in ("release", "retired")
    }
    signer.cancel_signing_profile(profileName="retired")
    return arns


def signing_section(profiles: dict[str, str]) -> dict[str, Any]:
    """moto implements no code signing configs, so the Lambda section is written here with
    two configs sharing a profile; the profiles are read from moto."""
    config = f"arn:aws:lambda:{REGION}:{ACCOUNT}:code-signing-config:csc-"
    allowed = {"a": ["release", "retired"], "b": ["release"]}
    return {
        "lambda": {
            "code_signing_configs": {
                f"{config}{name}": {
                    "AllowedPublishers": {
                        "SigningProfileVersionArns": [profiles[p] for p in publishers]
                    },
                    "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Enforce"},
                }
                for name, publishers in allowed.items()
            }
        }
    }


def test_deploy_reads_each_signing_profile_once(
    session: boto3.Session, profiles: dict[str, str]
) -> None:
    """A profile that does not exist is None; moto cannot show it (it answers a KeyError)."""
    reader = Reader(session)
    result = collect_deploy(reader, REGION, signing_section(profiles))
    assert result["signing_profiles"] == {
        profiles["release"]: {
            "profileName": "release",
            "status": "Active",
            "profileVersionArn": profiles["release"],
        },
        profiles["retired"]: {
            "profileName": "retired",
            "status": "Canceled",
            "profileVersionArn": profiles["retired"],
        },
    }
    assert reader.calls["signer:GetSigningProfile"] == 2
    assert _profile_key(profiles["release"]) == (REGION, ACCOUNT, "release")


def test_deploy_unreadable_profiles_are_marked(
    session: boto3.Session, profiles: dict[str, str]
) -> None:
    inject_fault(session, "signer", "GetSigningProfile")
    result = collect_deploy(Reader(session), REGION, signing_section(profiles))
    assert len(result["signing_profiles"]) == 2
    assert all(
        failed(value, "signer:GetSigningProfile") for value in result["signing_profiles"].values()
    )


# --- guardrails (GOV-01..05, GOV-08) -------------------------------------------------------

LAMBDA_DATA_EVENTS = [
    {
        "Name": "lambda",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::Lambda::Function"]},
        ],
    }
]
BASIC_SELECTORS = [
    {
        "ReadWriteType": "All",
        "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]}],
        "ExcludeManagementEventSources": [],
    }
]


@pytest.fixture
def guardrails(session: boto3.Session) -> dict[str, str]:
    """A logging multi-region trail with Lambda data events and a stopped regional one,
    a recording Config recorder, Security Hub, and GuardDuty with Lambda protection."""
    session.client("s3").create_bucket(Bucket="audit-logs")
    cloudtrail = session.client("cloudtrail")
    arns = {}
    for name, multi_region in [("main", True), ("regional", False)]:
        arns[name] = cloudtrail.create_trail(
            Name=name,
            S3BucketName="audit-logs",
            IsMultiRegionTrail=multi_region,
            EnableLogFileValidation=multi_region,
        )["TrailARN"]
    cloudtrail.start_logging(Name="main")
    cloudtrail.put_event_selectors(TrailName="main", AdvancedEventSelectors=LAMBDA_DATA_EVENTS)
    cloudtrail.put_event_selectors(TrailName="regional", EventSelectors=BASIC_SELECTORS)
    config = session.client("config")
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{ACCOUNT}:role/config",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
        }
    )
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "audit-logs"})
    config.start_configuration_recorder(ConfigurationRecorderName="default")
    session.client("securityhub").enable_security_hub()
    arns["detector"] = session.client("guardduty").create_detector(
        Enable=True, Features=[{"Name": "LAMBDA_NETWORK_LOGS", "Status": "ENABLED"}]
    )["DetectorId"]
    return arns


def test_guardrails_reads_every_guardrail(
    session: boto3.Session, guardrails: dict[str, str]
) -> None:
    """moto implements neither DescribeConformancePacks nor GetEnabledStandards: their
    markers stand where the pack names and the standards would be."""
    result, calls = collect(collect_guardrails, session)
    assert result["cloudtrail"] == {
        guardrails["main"]: {
            "Name": "main",
            "HomeRegion": REGION,
            "IsMultiRegionTrail": True,
            "IsOrganizationTrail": False,
            "LogFileValidationEnabled": True,
            "IsLogging": True,
            "EventSelectors": [],
            "AdvancedEventSelectors": LAMBDA_DATA_EVENTS,
        },
        guardrails["regional"]: {
            "Name": "regional",
            "HomeRegion": REGION,
            "IsMultiRegionTrail": False,
            "IsOrganizationTrail": False,
            "LogFileValidationEnabled": False,
            "IsLogging": False,
            "EventSelectors": BASIC_SELECTORS,
            "AdvancedEventSelectors": [],
        },
    }
    recording_group = result["config"]["recorders"]["default"]["recordingGroup"]
    assert result["config"]["recorders"]["default"]["recording"] is True
    assert recording_group["allSupported"] is True
    assert failed(result["config"]["conformance_packs"], "config:DescribeConformancePacks")
    hub = result["securityhub"]
    assert hub["enabled"] is True
    assert hub["hub_arn"] == f"arn:aws:securityhub:{REGION}:{ACCOUNT}:hub/default"
    assert failed(hub["standards"], "securityhub:GetEnabledStandards")
    assert result["guardduty"] == {
        "detectors": {
            guardrails["detector"]: {
                "Status": "ENABLED",
                "Features": [{"Name": "LAMBDA_NETWORK_LOGS", "Status": "ENABLED"}],
            }
        }
    }
    assert calls["cloudtrail:GetTrailStatus"] == calls["cloudtrail:GetEventSelectors"] == 2


def test_guardrails_of_a_bare_region(session: boto3.Session, guardrails: dict[str, str]) -> None:
    """Nothing is enabled in another region but the multi-region trail, seen as a shadow."""
    result, _ = collect(collect_guardrails, session, region="eu-west-1")
    assert list(result["cloudtrail"]) == [guardrails["main"]]
    assert result["cloudtrail"][guardrails["main"]]["HomeRegion"] == REGION
    assert result["config"]["recorders"] == {}
    assert result["securityhub"] == {"enabled": False}
    assert result["guardduty"] == {"detectors": {}}


def trail_fields(result: dict[str, Any], field: str) -> list[Any]:
    return [trail[field] for trail in result["cloudtrail"].values()]


@pytest.mark.parametrize(
    ("service", "operation", "marked", "intact"),
    [
        (
            "cloudtrail",
            "GetTrailStatus",
            lambda r: trail_fields(r, "IsLogging"),
            lambda r: trail_fields(r, "AdvancedEventSelectors"),
        ),
        (
            "cloudtrail",
            "GetEventSelectors",
            lambda r: trail_fields(r, "EventSelectors") + trail_fields(r, "AdvancedEventSelectors"),
            lambda r: trail_fields(r, "IsLogging"),
        ),
        (
            "config",
            "DescribeConfigurationRecorderStatus",
            lambda r: [r["config"]["recorders"]["default"]["recording"]],
            lambda r: [r["config"]["recorders"]["default"]["recordingGroup"]],
        ),
        (
            "securityhub",
            "DescribeHub",
            lambda r: [r["securityhub"]],
            lambda r: [r["guardduty"]],
        ),
        (
            "guardduty",
            "GetDetector",
            lambda r: list(r["guardduty"]["detectors"].values()),
            lambda r: [r["securityhub"]],
        ),
    ],
)
def test_guardrails_failure_marks_only_its_data(
    session: boto3.Session,
    guardrails: dict[str, str],
    service: str,
    operation: str,
    marked: Callable[[dict[str, Any]], list[Any]],
    intact: Callable[[dict[str, Any]], list[Any]],
) -> None:
    inject_fault(session, service, operation)
    result, _ = collect(collect_guardrails, session)
    assert marked(result) and all(failed(v, f"{service}:{operation}") for v in marked(result))
    assert intact(result) and not any(is_error(value) for value in intact(result))


# --- organizations (GOV-06/07) -------------------------------------------------------------

REQUIRE_SIGNING = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Deny",
            "Action": "lambda:CreateFunction",
            "Resource": "*",
            "Condition": {"Null": {"lambda:CodeSigningConfigArn": "true"}},
        }
    ],
}
NO_PUBLIC_URLS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Deny",
            "Action": ["lambda:CreateFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig"],
            "Resource": "*",
            "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
        }
    ],
}


@pytest.fixture
def organization(session: boto3.Session) -> dict[str, str]:
    """A member account two OUs deep, with one SCP on an OU and one on the account."""
    org = session.client("organizations")
    org.create_organization(FeatureSet="ALL")
    ids = {"root": org.list_roots()["Roots"][0]["Id"]}
    ids["workloads"] = org.create_organizational_unit(ParentId=ids["root"], Name="workloads")[
        "OrganizationalUnit"
    ]["Id"]
    ids["prod"] = org.create_organizational_unit(ParentId=ids["workloads"], Name="prod")[
        "OrganizationalUnit"
    ]["Id"]
    ids["account"] = org.create_account(Email="app@example.com", AccountName="app")[
        "CreateAccountStatus"
    ]["AccountId"]
    org.move_account(
        AccountId=ids["account"], SourceParentId=ids["root"], DestinationParentId=ids["prod"]
    )
    for name, document, target in [
        ("require-signing", REQUIRE_SIGNING, ids["workloads"]),
        ("no-public-urls", NO_PUBLIC_URLS, ids["account"]),
    ]:
        ids[name] = org.create_policy(
            Name=name,
            Description=name,
            Type="SERVICE_CONTROL_POLICY",
            Content=json.dumps(document),
        )["Policy"]["PolicySummary"]["Id"]
        org.attach_policy(PolicyId=ids[name], TargetId=target)
    return ids


def test_organizations_outside_an_organization(session: boto3.Session) -> None:
    reader = Reader(session)
    assert collect_organizations(reader, ACCOUNT) == {"member": False}
    assert reader.calls == {"organizations:DescribeOrganization": 1}


def test_organizations_reads_every_scp_up_to_the_root(
    session: boto3.Session, organization: dict[str, str]
) -> None:
    reader = Reader(session)
    result = collect_organizations(reader, organization["account"])
    full = "p-FullAWSAccess"
    assert result["member"] is True
    assert result["feature_set"] == "ALL"
    assert result["management_account_id"] == ACCOUNT
    assert result["management_account_id"] != organization["account"]
    assert result["targets"] == [
        {
            "Id": organization["account"],
            "Type": "ACCOUNT",
            "PolicyIds": [full, organization["no-public-urls"]],
        },
        {"Id": organization["prod"], "Type": "ORGANIZATIONAL_UNIT", "PolicyIds": [full]},
        {
            "Id": organization["workloads"],
            "Type": "ORGANIZATIONAL_UNIT",
            "PolicyIds": [full, organization["require-signing"]],
        },
        {"Id": organization["root"], "Type": "ROOT", "PolicyIds": [full]},
    ]
    policies = result["policies"]
    assert policies[organization["require-signing"]]["Content"] == REQUIRE_SIGNING
    assert policies[organization["no-public-urls"]]["Content"] == NO_PUBLIC_URLS
    assert policies[full]["AwsManaged"] is True
    assert len(policies) == 3
    assert reader.calls == {
        "organizations:DescribeOrganization": 1,
        "organizations:ListParents": 3,
        "organizations:ListPoliciesForTarget": 4,
        "organizations:DescribePolicy": 3,
    }


def test_organizations_unreadable_parent_ends_the_chain_with_a_marker(
    session: boto3.Session, organization: dict[str, str]
) -> None:
    inject_fault(session, "organizations", "ListParents")
    result = collect_organizations(Reader(session), organization["account"])
    account, parent = result["targets"]
    assert account["Id"] == organization["account"]
    assert organization["no-public-urls"] in account["PolicyIds"]
    assert failed(parent, "organizations:ListParents")
    assert set(result["policies"]) == {"p-FullAWSAccess", organization["no-public-urls"]}


def test_organizations_unreadable_attachments_are_marked_per_target(
    session: boto3.Session, organization: dict[str, str]
) -> None:
    inject_fault(session, "organizations", "ListPoliciesForTarget")
    result = collect_organizations(Reader(session), organization["account"])
    assert [target["Id"] for target in result["targets"]][-1] == organization["root"]
    assert all(
        failed(target["PolicyIds"], "organizations:ListPoliciesForTarget")
        for target in result["targets"]
    )
    assert result["policies"] == {}


def test_organizations_unreadable_policies_are_marked(
    session: boto3.Session, organization: dict[str, str]
) -> None:
    inject_fault(session, "organizations", "DescribePolicy")
    result = collect_organizations(Reader(session), organization["account"])
    assert len(result["policies"]) == 3
    assert all(
        failed(policy, "organizations:DescribePolicy") for policy in result["policies"].values()
    )


def test_organizations_unreadable_organization_is_not_standalone(
    session: boto3.Session, organization: dict[str, str]
) -> None:
    inject_fault(session, "organizations", "DescribeOrganization")
    result = collect_organizations(Reader(session), organization["account"])
    assert result.keys() == {"member"}
    assert failed(result["member"], "organizations:DescribeOrganization")
