"""API Gateway stages that front Lambda functions (API-01..04) and which functions (REL-08).

Only APIs with a method or route integrating a function are kept, one entry per stage. REST
APIs are read with GetResources ``embed=methods`` (methods with their integrations in the
same pages), HTTP and WebSocket APIs with their routes and integrations: a few calls per
API, none per function. A function ARN in an integration may be a stage variable
(``${stageVariables.fn}``); it is resolved per stage, and left as written when the stage does
not define it (API Gateway could not invoke it either).

Where a call fails, the marker stands where its data would be: an API whose methods could
not be read has ``methods`` as a marker (it may front any function), an API whose stages
could not be read has one entry with every stage field a marker, and a failed listing of
APIs is a marker in the ``stages`` list. HTTP APIs cannot have a WAF web ACL (AWS WAF does
not support them): their ``web_acl_arn`` is None.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from pytest_prr.snapshot.collect.reader import Reader
from pytest_prr.snapshot.model import is_error

#: ``arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations``
INVOKE_URI = re.compile(
    r"^arn:[\w-]+:apigateway:[\w-]+:lambda:path/[\d-]+/functions/(.+)/invocations$"
)
FUNCTION_ARN = re.compile(r"^arn:[\w-]+:lambda:[\w-]+:\d{12}:function:.+$")
STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.(\w+)\}")
#: The largest page GetRestApis and GetResources give (their default is 25).
PAGE = {"PageSize": 500}
STAGE_FIELDS = ("stage", "stage_arn", "access_log_destination", "throttling", "web_acl_arn")


def collect_apigw(reader: Reader, region: str, section: Mapping[str, Any]) -> dict[str, Any]:
    """``section`` is unused: integrations name their functions, the Lambda section need not."""
    partition = reader.client("apigateway", region).meta.partition
    prefix = f"arn:{partition}:apigateway:{region}::"
    rest = reader.pages("apigateway", region, "get_rest_apis", "items", PaginationConfig=PAGE)
    http = reader.pages("apigatewayv2", region, "get_apis", "Items")
    stages: list[Any] = []
    for apis, read in ((rest, _rest_api), (http, _http_api)):
        if is_error(apis):
            stages.append(apis)
            continue
        for entries in reader.map(partial(read, reader, region, prefix), apis):
            stages.extend(entries)
    return {"stages": stages}


def _rest_api(reader: Reader, region: str, prefix: str, api: Mapping[str, Any]) -> list[Any]:
    api_id = api["id"]
    resources = reader.pages(
        "apigateway",
        region,
        "get_resources",
        "items",
        restApiId=api_id,
        embed=["methods"],
        PaginationConfig=PAGE,
    )
    methods = resources if is_error(resources) else list(_rest_methods(resources))
    if not methods:
        return []
    stages = reader.call("apigateway", region, "get_stages", restApiId=api_id)
    base = {"api_id": api_id, "api_name": api.get("name"), "api_type": "REST"}
    if is_error(stages):
        return [{**base, **dict.fromkeys(STAGE_FIELDS, stages), "methods": methods}]
    entries = []
    for stage in stages.get("item", []):
        name = stage["stageName"]
        settings = (stage.get("methodSettings") or {}).get("*/*") or {}
        entries.append(
            {
                **base,
                "stage": name,
                "stage_arn": f"{prefix}/restapis/{api_id}/stages/{name}",
                "access_log_destination": (stage.get("accessLogSettings") or {}).get(
                    "destinationArn"
                ),
                "throttling": _throttling(
                    settings.get("throttlingRateLimit"), settings.get("throttlingBurstLimit")
                ),
                "web_acl_arn": stage.get("webAclArn"),
                "methods": _resolved(methods, stage.get("variables") or {}),
            }
        )
    return entries


def _rest_methods(resources: Iterable[Mapping[str, Any]]) -> Iterable[dict[str, Any]]:
    for resource in resources:
        for verb, method in (resource.get("resourceMethods") or {}).items():
            uri = (method.get("methodIntegration") or {}).get("uri") or ""
            if function_arn := _function_arn(uri):
                yield {
                    "resource_path": resource.get("path"),
                    "http_method": verb,
                    "authorization_type": method.get("authorizationType"),
                    "api_key_required": bool(method.get("apiKeyRequired")),
                    "function_arn": function_arn,
                }


def _http_api(reader: Reader, region: str, prefix: str, api: Mapping[str, Any]) -> list[Any]:
    api_id = api["ApiId"]
    integrations = reader.pages("apigatewayv2", region, "get_integrations", "Items", ApiId=api_id)
    routes = reader.pages("apigatewayv2", region, "get_routes", "Items", ApiId=api_id)
    methods: Any = next((r for r in (integrations, routes) if is_error(r)), None)
    if methods is None:
        uris = {i["IntegrationId"]: i.get("IntegrationUri") or "" for i in integrations}
        websocket = api.get("ProtocolType") == "WEBSOCKET"
        methods = list(_http_methods(routes, uris, websocket=websocket))
    if not methods:
        return []
    stages = reader.pages("apigatewayv2", region, "get_stages", "Items", ApiId=api_id)
    base = {"api_id": api_id, "api_name": api.get("Name"), "api_type": api.get("ProtocolType")}
    if is_error(stages):
        return [{**base, **dict.fromkeys(STAGE_FIELDS, stages), "methods": methods}]
    entries = []
    for stage in stages:
        name = stage["StageName"]
        defaults = stage.get("DefaultRouteSettings") or {}
        entries.append(
            {
                **base,
                "stage": name,
                "stage_arn": f"{prefix}/apis/{api_id}/stages/{name}",
                "access_log_destination": (stage.get("AccessLogSettings") or {}).get(
                    "DestinationArn"
                ),
                "throttling": _throttling(
                    defaults.get("ThrottlingRateLimit"), defaults.get("ThrottlingBurstLimit")
                ),
                "web_acl_arn": None,
                "methods": _resolved(methods, stage.get("StageVariables") or {}),
            }
        )
    return entries


def _http_methods(
    routes: list[Mapping[str, Any]], uris: Mapping[str, str], *, websocket: bool
) -> Iterable[dict[str, Any]]:
    """Routes whose target integration invokes a function. A route key without a method
    (``$default``, WebSocket routes) has ``http_method`` None.

    A WebSocket API authorises (authorizer or API key) only when a client connects, on the
    ``$connect`` route; every message route then runs on that connection. So each route of a
    WebSocket API is as protected as ``$connect`` is, and an API without ``$connect`` lets
    anyone connect."""
    connect = next((r for r in routes if r.get("RouteKey") == "$connect"), {})
    for route in routes:
        target = route.get("Target") or ""
        function_arn = _function_arn(uris.get(target.removeprefix("integrations/"), ""))
        if function_arn:
            key = route["RouteKey"]
            verb, path = key.split(" ", 1) if " " in key else (None, key)
            gate = connect if websocket else route
            yield {
                "resource_path": path,
                "http_method": verb,
                "authorization_type": gate.get("AuthorizationType"),
                "api_key_required": bool(gate.get("ApiKeyRequired")),
                "function_arn": function_arn,
                **({"authorized_on": "$connect"} if websocket else {}),
            }


def _function_arn(uri: str) -> str | None:
    """The function an integration URI invokes, as written (qualifier included)."""
    match = INVOKE_URI.match(uri)
    arn = match.group(1) if match else uri
    return arn if FUNCTION_ARN.match(arn) else None


def _resolved(methods: Any, variables: Mapping[str, str]) -> Any:
    """``methods`` with stage variables substituted and qualifiers (alias, version) removed,
    so that ``function_arn`` is the function's own ARN, as keyed in the Lambda section."""
    if is_error(methods):
        return methods

    def substitute(arn: str) -> str:
        resolved = STAGE_VARIABLE.sub(lambda m: variables.get(m.group(1), m.group(0)), arn)
        return resolved if "${" in resolved else ":".join(resolved.split(":")[:7])

    return [{**method, "function_arn": substitute(method["function_arn"])} for method in methods]


def _throttling(rate: float | None, burst: int | None) -> dict[str, Any] | None:
    if rate is None and burst is None:
        return None
    return {"rate_limit": rate, "burst_limit": burst}
