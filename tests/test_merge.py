"""``prr merge``: separate runs merged equal one run over all their targets."""

from __future__ import annotations

import copy
import datetime
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from documents import CATALOG, WHEN, account_run, account_snapshot, document
from pytest_prr.commands.cli import main
from pytest_prr.report.json_document import validate_document
from pytest_prr.report.merge import MergeError, merge_documents
from pytest_prr.results.model import STATUSES, Result, Target, build_document
from pytest_prr.results.run import AccountRun
from snapshots import make_function

LATER = WHEN + datetime.timedelta(hours=2)
ORDERS = account_run(
    account_snapshot(
        "111111111111", [make_function("orders-api"), make_function("legacy", Runtime="python3.8")]
    )
)
PAYMENTS = account_run(
    account_snapshot(
        "222222222222",
        [make_function("payments")],
        regions=("eu-west-1", "eu-central-1"),
        mode="live",
    ),
    user_test_status="fail",
)


def without_time(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "generated_at"}


def control(document: dict[str, Any], control_id: str) -> dict[str, Any]:
    return next(entry for entry in document["controls"] if entry["id"] == control_id)


def test_merging_two_accounts_equals_one_run_over_both() -> None:
    together = document(ORDERS, PAYMENTS)
    merged = merge_documents(
        {"orders.json": document(ORDERS), "payments.json": document(PAYMENTS)}, generated_at=LATER
    )
    assert without_time(merged) == without_time(together)
    # The verdict and the requirement counts are rebuilt from the merged controls, not copied.
    assert merged["summary"]["readiness"] == together["summary"]["readiness"]
    assert merged["summary"]["readiness"]["verdict"] == "not_ready"
    assert merged["summary"]["requirements"] == together["summary"]["requirements"]
    assert merged["generated_at"] == "2026-11-28T14:30:00Z"
    validate_document(merged)


def test_the_merged_document_keeps_every_account_s_verdicts() -> None:
    merged = merge_documents({"orders": document(ORDERS), "payments": document(PAYMENTS)})
    process = control(merged, "PRC-01")
    assert [(r["id"], r["account_id"]) for r in process["resources"]] == [
        ("workload", "111111111111"),
        ("workload", "222222222222"),
    ]
    runtime = control(merged, "SEC-01")
    assert {r["id"].split(":")[3] for r in runtime["resources"]} == {"us-east-1", "eu-west-1"} | {
        "eu-central-1"
    }
    user_tested = control(merged, "DAT-01")
    assert "tests/test_orders.py::test_orders_table_has_pitr" in user_tested["tests"]
    assert user_tested["status"] == "fail"  # payments' user test failed, orders' passed
    assert control(document(ORDERS), "DAT-01")["status"] != "fail"
    assert [t["account_id"] for t in merged["targets"]] == ["111111111111", "222222222222"]


def test_emulator_gaps_appear_when_any_input_ran_on_an_emulator() -> None:
    merged = merge_documents({"payments": document(PAYMENTS), "orders": document(ORDERS)})
    assert "emulator_gaps" not in control(document(PAYMENTS), "SEC-04")
    gaps = control(merged, "SEC-04")["emulator_gaps"]
    assert list(gaps) == ["moto"] and "code signing configs" in gaps["moto"][0]


def test_regions_of_one_account_merge_when_disjoint() -> None:
    east = account_run(account_snapshot("333333333333", regions=("us-east-1",)))
    west = account_run(account_snapshot("333333333333", regions=("us-west-2",)))
    merged = merge_documents({"east": document(east), "west": document(west)})
    assert without_time(merged) == without_time(document(east, west))


# Order independence, over arbitrary results ------------------------------------------

ACCOUNTS = ("111111111111", "222222222222", "333333333333")
result_fields = st.fixed_dictionaries(
    {
        "control_id": st.sampled_from(["SEC-01", "IAM-02", "GOV-04", "PRC-01", "DAT-01"]),
        "resource_id": st.sampled_from(["fn-a", "fn-b", "workload"]),
        "status": st.sampled_from(STATUSES[:-1]),
        "test": st.sampled_from(["prr::x", "tests/test_a.py::test_a"]),
        "region": st.sampled_from([None, "us-east-1"]),
    }
)


def target(account_id: str) -> Target:
    return Target(account=account_id, account_id=account_id, regions=("us-east-1",), mode="live")


