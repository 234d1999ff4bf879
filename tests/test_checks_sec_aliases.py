"""SEC-05, SEC-06 and SEC-08 read what a function exposes through its aliases.

A permission or a function URL attached to an alias (SAM's ``AutoPublishAlias`` puts both on
``live``) is as public as one on the function. Each test here has the only exposure on the
alias: a check that read the function alone would say PASS or not applicable.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_prr.catalog import builtin_catalog
from pytest_prr.checks import security  # noqa: F401 (registration)
from pytest_prr.checks.base import REGISTRY, run_check
from pytest_prr.results.model import Result
from snapshots import ACCOUNT_ID, build_snapshot, failed_read, function_arn, make_function

TUNABLES = {t.name: t.default for c in builtin_catalog() for t in c.tunables}
OTHER = "444455556666"
OPEN_URL = {"FunctionUrl": "https://live.lambda-url.us-east-1.on.aws/", "AuthType": "NONE"}
IAM_URL = {"FunctionUrl": "https://live.lambda-url.us-east-1.on.aws/", "AuthType": "AWS_IAM"}
#: What each control reads on an alias, and the operation that reads it.
READS = {
    "SEC-05": ("Policy", "lambda:GetPolicy"),
    "SEC-06": ("FunctionUrl", "lambda:ListFunctionUrlConfigs"),
    "SEC-08": ("Policy", "lambda:GetPolicy"),
}


def policy(sid: str, principal: Any, **condition: Any) -> dict[str, Any]:
    statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal,
        "Action": "lambda:InvokeFunction",
        "Resource": f"{function_arn('app')}:live",
    }
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


PUBLIC = policy("public-live", "*")
FOREIGN = policy("partner-live", {"AWS": f"arn:aws:iam::{OTHER}:root"})
#: What makes each control FAIL when it is on the alias, and what it accepts.
EXPOSED = {"SEC-05": PUBLIC, "SEC-06": OPEN_URL, "SEC-08": FOREIGN}
COMPLIANT = {
    "SEC-05": policy("s3", "*", ArnLike={"AWS:SourceArn": "arn:aws:s3:::bucket"}),
    "SEC-06": IAM_URL,
    "SEC-08": policy("own", {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}),
}


def alias(name: str = "live", **fields: Any) -> dict[str, Any]:
    """An alias entry as the collector writes it: ListAliases' fields, policy and URL."""
    entry = {
        "AliasArn": f"{function_arn('app')}:{name}",
        "Name": name,
        "FunctionVersion": "3",
        "Policy": None,
        "FunctionUrl": None,
    }
    entry.update(fields)
    return entry


def evaluate(control: str, **fields: Any) -> Result:
    snapshot = build_snapshot(functions=[make_function("app", **fields)])
    (finding,) = run_check(REGISTRY[control], snapshot, TUNABLES)
    return finding


def on_alias(control: str, value: Any) -> dict[str, Any]:
    """An alias holding ``value`` where ``control`` reads it."""
    return alias(**{READS[control][0]: value})


@pytest.mark.parametrize("control", sorted(READS))
def test_an_exposure_on_an_alias_alone_fails(control: str) -> None:
    finding = evaluate(control, Aliases=[alias("blue"), on_alias(control, EXPOSED[control])])
    assert finding.status == "fail", finding
    assert "app:live" in finding.message and "app:blue" not in finding.message
    assert "unreadable" not in finding.evidence


def test_the_failures_name_the_statement_and_account_on_the_alias() -> None:
    sec05 = evaluate("SEC-05", Aliases=[on_alias("SEC-05", PUBLIC)])
    assert "public-live of app:live" in sec05.message
    assert sec05.evidence["public_statements"] == {"app:live": ["public-live"]}
    sec06 = evaluate("SEC-06", Aliases=[on_alias("SEC-06", OPEN_URL)])
    assert sec06.evidence["public_urls"] == ["app:live"]
    assert sec06.evidence["function_urls"] == {"app:live": OPEN_URL}
    sec08 = evaluate("SEC-08", Aliases=[on_alias("SEC-08", FOREIGN)])
    assert f"{OTHER} (statements partner-live of app:live)" in sec08.message
    assert sec08.evidence["statements"] == {OTHER: ["partner-live of app:live"]}


