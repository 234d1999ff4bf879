"""GOV: account guardrails - CloudTrail, AWS Config, Security Hub, GuardDuty and SCPs.

Each rule asks whether some guardrail exists. A guardrail that is certainly in force makes
the rule pass even if another candidate could not be read; where none is certainly in force
and some candidate could not be read, the rule is an ERROR naming that read, never a FAIL
or a PASS built on missing data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from pytest_prr.checks.base import (
    Context,
    Verdict,
    account_check,
    failed,
    not_applicable,
    passed,
    region_check,
)
from pytest_prr.checks.scp import attached_policies, denying_statements
from pytest_prr.snapshot.guarded import member
from pytest_prr.snapshot.model import DataUnavailable, is_error, require

T = TypeVar("T")

LAMBDA_TYPE = "AWS::Lambda::Function"
FSBP = "aws-foundational-security-best-practices"
LAMBDA_PROTECTION = "LAMBDA_NETWORK_LOGS"
URL_ACTIONS = ("lambda:CreateFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig")


def _first(items: Iterable[T], test: Callable[[T], Any]) -> tuple[T | None, DataUnavailable | None]:
    """The first item passing ``test``, else the first failed read met on the way."""
    missing = None
    for item in items:
        try:
            if test(item):
                return item, None
        except DataUnavailable as error:
            missing = missing or error
    return None, missing


def _known(value: Any) -> Any:
    """A value for evidence: None where it could not be read."""
    return None if is_error(value) else value


def _guardrails(context: Context) -> Mapping[str, Any]:
    return require(context.section["guardrails"])


def _trails(context: Context) -> list[Mapping[str, Any]]:
    return list(require(_guardrails(context)["cloudtrail"]).values())


def _trail_evidence(trails: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    fields = ("Name", "HomeRegion", "IsMultiRegionTrail", "LogFileValidationEnabled", "IsLogging")
    return [{field: _known(member(trail, field)) for field in fields} for trail in trails]


def _names(items: Iterable[str]) -> str:
    return ", ".join(items) or "none"


@region_check("GOV-01")
def multi_region_trail_validates_logs(context: Context) -> Verdict:
    """A single-region trail leaves other regions unrecorded, and logs without validation
    cannot be proven unaltered, so neither is forensic evidence."""
    trails = _trails(context)
    trail, missing = _first(
        trails,
        lambda t: (
            t["IsMultiRegionTrail"] and t["LogFileValidationEnabled"] and require(t["IsLogging"])
        ),
    )
    evidence = {"trails": _trail_evidence(trails)}
    if trail is not None:
        return passed(
            f"trail {trail['Name']} is multi-region, logging and validates log files "
            f"in {context.region}",
            **evidence,
        )
    if missing:
        raise missing
    return failed(
        f"no trail in {context.region} is multi-region, logging and validating log files "
        f"(trails: {_names(t['Name'] for t in trails)})",
        **evidence,
    )


def _records_lambda_data_events(trail: Mapping[str, Any]) -> bool:
    basic = require(trail["EventSelectors"])
    advanced = require(trail["AdvancedEventSelectors"])
    if any(
        resource.get("Type") == LAMBDA_TYPE
        for selector in basic
        for resource in selector.get("DataResources") or []
    ):
        return True
    for selector in advanced:
        fields = {f.get("Field"): f for f in selector.get("FieldSelectors") or []}
        category = fields.get("eventCategory")
        if LAMBDA_TYPE in ((fields.get("resources.type") or {}).get("Equals") or []) and (
            category is None or "Data" in (category.get("Equals") or [])
        ):
            return True
    return False


@region_check("GOV-02")
def trail_records_lambda_data_events(context: Context) -> Verdict:
    """Without Lambda data events nobody can establish which principal invoked a
    sensitive function, such as a payment or data-export function."""
    trails = _trails(context)
    trail, missing = _first(
        trails, lambda t: require(t["IsLogging"]) and _records_lambda_data_events(t)
    )
    evidence = {"trails": _trail_evidence(trails)}
    if trail is not None:
        return passed(
            f"trail {trail['Name']} is logging Lambda data events in {context.region}",
            **evidence,
        )
    if missing:
        raise missing
    return failed(
        f"no logging trail in {context.region} has a data-event selector for {LAMBDA_TYPE} "
        f"(trails: {_names(t['Name'] for t in trails)})",
        **evidence,
    )


def _covers_lambda(group: Mapping[str, Any]) -> bool:
    strategy = (group.get("recordingStrategy") or {}).get("useOnly")
    if strategy == "EXCLUSION_BY_RESOURCE_TYPES":
        excluded = (group.get("exclusionByResourceTypes") or {}).get("resourceTypes") or []
        return LAMBDA_TYPE not in excluded
    return bool(group.get("allSupported")) or LAMBDA_TYPE in (group.get("resourceTypes") or [])


@region_check("GOV-03")
def config_records_lambda(context: Context) -> Verdict:
    """Without AWS Config recording there is no configuration history to show auditors what
    a function looked like on a given date, and no continuous drift detection."""
    recorders = require(require(_guardrails(context)["config"])["recorders"])
    found, missing = _first(
        recorders.items(),
        lambda item: _covers_lambda(item[1]["recordingGroup"]) and require(item[1]["recording"]),
    )
    evidence = {
        "recorders": {
            name: {
                "recordingGroup": recorder["recordingGroup"],
                "recording": _known(member(recorder, "recording")),
            }
            for name, recorder in recorders.items()
        }
    }
    if found is not None:
        return passed(
            f"configuration recorder {found[0]} is recording {LAMBDA_TYPE} in {context.region}",
            **evidence,
        )
    if missing:
        raise missing
    return failed(
        f"no configuration recorder in {context.region} is recording {LAMBDA_TYPE} "
        f"(recorders: {_names(recorders)})",
        **evidence,
    )


@region_check("GOV-04")
def conformance_pack_deployed(context: Context) -> Verdict:
    """A conformance pack evaluates every configuration change continuously, between test
    runs, and keeps AWS-native evidence that the controls operated throughout the period."""
    packs = require(require(_guardrails(context)["config"])["conformance_packs"])
    name = context.tunables["prr_conformance_pack"]
    evidence = {"conformance_packs": packs, "prr_conformance_pack": name}
    if name in packs:
        return passed(f"conformance pack {name} is deployed in {context.region}", **evidence)
    return failed(
        f"conformance pack {name} is not deployed in {context.region} (deployed: {_names(packs)})",
        **evidence,
    )


@region_check("GOV-05")
def security_hub_runs_fsbp(context: Context) -> Verdict:
    """Without Security Hub and the FSBP standard, misconfigurations outside this catalog go
    undetected and findings have no central place to be triaged."""
    hub = require(_guardrails(context)["securityhub"])
    if not hub["enabled"]:
        return failed(f"Security Hub is not enabled in {context.region}", enabled=False)
    standards = require(hub["standards"])
    fsbp = [s for s in standards if FSBP in (s.get("StandardsArn") or "")]
    evidence = {"hub_arn": hub.get("hub_arn"), "standards": standards}
    if any(s.get("StandardsStatus") == "READY" for s in fsbp):
        return passed(
            f"Security Hub runs the Foundational Security Best Practices standard in "
            f"{context.region}",
            **evidence,
        )
    state = f"is {fsbp[0].get('StandardsStatus')}" if fsbp else "is not enabled"
    return failed(
        f"Security Hub's Foundational Security Best Practices standard {state} in {context.region}",
        **evidence,
    )


def _protects_lambda(detector: Any) -> bool:
    detector = require(detector)
    return detector.get("Status") == "ENABLED" and any(
        feature.get("Name") == LAMBDA_PROTECTION and feature.get("Status") == "ENABLED"
        for feature in detector.get("Features") or []
    )


@region_check("GOV-08")
def guardduty_protects_lambda(context: Context) -> Verdict:
    """Without Lambda network monitoring, a function talking to malicious hosts or mining
    cryptocurrency runs undetected: nothing in its own logs shows those connections."""
    detectors = require(require(_guardrails(context)["guardduty"])["detectors"])
    found, missing = _first(detectors.items(), lambda item: _protects_lambda(item[1]))
    evidence = {"detectors": {i: _known(d) for i, d in detectors.items()}}
    if found is not None:
        return passed(
            f"GuardDuty detector {found[0]} has {LAMBDA_PROTECTION} enabled in {context.region}",
            **evidence,
        )
    if missing:
        raise missing
    if not detectors:
        return failed(f"GuardDuty has no detector in {context.region}", **evidence)
    return failed(
        f"no GuardDuty detector in {context.region} is enabled with {LAMBDA_PROTECTION} "
        f"enabled (detectors: {_names(detectors)})",
        **evidence,
    )


def _scp_guardrail(
    context: Context, actions: tuple[str, ...], request: Mapping[str, Any], what: str
) -> Verdict:
    """PASS when every one of ``actions`` is denied by an attached SCP for ``request``."""
    organizations = require(context.snapshot.account_wide["organizations"])
    account = context.account_id
    feature_set = organizations.get("feature_set")
    if feature_set not in (None, "ALL"):
        return failed(
            f"the organization of account {account} has feature set {feature_set}, so no SCP "
            f"{what}",
            feature_set=feature_set,
        )
    if organizations.get("management_account_id") == account:
        return failed(
            f"account {account} is its organization's management account, where SCPs never "
            f"apply, so no SCP {what} there",
            management_account_id=account,
        )
    policies, missing = attached_policies(organizations)
    denials = {a: denying_statements(policies, a, request, account) for a in actions}
    evidence = {"scps": [p.get("Name") for _, p in policies], "denials": denials}
    if all(denials.values()):
        names = sorted({d["policy"] for found in denials.values() for d in found})
        return passed(f"SCP {', '.join(names)} {what} in account {account}", **evidence)
    if missing:
        raise missing
    uncovered = [a for a, found in denials.items() if not found]
    return failed(
        f"no SCP attached to account {account} {what} "
        f"(not denied: {', '.join(uncovered)}; SCPs: {_names(evidence['scps'])})",
        **evidence,
    )


def _not_a_member(context: Context) -> Verdict | None:
    """N/A for an account in no organization, where SCPs cannot apply (GOV-06, GOV-07)."""
    member = require(require(context.snapshot.account_wide["organizations"])["member"])
    if member:
        return None
    return not_applicable(
        f"account {context.account_id} is not in an AWS Organization, so SCPs cannot apply",
        member=False,
    )


@account_check("GOV-06")
def scp_requires_code_signing(context: Context) -> Verdict:
    """Only an SCP stops every principal, administrators and stolen credentials included,
    from creating unsigned functions, so code signing cannot be bypassed."""
    return _not_a_member(context) or _scp_guardrail(
        context,
        ("lambda:CreateFunction",),
        {"lambda:CodeSigningConfigArn": None},
        "denies lambda:CreateFunction without a code signing config",
    )


@account_check("GOV-07")
def scp_forbids_public_function_urls(context: Context) -> Verdict:
    """Detecting an unauthenticated function URL afterwards leaves a window of exposure; an
    SCP stops any principal from creating one or switching a URL to that mode."""
    return _not_a_member(context) or _scp_guardrail(
        context,
        URL_ACTIONS,
        {"lambda:FunctionUrlAuthType": "NONE"},
        "denies function URLs with AuthType NONE",
    )
