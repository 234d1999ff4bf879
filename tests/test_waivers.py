"""Waivers: loading and validation, matching by ARN glob and by tag, expiry, stale waivers,
and what a waived result looks like in the results document."""

from __future__ import annotations

import dataclasses
import datetime
import json
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import validate_results
from pytest_prr.catalog import builtin_catalog
from pytest_prr.results.model import STATUSES, Result, Target, build_document, rollup
from pytest_prr.results.waivers import (
    Waiver,
    WaiverError,
    apply_waivers,
    function_tags,
    load_waivers,
    report_waivers,
)
from snapshots import build_snapshot, failed_read, function_arn, make_function

TODAY = datetime.date(2026, 11, 28)
LEGACY = function_arn("legacy-billing")
ORDERS = function_arn("orders-api")
TAGS = {LEGACY: {"Team": "billing", "Environment": "prod"}, ORDERS: {"Team": "orders"}}
ENTRY = """
  - control: SEC-01
    resources: arn:aws:lambda:us-east-1:123456789012:function:legacy-*
    justification: the runtime upgrade ships with the Q1 billing release
    approved_by: ciso@example.com
    expires: 2026-12-31
"""
TARGET = Target(account="test", account_id="123456789012", regions=("us-east-1",), mode="moto")


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text(textwrap.dedent(body))
    return path


def waiver(**fields) -> Waiver:
    defaults = {
        "control": "SEC-01",
        "justification": "accepted",
        "approved_by": "ciso@example.com",
        "expires": datetime.date(2026, 12, 31),
        "resources": (LEGACY,),
    }
    return Waiver(**{**defaults, **fields})


def result(resource_id: str = LEGACY, status: str = "fail", control_id: str = "SEC-01") -> Result:
    return Result(
        control_id=control_id,
        resource_id=resource_id,
        status=status,
        test=f"prr::{control_id}",
        message=f"{status} for {resource_id}",
        account_id="123456789012",
        region="us-east-1",
    )


def test_a_file_loads_with_globs_lists_tags_and_optional_fields(tmp_path: Path) -> None:
    body = (
        "waivers:"
        + ENTRY
        + textwrap.indent(
            textwrap.dedent(
                """\
            - control: OBS-01
              tags: {Team: billing, Environment: prod}
              justification: "  logs ship to the billing SIEM instead  "
              approved_by: ciso@example.com
              expires: '2027-03-31'
              id: W-7
              ticket: RISK-1234
            - control: SEC-02
              resources: [arn:aws:lambda:*:123456789012:function:a, "*:function:b"]
              justification: rotated weekly
              approved_by: ciso@example.com
              expires: 2027-01-15
            """
            ),
            "  ",
        )
    )
    glob, tags, listed = load_waivers(write(tmp_path, body), builtin_catalog())
    assert glob.resources == ("arn:aws:lambda:us-east-1:123456789012:function:legacy-*",)
    assert glob.expires == datetime.date(2026, 12, 31) and glob.entry == 0
    assert tags.tags == (("Environment", "prod"), ("Team", "billing"))
    assert tags.justification == "logs ship to the billing SIEM instead"
    assert (tags.id, tags.ticket, tags.expires) == ("W-7", "RISK-1234", datetime.date(2027, 3, 31))
    assert listed.resources == ("arn:aws:lambda:*:123456789012:function:a", "*:function:b")
    # The shape every output records (renderers read it): one glob stays a string.
    assert glob.to_dict() == {
        "control": "SEC-01",
        "resources": "arn:aws:lambda:us-east-1:123456789012:function:legacy-*",
        "justification": "the runtime upgrade ships with the Q1 billing release",
        "approved_by": "ciso@example.com",
        "expires": "2026-12-31",
    }
    assert tags.to_dict()["tags"] == {"Environment": "prod", "Team": "billing"}
    assert tags.to_dict()["id"] == "W-7" and tags.to_dict()["ticket"] == "RISK-1234"
    assert listed.to_dict()["resources"] == list(listed.resources)


