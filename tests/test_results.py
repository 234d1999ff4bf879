"""Status roll-up, test outcomes as statuses, and the results document."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pytest_prr.report
from conftest import validate_results
from pytest_prr.catalog import builtin_catalog
from pytest_prr.plugin.running import phase_status
from pytest_prr.results.model import (
    CONTROL_ROLLUP,
    STATUSES,
    Result,
    Target,
    build_document,
    merge_phases,
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


#: SHA-256 of the published ``prr-results/1`` schema (spec v1.1's results.schema.json). The
#: package ships that file as it is; a change to it is a change to the published contract,
#: made in the spec first, with this digest.
PUBLISHED_SCHEMA_SHA256 = "3957e52db4e0423d1ce913818991bdefcc669a664e97acda5077c29e2a8a9fd7"


def test_packaged_schema_is_the_published_one() -> None:
    packaged = Path(pytest_prr.report.__file__).with_name("results.schema.json")
    assert hashlib.sha256(packaged.read_bytes()).hexdigest() == PUBLISHED_SCHEMA_SHA256


def requirement(document: dict, framework: str, ref: str) -> dict:
    return next(r for r in document["frameworks"][framework] if r["ref"] == ref)


def shared_requirement(framework: str) -> tuple[str, list[str]]:
    """A requirement of ``framework`` and its controls, mapped to two controls or more, so
    that a roll-up over several statuses can be seen."""
    catalog = builtin_catalog()
    mapped = [
        (ref, [c.id for c in catalog if ref in c.frameworks[framework]])
        for ref in catalog.frameworks[framework].by_ref
    ]
    return next((ref, ids) for ref, ids in mapped if len(ids) >= 2)


def test_a_requirement_met_only_through_waivers_is_not_met() -> None:
    ref, control_ids = shared_requirement("soc2_2017")
    results = [result(control_ids[0], "waived"), *(result(c, "pass") for c in control_ids[1:])]
    document = build_document(builtin_catalog(), [TARGET], results, tool_version="0")
    assert requirement(document, "soc2_2017", ref)["status"] == "waived"
    counts = document["summary"]["requirements"]["soc2_2017"]
    assert counts["waived"] >= 1
    assert counts["met"] == 0


def test_a_requirement_whose_controls_were_all_not_applicable_has_no_positive_evidence() -> None:
    ref, control_ids = shared_requirement("nist_csf_2")
    results = [result(c, "not_applicable") for c in control_ids]
    document = build_document(builtin_catalog(), [TARGET], results, tool_version="0")
    assert requirement(document, "nist_csf_2", ref)["status"] == "not_applicable"
    counts = document["summary"]["requirements"]["nist_csf_2"]
    assert counts["not_applicable"] >= 1
    assert counts["met"] == 0


def test_fin01_failing_affects_no_requirement() -> None:
    catalog = builtin_catalog()
    everything = [result(c.id, "pass") for c in catalog if c.domain != "FIN"]
    passing = build_document(catalog, [TARGET], everything, tool_version="0")
    failing = build_document(
        catalog, [TARGET], [*everything, result("FIN-01", "fail")], tool_version="0"
    )
    assert failing["frameworks"] == passing["frameworks"]
    assert failing["summary"]["requirements"] == passing["summary"]["requirements"]
    assert all(
        "FIN-01" not in r["controls"] and r["status"] == "pass"
        for requirements in failing["frameworks"].values()
        for r in requirements
    )
    assert failing["summary"]["readiness"] == {
        "verdict": "not_ready",
        "fail": 1,
        "error": 0,
        "not_tested": 1,
    }


def test_summary_counts_requirements_per_outcome_and_gives_the_verdict() -> None:
    catalog = builtin_catalog()
    by_control = {c.id: "pass" for c in catalog}
    by_control.update({"SEC-04": "fail", "OBS-01": "error", "REL-02": "waived", "NET-01": None})
    results = [result(c, s) for c, s in by_control.items() if s is not None]
    document = build_document(catalog, [TARGET], results, tool_version="0")
    summary = document["summary"]
    assert summary["readiness"] == {"verdict": "not_ready", "fail": 1, "error": 1, "not_tested": 1}
    outcome = {"pass": "met", "fail": "unmet"}
    for key, requirements in document["frameworks"].items():
        expected = dict.fromkeys(
            ("met", "waived", "not_applicable", "unmet", "error", "not_tested"), 0
        )
        for r in requirements:
            expected[outcome.get(r["status"], r["status"])] += 1
        assert summary["requirements"][key] == expected
        assert sum(expected.values()) == len(requirements)
        assert expected["unmet"] and expected["error"] and expected["not_tested"], key
    ready = build_document(
        catalog, [TARGET], [result(c.id, "pass") for c in catalog], tool_version="0"
    )
    assert ready["summary"]["readiness"] == {
        "verdict": "ready",
        "fail": 0,
        "error": 0,
        "not_tested": 0,
    }
    assert all(
        counts["met"] == len(ready["frameworks"][key])
        for key, counts in ready["summary"]["requirements"].items()
    )


def test_replay_rebuilds_the_same_summary_and_names_an_edited_verdict() -> None:
    from pytest_prr.evidence.replay import inconsistencies

    catalog = builtin_catalog()
    moment = datetime(2026, 11, 28, tzinfo=UTC)
    results = [result("SEC-04", "fail"), result("REL-02", "waived"), result("NET-02", "pass")]
    document = build_document(catalog, [TARGET], results, tool_version="0", generated_at=moment)
    assert inconsistencies(document, catalog) == []
    edited = json.loads(json.dumps(document))
    edited["summary"]["readiness"]["verdict"] = "ready"
    assert inconsistencies(edited, catalog) == [
        "summary does not follow from the recorded resources"
    ]
