"""A results document as AWS Security Finding Format (ASFF) findings, for Security Hub.

One finding per resource that a control found failing (``fail``) or could not evaluate
(``error``), so that readiness gaps land in the console where security teams already triage.
Choices, each for a reason:

* ``Id`` depends only on the control, the account, the region and the resource, so that the
  next run's import updates the finding instead of adding a duplicate;
* an ``error`` is ``Compliance.Status`` NOT_AVAILABLE ("could not be performed due to ... an
  API error"), never PASSED: an unevaluated control is not a compliant one;
* waived resources are not exported. A waiver is an accepted risk recorded, with its expiry,
  in the results document; ASFF would express it as ``Workflow`` SUPPRESSED, but a finding
  provider can set ``Workflow`` only when a finding is created, never on later imports, so
  Security Hub and the waiver file would drift apart;
* severity and types are also given in ``FindingProviderFields``, the place Security Hub
  takes a provider's updates of them from;
* text is truncated to the API's limits (Title 256, Description 1024, Remediation 512,
  ProductFields values 2048), with an ellipsis, rather than rejected by the import.

Pure: no boto3, no pytest; :mod:`pytest_prr.report.securityhub` sends the findings.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from importlib import resources
from typing import Any

from pytest_prr.catalog import Catalog, builtin_catalog
from pytest_prr.report.json_document import validate_document
from pytest_prr.results.model import rollup, timestamp

SCHEMA_VERSION = "2018-10-08"
FINDING_TYPE = (
    "Software and Configuration Checks/Industry and Regulatory Standards/"
    "Production Readiness Requirements"
)
EXPORTED = ("fail", "error")
COMPLIANCE_STATUS = {"fail": "FAILED", "error": "NOT_AVAILABLE"}
#: How RelatedRequirements name a framework: the reference follows the label.
FRAMEWORK_LABELS = {
    "iso27001_2022": "ISO/IEC 27001:2022",
    "soc2_2017": "SOC 2 (2017 TSC)",
    "nist_csf_2": "NIST CSF 2.0",
}
LIMITS = {"Title": 256, "Description": 1024, "Recommendation": 512, "ProductField": 2048}
MAX_REQUIREMENTS = 32

_FUNCTION_ARN = re.compile(r"^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}):function:([^:]+)")
_STAGE_ARN = re.compile(
    r"^arn:(aws[a-z-]*):apigateway:([a-z0-9-]+)::/(restapis|apis)/[^/]+/stages/"
)
_OTHER_ARN = re.compile(r"^arn:(aws[a-z-]*):")
_ACCOUNT_SCOPED = re.compile(r"^(\d{12})(?:/([a-z0-9-]+))?$")


class FindingError(ValueError):
    """A finding that does not follow ``asff.schema.json``; the message names it."""


def to_asff(
    document: Mapping[str, Any],
    *,
    catalog: Catalog | None = None,
    product_arn: str | None = None,
    generated_at: datetime | None = None,
) -> list[dict[str, Any]]:
    """The ASFF findings of a ``prr-results/1`` document, in document order.

    ``catalog`` provides the remediation text (the built-in catalog when None; controls it
    lacks get no Remediation). ``product_arn`` defaults to each account's own "default"
    product in the resource's region. Timestamps are ``generated_at``, else the
    document's, so the same document always gives the same findings.
    """
    validate_document(document)
    catalog = catalog if catalog is not None else builtin_catalog()
    moment = timestamp(generated_at) if generated_at else document["generated_at"]
    home_regions = _home_regions(document["targets"])
    findings = []
    for control in document["controls"]:
        grouped: dict[tuple[str, str | None, str], list[Mapping[str, Any]]] = defaultdict(list)
        for entry in control["resources"]:
            if entry["status"] in EXPORTED:
                account_id = _account_of(entry, home_regions, control["id"])
                grouped[(account_id, entry.get("region"), entry["id"])].append(entry)
        for (account_id, region, resource_id), entries in grouped.items():
            resource = _resource(resource_id, region)
            findings.append(
                {
                    "SchemaVersion": SCHEMA_VERSION,
                    "Id": finding_id(control["id"], account_id, region, resource_id),
                    "ProductArn": product_arn
                    or default_product_arn(
                        resource.get("Partition", "aws"),
                        region or home_regions[account_id],
                        account_id,
                    ),
                    "GeneratorId": f"pytest-prr/{control['id']}",
                    "AwsAccountId": account_id,
                    "Types": [FINDING_TYPE],
                    "CreatedAt": moment,
                    "UpdatedAt": moment,
                    **_content(document, control, entries, resource, catalog),
                }
            )
    return findings


def default_product_arn(partition: str, region: str, account_id: str) -> str:
    """The product every account has for its own findings, in ``region``."""
    return f"arn:{partition}:securityhub:{region}:{account_id}:product/{account_id}/default"


def finding_id(control_id: str, account_id: str, region: str | None, resource_id: str) -> str:
    """The finding's ``Id``: stable across runs, within 512 characters for any resource."""
    key = json.dumps([account_id, region, resource_id])
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"pytest-prr/{account_id}/{control_id}/{digest}"


