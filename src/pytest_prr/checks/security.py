"""SEC: function security (SEC-01..SEC-08)."""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any

import yaml

from pytest_prr.checks.aliases import Qualified, qualified
from pytest_prr.checks.base import Context, Verdict, failed, function_check, not_applicable, passed
from pytest_prr.checks.iam_policy import as_list, statement_label, statements
from pytest_prr.snapshot.model import require
from pytest_prr.snapshot.redact import classify

#: Condition keys that confine a wildcard-principal grant (SEC-05), lowercase: IAM compares
#: condition keys case-insensitively (Lambda writes ``AWS:SourceArn``).
SCOPING_CONDITIONS = ("aws:sourceaccount", "aws:sourcearn", "aws:principalorgid")
#: The keys that confine a grant to an AWS service to one account's or one resource's
#: calls: without them any account's bucket, topic or API of that service can invoke the
#: function (the confused deputy; AWS Security Hub Lambda.1, Checkov CKV_AWS_364).
SERVICE_SCOPING_CONDITIONS = ("aws:sourceaccount", "aws:sourcearn")
#: An AWS service principal, in every partition.
SERVICE_PRINCIPAL = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com(?:\.cn)?$")
#: The finding of a CloudFormation dynamic reference (see snapshot.redact).
DYNAMIC = "dynamic-reference"
ACCOUNT_PRINCIPAL = re.compile(r"^(?:\d{12}|arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):.+)$")