@settings(max_examples=30, deadline=None)  # each example validates four documents
@given(
    results=st.lists(st.tuples(st.sampled_from(ACCOUNTS), result_fields), max_size=25),
    order=st.permutations(ACCOUNTS),
)
def test_merge_is_independent_of_input_order(results, order) -> None:
    by_account = {account: [] for account in ACCOUNTS}
    for account, fields in results:
        by_account[account].append(Result(account_id=account, **fields))

    def run_over(accounts: Sequence[str]) -> dict[str, Any]:
        return build_document(
            CATALOG,
            [target(account) for account in accounts],
            [result for account in accounts for result in by_account[account]],
            tool_version="t",
            generated_at=WHEN,
        )

    merged = merge_documents({account: run_over([account]) for account in order}, generated_at=WHEN)
    assert merged == run_over(order)
    in_catalog_order = run_over(ACCOUNTS)
    for section in ("summary", "controls", "frameworks"):
        assert merged[section] == in_catalog_order[section]


# Refusals ----------------------------------------------------------------------------


def test_an_invalid_input_is_named() -> None:
    broken = document(PAYMENTS)
    del broken["summary"]
    with pytest.raises(MergeError, match=r"^payments\.json: results document invalid at top"):
        merge_documents({"orders.json": document(ORDERS), "payments.json": broken})


def test_different_catalogs_are_refused() -> None:
    version = CATALOG.version
    other = document(PAYMENTS)
    other["tool"]["catalog_version"] = f"{version}+team.0123456789ab"
    with pytest.raises(MergeError) as refused:
        merge_documents({"a.json": document(ORDERS), "b.json": other})
    assert str(refused.value).startswith(
        f"the inputs come from different catalog versions ({version} in a.json; "
        f"{version}+team.0123456789ab in b.json)"
    )


def test_different_tool_versions_are_refused() -> None:
    with pytest.raises(MergeError, match=r"different pytest-prr versions \(1\.0 in a; 1\.1 in b\)"):
        merge_documents(
            {
                "a": document(ORDERS, tool_version="1.0"),
                "b": document(PAYMENTS, tool_version="1.1"),
            }
        )


def test_the_same_account_and_region_twice_is_refused() -> None:
    again = account_run(account_snapshot("111111111111", regions=("us-west-2", "us-east-1")))
    with pytest.raises(MergeError) as refused:
        merge_documents({"monday.json": document(ORDERS), "tuesday.json": document(again)})
    assert str(refused.value) == (
        "account 111111111111 region us-east-1 is in both monday.json and tuesday.json; merge "
        "each account and region once, or pass --allow-overlap to keep the worse verdict of "
        "each resource"
    )


def test_allowed_overlap_keeps_the_worse_verdict_once() -> None:
    passing = account_run(account_snapshot("111111111111"))
    failing = account_run(account_snapshot("111111111111"), user_test_status="fail")
    merged = merge_documents(
        {"pass": document(passing), "fail": document(failing)}, allow_overlap=True
    )
    entries = [r for r in control(merged, "DAT-01")["resources"] if r["test"].startswith("tests/")]
    assert [(r["status"], r["message"]) for r in entries] == [("fail", "PITR is off")]
    assert merged["targets"] == document(passing)["targets"] * 2
    same = merge_documents({"a": document(ORDERS), "b": document(ORDERS)}, allow_overlap=True)
    assert same["controls"] == document(ORDERS)["controls"]
    assert same["summary"] == document(ORDERS)["summary"]


def test_unknown_sections_are_refused_rather_than_dropped() -> None:
    extended = document(PAYMENTS)
    extended["attestations"] = []
    with pytest.raises(MergeError, match=r"^b: section\(s\) attestations cannot be merged"):
        merge_documents({"a": document(ORDERS), "b": extended})


def test_controls_that_differ_under_one_catalog_version_are_refused() -> None:
    edited = document(PAYMENTS)
    edited["controls"].pop()
    with pytest.raises(MergeError, match=r"^b lists other controls than a although both"):
        merge_documents({"a": document(ORDERS), "b": edited})


def test_nothing_to_merge() -> None:
    with pytest.raises(MergeError, match="nothing to merge"):
        merge_documents({})


def waiver(name: str, **extra: Any) -> dict[str, Any]:
    return {"id": name, "control": "SEC-01", "expires": "2027-01-01", **extra}


def test_waiver_sections_are_judged_over_every_account() -> None:
    first, second, third = document(ORDERS), document(PAYMENTS), document(PAYMENTS)
    third["targets"][0]["account_id"] = "444444444444"
    first["waivers"] = {
        "expired": [waiver("w1", entry="a.yaml: waivers[0]", resources_affected=["arn:b"])],
        "stale": [waiver("in-use-in-b"), waiver("stale-everywhere")],
    }
    second["waivers"] = {
        "expired": [waiver("w1", entry="a.yaml: waivers[0]", resources_affected=["arn:a"])],
        "stale": [waiver("w1"), waiver("stale-everywhere")],
    }
    entry = control(second, "SEC-01")["resources"][0]
    entry.update(status="waived", original_status="fail", waiver=waiver("in-use-in-b"))
    third["waivers"] = {"expired": [waiver("w2")], "stale": []}
    merged = merge_documents({"a": first, "b": second, "c": third})
    assert merged["waivers"] == {
        "expired": [
            waiver("w1", entry="a.yaml: waivers[0]", resources_affected=["arn:a", "arn:b"]),
            waiver("w2"),
        ],
        # Stale in one account but used in another is in use; expired anywhere is expired.
        "stale": [waiver("stale-everywhere")],
    }
    assert "waivers" not in merge_documents({"a": document(ORDERS), "b": document(PAYMENTS)})


