"""A results document for the report renderers: two accounts, a team control, waivers,
and AWS text that tries to be markup, built by ``build_document`` with no AWS or moto.

Statuses are spread over the catalog by a fixed rule so every status occurs, and the
document is checked against the published schema before any test renders it.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from pytest_prr.catalog import Catalog, builtin_catalog
from pytest_prr.report.json_document import validate_document
from pytest_prr.results.model import Result, Target, build_document

TEAM_CATALOG = Path(__file__).resolve().parents[1] / "examples/orders-service/prr-catalog.yaml"
WHEN = datetime.datetime(2026, 11, 28, 12, 30, tzinfo=datetime.UTC)
PROD = Target(
    account="payments-prod",
    account_id="111111111111",
    regions=("us-east-1", "eu-west-1"),
    mode="live",
    snapshot_taken_at="2026-11-28T12:00:00Z",
    snapshot_sha256="ab" * 32,
    caller_arn="arn:aws:sts::111111111111:assumed-role/prr-readonly/pytest-prr",
)
DR = Target(
    account="payments-dr",
    account_id="222222222222",
    regions=("eu-west-1",),
    mode="snapshot",
    snapshot_taken_at="2026-11-27T08:00:00Z",
    snapshot_sha256="cd" * 32,
    snapshot_mode="live",
)
#: A function name as hostile as a tag or name could be, were AWS to allow it.
SCRIPT_NAME = "<script>alert(1)</script>"
IMG_MESSAGE = "runtime <img src=x onerror=alert(2)> is deprecated"
FORMULA_MESSAGE = '=HYPERLINK("https://evil.example","click")'
MARKDOWN_MESSAGE = (
    "ping @security-team about #12: [click](https://evil.example) ![x](https://evil.example/x.png) "
    "</details> www.evil.example *loud*\n# not a heading"
)
WAIVER = {
    "control": "SEC-04",
    "resources": "arn:aws:lambda:*:111111111111:function:legacy-*",
    "justification": "Vendor build cannot be signed until Q1 <b>2027</b>",
    "approved_by": "@ciso-office",
    "expires": "2027-03-31",
    "ticket": "RISK-42",
}
EXPIRED_WAIVER = {
    "control": "NET-01",
    "resources": "arn:aws:lambda:*:*:function:batch-*",
    "justification": "Batch jobs moved into the VPC by November",
    "approved_by": "risk-board",
    "expires": "2026-10-31",
    "entry": 1,
    "resources_affected": ["arn:aws:lambda:eu-west-1:222222222222:function:batch-export"],
}
STALE_WAIVER = {
    "control": "DAT-05",
    "tags": {"data-class": "public"},
    "justification": "Public data only",
    "approved_by": "risk-board",
    "expires": "2027-06-30",
    "entry": 2,
}
#: Controls that no test speaks for: they stay not_tested.
UNTESTED = ("API-01", "API-02", "API-03", "API-04")


def team_catalog() -> Catalog:
    """The built-in catalog plus the orders team's ORD controls (examples/orders-service)."""
    return builtin_catalog().with_file(TEAM_CATALOG)


def functions(target: Target) -> list[tuple[str, str]]:
    """``(name, region)`` of the functions of ``target``; the hostile name in prod only."""
    names = ["checkout", "refunds", "ledger", "legacy-export", "batch-export"]
    if target is PROD:
        names.append(SCRIPT_NAME)
    return [(name, region) for region in target.regions for name in names]


def function_arn(target: Target, name: str, region: str) -> str:
    return f"arn:aws:lambda:{region}:{target.account_id}:function:{name}"


def report_document() -> dict[str, Any]:
    """The document: every control of the team catalog, over both accounts."""
    catalog = team_catalog()
    results = [
        result
        for index, control in enumerate(catalog)
        if control.id not in UNTESTED
        for target in (PROD, DR)
        for number, (name, region) in enumerate(functions(target))
        for result in [_result(control.id, index, number, target, name, region)]
    ]
    document = build_document(catalog, [PROD, DR], results, tool_version="0.1.0", generated_at=WHEN)
    _annotate_waivers(document)
    document["waivers"] = {"expired": [EXPIRED_WAIVER], "stale": [STALE_WAIVER]}
    validate_document(document)
    return document


def _result(
    control_id: str, index: int, number: int, target: Target, name: str, region: str
) -> Result:
    """One control's result for one function, by a rule that makes every status occur."""
    if control_id == "SEC-04" and name == "legacy-export" and target is PROD:
        status = "waived"
    elif control_id == "IAM-04" and name == SCRIPT_NAME:
        status = "fail"
    elif index % 6 == 0:
        status = "not_applicable"
    elif index % 5 == 1 and number % 4 == 0:
        status = "fail"
    elif index % 9 == 2 and number == 1:
        status = "error"
    else:
        status = "pass"
    message = f"{name}: {control_id} {status}"
    if name == SCRIPT_NAME:
        message = IMG_MESSAGE
    elif control_id == "SEC-02" and name == "batch-export":
        message = FORMULA_MESSAGE
    elif control_id == "SEC-02" and name == "checkout":
        message = MARKDOWN_MESSAGE
    return Result(
        control_id=control_id,
        resource_id=function_arn(target, name, region),
        status=status,
        test=f"prr::{control_id}",
        message=message,
        account_id=target.account_id,
        region=region,
        evidence={"FunctionName": name, "Runtime": "python3.12", "note": "</pre><b>x</b>"},
    )


def _annotate_waivers(document: dict[str, Any]) -> None:
    """What the waiver machinery records on a resource it waived: the waiver and the FAIL."""
    for control in document["controls"]:
        for resource in control["resources"]:
            if resource["status"] == "waived":
                resource["original_status"] = "fail"
                resource["waiver"] = dict(WAIVER)


def large_document(function_count: int) -> dict[str, Any]:
    """One account with ``function_count`` functions, each failing every function control:
    the worst case for a pull-request comment."""
    catalog = builtin_catalog()
    names = [(f"fn-{number:04d}", "us-east-1") for number in range(function_count)]
    results = [
        Result(
            control_id=control.id,
            resource_id=function_arn(PROD, name, region),
            status="fail",
            test=f"prr::{control.id}",
            message=f"{name} does not meet {control.id}: {control.title}",
            account_id=PROD.account_id,
            region=region,
        )
        for control in catalog
        if control.scope == "function"
        for name, region in names
    ]
    document = build_document(catalog, [PROD], results, tool_version="0.1.0", generated_at=WHEN)
    validate_document(document)
    return document
