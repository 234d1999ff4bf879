"""Waivers of users' own ``@prr.control`` tests: a ``tests:`` waiver names them by node-ID
glob, turns their FAIL into ``waived`` as it does a resource's, lets the test pass, and is
stale when it matched nothing; resource waivers never reach a user test's result."""

from __future__ import annotations

import csv
import dataclasses
import datetime
import fnmatch
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import Project
from pytest_prr.catalog import builtin_catalog
from pytest_prr.results.model import Result
from pytest_prr.results.waiver_sections import combine_reports
from pytest_prr.results.waivers import (
    Waiver,
    WaiverError,
    apply_waivers,
    load_waivers,
    node_id_matches,
    report_waivers,
)
from pytest_prr.snapshot.store import save_snapshot
from snapshots import build_snapshot

TODAY = datetime.date(2026, 11, 28)  # tests/snapshots.py's taken_at
ACCOUNT = "123456789012"
NODE = "tests/readiness/test_orders.py::test_tracing"
NO_TAGS = {}.get


def user_result(test: str = NODE, status: str = "fail", control_id: str = "OBS-01") -> Result:
    return Result(control_id, ACCOUNT, status, test, "tracing is off", account_id=ACCOUNT)


def builtin_result(resource_id: str = ACCOUNT, control_id: str = "OBS-01") -> Result:
    return Result(control_id, resource_id, "fail", f"prr::{control_id}", "off", ACCOUNT)


def waiver(**fields) -> Waiver:
    defaults = {
        "control": "OBS-01",
        "justification": "tracing ships with the Q1 release",
        "approved_by": "ciso@example.com",
        "expires": datetime.date(2027, 6, 30),
        "tests": ("tests/readiness/test_orders.py::test_*",),
    }
    return Waiver(**{**defaults, **fields})


def test_a_tests_waiver_covers_the_user_tests_it_names_and_nothing_else() -> None:
    accepted = waiver()
    assert accepted.covers(user_result(), NO_TAGS)
    assert not accepted.covers(user_result("tests/readiness/test_billing.py::test_x"), NO_TAGS)
    assert not accepted.covers(user_result(control_id="OBS-02"), NO_TAGS)
    # A built-in control's result is about a resource, not a test: a tests waiver leaves it.
    assert not waiver(tests=("*",)).covers(builtin_result(), NO_TAGS)
    per_account = dataclasses.replace(builtin_result(), test="prr::OBS-01[prod]")
    assert not waiver(tests=("*",)).covers(per_account, NO_TAGS)
    (waived,) = apply_waivers([user_result()], [accepted], today=TODAY, tags_of=NO_TAGS)
    assert (waived.status, waived.original_status) == ("waived", "fail")
    assert waived.waiver == accepted.to_dict()
    assert waived.to_dict()["waiver"]["tests"] == "tests/readiness/test_orders.py::test_*"


def test_a_resource_waiver_never_covers_a_user_test_and_is_stale_for_it() -> None:
    """The auditor's case: ``resources: '*'`` on a control only a user's test evidences was
    counted as used, though it never applied."""
    everything = waiver(tests=(), resources=("*",))
    assert not everything.covers(user_result(), NO_TAGS)
    assert everything.covers(builtin_result(), NO_TAGS)
    results = apply_waivers([user_result()], [everything], today=TODAY, tags_of=NO_TAGS)
    assert results == [user_result()]
    report = report_waivers([everything], results, today=TODAY, tags_of=NO_TAGS)
    assert report.stale == (everything,)


def test_an_error_of_a_user_test_is_never_waived() -> None:
    (found,) = apply_waivers(
        [user_result(status="error")], [waiver()], today=TODAY, tags_of=NO_TAGS
    )
    assert found.status == "error"


def test_a_tests_waiver_that_matched_nothing_is_stale_and_one_past_its_day_expired() -> None:
    typo = waiver(tests=("tests/readiness/test_order.py::*",), entry=0)
    old = waiver(expires=TODAY - datetime.timedelta(days=1), entry=1)
    results = [user_result(), user_result("tests/readiness/test_orders.py::test_ok", "pass")]
    report = report_waivers([typo, old], results, today=TODAY, tags_of=NO_TAGS)
    assert report.stale == (typo,)
    assert report.expired == ((old, (ACCOUNT,)),)