def test_an_empty_list_is_no_waivers(tmp_path: Path) -> None:
    assert load_waivers(write(tmp_path, "waivers: []\n"), builtin_catalog()) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "expected a mapping with a 'waivers' list at the top"),
        ("waivers: 3\n", "waivers: 3 is not of type 'array'"),
        ("waiver: []\n", "top level: 'waivers' is a required property"),
        ("waivers: [\n", "not valid YAML"),
        ("waivers:\n  - SEC-01\n", "waivers[0]: 'SEC-01' is not of type 'object'"),
        (
            "waivers:" + ENTRY.replace("    expires: 2026-12-31\n", ""),
            "waivers[0] (SEC-01): 'expires' is a required property",
        ),
        (
            "waivers:" + ENTRY.replace("2026-12-31", "soon"),
            "waivers[0] (SEC-01).expires: 'soon' is not a date (YYYY-MM-DD)",
        ),
        (
            "waivers:" + ENTRY.replace("2026-12-31", "2026-02-30"),
            "waivers[0] (SEC-01).expires: '2026-02-30' is not a date",
        ),
        (
            "waivers:" + ENTRY.replace("2026-12-31", "2026-12-31 10:00:00"),
            "waivers[0] (SEC-01).expires: '2026-12-31 10:00:00' is not a date",
        ),
        (
            "waivers:" + ENTRY + "    tags: {Team: billing}\n",
            "waivers[0] (SEC-01): give exactly one of 'resources' (ARN globs), 'tags' (a",
        ),
        (
            "waivers:" + ENTRY.replace(ENTRY.splitlines()[2] + "\n", ""),
            "waivers[0] (SEC-01): give exactly one of 'resources'",
        ),
        (
            "waivers:" + ENTRY.replace("SEC-01", "SEC-40"),
            "waivers[0] (SEC-40): unknown control 'SEC-40'; did you mean SEC-04",
        ),
        ("waivers:" + ENTRY.replace("SEC-01", "sec-01"), "'sec-01' does not match"),
        (
            "waivers:"
            + ENTRY.replace("the runtime upgrade ships with the Q1 billing release", '" "'),
            "waivers[0] (SEC-01).justification: must not be blank",
        ),
        ("waivers:" + ENTRY + "    owner: me\n", "('owner' was unexpected)"),
        (
            "waivers:"
            + ENTRY.replace(
                "resources: arn:aws:lambda:us-east-1:123456789012:", "resources: []  #"
            ),
            "waivers[0] (SEC-01).resources: [] should be non-empty",
        ),
        (
            "waivers:"
            + ENTRY.replace(
                "resources: arn:aws:lambda:us-east-1:123456789012:", "tags: {Tier: 1}  #"
            ),
            "waivers[0] (SEC-01).tags.Tier: 1 is not of type 'string'",
        ),
        (
            "waivers:" + ENTRY + "    id: W-1\n" + ENTRY + "    id: W-1\n",
            "waivers[1] (SEC-01): id 'W-1' is already used by waivers[0]",
        ),
    ],
)
def test_a_malformed_entry_is_an_error_naming_file_and_entry(
    tmp_path: Path, body: str, message: str
) -> None:
    path = write(tmp_path, body)
    with pytest.raises(WaiverError) as error:
        load_waivers(path, builtin_catalog())
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)


def test_the_first_bad_entry_is_named_in_file_order(tmp_path: Path) -> None:
    body = "waivers:" + ENTRY + ENTRY.replace("2026-12-31", "later") + ENTRY.replace("SEC", "X")
    with pytest.raises(WaiverError, match=r"waivers\[1\] \(SEC-01\)\.expires"):
        load_waivers(write(tmp_path, body), builtin_catalog())


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(WaiverError, match="cannot read the waivers file"):
        load_waivers(tmp_path / "absent.yaml", builtin_catalog())


def test_an_arn_glob_matches_case_sensitively_and_only_its_control() -> None:
    glob = waiver(resources=("arn:aws:lambda:us-east-1:123456789012:function:legacy-*",))
    assert glob.covers(result(LEGACY), TAGS.get)
    assert not glob.covers(result(ORDERS), TAGS.get)
    assert not glob.covers(result(LEGACY.replace("legacy", "Legacy")), TAGS.get)
    assert not glob.covers(result(LEGACY, control_id="SEC-02"), TAGS.get)
    several = waiver(resources=("*:function:nothing", "*:function:orders-api"))
    assert several.covers(result(ORDERS), TAGS.get)
    account = waiver(resources=("123456789012/*",))
    assert account.covers(result("123456789012/us-east-1"), TAGS.get)


