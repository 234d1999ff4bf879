"""Lambda functions of one region, with everything the function-scoped controls read.

Account-wide list calls (event source mappings, code signing configs and the functions of
each, see :mod:`~pytest_prr.snapshot.collect.code_signing`) are made once per region and
joined to functions here; per-function calls are the ones AWS has no bulk form for, made on
the reader's bounded pool. The published versions come with the functions
themselves: ``ListFunctions`` with ``FunctionVersion=ALL`` pages through every version of
every function, 50 to a page, where ``ListVersionsByFunction`` would cost a call per function
from the 15-per-second budget that Lambda's control plane shares.

A permission or a function URL can be attached to an alias instead of the function (SAM's
``AutoPublishAlias`` puts both on the alias ``live``), so each alias carries its own
resource policy and URL. Published versions can hold permissions too, but are not read: an
account keeps thousands of them, a call each, and traffic is routed through aliases.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from pytest_prr.accounts.emulators import FUNCTION_RESOURCE
from pytest_prr.snapshot.collect.code_signing import CodeSigning, read_code_signing
from pytest_prr.snapshot.collect.fidelity import Fidelity
from pytest_prr.snapshot.collect.reader import Reader
from pytest_prr.snapshot.model import (
    EMULATOR_GAP,
    ERROR_KEY,
    UNIMPLEMENTED,
    error_marker,
    is_error,
)
from pytest_prr.snapshot.redact import redact_environment

NOT_FOUND = ("ResourceNotFoundException",)
#: The code of the marker standing for a field the target's emulator does not return.
EMULATOR_GAP_CODE = "EmulatorGap"
LATEST = "$LATEST"
#: Configuration fields kept per function (the rest of ListFunctions' answer is noise for
#: the controls and would only grow the snapshot).
CONFIGURATION_FIELDS = (
    "FunctionName",
    "FunctionArn",
    "Runtime",
    "Role",
    "Handler",
    "Timeout",
    "MemorySize",
    "LastModified",
    "Version",
    "VpcConfig",
    "DeadLetterConfig",
    "KMSKeyArn",
    "TracingConfig",
    "Layers",
    "PackageType",
    "Architectures",
    "LoggingConfig",
    "SigningProfileVersionArn",
    "SigningJobArn",
)


def collect_lambda(reader: Reader, region: str) -> dict[str, Any]:
    listing = reader.pages(
        "lambda", region, "list_functions", "Functions", keep=_slim, FunctionVersion="ALL"
    )
    mappings = reader.pages("lambda", region, "list_event_source_mappings", "EventSourceMappings")
    signing_configs = reader.pages(
        "lambda", region, "list_code_signing_configs", "CodeSigningConfigs"
    )
    if is_error(listing):
        return {
            "functions": listing,
            "layer_policies": listing,
            "event_source_mappings": mappings,
            "code_signing_configs": signing_configs,
            "code_signing_read": listing,
        }
    configurations = [entry for entry in listing if entry["Version"] == LATEST]
    versions: dict[str, list[str]] = defaultdict(list)
    for entry in listing:
        if entry["Version"] != LATEST:
            versions[_unqualified(entry["FunctionArn"])].append(entry["Version"])
    signing = read_code_signing(reader, region, signing_configs)
    done = itertools.count(1)

    def read(configuration: dict[str, Any]) -> dict[str, Any]:
        function = _function(reader, region, configuration, signing)
        function["Versions"] = versions.get(function["FunctionArn"], [])
        reader.report(region, next(done), len(configurations))
        return function

    reader.report(region, 0, len(configurations))
    functions = reader.map(read, configurations)
    by_function: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not is_error(mappings):
        for mapping in mappings:
            by_function[_unqualified(mapping.get("FunctionArn", ""))].append(mapping)
    for function in functions:
        function["event_source_mappings"] = (
            mappings if is_error(mappings) else by_function.get(function["FunctionArn"], [])
        )
    return {
        "functions": {function["FunctionArn"]: function for function in functions},
        "layer_policies": _layer_policies(reader, region, functions),
        "event_source_mappings": mappings,
        "code_signing_configs": signing_configs
        if is_error(signing_configs)
        else {config["CodeSigningConfigArn"]: config for config in signing_configs},
        "code_signing_read": signing.provenance(),
    }


def _function(
    reader: Reader, region: str, configuration: dict[str, Any], signing: CodeSigning
) -> dict[str, Any]:
    name = configuration["FunctionName"]
    function = {
        field: configuration[field] for field in CONFIGURATION_FIELDS if field in configuration
    }
    # Listed with FunctionVersion=ALL, $LATEST may carry its qualifier; the snapshot keys a
    # function by its unqualified ARN, as every other service refers to it.
    function["FunctionArn"] = _unqualified(configuration["FunctionArn"])
    variables = configuration.get("Environment", {}).get("Variables", {})
    function["Environment"] = redact_environment(variables)
    details = reader.call("lambda", region, "get_function", FunctionName=name)
    if is_error(details):
        function["Tags"] = function["ReservedConcurrentExecutions"] = details
    else:
        function["Tags"] = details.get("Tags", {})
        function["ReservedConcurrentExecutions"] = details.get("Concurrency", {}).get(
            "ReservedConcurrentExecutions"
        )
    function["Policy"] = _policy(reader, region, name)
    aliases = reader.pages("lambda", region, "list_aliases", "Aliases", FunctionName=name)
    function["FunctionUrl"], alias_urls = _function_urls(reader, region, name)
    function["CodeSigningConfigArn"] = signing.config_of(
        reader, region, function["FunctionArn"], name
    )
    shown_by_function = _alias_urls_shown_by_function(reader.fidelity, alias_urls)
    if not is_error(aliases):
        for alias in aliases:
            alias["Policy"] = _policy(reader, region, name, Qualifier=alias["Name"])
            if shown_by_function:
                alias["FunctionUrl"] = None
            else:
                alias["FunctionUrl"] = (
                    alias_urls if is_error(alias_urls) else alias_urls.get(alias["Name"])
                )
        if aliases and shown_by_function:
            function.setdefault("provenance", {})["Aliases.FunctionUrl"] = shown_by_function
    function["Aliases"] = aliases
    function["EventInvokeConfigs"] = reader.pages(
        "lambda",
        region,
        "list_function_event_invoke_configs",
        "FunctionEventInvokeConfigs",
        FunctionName=name,
    )
    _apply_fidelity(function, reader.fidelity)
    return function


def _alias_urls_shown_by_function(fidelity: Fidelity, alias_urls: Any) -> str | None:
    """Why the function's own URL stands for its aliases' (the emulator keeps a URL made on
    any qualifier as the function's), when the aliases' could not be listed; else None."""
    if fidelity.profile is None or not is_error(alias_urls):
        return None
    if alias_urls[ERROR_KEY].get("kind") != UNIMPLEMENTED:
        return None
    represented = fidelity.profile.represents("alias-function-urls")
    return None if represented is None else f"{fidelity.describe()}: {represented.why}"


def _apply_fidelity(function: dict[str, Any], fidelity: Fidelity) -> None:
    """Account for the fields the target's emulator accepts and does not return.

    Where the emulator returned the field, it is used. Otherwise pytest-prr's own moto
    server may have recorded it from the request that created or updated the function: the
    recorded value (or its absence from those requests) is kept, with its provenance. Else
    the field is unreadable: a marker stands where it would be, so no rule decides on it.
    """
    profile = fidelity.profile
    record = None if fidelity.recorded is None else fidelity.recorded.get(function["FunctionArn"])
    provenance = function.setdefault("provenance", {})
    if record is not None:
        _apply_stack_tags(function, record, provenance)
    if profile is None or not profile.dropped_fields(FUNCTION_RESOURCE):
        if not provenance:
            del function["provenance"]
        return
    for name in profile.dropped_fields(FUNCTION_RESOURCE):
        if function.get(name):
            continue
        if record is None:
            gap = profile.gap("drops", FUNCTION_RESOURCE, name)
            unseen = (
                ""
                if fidelity.recorded is None
                else "; pytest-prr's moto server saw no request create this function (one "
                "made by moto's own CloudFormation?)"
            )
            function[name] = error_marker(
                "lambda:ListFunctions",
                EMULATOR_GAP_CODE,
                f"{fidelity.describe()} does not return {name} ({gap.why if gap else ''}){unseen}",
                kind=EMULATOR_GAP,
            )
            continue
        requests = ", ".join(record.get("requests", ())) or "its write requests"
        declared = record.get("declared_by")
        if name in record.get("fields", {}):
            function[name] = record["fields"][name]
            origin = f"declared by {declared}, " if declared else ""
            provenance[name] = (
                f"{origin}recorded by pytest-prr's moto server from {requests}: "
                f"{fidelity.describe()} does not return it"
            )
        else:
            function.pop(name, None)
            origin = f"not declared by {declared}; " if declared else ""
            provenance[name] = (
                f"{origin}not set by {requests}, as recorded by pytest-prr's moto server: "
                f"{fidelity.describe()} does not return it"
            )
    if not provenance:
        del function["provenance"]


def _apply_stack_tags(
    function: dict[str, Any], record: Mapping[str, Any], provenance: dict[str, str]
) -> None:
    """The tags CloudFormation gives every function of a stack, for a function pytest-prr's
    deployer created as a template declares it: the Lambda API refuses ``aws:`` tags to
    anyone but AWS, so the deployer cannot set them and the server records the stack instead.
    What CloudFormation will set is what the function will carry (DEP-04 reads them)."""
    stack = record.get("stack")
    tags = function.get("Tags")
    if not stack or not isinstance(tags, dict):
        return
    stack_id = stack["stack_id"]
    tags.update(
        {
            "aws:cloudformation:stack-name": stack_id.split("/")[1],
            "aws:cloudformation:stack-id": stack_id,
            "aws:cloudformation:logical-id": stack["logical_id"],
        }
    )
    declared = record.get("declared_by") or "a template"
    provenance["Tags"] = (
        f"aws:cloudformation:* tags as CloudFormation sets them when it deploys {declared}, "
        "recorded by pytest-prr's moto server: the Lambda API reserves the aws: prefix"
    )


def _policy(reader: Reader, region: str, name: str, **qualifier: str) -> Any:
    """The resource policy of the function, or of one of its aliases with ``Qualifier``:
    the parsed document, None when it has none, or an error marker."""
    found = reader.call(
        "lambda", region, "get_policy", absent=NOT_FOUND, FunctionName=name, **qualifier
    )
    return found if found is None or is_error(found) else json.loads(found["Policy"])


def _function_urls(reader: Reader, region: str, name: str) -> tuple[Any, Any]:
    """The function's own URL, and its aliases' URLs by alias name.

    One ``ListFunctionUrlConfigs`` answers both, for the price of the single
    ``GetFunctionUrlConfig`` that could only see the function's own URL: a URL made by SAM's
    ``AutoPublishAlias`` with ``FunctionUrlConfig`` lives on the alias. Where the endpoint
    does not implement the listing (moto), the function's own URL is read the old way and
    the aliases' URLs become the listing's error marker: they could not be read, and are
    never guessed from the function's own, unless the emulator's profile says that it keeps
    every qualifier's URL as the function's (see :func:`_alias_urls_shown_by_function`). Any
    other failure marks both.
    """
    configs = reader.pages(
        "lambda", region, "list_function_url_configs", "FunctionUrlConfigs", FunctionName=name
    )
    if not is_error(configs):
        urls = {_qualifier(config["FunctionArn"]): _url(config) for config in configs}
        return urls.pop(None, None), urls
    if configs[ERROR_KEY].get("kind") != UNIMPLEMENTED:
        return configs, configs
    own = reader.call(
        "lambda", region, "get_function_url_config", absent=NOT_FOUND, FunctionName=name
    )
    return (own if own is None or is_error(own) else _url(own)), configs


def _url(config: dict[str, Any]) -> dict[str, Any]:
    return {"FunctionUrl": config.get("FunctionUrl"), "AuthType": config.get("AuthType")}


def _qualifier(arn: str) -> str | None:
    """The alias (or version) an ARN is qualified with, None for the function itself."""
    parts = arn.split(":")
    return parts[7] if len(parts) > 7 else None


def _slim(entry: dict[str, Any]) -> dict[str, Any]:
    """What is kept of a listed function version: all of $LATEST, only the number of a
    published version (an account may hold thousands of them)."""
    if entry["Version"] == LATEST:
        return entry
    return {"FunctionArn": entry["FunctionArn"], "Version": entry["Version"]}


def _layer_policies(reader: Reader, region: str, functions: list[dict[str, Any]]) -> dict[str, Any]:
    """Resource policies of the layer versions functions use that live in this account and
    region (another account's layer policy is not ours to read); None means no policy."""
    arns = sorted(
        {
            layer["Arn"]
            for function in functions
            for layer in function.get("Layers", [])
            if layer["Arn"].split(":")[3] == region
            and layer["Arn"].split(":")[4] == function["FunctionArn"].split(":")[4]
        }
    )

    def policy(arn: str) -> Any:
        layer, version = arn.rsplit(":", 1)
        found = reader.call(
            "lambda",
            region,
            "get_layer_version_policy",
            absent=NOT_FOUND,
            LayerName=layer,
            VersionNumber=int(version),
        )
        return found if found is None or is_error(found) else json.loads(found["Policy"])

    return dict(zip(arns, reader.map(policy, arns), strict=True))


def _unqualified(arn: str) -> str:
    """The function ARN without a version or alias qualifier."""
    parts = arn.split(":")
    return ":".join(parts[:7])
