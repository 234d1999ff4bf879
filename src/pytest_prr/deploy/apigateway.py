"""API Gateway REST APIs: the API from its definition, its authorizers, deployment and stage.

moto's CloudFormation creates a REST API without its ``Body``, its deployments answer no
``Ref``, and it has no stages or authorizers; moto's importer reads only OpenAPI 3 and skips
method security. So the definition (inline, or the S3 object ``BodyS3Location`` names) is
imported here as API Gateway imports it, Swagger 2.0 and OpenAPI 3 alike: a resource per
path, a method per operation with the authorization its security requires (IAM, a Lambda or
Cognito authorizer, an API key), and its integration.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from pytest_prr.deploy import openapi
from pytest_prr.deploy.intrinsics import Resolved
from pytest_prr.deploy.target import Target, check_known, tag_map

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
#: AWS::ApiGateway::RestApi properties -> CreateRestApi parameters.
REST_API_PARAMETERS = {
    "Name": "name",
    "Description": "description",
    "Policy": "policy",
    "BinaryMediaTypes": "binaryMediaTypes",
    "MinimumCompressionSize": "minimumCompressionSize",
    "ApiKeySourceType": "apiKeySource",
    "DisableExecuteApiEndpoint": "disableExecuteApiEndpoint",
}
#: Properties that say how to import the body, not what the API is.
IMPORT_OPTIONS = ("Body", "BodyS3Location", "FailOnWarnings", "Mode", "Parameters")
#: ``x-amazon-apigateway-authorizer`` type -> (authorizer type, method authorizationType).
AUTHORIZER_TYPES = {
    "token": ("TOKEN", "CUSTOM"),
    "request": ("REQUEST", "CUSTOM"),
    "cognito_user_pools": ("COGNITO_USER_POOLS", "COGNITO_USER_POOLS"),
}
#: ``x-amazon-apigateway-integration`` keys -> PutIntegration parameters.
INTEGRATION_PARAMETERS = {
    "type": "type",
    "httpMethod": "integrationHttpMethod",
    "uri": "uri",
    "credentials": "credentials",
    "requestParameters": "requestParameters",
    "requestTemplates": "requestTemplates",
    "passthroughBehavior": "passthroughBehavior",
    "timeoutInMillis": "timeoutInMillis",
    "connectionType": "connectionType",
    "connectionId": "connectionId",
    "contentHandling": "contentHandling",
    "cacheKeyParameters": "cacheKeyParameters",
    "cacheNamespace": "cacheNamespace",
}


def definition_of(target: Target, properties: Mapping[str, Any]) -> dict[str, Any]:
    """The API definition: inline (``Body``) or the packaged S3 object it names."""
    body = properties.get("Body")
    if body is not None:
        return openapi.parse_definition(body) if isinstance(body, str) else body
    location = properties["BodyS3Location"]
    found = target.client("s3").get_object(Bucket=location["Bucket"], Key=location["Key"])
    return openapi.parse_definition(found["Body"].read())


def rest_api(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    """CreateRestApi, then the definition imported as API Gateway's importer imports it."""
    known = (*REST_API_PARAMETERS, *IMPORT_OPTIONS, "EndpointConfiguration", "Tags")
    check_known(logical_id, properties, known)
    definition = definition_of(target, properties)
    request = {REST_API_PARAMETERS[k]: v for k, v in properties.items() if k in REST_API_PARAMETERS}
    request.setdefault("name", definition.get("info", {}).get("title", logical_id))
    if isinstance(request.get("policy"), dict):
        request["policy"] = json.dumps(request["policy"])
    endpoint = properties.get("EndpointConfiguration") or definition.get(
        "x-amazon-apigateway-endpoint-configuration"
    )
    if endpoint:
        request["endpointConfiguration"] = {
            "types": endpoint.get("Types", endpoint.get("types", [])),
            **(
                {"vpcEndpointIds": endpoint["VpcEndpointIds"]}
                if "VpcEndpointIds" in endpoint
                else {}
            ),
        }
    request["tags"] = tag_map(properties.get("Tags"))
    api_id = target.call("apigateway", "CreateRestApi", **request)["id"]
    root = import_definition(target, api_id, definition)
    return Resolved(api_id, {"RootResourceId": root, "RestApiId": api_id})