def test_a_tag_match_needs_every_tag_and_known_tags() -> None:
    billing = waiver(resources=(), tags=(("Team", "billing"),))
    assert billing.covers(result(LEGACY), TAGS.get)
    assert not billing.covers(result(ORDERS), TAGS.get)
    both = waiver(resources=(), tags=(("Environment", "prod"), ("Team", "orders")))
    assert not both.covers(result(ORDERS), TAGS.get)  # no Environment tag
    assert not billing.covers(result("123456789012/us-east-1"), TAGS.get)  # no tags at all
    assert not waiver(resources=(), tags=(("Team", "Billing"),)).covers(result(LEGACY), TAGS.get)


def test_a_matching_fail_becomes_waived_keeping_status_and_waiver() -> None:
    accepted = waiver()
    (waived, untouched) = apply_waivers(
        [result(), result(ORDERS)], [accepted], today=TODAY, tags_of=TAGS.get
    )
    assert (waived.status, waived.original_status) == ("waived", "fail")
    assert waived.waiver == accepted.to_dict()
    assert waived.message == result().message
    assert untouched == result(ORDERS)


@pytest.mark.parametrize("status", ["error", "pass", "not_applicable"])
def test_only_a_fail_is_waivable_an_error_stays_an_error(status: str) -> None:
    (found,) = apply_waivers([result(status=status)], [waiver()], today=TODAY, tags_of=TAGS.get)
    assert found == result(status=status)


def test_expiry_is_inclusive_of_its_day() -> None:
    accepted = waiver(expires=TODAY)
    (on_the_day,) = apply_waivers([result()], [accepted], today=TODAY, tags_of=TAGS.get)
    assert on_the_day.status == "waived"
    day_after = TODAY + datetime.timedelta(days=1)
    (after,) = apply_waivers([result()], [accepted], today=day_after, tags_of=TAGS.get)
    assert after == result()
    assert report_waivers([accepted], [on_the_day], today=TODAY, tags_of=TAGS.get).expired == ()
    report = report_waivers([accepted], [after], today=day_after, tags_of=TAGS.get)
    assert report.expired == ((accepted, (LEGACY,)),) and report.stale == ()
    (expired,) = report.to_dict()["expired"]
    assert expired["expires"] == "2026-11-28" and expired["resources_affected"] == [LEGACY]


def test_the_first_active_waiver_in_file_order_applies() -> None:
    old = waiver(expires=TODAY - datetime.timedelta(days=1), justification="old", entry=0)
    first = waiver(justification="first", entry=1)
    second = waiver(resources=(), tags=(("Team", "billing"),), justification="second", entry=2)
    (found,) = apply_waivers([result()], [old, first, second], today=TODAY, tags_of=TAGS.get)
    assert found.waiver == first.to_dict()
    report = report_waivers([old, first, second], [found], today=TODAY, tags_of=TAGS.get)
    assert report.expired == ((old, (LEGACY,)),) and report.stale == ()


def test_a_waiver_covering_nothing_failing_is_stale() -> None:
    fixed = waiver(resources=(ORDERS,))
    results = [result(), result(ORDERS, status="pass")]
    assert report_waivers([fixed], results, today=TODAY, tags_of=TAGS.get).stale == (fixed,)
    # An expired waiver that covers nothing is stale, not expired: there is nothing to renew.
    old = waiver(resources=(ORDERS,), expires=TODAY - datetime.timedelta(days=30))
    report = report_waivers([old], results, today=TODAY, tags_of=TAGS.get)
    assert (report.stale, report.expired) == ((old,), ())
    # A resource that could not be evaluated may still need the waiver: not stale.
    unknown = [result(ORDERS, status="error")]
    assert report_waivers([fixed], unknown, today=TODAY, tags_of=TAGS.get).stale == ()
    assert report_waivers([fixed], [], today=TODAY, tags_of=TAGS.get).to_dict() == {
        "expired": [],
        "stale": [],
    }, "a control the run did not test tells nothing about its waivers"


def test_a_control_whose_only_problems_are_waived_rolls_up_to_waived() -> None:
    results = apply_waivers(
        [result(), result(ORDERS, status="pass")], [waiver()], today=TODAY, tags_of=TAGS.get
    )
    assert rollup(r.status for r in results) == "waived"
    assert rollup([*(r.status for r in results), "fail"]) == "fail"
    assert rollup([*(r.status for r in results), "error"]) == "error"


