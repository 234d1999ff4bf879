"""API Gateway fallbacks: a REST API from its OpenAPI body, its deployment and stage.

moto's CloudFormation creates a REST API without its ``Body``, its deployments answer no
``Ref``, and it has no stages; moto's OpenAPI import also skips method security. These
make the calls CloudFormation and API Gateway's importer make instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from motodeploy.intrinsics import Resolved
from motodeploy.target import Target, check_known

#: AWS::ApiGateway::Stage MethodSettings keys -> the PATCH path suffix UpdateStage takes.
METHOD_SETTINGS = {
    "ThrottlingRateLimit": "throttling/rateLimit",
    "ThrottlingBurstLimit": "throttling/burstLimit",
    "MetricsEnabled": "metrics/enabled",
    "LoggingLevel": "logging/loglevel",
    "DataTraceEnabled": "logging/dataTrace",
    "CachingEnabled": "caching/enabled",
    "CacheTtlInSeconds": "caching/ttlInSeconds",
    "CacheDataEncrypted": "caching/dataEncrypted",
}
#: OpenAPI security scheme ``x-amazon-apigateway-authtype`` -> method authorizationType.
AUTH_TYPES = {"awsSigv4": "AWS_IAM"}


def rest_api(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    """Import the OpenAPI body, then apply the method security moto's importer skips."""
    check_known(logical_id, properties, ("Body", "Name", "Description"))
    apigateway = target.client("apigateway")
    body = properties["Body"]
    name = properties.get("Name") or body["info"]["title"]
    api = apigateway.create_rest_api(name=name, description=properties.get("Description", ""))
    apigateway.put_rest_api(restApiId=api["id"], mode="overwrite", body=json.dumps(body))
    resources = apigateway.get_resources(restApiId=api["id"], embed=["methods"])["items"]
    _authorize_methods(apigateway, api["id"], body, resources)
    root = next(resource["id"] for resource in resources if resource["path"] == "/")
    return Resolved(api["id"], {"RootResourceId": root})


def _authorize_methods(
    apigateway: Any, api_id: str, body: Mapping[str, Any], resources: list[dict[str, Any]]
) -> None:
    schemes = body.get("components", {}).get("securitySchemes", {})
    by_path = {resource["path"]: resource for resource in resources}
    for path, methods in body["paths"].items():
        for verb, method in methods.items():
            requirements = method.get("security", body.get("security", []))
            kinds = {
                schemes[name].get("x-amazon-apigateway-authtype")
                for requirement in requirements
                for name in requirement
            }
            if not kinds:
                continue
            if len(kinds) > 1 or not kinds <= AUTH_TYPES.keys():
                raise NotImplementedError(
                    f"{verb.upper()} {path}: the moto fallback applies only {sorted(AUTH_TYPES)}"
                    f" security, not {sorted(map(str, kinds))}"
                )
            resource = by_path[path]
            _reauthorize(apigateway, api_id, resource, verb.upper(), AUTH_TYPES[kinds.pop()])


def _reauthorize(
    apigateway: Any, api_id: str, resource: Mapping[str, Any], verb: str, auth: str
) -> None:
    """PutMethod replaces the method's integration on moto, so put it back unchanged."""
    integration = resource["resourceMethods"][verb].get("methodIntegration")
    method = {"restApiId": api_id, "resourceId": resource["id"], "httpMethod": verb}
    apigateway.put_method(**method, authorizationType=auth)
    if integration:
        apigateway.put_integration(
            **method,
            type=integration["type"],
            integrationHttpMethod=integration["httpMethod"],
            uri=integration["uri"],
            **({"credentials": integration["credentials"]} if "credentials" in integration else {}),
        )


def deployment(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    check_known(logical_id, properties, ("RestApiId", "Description", "StageName"))
    request = {
        "restApiId": properties["RestApiId"],
        "description": properties.get("Description", ""),
    }
    if "StageName" in properties:
        request["stageName"] = properties["StageName"]
    return Resolved(target.client("apigateway").create_deployment(**request)["id"])


def stage(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    known = ("RestApiId", "StageName", "DeploymentId", "Description", "TracingEnabled")
    check_known(logical_id, properties, (*known, "MethodSettings", "AccessLogSetting", "Tags"))
    apigateway = target.client("apigateway")
    api, name = properties["RestApiId"], properties["StageName"]
    apigateway.create_stage(
        restApiId=api,
        stageName=name,
        deploymentId=properties["DeploymentId"],
        description=properties.get("Description", ""),
        tracingEnabled=properties.get("TracingEnabled", False),
        tags={tag["Key"]: tag["Value"] for tag in properties.get("Tags", [])},
    )
    operations = [
        {"op": "replace", "path": path, "value": value}
        for path, value in _stage_settings(logical_id, properties)
    ]
    if operations:
        apigateway.update_stage(restApiId=api, stageName=name, patchOperations=operations)
    return Resolved(name)


def _stage_settings(logical_id: str, properties: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    access = properties.get("AccessLogSetting")
    if access:
        yield "/accessLogSettings/destinationArn", access["DestinationArn"]
        yield "/accessLogSettings/format", access["Format"]
    for setting in properties.get("MethodSettings", []):
        check_known(logical_id, setting, ("ResourcePath", "HttpMethod", *METHOD_SETTINGS))
        # "/*" addresses every resource; a path's own slashes are escaped as ~1.
        path = setting["ResourcePath"]
        resource = "*" if path == "/*" else path.replace("/", "~1")
        prefix = f"/{resource}/{setting['HttpMethod']}"
        for key, suffix in METHOD_SETTINGS.items():
            if key in setting:
                value = setting[key]
                yield f"{prefix}/{suffix}", value if isinstance(value, str) else json.dumps(value)
