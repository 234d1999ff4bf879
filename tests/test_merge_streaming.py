"""``prr merge`` reads one input at a time and still writes what merging them whole wrote.

The reference is the merge as it was before it streamed (issue 17): every document in
memory, each control's entries of every input concatenated, the worse verdict per
resource and test kept, then the roll-ups of the result. The streaming merge must give the
same document for any split of a run's results into shards, and write the same bytes.
"""

from __future__ import annotations

import errno
import json
import re
import sys
import tempfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from documents import CATALOG, WHEN, account_run, account_snapshot, document
from pytest_prr.commands.cli import main
from pytest_prr.report.json_document import write_document
from pytest_prr.report.merge import DocumentMerger, merge_documents
from pytest_prr.results.model import (
    STATUSES,
    Result,
    Target,
    build_document,
    resource_order,
    rollup,
    rollup_frameworks,
    summarize,
    timestamp,
)
from pytest_prr.results.waiver_sections import combine_reports
from snapshots import make_function


def whole_document_merge(documents: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The merge before issue 17, with every document held at once (checks left out)."""
    first = documents[0]
    controls = []
    for index, control in enumerate(first["controls"]):
        grouped: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
        for doc in documents:
            for entry in doc["controls"][index]["resources"]:
                key = (entry["id"], entry.get("account_id"), entry.get("region"), entry.get("test"))
                grouped[key].append(dict(entry))
        kept = []
        for found in grouped.values():
            status = rollup(entry["status"] for entry in found)
            kept.append(next(entry for entry in found if entry["status"] == status))
        entries = sorted(kept, key=resource_order)
        gaps: dict[str, list[str]] = {}
        for doc in documents:
            for emulator, whys in doc["controls"][index].get("emulator_gaps", {}).items():
                known = gaps.setdefault(emulator, [])
                known.extend(why for why in whys if why not in known)
        controls.append(
            {
                **control,
                "status": rollup(entry["status"] for entry in entries),
                "tests": sorted(
                    {test for doc in documents for test in doc["controls"][index]["tests"]}
                ),
                "resources": entries,
                **({"emulator_gaps": gaps} if gaps else {}),
            }
        )
    frameworks = rollup_frameworks(first["frameworks"], {c["id"]: c["status"] for c in controls})
    merged: dict[str, Any] = {
        "schema": first["schema"],
        "generated_at": timestamp(WHEN),
        "tool": dict(first["tool"]),
        "targets": [dict(target) for doc in documents for target in doc["targets"]],
        "summary": summarize(controls, frameworks),
        "domains": dict(first["domains"]),
        "controls": controls,
        "frameworks": frameworks,
    }
    waivers = [doc["waivers"] for doc in documents if "waivers" in doc]
    if waivers:
        merged["waivers"] = combine_reports(waivers, controls)
    return merged


# A run's results, split at random into shards ------------------------------------------

ACCOUNTS = ("111111111111", "222222222222")
WAIVERS = [
    {
        "control": "SEC-01",
        "resources": "fn-a",
        "justification": "j",
        "approved_by": "a",
        "expires": e,
    }
    for e in ("2020-01-01", "2099-01-01", "2099-06-01")
]
result_fields = st.fixed_dictionaries(
    {
        "account_id": st.sampled_from(ACCOUNTS),
        # Few keys, so that shards often judge the same resource with the same test.
        "control_id": st.sampled_from(["SEC-01", "DAT-01"]),
        "resource_id": st.sampled_from(["fn-a", "workload"]),
        "status": st.sampled_from(STATUSES),
        "test": st.sampled_from(["prr::x", "tests/test_a.py::test_a"]),
        "region": st.sampled_from([None, "us-east-1"]),
        "message": st.sampled_from(["", "≥ 2 AZs", "why"]),
        "waiver": st.sampled_from([None, *range(len(WAIVERS))]),
    }
)
waiver_section = st.fixed_dictionaries(
    {
        "expired": st.lists(
            st.tuples(st.sampled_from(range(len(WAIVERS))), st.sampled_from(["arn:1", "arn:2"])),
            max_size=2,
        ),
        "stale": st.lists(st.sampled_from(range(len(WAIVERS))), max_size=2),
    }
)


def result(fields: dict[str, Any]) -> Result:
    """A result; one that names a waiver is waived by it (its FAIL accepted)."""
    waiver = fields.pop("waiver")
    if waiver is None or fields["status"] != "fail":
        return Result(**fields)
    return Result(
        **fields | {"status": "waived", "original_status": "fail"}, waiver=WAIVERS[waiver]
    )


def shard_document(
    results: list[Result], accounts: Sequence[str], mode: str, waivers: dict[str, Any] | None
) -> dict[str, Any]:
    targets = [Target(account=a, account_id=a, regions=("us-east-1",), mode=mode) for a in accounts]
    built = build_document(CATALOG, targets, results, tool_version="t", generated_at=WHEN)
    if waivers is not None:
        built["waivers"] = {
            "expired": [
                WAIVERS[i] | {"resources_affected": [arn]} for i, arn in waivers["expired"]
            ],
            "stale": [WAIVERS[i] for i in waivers["stale"]],
        }
    return built


@st.composite
def shards(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A run's results dealt to 1 to 4 shards at random; a shard's targets are the
    accounts it holds results of (or the first, when it holds none), on moto or live."""
    results = [result(fields) for fields in draw(st.lists(result_fields, max_size=30))]
    count = draw(st.integers(1, 4))
    dealt: list[list[Result]] = [[] for _ in range(count)]
    for found in results:
        dealt[draw(st.integers(0, count - 1))].append(found)
    return [
        shard_document(
            found,
            sorted({r.account_id for r in found if r.account_id}) or [ACCOUNTS[0]],
            draw(st.sampled_from(["moto", "live"])),
            draw(st.none() | waiver_section),
        )
        for found in dealt
    ]


@settings(max_examples=40, deadline=None)  # each example validates and writes documents
@given(documents=shards())
def test_streaming_merge_equals_the_whole_document_merge(documents) -> None:
    named = {f"shard-{i}.json": doc for i, doc in enumerate(documents)}
    expected = whole_document_merge(documents)
    assert merge_documents(named, allow_overlap=True, generated_at=WHEN) == expected
    with tempfile.TemporaryDirectory() as scratch:
        streamed, whole = Path(scratch, "streamed.json"), Path(scratch, "whole.json")
        with DocumentMerger(allow_overlap=True) as merger:
            for name, doc in named.items():
                merger.add(name, doc)
            outline = merger.write(streamed, generated_at=WHEN)
        write_document(expected, whole)
        assert streamed.read_bytes() == whole.read_bytes()
    assert outline["summary"] == expected["summary"]
    assert all(control["resources"] == [] for control in outline["controls"])


def test_of_two_equal_verdicts_the_first_input_s_stands() -> None:
    found = Result("SEC-01", "fn-a", "fail", "prr::x", "first", ACCOUNTS[0])
    again = Result("SEC-01", "fn-a", "fail", "prr::x", "second", ACCOUNTS[0])
    documents = [shard_document([r], ACCOUNTS[:1], "live", None) for r in (found, again)]
    merged = merge_documents(dict(zip("ab", documents, strict=True)), allow_overlap=True)
    [entry] = next(c for c in merged["controls"] if c["id"] == "SEC-01")["resources"]
    assert entry["message"] == "first"


def test_a_waiver_is_in_use_only_on_an_entry_that_stands() -> None:
    """A waived verdict outranked by another input's FAIL no longer shows the waiver used."""
    waived = Result("SEC-01", "fn-a", "fail", "prr::x", "", ACCOUNTS[0])
    waived = result(vars(waived) | {"waiver": 1})
    failed = Result("SEC-01", "fn-a", "error", "prr::x", "", ACCOUNTS[0])
    stale = {"expired": [], "stale": [1]}
    documents = [
        shard_document([waived], ACCOUNTS[:1], "live", stale),
        shard_document([failed], ACCOUNTS[:1], "live", stale),
    ]
    named = dict(zip("ab", documents, strict=True))
    merged = merge_documents(named, allow_overlap=True, generated_at=WHEN)
    assert merged["waivers"] == {"expired": [], "stale": [WAIVERS[1]]}
    assert merged == whole_document_merge(documents)


# The real checks' documents -------------------------------------------------------------

ORDERS = account_run(
    account_snapshot("111111111111", [make_function("orders-api"), make_function("legacy")])
)
PAYMENTS = account_run(
    account_snapshot("222222222222", [make_function("payments")], mode="live"),
    user_test_status="fail",
)


def test_prr_merge_writes_the_bytes_of_the_whole_document_merge(tmp_path: Path) -> None:
    inputs = [document(ORDERS), document(PAYMENTS)]
    for control in inputs[1]["controls"]:
        for entry in control["resources"]:
            entry["message"] = entry.get("message", "") + " ≥ “quoted” \\ \t"
    paths = []
    for name, doc in zip(("orders.json", "payments.json"), inputs, strict=True):
        paths.append(tmp_path / name)
        paths[-1].write_text(json.dumps(doc))
    assert main(["merge", "-o", str(tmp_path / "out.json"), *map(str, paths)]) == 0
    write_document(whole_document_merge(inputs), tmp_path / "whole.json")
    written = (tmp_path / "out.json").read_bytes()
    dated = re.compile(rb'\n  "generated_at": "[^"]+",\n')
    assert dated.search(written) and timestamp(WHEN).encode() not in written
    same_date = dated.sub(f'\n  "generated_at": "{timestamp(WHEN)}",\n'.encode(), written, count=1)
    assert same_date == (tmp_path / "whole.json").read_bytes()
    assert any(not control["resources"] for control in json.loads(written)["controls"])


def test_the_merge_keeps_no_input_entry() -> None:
    """Each input's entries are copied out as text: the documents can be dropped."""
    orders, payments = document(ORDERS), document(PAYMENTS)
    entries = [
        entry for doc in (orders, payments) for c in doc["controls"] for entry in c["resources"]
    ]
    before = [sys.getrefcount(entry) for entry in entries]
    with DocumentMerger() as merger:
        merger.add("orders", orders)
        merger.add("payments", payments)
        assert [sys.getrefcount(entry) for entry in entries] == before
        merged = merger.document(WHEN)
    assert merged == whole_document_merge([orders, payments])


def test_a_temporary_file_that_cannot_be_written_fails_the_merge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "TemporaryFile", full)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    (tmp_path / "orders.json").write_text(json.dumps(document(ORDERS)))
    out = tmp_path / "out.json"
    assert main(["merge", "-o", str(out), str(tmp_path / "orders.json")]) == 2
    assert capsys.readouterr().err == (
        f"prr merge: {tmp_path / 'orders.json'}: its entries cannot be kept in a temporary "
        f"file (in {tmp_path}; TMPDIR chooses where): No space left on device\n"
    )
    assert not out.exists()