def test_the_document_records_waived_resources_and_the_waivers_section(results_schema) -> None:
    accepted, stale = waiver(), waiver(control="SEC-02", resources=(ORDERS,), entry=1)
    results = [result(), result(ORDERS, status="pass"), result(ORDERS, "pass", "SEC-02")]
    waived = apply_waivers(results, [accepted, stale], today=TODAY, tags_of=TAGS.get)
    document = build_document(builtin_catalog(), [TARGET], waived, tool_version="test")
    document["waivers"] = report_waivers(
        [accepted, stale], waived, today=TODAY, tags_of=TAGS.get
    ).to_dict()
    validate_results(document, results_schema)
    control = next(c for c in document["controls"] if c["id"] == "SEC-01")
    assert control["status"] == "waived"
    assert document["summary"]["by_status"]["waived"] == 1
    entry = next(r for r in control["resources"] if r["id"] == LEGACY)
    assert entry["status"] == "waived" and entry["original_status"] == "fail"
    assert entry["waiver"] == accepted.to_dict()
    assert "original_status" not in next(r for r in control["resources"] if r["id"] == ORDERS)
    assert document["waivers"]["stale"] == [{**stale.to_dict(), "entry": 1}]
    assert json.loads(json.dumps(document)) == document


def test_a_waived_result_travels_as_a_plain_dict() -> None:
    (waived,) = apply_waivers([result()], [waiver()], today=TODAY, tags_of=TAGS.get)
    carried = json.loads(json.dumps(waived.to_dict()))
    assert Result.from_dict(carried) == waived
    assert Result.from_dict(result().to_dict()) == result()


def test_function_tags_come_from_the_snapshot_and_unreadable_tags_match_nothing() -> None:
    snapshot = build_snapshot(
        [
            make_function("legacy-billing", Tags={"Team": "billing"}),
            make_function("orders-api", Tags=failed_read("lambda:GetFunction")),
        ]
    )
    tags_of = function_tags(snapshot)
    assert tags_of(LEGACY) == {"Team": "billing"}
    assert tags_of(ORDERS) is None
    billing = waiver(resources=(), tags=(("Team", "billing"),))
    (found,) = apply_waivers([result()], [billing], today=TODAY, tags_of=tags_of)
    assert found.status == "waived"


def test_a_region_whose_functions_could_not_be_listed_has_no_tags() -> None:
    snapshot = build_snapshot()
    snapshot.data["regions"]["us-east-1"]["lambda"]["functions"] = failed_read("ListFunctions")
    assert function_tags(snapshot)(function_arn("app")) is None


results_strategy = st.lists(
    st.builds(
        result,
        resource_id=st.sampled_from([LEGACY, ORDERS, "123456789012/us-east-1"]),
        status=st.sampled_from(STATUSES[:-1]),
        control_id=st.sampled_from(["SEC-01", "SEC-02"]),
    ),
    max_size=10,
)
waivers_strategy = st.lists(
    st.builds(
        waiver,
        control=st.sampled_from(["SEC-01", "SEC-02"]),
        resources=st.sampled_from([(LEGACY,), ("*",), ("*:function:orders-*",), ()]),
        expires=st.dates(datetime.date(2026, 11, 1), datetime.date(2026, 12, 31)),
    ).map(lambda w: w if w.resources else dataclasses.replace(w, tags=(("Team", "billing"),))),
    max_size=4,
)


@given(results_strategy, waivers_strategy, st.dates(TODAY, datetime.date(2027, 1, 31)))
def test_waivers_only_ever_turn_a_fail_into_waived(results, waivers, today) -> None:
    applied = apply_waivers(results, waivers, today=today, tags_of=TAGS.get)
    assert len(applied) == len(results)
    for before, after in zip(results, applied, strict=True):
        if after != before:
            assert before.status == "fail"
            assert (after.status, after.original_status) == ("waived", "fail")
            assert any(after.waiver == w.to_dict() and w.active_on(today) for w in waivers)
        else:
            assert before.status != "fail" or not any(
                w.active_on(today) and w.covers(before, TAGS.get) for w in waivers
            )
    # Idempotent: applying again (in another process, say) changes nothing.
    assert apply_waivers(applied, waivers, today=today, tags_of=TAGS.get) == applied