@functools.cache
def runtime_table() -> tuple[dict[str, datetime.date], str, str]:
    """SEC-01's deprecation table: runtime → date, with the table's source and date."""
    text = resources.files("pytest_prr.catalog").joinpath("runtimes.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    dates = {name: datetime.date.fromisoformat(str(day)) for name, day in data["runtimes"].items()}
    return dates, str(data["source"]), str(data["as_of"])


def _name(function: Mapping[str, Any]) -> str:
    return function["FunctionName"]


@function_check("SEC-01")
def runtime_is_supported(function: Mapping[str, Any], context: Context) -> Verdict:
    """A deprecated runtime gets no security patches, and soon no updates at all: an
    emergency fix would first need a runtime migration under incident pressure."""
    if function.get("PackageType") == "Image":
        return not_applicable(f"{_name(function)} is a container image; its runtime is the image's")
    runtime = function["Runtime"]  # a .zip function without one is missing data, not a FAIL
    dates, source, as_of = runtime_table()
    snapshot_day = datetime.date.fromisoformat(context.snapshot.taken_at[:10])
    evidence = {"Runtime": runtime, "snapshot_date": str(snapshot_day), "table_as_of": as_of}
    if runtime not in dates:
        return failed(
            f"{_name(function)}: runtime {runtime!r} is not in pytest-prr's runtime table "
            f"(as of {as_of}); cannot confirm it is supported",
            **evidence,
            table_source=source,
        )
    deprecation = dates[runtime]
    evidence["deprecation_date"] = str(deprecation)
    warn_days = int(context.tunables["prr_runtime_warn_days"])
    days_left = (deprecation - snapshot_day).days
    if days_left <= 0:
        return failed(
            f"{_name(function)}: runtime {runtime} was deprecated on {deprecation}", **evidence
        )
    if days_left <= warn_days:
        return failed(
            f"{_name(function)}: runtime {runtime} is deprecated on {deprecation}, "
            f"in {days_left} days (warning window {warn_days} days)",
            **evidence,
        )
    return passed(
        f"{_name(function)}: runtime {runtime} is supported until {deprecation}", **evidence
    )


def _environment(function: Mapping[str, Any]) -> Mapping[str, Any]:
    return require(function.get("Environment") or {})


@function_check("SEC-02")
def no_plaintext_secrets(function: Mapping[str, Any], context: Context) -> Verdict:
    """A secret in the configuration is readable by anyone who can read the function, is
    copied into every version and leaks into templates, logs and tickets."""
    environment = _environment(function)
    if not environment:
        return not_applicable(f"{_name(function)} has no environment variables")
    findings: dict[str, str] = {}
    for name, entry in environment.items():
        if entry.get("redacted"):
            findings[name] = str(entry.get("finding", "redacted"))
        else:
            # A snapshot written by hand or by an older redactor: classify it here too.
            kind = classify(name, str(entry.get("value", "")))
            if kind is not None:
                findings[name] = kind
    if findings:
        listed = ", ".join(f"{name} ({kind})" for name, kind in sorted(findings.items()))
        resolved = (
            "; CloudFormation resolves a {{resolve:...}} dynamic reference into the plaintext "
            "configuration: read the secret at run time instead"
            if DYNAMIC in findings.values()
            else ""
        )
        return failed(
            f"{_name(function)} has plaintext secrets in environment variables: {listed}{resolved}",
            findings=findings,
        )
    return passed(
        f"{_name(function)}: no plaintext secret in {len(environment)} environment variables",
        variables=sorted(environment),
    )


@function_check("SEC-03")
def environment_encrypted_with_cmk(function: Mapping[str, Any], context: Context) -> Verdict:
    """With Lambda's default key anyone who reads the configuration sees the values, and
    use of the key can be neither restricted, audited separately nor revoked."""
    environment = _environment(function)
    if not environment:
        return not_applicable(f"{_name(function)} has no environment variables")
    key = function.get("KMSKeyArn")
    if not key:
        return failed(
            f"{_name(function)} encrypts its {len(environment)} environment variables "
            "with the Lambda-managed key, not a customer-managed key",
            KMSKeyArn=None,
        )
    return passed(f"{_name(function)} encrypts its environment with {key}", KMSKeyArn=key)


@function_check("SEC-04")
def code_signing_enforced(function: Mapping[str, Any], context: Context) -> Verdict:
    """Without enforced signing, anyone holding UpdateFunctionCode can ship arbitrary code
    that runs with the function's role and data."""
    if function.get("PackageType") == "Image":
        return not_applicable(f"{_name(function)} is a container image; code signing is for .zip")
    arn = require(function.get("CodeSigningConfigArn"))
    if not arn:
        return failed(f"{_name(function)} has no code signing config", CodeSigningConfigArn=None)
    configs = require(require(context.section["lambda"])["code_signing_configs"])
    config = configs.get(arn)
    if config is None:
        return failed(
            f"{_name(function)}: code signing config {arn} is not among the account's code "
            "signing configs; cannot confirm it enforces signatures",
            CodeSigningConfigArn=arn,
        )
    policy = (config.get("CodeSigningPolicies") or {}).get("UntrustedArtifactOnDeployment")
    evidence = {"CodeSigningConfigArn": arn, "UntrustedArtifactOnDeployment": policy}
    if policy != "Enforce":
        return failed(
            f"{_name(function)}: code signing config {arn} has "
            f"UntrustedArtifactOnDeployment {policy!r}, not 'Enforce'",
            **evidence,
        )
    return passed(f"{_name(function)}: code signing config {arn} enforces signatures", **evidence)


def _principals(statement: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(kind, value) of every principal of a statement; ``"*"`` is ``("*", "*")``."""
    principal = statement.get("Principal")
    if principal is None:
        return []
    if not isinstance(principal, Mapping):
        return [("*" if principal == "*" else "AWS", str(p)) for p in as_list(principal)]
    return [(kind, str(value)) for kind, values in principal.items() for value in as_list(values)]


def _scoping_values(statement: Mapping[str, Any]) -> dict[str, list[str]]:
    """The condition keys (lowercase) that confine the statement, with their values.

    A key confines only under an operator that requires a match (``StringEquals``,
    ``ArnLike``, ...): a negated one (``StringNotEquals``), ``...IfExists`` or
    ``ForAllValues:`` also holds for a request without the key, and ``Null`` checks only that
    it is there. And only when every value names a specific account, organization or
    resource (:func:`_is_specific`).
    """
    values: dict[str, list[str]] = {}
    for operator, block in (statement.get("Condition") or {}).items():
        name = operator.removeprefix("ForAnyValue:")
        if (
            not name.startswith(("String", "Arn"))
            or "Not" in name
            or name.endswith("IfExists")
            or not isinstance(block, Mapping)
        ):
            continue
        for key, given in block.items():
            values.setdefault(key.lower(), []).extend(str(v) for v in as_list(given))
    return {key: given for key, given in values.items() if given and all(map(_is_specific, given))}


def _is_specific(value: str) -> bool:
    """Whether a condition value names something: ``*`` does not, nor an ARN whose account
    and resource parts are both wildcards (``arn:aws:s3:::*``, ``arn:aws:sns:*:*:*``)."""
    parts = value.split(":", 5)
    if value.startswith("arn:") and len(parts) == 6:
        return not (_is_wildcard(parts[4]) and _is_wildcard(parts[5]))
    return not _is_wildcard(value)


def _is_wildcard(text: str) -> bool:
    """Empty, or made of nothing but wildcards."""
    return not text.strip("*?")


def _policies(function: Mapping[str, Any]) -> Qualified:
    """The resource policies of the function and of each of its aliases."""
    return qualified(function, "Policy", "lambda:GetPolicy")


def _allow_statements(policies: Qualified) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """(where, statement label, statement) of every Allow statement of ``policies``."""
    for where, document in policies.present.items():
        for index, statement in enumerate(statements(document)):
            if statement.get("Effect") == "Allow":
                yield where, statement_label(statement, index), statement


def _no_policy(function: Mapping[str, Any]) -> Verdict:
    return not_applicable(
        f"{_name(function)} has no resource-based policy, on the function or any alias"
    )


@function_check("SEC-05")
def not_publicly_invocable(function: Mapping[str, Any], context: Context) -> Verdict:
    """A wildcard principal without a scoping condition lets any AWS account invoke the
    function: crafted input, harvested output and denial of wallet. A grant to an AWS
    service without its source account or resource does the same through that service:
    anyone's bucket, topic or API of that service can then invoke the function."""
    policies = _policies(function)
    public: dict[str, list[str]] = {}
    deputies: dict[str, list[str]] = {}
    for where, label, statement in _allow_statements(policies):
        principals = _principals(statement)
        scoping = _scoping_values(statement)
        if any(value == "*" for kind, value in principals if kind in ("*", "AWS")):
            iam_url = set(scoping.get("lambda:functionurlauthtype", ())) == {"AWS_IAM"}
            if not scoping.keys() & set(SCOPING_CONDITIONS) and not iam_url:
                public.setdefault(where, []).append(label)
        services = [v for kind, v in principals if kind == "Service" and SERVICE_PRINCIPAL.match(v)]
        if services and not scoping.keys() & set(SERVICE_SCOPING_CONDITIONS):
            deputies.setdefault(where, []).append(f"{label} ({', '.join(services)})")
    if public or deputies:
        problems = []
        if public:
            problems.append(
                "lets any principal invoke it without a scoping condition: statements "
                + _where(public)
            )
        if deputies:
            problems.append(
                "grants AWS services without aws:SourceArn or aws:SourceAccount, so any "
                "account's resources of those services can invoke it (confused deputy): "
                "statements " + _where(deputies)
            )
        return failed(
            f"{_name(function)}'s resource policy {'; and '.join(problems)}"
            f"{policies.missing_note()}",
            public_statements=public,
            unscoped_service_statements=deputies,
            **policies.missing_evidence(),
        )
    policies.require_all()
    if not policies.present:
        return _no_policy(function)
    return passed(
        f"{_name(function)}'s resource policies grant no unscoped wildcard principal or AWS "
        f"service ({', '.join(policies.present)})",
        policies=list(policies.present),
        statements=sum(len(statements(d)) for d in policies.present.values()),
    )


def _where(found: Mapping[str, list[str]]) -> str:
    return ", ".join(f"{label} of {where}" for where, labels in found.items() for label in labels)


@function_check("SEC-06")
def function_url_requires_iam(function: Mapping[str, Any], context: Context) -> Verdict:
    """An AuthType NONE function URL is an unauthenticated public endpoint that bypasses
    authorizers, WAF, throttling and access logging."""
    urls = qualified(function, "FunctionUrl", "lambda:ListFunctionUrlConfigs")
    evidence = {
        "function_urls": {
            where: {"FunctionUrl": url.get("FunctionUrl"), "AuthType": url.get("AuthType")}
            for where, url in urls.present.items()
        }
    }
    public = [where for where, url in urls.present.items() if url.get("AuthType") == "NONE"]
    if public:
        return failed(
            f"{_name(function)}: the function URL of {', '.join(public)} has AuthType NONE"
            f"{urls.missing_note()}",
            public_urls=public,
            **evidence,
            **urls.missing_evidence(),
        )
    urls.require_all()
    if not urls.present:
        return not_applicable(
            f"{_name(function)} has no function URL, on the function or any alias"
        )
    listed = ", ".join(f"{where} ({url.get('AuthType')})" for where, url in urls.present.items())
    return passed(f"{_name(function)}'s function URLs require authentication: {listed}", **evidence)


def _own_account(function: Mapping[str, Any]) -> str:
    return function["FunctionArn"].split(":")[4]


@function_check("SEC-07")
def layers_from_trusted_accounts(function: Mapping[str, Any], context: Context) -> Verdict:
    """A layer runs inside the function with its role and data: one from an unassessed
    publisher is unreviewed third-party code in production."""
    layers = [layer["Arn"] for layer in function.get("Layers") or []]
    if not layers:
        return not_applicable(f"{_name(function)} has no layers")
    trusted = {_own_account(function), *map(str, context.tunables["prr_trusted_layer_accounts"])}
    untrusted = [arn for arn in layers if arn.split(":")[4] not in trusted]
    if untrusted:
        return failed(
            f"{_name(function)} uses layers from untrusted accounts: {', '.join(untrusted)}",
            untrusted_layers=untrusted,
            trusted_accounts=sorted(trusted),
        )
    return passed(
        f"{_name(function)}'s {len(layers)} layers come from trusted accounts", layers=layers
    )


@function_check("SEC-08")
def cross_account_invoke_allow_listed(function: Mapping[str, Any], context: Context) -> Verdict:
    """Unreviewed cross-account grants are standing paths for another account to drive the
    function, which then acts on your data with its own role."""
    policies = _policies(function)
    trusted = {_own_account(function), *map(str, context.tunables["prr_trusted_accounts"])}
    foreign: dict[str, list[str]] = {}
    for where, label, statement in _allow_statements(policies):
        for kind, value in _principals(statement):
            match = ACCOUNT_PRINCIPAL.match(value) if kind == "AWS" else None
            account = match and (match.group(1) or value)
            if not account or account in trusted:
                continue
            granted = foreign.setdefault(account, [])
            if f"{label} of {where}" not in granted:
                granted.append(f"{label} of {where}")
    if foreign:
        listed = ", ".join(
            f"{account} (statements {', '.join(granted)})"
            for account, granted in sorted(foreign.items())
        )
        return failed(
            f"{_name(function)}'s resource policy allows accounts not allow-listed: {listed}"
            f"{policies.missing_note()}",
            accounts=sorted(foreign),
            statements=dict(sorted(foreign.items())),
            trusted_accounts=sorted(trusted),
            **policies.missing_evidence(),
        )
    policies.require_all()
    if not policies.present:
        return _no_policy(function)
    return passed(
        f"{_name(function)}'s resource policies allow no account outside the allow-list "
        f"({', '.join(policies.present)})",
        policies=list(policies.present),
        trusted_accounts=sorted(trusted),
    )