def import_definition(target: Target, api_id: str, definition: Mapping[str, Any]) -> str:
    """Create the resources, methods and integrations ``definition`` describes; return the
    root resource's ID."""
    listed = target.client("apigateway").get_resources(restApiId=api_id)["items"]
    by_path = {resource["path"]: resource["id"] for resource in listed}
    authorizers: dict[str, tuple[str, str]] = {}
    for operation in openapi.operations(definition):
        resource = _resource(target, api_id, by_path, operation.path)
        method = {"restApiId": api_id, "resourceId": resource, "httpMethod": operation.method}
        target.call(
            "apigateway",
            "PutMethod",
            **method,
            **_authorization(target, api_id, operation, authorizers),
        )
        if operation.integration:
            integration = {
                INTEGRATION_PARAMETERS[key]: value
                for key, value in operation.integration.items()
                if key in INTEGRATION_PARAMETERS
            }
            integration["type"] = str(integration.get("type", "MOCK")).upper()
            target.call("apigateway", "PutIntegration", **method, **integration)
    return by_path["/"]


def _resource(target: Target, api_id: str, by_path: dict[str, str], path: str) -> str:
    """The ID of the resource at ``path``, creating it and its ancestors as needed."""
    if path in by_path:
        return by_path[path]
    parent_path, _, part = path.rstrip("/").rpartition("/")
    parent = _resource(target, api_id, by_path, parent_path or "/")
    created = target.call(
        "apigateway", "CreateResource", restApiId=api_id, parentId=parent, pathPart=part
    )
    by_path[path] = created["id"]
    return created["id"]


def _authorization(
    target: Target,
    api_id: str,
    operation: openapi.Operation,
    authorizers: dict[str, tuple[str, str]],
) -> dict[str, Any]:
    """PutMethod's authorization for the operation's security; authorizers are created the
    first time a method needs them."""
    settings: dict[str, Any] = {"authorizationType": "NONE"}
    for scheme in operation.schemes:
        if scheme.kind == "API_KEY":
            settings["apiKeyRequired"] = True
        elif scheme.kind == "AWS_IAM":
            settings["authorizationType"] = "AWS_IAM"
        else:
            if scheme.name not in authorizers:
                authorizers[scheme.name] = _authorizer(target, api_id, scheme)
            settings["authorizerId"], settings["authorizationType"] = authorizers[scheme.name]
            if operation.scopes and settings["authorizationType"] == "COGNITO_USER_POOLS":
                settings["authorizationScopes"] = list(operation.scopes)
    return settings


def _authorizer(target: Target, api_id: str, scheme: openapi.Scheme) -> tuple[str, str]:
    spec = scheme.authorizer
    kind, authorization = AUTHORIZER_TYPES[str(spec.get("type", "token")).lower()]
    request = {
        "restApiId": api_id,
        "name": scheme.name,
        "type": kind,
        **{
            key: spec[key]
            for key in (
                "authorizerUri",
                "authorizerCredentials",
                "identitySource",
                "identityValidationExpression",
                "authorizerResultTtlInSeconds",
                "providerARNs",
            )
            if key in spec
        },
    }
    created = target.call("apigateway", "CreateAuthorizer", **request)
    return created["id"], authorization