def test_over_several_accounts_a_tests_waiver_used_in_one_is_not_stale() -> None:
    accepted = waiver()
    (waived,) = apply_waivers([user_result()], [accepted], today=TODAY, tags_of=NO_TAGS)
    used = report_waivers([accepted], [waived], today=TODAY, tags_of=NO_TAGS).to_dict()
    passed = user_result(status="pass")
    unused = report_waivers([accepted], [passed], today=TODAY, tags_of=NO_TAGS).to_dict()
    assert unused["stale"] and not used["stale"]
    controls = [{"id": "OBS-01", "resources": [{"id": ACCOUNT, **waived.to_dict()}]}]
    assert combine_reports([used, unused], controls) == {"expired": [], "stale": []}


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text(textwrap.dedent(body))
    return path


TESTS_ENTRY = """
waivers:
  - control: OBS-01
    tests: {tests}
    justification: tracing ships with the Q1 release
    approved_by: ciso@example.com
    expires: 2027-06-30
"""


def test_a_file_names_tests_by_one_glob_or_a_list(tmp_path: Path) -> None:
    (one,) = load_waivers(write(tmp_path, TESTS_ENTRY.format(tests=NODE)), builtin_catalog())
    assert one.tests == (NODE,) and one.resources == () and one.tags == ()
    listed = TESTS_ENTRY.format(tests=f'["{NODE}", "test_x.py::test_y[eu-west-1]"]')
    (several,) = load_waivers(write(tmp_path, listed), builtin_catalog())
    assert several.tests == (NODE, "test_x.py::test_y[eu-west-1]")
    assert several.to_dict()["tests"] == [*several.tests]


@pytest.mark.parametrize(
    ("tests", "message"),
    [
        ("[]", "waivers[0] (OBS-01).tests: [] should be non-empty"),
        ('" "', "waivers[0] (OBS-01).tests: must not be blank"),
        ("[3]", "waivers[0] (OBS-01).tests[0]: 3 is not of type 'string'"),
        (
            "prr::OBS-01",
            "waivers[0] (OBS-01).tests: 'prr::OBS-01' names a built-in control's item; waive "
            "its results with 'resources' (ARN globs) or 'tags'",
        ),
        (
            f"{NODE}\n    resources: '*'",
            "waivers[0] (OBS-01): give exactly one of 'resources' (ARN globs), 'tags' (a mapping) "
            "or 'tests' (test node-ID globs)",
        ),
    ],
)
def test_a_malformed_tests_entry_is_an_error(tmp_path: Path, tests: str, message: str) -> None:
    path = write(tmp_path, TESTS_ENTRY.format(tests=tests))
    with pytest.raises(WaiverError) as error:
        load_waivers(path, builtin_catalog())
    assert str(error.value) == f"{path}: {message}"


node_ids = st.text(alphabet="abc_/.:[]-*?", max_size=20)


@given(node_ids, node_ids)
def test_a_node_id_matches_itself_and_star_matches_any_tail(nodeid: str, tail: str) -> None:
    literal = nodeid.replace("*", "x").replace("?", "x")
    assert node_id_matches(literal, literal)
    assert node_id_matches("*", nodeid)
    assert node_id_matches(literal + "*", literal + tail)
    assert node_id_matches(literal + "?", literal + "z")
    assert not node_id_matches(literal, literal + "z")


@given(st.text(alphabet="ab_/.:*?-", max_size=8), node_ids)
def test_without_brackets_the_glob_is_fnmatch(glob: str, nodeid: str) -> None:
    assert node_id_matches(glob, nodeid) == fnmatch.fnmatchcase(nodeid, glob)


def test_brackets_are_literal_so_a_parametrized_id_is_written_as_shown() -> None:
    assert node_id_matches("t.py::test_x[eu-west-1]", "t.py::test_x[eu-west-1]")
    assert not node_id_matches("t.py::test_x[eu]", "t.py::test_xe")
    assert node_id_matches("t.py::test_x[*]", "t.py::test_x[us-east-1]")