def validate_findings(findings: Sequence[Mapping[str, Any]]) -> None:
    """Raise :class:`FindingError` at the first finding that breaks the ASFF constraints."""
    for index, finding in enumerate(findings):
        error = next(iter(_validator().iter_errors(finding)), None)
        if error is not None:
            where = "/".join(str(step) for step in error.absolute_path) or "top level"
            raise FindingError(
                f"finding {index} ({finding.get('Id', 'no Id')}) invalid at {where}: "
                f"{error.message}"
            )


def _content(
    document: Mapping[str, Any],
    control: Mapping[str, Any],
    entries: Sequence[Mapping[str, Any]],
    resource: dict[str, str],
    catalog: Catalog,
) -> dict[str, Any]:
    """What a finding says about its resource: verdict, severity, texts, requirements."""
    status = rollup(entry["status"] for entry in entries)
    control_id = control["id"]
    severity = {"Label": control["severity"].upper(), "Original": control["severity"]}
    function = _FUNCTION_ARN.match(entries[0]["id"])
    label = function[4] if function else entries[0]["id"]
    prefix = "" if status == "fail" else "[not evaluated] "
    messages = list(dict.fromkeys(entry["message"] for entry in entries if entry.get("message")))
    content: dict[str, Any] = {
        "Severity": severity,
        "Title": _truncate(f"{prefix}{control_id} {control['title']}: {label}", "Title"),
        "Description": _truncate("; ".join(messages) or control["title"], "Description"),
    }
    if control_id in catalog:
        text = _truncate(catalog[control_id].remediation, "Recommendation")
        content["Remediation"] = {"Recommendation": {"Text": text}}
    content.update(
        {
            "ProductFields": _product_fields(document, control, entries, status),
            "Resources": [resource],
            "Compliance": {
                "Status": COMPLIANCE_STATUS[status],
                "RelatedRequirements": _requirements(control["frameworks"]),
            },
            "FindingProviderFields": {"Severity": dict(severity), "Types": [FINDING_TYPE]},
        }
    )
    return content


def _resource(resource_id: str, region: str | None) -> dict[str, str]:
    """The ASFF resource for a results document's resource ID."""
    if match := _FUNCTION_ARN.match(resource_id):
        return _with_region(
            {"Type": "AwsLambdaFunction", "Id": resource_id, "Partition": match[1]}, match[2]
        )
    if match := _STAGE_ARN.match(resource_id):
        kind = "AwsApiGatewayStage" if match[3] == "restapis" else "AwsApiGatewayV2Stage"
        return _with_region({"Type": kind, "Id": resource_id, "Partition": match[1]}, match[2])
    if match := _OTHER_ARN.match(resource_id):
        return _with_region({"Type": "Other", "Id": resource_id, "Partition": match[1]}, region)
    if match := _ACCOUNT_SCOPED.match(resource_id):
        account = {"Type": "AwsAccount", "Id": f"AWS::::Account:{match[1]}"}
        return _with_region(account, match[2] or region)
    return _with_region({"Type": "Other", "Id": resource_id}, region)


def _with_region(resource: dict[str, str], region: str | None) -> dict[str, str]:
    if region:
        resource["Region"] = region
    return resource


def _home_regions(targets: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Each account's first region: where its account-wide findings are imported."""
    homes: dict[str, str] = {}
    for target in targets:
        homes.setdefault(target["account_id"], target["regions"][0])
    return homes


def _account_of(entry: Mapping[str, Any], home_regions: Mapping[str, str], control: str) -> str:
    account_id = entry.get("account_id")
    if account_id is None and len(home_regions) == 1:
        return next(iter(home_regions))
    if account_id not in home_regions:
        raise ValueError(
            f"{control} {entry['id']}: account {account_id} is not a target of the document, "
            "so its finding has no account to be imported into"
        )
    return account_id


def _requirements(frameworks: Mapping[str, Sequence[str]]) -> list[str]:
    related = [
        f"{FRAMEWORK_LABELS.get(key, key)} {ref}"
        for key, refs in frameworks.items()
        for ref in refs
    ]
    return related[:MAX_REQUIREMENTS]


def _product_fields(
    document: Mapping[str, Any],
    control: Mapping[str, Any],
    entries: Sequence[Mapping[str, Any]],
    status: str,
) -> dict[str, str]:
    tool = document["tool"]
    fields = {
        "ProviderName": "pytest-prr",
        "ProviderVersion": tool["version"],
        "pytest-prr/ControlId": control["id"],
        "pytest-prr/Domain": control.get("domain", control["id"].split("-")[0]),
        "pytest-prr/Status": status,
        "pytest-prr/CatalogVersion": tool["catalog_version"],
        "pytest-prr/Tests": ", ".join(sorted({entry.get("test", "") for entry in entries} - {""})),
    }
    return {key: _truncate(value, "ProductField") for key, value in fields.items() if value}


def _truncate(text: str, field: str) -> str:
    limit = LIMITS[field]
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


@functools.cache
def _validator() -> Any:
    # the validator loads only when a file is validated
    import jsonschema

    schema = json.loads(resources.files(__package__).joinpath("asff.schema.json").read_text())
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
