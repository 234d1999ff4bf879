"""API Gateway HTTP and WebSocket APIs (v2), which moto's CloudFormation does not create.

An HTTP API with a definition (SAM's ``AWS::Serverless::HttpApi`` always has one) is
imported as API Gateway imports it: an integration and a route per operation, each route
with the authorization its security requires (IAM, a JWT or Lambda authorizer). moto's own
importer takes ``x-amazon-apigateway-any-method`` for a method and skips security, so it is
not used. The other v2 resources' CloudFormation properties are their API's parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_prr.deploy import openapi
from pytest_prr.deploy.apigateway import definition_of
from pytest_prr.deploy.intrinsics import Resolved
from pytest_prr.deploy.target import Target, check_known, request_for, tag_map

#: Properties that say how to import the body, not what the API is.
IMPORT_OPTIONS = ("Body", "BodyS3Location", "FailOnWarnings", "DisableSchemaValidation", "BasePath")
#: ``x-amazon-apigateway-authorizer`` type -> (authorizer type, route authorizationType).
AUTHORIZER_TYPES = {"jwt": ("JWT", "JWT"), "request": ("REQUEST", "CUSTOM")}
#: ``x-amazon-apigateway-integration`` keys -> CreateIntegration parameters.
INTEGRATION_PARAMETERS = {
    "type": "IntegrationType",
    "uri": "IntegrationUri",
    "httpMethod": "IntegrationMethod",
    "payloadFormatVersion": "PayloadFormatVersion",
    "credentials": "CredentialsArn",
    "timeoutInMillis": "TimeoutInMillis",
    "connectionType": "ConnectionType",
    "connectionId": "ConnectionId",
    "requestParameters": "RequestParameters",
}


def api(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    """CreateApi, then the definition's routes, integrations and authorizers."""
    definition = (
        definition_of(target, properties)
        if {"Body", "BodyS3Location"} & properties.keys()
        else None
    )
    properties = dict(properties)
    if definition is not None:
        properties.setdefault("Name", definition.get("info", {}).get("title", logical_id))
        properties.setdefault("ProtocolType", "HTTP")
        if "x-amazon-apigateway-cors" in definition:
            properties.setdefault(
                "CorsConfiguration", _cors(definition["x-amazon-apigateway-cors"])
            )
    request = request_for(target, "apigatewayv2", "CreateApi", properties)
    request["Tags"] = tag_map(properties.get("Tags"))
    check_known(logical_id, properties, (*request, *IMPORT_OPTIONS))
    created = target.call("apigatewayv2", "CreateApi", **request)
    api_id = created["ApiId"]
    if definition is not None:
        _import(target, api_id, definition)
    return Resolved(api_id, {"ApiId": api_id, "ApiEndpoint": created.get("ApiEndpoint", "")})


def _cors(cors: Mapping[str, Any]) -> dict[str, Any]:
    """``x-amazon-apigateway-cors`` (camel case) as CreateApi's CorsConfiguration."""
    return {key[0].upper() + key[1:]: value for key, value in cors.items()}


def _import(target: Target, api_id: str, definition: Mapping[str, Any]) -> None:
    authorizers: dict[str, tuple[str, str]] = {}
    for operation in openapi.operations(definition):
        route: dict[str, Any] = {"ApiId": api_id, "RouteKey": _route_key(operation)}
        if operation.integration:
            integration = {
                INTEGRATION_PARAMETERS[key]: value
                for key, value in operation.integration.items()
                if key in INTEGRATION_PARAMETERS
            }
            integration["IntegrationType"] = str(integration.get("IntegrationType", "")).upper()
            created = target.call("apigatewayv2", "CreateIntegration", ApiId=api_id, **integration)
            route["Target"] = f"integrations/{created['IntegrationId']}"
        for scheme in operation.schemes:
            if scheme.kind == "AWS_IAM":
                route["AuthorizationType"] = "AWS_IAM"
            elif scheme.kind == "AUTHORIZER":
                if scheme.name not in authorizers:
                    authorizers[scheme.name] = _authorizer(target, api_id, scheme)
                route["AuthorizerId"], route["AuthorizationType"] = authorizers[scheme.name]
                if operation.scopes:
                    route["AuthorizationScopes"] = list(operation.scopes)
        target.call("apigatewayv2", "CreateRoute", **route)


def _route_key(operation: openapi.Operation) -> str:
    if operation.path == "/$default":
        return "$default"
    return f"{operation.method} {operation.path}"


def _authorizer(target: Target, api_id: str, scheme: openapi.Scheme) -> tuple[str, str]:
    spec = scheme.authorizer
    kind, authorization = AUTHORIZER_TYPES[str(spec.get("type", "request")).lower()]
    sources = spec.get("identitySource", [])
    request: dict[str, Any] = {
        "ApiId": api_id,
        "Name": scheme.name,
        "AuthorizerType": kind,
        "IdentitySource": [s.strip() for s in sources.split(",")]
        if isinstance(sources, str)
        else sources,
    }
    jwt = spec.get("jwtConfiguration")
    if jwt:
        request["JwtConfiguration"] = {
            "Issuer": jwt.get("issuer"),
            "Audience": jwt.get("audience", []),
        }
    for key, parameter in (
        ("authorizerUri", "AuthorizerUri"),
        ("authorizerCredentials", "AuthorizerCredentialsArn"),
        ("authorizerPayloadFormatVersion", "AuthorizerPayloadFormatVersion"),
        ("enableSimpleResponses", "EnableSimpleResponses"),
        ("authorizerResultTtlInSeconds", "AuthorizerResultTtlInSeconds"),
    ):
        if key in spec:
            request[parameter] = spec[key]
    created = target.call("apigatewayv2", "CreateAuthorizer", **request)
    return created["AuthorizerId"], authorization


def _plain(operation: str, attribute: str, *, tags: bool = False) -> Any:
    """A v2 resource whose properties are ``operation``'s parameters by name."""

    def create(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
        request = request_for(target, "apigatewayv2", operation, properties)
        if tags:
            request["Tags"] = tag_map(properties.get("Tags"))
        check_known(logical_id, properties, request)
        created = target.call("apigatewayv2", operation, **request)
        value = created[attribute]
        return Resolved(value, {attribute: value})

    create.__name__ = operation
    create.__doc__ = f"AWS::ApiGatewayV2 resource through {operation}."
    return create


stage = _plain("CreateStage", "StageName", tags=True)
integration = _plain("CreateIntegration", "IntegrationId")
route = _plain("CreateRoute", "RouteId")
authorizer = _plain("CreateAuthorizer", "AuthorizerId")