def authorizer(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    """AWS::ApiGateway::Authorizer: its properties are CreateAuthorizer's, capitalised."""
    request = {key[0].lower() + key[1:]: value for key, value in properties.items()}
    request.setdefault("name", logical_id)
    if "providerARNs" in request or "ProviderARNs" in properties:
        request["providerARNs"] = properties.get("ProviderARNs", request.pop("providerARNs", []))
    created = target.call("apigateway", "CreateAuthorizer", **request)
    return Resolved(created["id"], {"AuthorizerId": created["id"]})


def deployment(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    check_known(
        logical_id, properties, ("RestApiId", "Description", "StageName", "StageDescription")
    )
    request = {
        "restApiId": properties["RestApiId"],
        "description": properties.get("Description", ""),
    }
    if "StageName" in properties:
        request["stageName"] = properties["StageName"]
    created = target.call("apigateway", "CreateDeployment", **request)
    if "StageName" in properties and properties.get("StageDescription"):
        described = _stage_description(logical_id, properties["StageDescription"])
        _update_stage(
            target, logical_id, properties["RestApiId"], properties["StageName"], described
        )
    return Resolved(created["id"], {"DeploymentId": created["id"]})


def _stage_description(logical_id: str, described: Mapping[str, Any]) -> dict[str, Any]:
    """A deployment's StageDescription as a stage's settings: its blanket method settings
    are a MethodSettings entry for every method."""
    other = ("MethodSettings", "AccessLogSetting", "TracingEnabled", "Description", "Tags")
    check_known(logical_id, described, (*METHOD_SETTINGS, *other, "Variables"))
    settings = {key: value for key, value in described.items() if key not in METHOD_SETTINGS}
    blanket = {key: value for key, value in described.items() if key in METHOD_SETTINGS}
    if blanket:
        every = {"ResourcePath": "/*", "HttpMethod": "*", **blanket}
        settings["MethodSettings"] = [*described.get("MethodSettings", []), every]
    return settings


def stage(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    known = ("RestApiId", "StageName", "DeploymentId", "Description", "TracingEnabled", "Variables")
    check_known(logical_id, properties, (*known, "MethodSettings", "AccessLogSetting", "Tags"))
    api, name = properties["RestApiId"], properties["StageName"]
    target.call(
        "apigateway",
        "CreateStage",
        restApiId=api,
        stageName=name,
        deploymentId=properties["DeploymentId"],
        description=properties.get("Description", ""),
        tracingEnabled=properties.get("TracingEnabled", False),
        variables=properties.get("Variables", {}),
        tags=tag_map(properties.get("Tags")),
    )
    _update_stage(target, logical_id, api, name, properties)
    return Resolved(name)


def _update_stage(
    target: Target, logical_id: str, api: str, name: str, properties: Mapping[str, Any]
) -> None:
    operations = [
        {"op": "replace", "path": path, "value": value}
        for path, value in _stage_settings(logical_id, properties)
    ]
    if properties.get("TracingEnabled") and "DeploymentId" not in properties:
        operations.append({"op": "replace", "path": "/tracingEnabled", "value": "true"})
    if operations:
        target.call(
            "apigateway", "UpdateStage", restApiId=api, stageName=name, patchOperations=operations
        )


def _stage_settings(logical_id: str, properties: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    access = properties.get("AccessLogSetting")
    if access:
        yield "/accessLogSettings/destinationArn", access["DestinationArn"]
        if "Format" in access:
            yield "/accessLogSettings/format", access["Format"]
    for setting in properties.get("MethodSettings", []):
        check_known(logical_id, setting, ("ResourcePath", "HttpMethod", *METHOD_SETTINGS))
        # "/*" addresses every resource; a path's own slashes are escaped as ~1.
        path = setting.get("ResourcePath", "/*")
        resource = "*" if path == "/*" else path.replace("/", "~1")
        prefix = f"/{resource}/{setting.get('HttpMethod', '*')}"
        for key, suffix in METHOD_SETTINGS.items():
            if key in setting:
                value = setting[key]
                yield f"{prefix}/{suffix}", value if isinstance(value, str) else json.dumps(value)