def test_inputs_are_not_modified() -> None:
    inputs = {"a": document(ORDERS), "b": document(PAYMENTS)}
    before = copy.deepcopy(inputs)
    merged = merge_documents(inputs)
    control(merged, "SEC-01")["resources"][0]["status"] = "pass"
    assert inputs == before


# The command -------------------------------------------------------------------------


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_prr_merge_writes_the_merged_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orders = write(tmp_path / "orders.json", document(ORDERS))
    payments = write(tmp_path / "payments.json", document(PAYMENTS))
    out = tmp_path / "org" / "results.json"
    assert main(["merge", "-o", str(out), str(orders), str(payments)]) == 0
    assert without_time(json.loads(out.read_text())) == without_time(document(ORDERS, PAYMENTS))
    assert capsys.readouterr().out == (
        f"prr merge: 2 documents, 2 targets, 61/65 controls tested; written to {out}\n"
    )


@pytest.mark.parametrize(
    ("contents", "message"),
    [
        ("{", "b.json: not a JSON document: Expecting property name"),
        ("[]", 'b.json: results document invalid at top level: [] is not of type "object"'),
        (None, "b.json: cannot be read: No such file or directory"),
    ],
)
def test_prr_merge_refuses_bad_inputs_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], contents: str | None, message: str
) -> None:
    orders = write(tmp_path / "a.json", document(ORDERS))
    if contents is not None:
        (tmp_path / "b.json").write_text(contents)
    out = tmp_path / "out.json"
    assert main(["merge", "-o", str(out), str(orders), str(tmp_path / "b.json")]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_prr_merge_refuses_a_file_given_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "a.json", document(ORDERS))
    monkeypatch.chdir(tmp_path)
    assert main(["merge", "-o", "out.json", "a.json", str(tmp_path / "a.json")]) == 2
    assert capsys.readouterr().err == (
        f"prr merge: {tmp_path / 'a.json'} is given twice (also as a.json)\n"
    )


def test_prr_merge_allow_overlap(tmp_path: Path) -> None:
    first = write(tmp_path / "first.json", document(ORDERS))
    rerun = write(tmp_path / "rerun.json", document(ORDERS, generated_at=LATER))
    out = tmp_path / "out.json"
    assert main(["merge", "-o", str(out), str(first), str(rerun)]) == 2
    assert main(["merge", "--allow-overlap", "-o", str(out), str(first), str(rerun)]) == 0
    assert json.loads(out.read_text())["summary"] == document(ORDERS)["summary"]


def test_prr_merge_never_overwrites_an_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``prr merge prod.json dr.json`` once overwrote prod.json with dr.json alone, and
    ``prr merge a.json a.json b.json`` its own input (issue 15)."""
    prod = write(tmp_path / "prod.json", document(ORDERS))
    dr = write(tmp_path / "dr.json", document(PAYMENTS))
    before = prod.read_bytes()
    with pytest.raises(SystemExit) as usage:
        main(["merge", str(prod), str(dr)])
    assert usage.value.code == 2 and "-o/--output" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)
    assert main(["merge", "-o", "prod.json", "prod.json", "dr.json"]) == 2
    assert "prod.json is also an input" in capsys.readouterr().err
    assert main(["merge", "-o", str(tmp_path / "." / "dr.json"), "prod.json", "dr.json"]) == 2
    assert prod.read_bytes() == before


def test_prr_merge_replaces_an_existing_output_only_with_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orders = write(tmp_path / "orders.json", document(ORDERS))
    out = write(tmp_path / "out.json", {"kept": True})
    assert main(["merge", "-o", str(out), str(orders)]) == 2
    assert f"{out} exists; pass --force to replace it" in capsys.readouterr().err
    assert json.loads(out.read_text()) == {"kept": True}
    assert main(["merge", "-o", str(out), "--force", str(orders)]) == 0
    assert json.loads(out.read_text())["targets"] == document(ORDERS)["targets"]


def test_account_run_helper_is_a_real_run() -> None:
    """The fixtures above are not trivially equal: both accounts fail and error somewhere."""
    for run in (ORDERS, PAYMENTS):
        assert isinstance(run, AccountRun)
        statuses = {result.status for result in run.results}
        assert {"pass", "fail", "error", "not_applicable"} <= statuses
