"""Status roll-up, test outcomes as statuses, and the results document."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import SHARED, validate_results
from pytest_prr.catalog import builtin_catalog
from pytest_prr.results import (
    CONTROL_ROLLUP,
    STATUSES,
    Result,
    Target,
    build_document,
    merge_phases,
    phase_status,
    rollup,
)

TARGET = Target(account="moto", account_id="123456789012", regions=("us-east-1",), mode="moto")
statuses = st.lists(st.sampled_from(STATUSES[:-1]), max_size=12)


@given(statuses, st.randoms())
def test_rollup_is_independent_of_order(found: list[str], random) -> None:
    shuffled = list(found)
    random.shuffle(shuffled)
    assert rollup(found) == rollup(shuffled)


@given(statuses)
def test_rollup_is_the_first_status_of_the_schema_order_present(found: list[str]) -> None:
    status = rollup(found)
    if not found:
        assert status == "not_tested"
    else:
        assert status in found
        assert all(CONTROL_ROLLUP.index(status) <= CONTROL_ROLLUP.index(s) for s in found)


def test_rollup_examples() -> None:
    assert rollup(["pass", "fail", "error"]) == "fail"
    assert rollup(["pass", "waived"]) == "waived"
    assert rollup(["not_applicable", "pass"]) == "pass"
    assert rollup(["not_applicable"]) == "not_applicable"
    with pytest.raises(ValueError, match="unknown status"):
        rollup(["ok"])


@pytest.mark.parametrize(
    ("when", "outcome", "exception", "flags", "expected"),
    [
        ("call", "passed", None, {}, "pass"),
        ("setup", "passed", None, {}, None),
        ("call", "failed", AssertionError("x"), {}, "fail"),
        ("call", "failed", pytest.fail.Exception("x"), {}, "fail"),
        ("call", "failed", KeyError("Configuration"), {}, "error"),
        ("setup", "failed", RuntimeError("fixture"), {}, "error"),
        ("teardown", "failed", AssertionError("x"), {}, "error"),
        ("call", "skipped", None, {}, None),
        ("call", "skipped", None, {"not_applicable": True}, "not_applicable"),
        ("call", "skipped", None, {"xfail": True}, "fail"),
    ],
)
def test_phase_status(when, outcome, exception, flags, expected) -> None:
    options = {"not_applicable": False, "xfail": False, **flags}
    assert phase_status(when, outcome, exception, **options) == expected


def result(control_id: str, status: str, test: str = "t.py::test", **extra) -> Result:
    return Result(control_id, "123456789012", status, test, **extra)


def test_phases_of_one_test_merge_into_one_result() -> None:
    merged = merge_phases([result("OBS-01", "pass"), result("OBS-01", "error", message="td")])
    assert merged == [result("OBS-01", "error", message="td")]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["SEC-01", "OBS-01", "REL-02"]),
            st.sampled_from(STATUSES[:-1]),
            st.sampled_from(["a.py::t1", "a.py::t2", "b.py::t3"]),
        ),
        max_size=15,
    ),
    st.randoms(),
)
def test_document_does_not_depend_on_arrival_order(found, random) -> None:
    results = [result(c, s, t, message=f"{c} {s} {t}") for c, s, t in found]
    shuffled = list(results)
    random.shuffle(shuffled)
    moment = datetime(2026, 11, 28, tzinfo=UTC)
    first = build_document(
        builtin_catalog(), [TARGET], results, tool_version="0", generated_at=moment
    )
    second = build_document(
        builtin_catalog(), [TARGET], shuffled, tool_version="0", generated_at=moment
    )
    assert first == second


def test_document_follows_the_schema_and_counts_coverage(results_schema: dict) -> None:
    catalog = builtin_catalog()
    document = build_document(
        catalog,
        [TARGET],
        [
            result("SEC-04", "pass"),
            result("SEC-04", "fail", "t.py::other"),
            result("OBS-01", "not_applicable", message="no functions"),
        ],
        tool_version="1.2.3",
    )
    validate_results(document, results_schema)
    assert document["summary"]["controls_total"] == len(catalog)
    assert document["summary"]["controls_tested"] == 2
    assert document["summary"]["coverage_pct"] == round(200 / len(catalog), 1)
    assert document["summary"]["by_status"]["fail"] == 1
    assert document["summary"]["by_status"]["not_applicable"] == 1
    sec04 = next(c for c in document["controls"] if c["id"] == "SEC-04")
    assert sec04["status"] == "fail"
    assert sec04["tests"] == ["t.py::other", "t.py::test"]
    assert document["tool"] == {
        "name": "pytest-prr",
        "version": "1.2.3",
        "catalog_version": catalog.version,
    }


def test_requirement_with_an_untested_control_is_not_a_pass() -> None:
    catalog = builtin_catalog()
    requirement_of = {
        ref: [c.id for c in catalog if ref in c.frameworks["iso27001_2022"]]
        for ref in catalog.frameworks["iso27001_2022"].by_ref
    }
    ref, control_ids = next((r, ids) for r, ids in requirement_of.items() if len(ids) >= 2)
    results = [result(control_ids[0], "pass")]
    document = build_document(catalog, [TARGET], results, tool_version="0")
    row = next(r for r in document["frameworks"]["iso27001_2022"] if r["ref"] == ref)
    assert row["controls"] == control_ids
    assert row["status"] == "not_tested"
    every = build_document(
        catalog, [TARGET], [result(c, "pass") for c in control_ids], tool_version="0"
    )
    row = next(r for r in every["frameworks"]["iso27001_2022"] if r["ref"] == ref)
    assert row["status"] == "pass"


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared spec is not beside this checkout")
def test_packaged_schema_is_the_published_one(results_schema: dict) -> None:
    published = json.loads((SHARED / "spec" / "results.schema.json").read_text())
    assert results_schema == published
