"""The Lambda resources, created through Lambda's API as CloudFormation's handlers create them.

moto's CloudFormation creates a function without its tags, tracing, architecture or KMS key,
and has no aliases, function URLs or event invoke configs; its versions cannot answer
``Fn::GetAtt Version``. Creating functions through ``CreateFunction`` has a second purpose:
pytest-prr's moto server sees the request and records the fields moto drops
(``DeadLetterConfig``, ``LoggingConfig``), so the snapshot reads them as the template
declares them, with that provenance (the request names the template and resource in the
``X-Prr-Declared-By`` header), and the ``aws:cloudformation:*`` tags CloudFormation gives the
function, which the Lambda API does not let anyone else set (the stack and logical ID travel
in ``X-Prr-Stack-Id`` and ``X-Prr-Logical-Id``).
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from pytest_prr.deploy.intrinsics import Resolved
from pytest_prr.deploy.packaging import ZIP_TIMESTAMP
from pytest_prr.deploy.target import Target, check_known, request_for, tag_map

#: The header naming the template and resource a function's configuration was declared by.
DECLARED_BY_HEADER = "X-Prr-Declared-By"
#: The headers naming the stack and logical ID CloudFormation tags the function with
#: (``aws:cloudformation:*``, which the Lambda API refuses to set: the prefix is reserved).
STACK_ID_HEADER = "X-Prr-Stack-Id"
LOGICAL_ID_HEADER = "X-Prr-Logical-Id"
#: Function properties applied by calls after CreateFunction: property -> (operation, param).
FUNCTION_FOLLOW_UPS = {
    "ReservedConcurrentExecutions": ("PutFunctionConcurrency", "ReservedConcurrentExecutions"),
}
#: Inline code (``Code.ZipFile``) is zipped by CloudFormation as this file, by runtime.
INLINE_FILE = (("python", "index.py"), ("nodejs", "index.js"))


def function(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    """CreateFunction, tagged as CloudFormation tags what it creates, then the settings
    CreateFunction does not take."""
    properties = dict(properties)
    properties.setdefault("FunctionName", target.default_name(logical_id))
    code = dict(properties.pop("Code", {}))
    if "ZipFile" in code:
        code["ZipFile"] = _inline_zip(code["ZipFile"], properties.get("Runtime", ""))
    request = request_for(
        target, "lambda", "CreateFunction", properties, {"KmsKeyArn": "KMSKeyArn"}
    )
    request.update(Code=code, Tags=tag_map(properties.get("Tags")))
    check_known(logical_id, properties, (*request, "KmsKeyArn", *FUNCTION_FOLLOW_UPS))
    declared = {
        DECLARED_BY_HEADER: f"{target.source} ({logical_id})",
        STACK_ID_HEADER: target.stack_id,
        LOGICAL_ID_HEADER: logical_id,
    }
    created = target.call("lambda", "CreateFunction", headers=declared, **request)
    name = created["FunctionName"]
    for key, (operation, parameter) in FUNCTION_FOLLOW_UPS.items():
        if key in properties:
            target.call("lambda", operation, FunctionName=name, **{parameter: properties[key]})
    return Resolved(name, {"Arn": created["FunctionArn"]})


def _inline_zip(source: str, runtime: str) -> bytes:
    """Inline code as CloudFormation packages it: one file, named for the runtime."""
    name = next((file for prefix, file in INLINE_FILE if runtime.startswith(prefix)), "index")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo(name, ZIP_TIMESTAMP), source)
    return buffer.getvalue()


def version(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    check_known(logical_id, properties, ("FunctionName", "Description", "CodeSha256"))
    request = request_for(target, "lambda", "PublishVersion", properties)
    published = target.call("lambda", "PublishVersion", **request)
    return Resolved(published["FunctionArn"], {"Version": published["Version"]})


def alias(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    known = ("FunctionName", "FunctionVersion", "Name", "Description", "RoutingConfig")
    check_known(logical_id, properties, known)
    request = request_for(target, "lambda", "CreateAlias", properties)
    created = target.call("lambda", "CreateAlias", **request)
    return Resolved(created["AliasArn"])


def url(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    known = ("TargetFunctionArn", "AuthType", "Cors", "InvokeMode", "Qualifier")
    check_known(logical_id, properties, known)
    request = request_for(
        target,
        "lambda",
        "CreateFunctionUrlConfig",
        properties,
        {"TargetFunctionArn": "FunctionName"},
    )
    config = target.call("lambda", "CreateFunctionUrlConfig", **request)
    attributes = {"FunctionArn": config["FunctionArn"], "FunctionUrl": config["FunctionUrl"]}
    return Resolved(config["FunctionArn"], attributes)


def event_invoke_config(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    known = ("FunctionName", "Qualifier", "DestinationConfig")
    check_known(
        logical_id, properties, (*known, "MaximumEventAgeInSeconds", "MaximumRetryAttempts")
    )
    request = request_for(target, "lambda", "PutFunctionEventInvokeConfig", properties)
    target.call("lambda", "PutFunctionEventInvokeConfig", **request)
    return Resolved(f"{properties['FunctionName']}:{properties.get('Qualifier', '$LATEST')}")


def layer_version(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    properties = dict(properties)
    properties.setdefault("LayerName", target.default_name(logical_id))
    request = request_for(target, "lambda", "PublishLayerVersion", properties)
    check_known(logical_id, properties, request)
    published = target.call("lambda", "PublishLayerVersion", **request)
    return Resolved(published["LayerVersionArn"], {"LayerVersionArn": published["LayerVersionArn"]})


def layer_permission(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    check_known(
        logical_id, properties, ("LayerVersionArn", "Action", "Principal", "OrganizationId")
    )
    arn = properties["LayerVersionArn"]
    layer, _, number = arn.rpartition(":")
    request = {
        "LayerName": layer,
        "VersionNumber": number,
        "StatementId": logical_id,
        "Action": properties["Action"],
        "Principal": properties["Principal"],
        **(
            {"OrganizationId": properties["OrganizationId"]}
            if "OrganizationId" in properties
            else {}
        ),
    }
    target.call("lambda", "AddLayerVersionPermission", **request)
    return Resolved(f"{arn}#{logical_id}")


def event_source_mapping(target: Target, logical_id: str, properties: dict[str, Any]) -> Resolved:
    """CreateEventSourceMapping: moto's CloudFormation passes the properties unconverted, so
    ``Enabled: "false"`` would enable the mapping and ``BatchSize: "10"`` stay a string."""
    request = request_for(target, "lambda", "CreateEventSourceMapping", properties)
    request["Tags"] = tag_map(properties.get("Tags"))
    check_known(logical_id, properties, request)
    created = target.call("lambda", "CreateEventSourceMapping", **request)
    return Resolved(
        created["UUID"],
        {"Id": created["UUID"], "EventSourceMappingArn": created.get("EventSourceMappingArn", "")},
    )