@pytest.mark.parametrize("control", sorted(READS))
def test_a_compliant_alias_passes_and_no_exposure_anywhere_is_not_applicable(
    control: str,
) -> None:
    passing = evaluate(control, Aliases=[on_alias(control, COMPLIANT[control])])
    assert passing.status == "pass", passing
    assert "app:live" in passing.message
    bare = evaluate(control, Aliases=[alias(), alias("blue")])
    assert bare.status == "not_applicable", bare
    assert "any alias" in bare.message


@pytest.mark.parametrize("control", sorted(READS))
def test_the_function_and_its_alias_are_read_together(control: str) -> None:
    key = READS[control][0]
    both = evaluate(
        control, **{key: COMPLIANT[control]}, Aliases=[on_alias(control, EXPOSED[control])]
    )
    assert both.status == "fail" and "app:live" in both.message
    reversed_ = evaluate(control, **{key: EXPOSED[control]}, Aliases=[alias()])
    assert reversed_.status == "fail" and "app:live" not in reversed_.message


def assert_error(finding: Result, operation: str, code: str) -> None:
    assert finding.status == "error", finding
    assert finding.evidence == {"operation": operation, "code": code}
    assert operation in finding.message


@pytest.mark.parametrize("control", sorted(READS))
def test_unreadable_alias_data_is_an_error(control: str) -> None:
    key, operation = READS[control]
    compliant = {key: COMPLIANT[control]}
    failed = evaluate(control, **compliant, Aliases=[on_alias(control, failed_read(operation))])
    assert_error(failed, operation, "AccessDeniedException")
    none = evaluate(control, Aliases=[on_alias(control, failed_read(operation))])
    assert_error(none, operation, "AccessDeniedException")


@pytest.mark.parametrize("control", sorted(READS))
def test_an_alias_from_an_older_snapshot_is_an_error_not_an_absence(control: str) -> None:
    key, operation = READS[control]
    old = alias()
    del old[key]
    finding = evaluate(control, Aliases=[old])
    assert_error(finding, operation, "NotInSnapshot")
    assert "taken by an older pytest-prr; take the snapshot again, with" in finding.message
    assert "grant the read permission" not in finding.message


@pytest.mark.parametrize("control", sorted(READS))
def test_unlisted_aliases_are_an_error(control: str) -> None:
    key = READS[control][0]
    listing = evaluate(
        control, **{key: COMPLIANT[control]}, Aliases=failed_read("lambda:ListAliases")
    )
    assert_error(listing, "lambda:ListAliases", "AccessDeniedException")
    function = make_function("app")
    del function["Aliases"]
    snapshot = build_snapshot(functions=[function])
    (finding,) = run_check(REGISTRY[control], snapshot, TUNABLES)
    assert_error(finding, "lambda:ListAliases", "NotInSnapshot")


@pytest.mark.parametrize("control", sorted(READS))
def test_a_certain_failure_stands_when_alias_data_is_missing(control: str) -> None:
    """The function fails whatever the alias holds; the finding says what was not read."""
    key, operation = READS[control]
    finding = evaluate(
        control,
        **{key: EXPOSED[control]},
        Aliases=[alias("blue"), on_alias(control, failed_read(operation))],
    )
    assert finding.status == "fail", finding
    assert f"not read: app:live ({operation})" in finding.message
    assert finding.evidence["unreadable"] == {"app:live": operation}


def test_an_open_url_on_the_function_fails_while_the_alias_urls_are_unreadable() -> None:
    """The moto case: the function's own URL read by the fallback, its aliases' URLs not."""
    unlisted = failed_read("lambda:ListFunctionUrlConfigs")
    finding = evaluate("SEC-06", FunctionUrl=OPEN_URL, Aliases=[alias(FunctionUrl=unlisted)])
    assert finding.status == "fail"
    assert finding.message.startswith("app: the function URL of app has AuthType NONE")
    assert finding.evidence["function_urls"] == {"app": OPEN_URL}


def test_a_region_of_functions_is_evaluated_one_by_one() -> None:
    """The alias read is per function: one function's unreadable alias errs alone."""
    public = make_function("public", Aliases=[on_alias("SEC-05", PUBLIC)])
    unread = make_function("unread", Aliases=[on_alias("SEC-05", failed_read("lambda:GetPolicy"))])
    quiet = make_function("quiet", Aliases=[alias()])
    snapshot = build_snapshot(functions=[public, unread, quiet])
    statuses = {
        finding.resource_id.rsplit(":", 1)[1]: finding.status
        for finding in run_check(REGISTRY["SEC-05"], snapshot, TUNABLES)
    }
    assert statuses == {"public": "fail", "unread": "error", "quiet": "not_applicable"}