USER_TESTS = """
import pytest
import pytest_prr as prr

@prr.control("OBS-01")
def test_tracing():
    assert False, "orders: tracing is off"

@prr.control("OBS-01", "DEP-05")
def test_two_controls():
    assert False, "orders: no tracing, no CostCenter tag"

@prr.control("REL-02")
def test_error():
    raise RuntimeError("the API is down")

@pytest.mark.parametrize("region", ["eu-west-1"])
@prr.control("SEC-04")
def test_param(region):
    assert False, f"no code signing in {region}"
"""
WAIVERS = """
waivers:
  - control: OBS-01
    tests: test_orders.py::test_*
    justification: tracing ships with the Q1 release
    approved_by: ciso@example.com
    expires: 2027-06-30
  - control: REL-02
    tests: [test_orders.py::test_error]
    justification: an error is never waived
    approved_by: ciso@example.com
    expires: 2027-06-30
  - control: DEP-05
    tests: test_orders.py::test_no_such_*
    justification: matches nothing
    approved_by: ciso@example.com
    expires: 2027-06-30
  - control: OBS-01
    resources: "*"
    justification: a resource glob, which no user test is
    approved_by: ciso@example.com
    expires: 2027-06-30
  - control: SEC-04
    tests: test_orders.py::test_param[eu-west-1]
    justification: signing arrives with the new pipeline
    approved_by: ciso@example.com
    expires: 2027-06-30
"""


@pytest.fixture
def waived_project(project: Project) -> Project:
    save_snapshot(build_snapshot(), project.path / "snapshot.json")
    (project.path / "waivers.yaml").write_text(WAIVERS)
    project.pyproject('[tool.pytest.ini_options]\nprr_waivers = "waivers.yaml"\n')
    project.tests(USER_TESTS, name="test_orders")
    return project


def resources(document: dict, control_id: str) -> dict[str, dict]:
    control = next(c for c in document["controls"] if c["id"] == control_id)
    return {resource["test"]: resource for resource in control["resources"]}


@pytest.mark.parametrize("workers", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_user_tests_fail_is_waived_and_the_test_passes(
    waived_project: Project, workers: list[str]
) -> None:
    result, document = waived_project.run_json(
        "--prr-snapshot=snapshot.json", "-rP", "--prr-csv=prr.csv", *workers
    )
    # test_tracing and test_param: every result waived. test_two_controls: DEP-05 is not.
    result.assert_outcomes(passed=2, failed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*prr: failure accepted by a waiver*", "*tracing is off*"])
    obs = resources(document, "OBS-01")
    for test in ("test_orders.py::test_tracing", "test_orders.py::test_two_controls"):
        assert (obs[test]["status"], obs[test]["original_status"]) == ("waived", "fail")
        assert obs[test]["waiver"]["tests"] == "test_orders.py::test_*"
    assert resources(document, "DEP-05")["test_orders.py::test_two_controls"]["status"] == "fail"
    assert resources(document, "REL-02")["test_orders.py::test_error"]["status"] == "error"
    param = resources(document, "SEC-04")["test_orders.py::test_param[eu-west-1]"]
    assert param["status"] == "waived"
    statuses = {c["id"]: c["status"] for c in document["controls"]}
    assert [statuses[c] for c in ("OBS-01", "SEC-04", "DEP-05")] == ["waived", "waived", "fail"]
    stale = [(w["entry"], w["control"]) for w in document["waivers"]["stale"]]
    assert stale == [(2, "DEP-05"), (3, "OBS-01")]
    assert document["waivers"]["expired"] == []
    rows = csv.DictReader((waived_project.path / "prr.csv").read_text().splitlines())
    covers = {
        row["test"]: row["waiver_resources"] for row in rows if row["resource_status"] == "waived"
    }
    assert covers["test_orders.py::test_tracing"] == "test test_orders.py::test_*"


def test_a_run_whose_only_failures_are_waived_succeeds(waived_project: Project) -> None:
    waived_project.tests(
        """
        import pytest_prr as prr

        @prr.control("OBS-01")
        def test_tracing():
            assert False, "orders: tracing is off"
        """,
        "test_orders",
    )
    result = waived_project.run("--prr-snapshot=snapshot.json", "-n", "2")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
