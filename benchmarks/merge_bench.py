"""Peak memory and wall time of ``prr merge`` over the shard documents of an organization.

An organization-wide run is sharded over a CI matrix, one job per member account, and one
``prr merge`` combines the shards (issue 17). This makes the shards as those jobs would:
``--variants`` accounts of ``--functions`` functions are seeded in moto by ``seeder.py``
(real boto3 calls) and read once each through pytest-prr's snapshot, as of an endpoint
account; each of ``--accounts`` member accounts is one of those snapshots under its own
account ID (the ID replaced throughout, as ``tests/documents.py`` does), evaluated by every
built-in control, waived by a small waivers list and written as the plugin writes its
document (``AccountRun``, ``build_document``, ``combine_reports``, ``write_document``).

Then ``prr merge -o merged.json shard-*.json`` runs in a child process (``measure.py``:
``/usr/bin/time``'s peak RSS) ``--runs`` times, with this checkout's ``src`` and, given
``--baseline REV``, with that revision's (``git archive``), and the two merged documents
must be equal but for ``generated_at``.

    .venv/bin/python benchmarks/merge_bench.py [--accounts 200] [--baseline bf4fcb0]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import measure
from seeder import ACCOUNT_ID, REGION, seed

from pytest_prr.accounts.config import Account
from pytest_prr.accounts.motoserver import MotoServer
from pytest_prr.catalog import builtin_catalog
from pytest_prr.checks.evaluation import builtin_controls, evaluate_control
from pytest_prr.report.json_document import write_document
from pytest_prr.results.model import build_document
from pytest_prr.results.run import AccountRun
from pytest_prr.results.waiver_sections import combine_reports
from pytest_prr.results.waivers import Waiver
from pytest_prr.snapshot.model import Snapshot

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = sys.executable
CATALOG = builtin_catalog()
TUNABLES = CATALOG.tunables({}, "benchmark")
#: What a platform team's waivers file might hold: one risk accepted by tag, one whose date
#: has passed, one that covers nothing.
WAIVERS = [
    Waiver(
        control="REL-02",
        justification="cost centre 3's batch jobs may share the account's concurrency",
        approved_by="risk@example.com",
        expires=datetime.date(2099, 1, 1),
        tags=(("CostCenter", "CC-003"),),
        id="batch-concurrency",
    ),
    Waiver(
        control="OBS-03",
        justification="alarms move to the new stack",
        approved_by="risk@example.com",
        expires=datetime.date(2020, 1, 1),
        resources=("arn:aws:lambda:*:*:function:fn-0000*",),
        id="old-alarms",
    ),
    Waiver(
        control="SEC-01",
        justification="a function long gone",
        approved_by="risk@example.com",
        expires=datetime.date(2099, 1, 1),
        resources=("arn:aws:lambda:*:*:function:retired",),
        id="retired",
    ),
]


def variant_snapshot(functions: int, seed_value: int) -> str:
    """The JSON of a snapshot of a moto account seeded with ``functions`` functions."""
    server = MotoServer()
    upstream = server.start()
    try:
        seed(upstream, functions, seed_value)
        account = Account("variant", ACCOUNT_ID, (REGION,), "endpoint", endpoint_url=upstream)
        run = AccountRun(account=account, catalog=CATALOG, tunables=TUNABLES)
        try:
            run.take_snapshot()
            assert run.snapshot is not None
            return json.dumps(run.snapshot.data)
        finally:
            run.close()
    finally:
        server.stop()


def member_document(snapshot_json: str, index: int) -> dict[str, Any]:
    """The results document of member account ``index``, as its shard's job writes it."""
    account_id = f"{100000000000 + index:012d}"
    snapshot = Snapshot(json.loads(snapshot_json.replace(ACCOUNT_ID, account_id)))
    account = Account(f"member-{index:03d}", account_id, (REGION,), "endpoint")
    run = AccountRun(account=account, catalog=CATALOG, tunables=TUNABLES, waivers=WAIVERS)
    run.use_stored_snapshot(None, snapshot, f"{index:064x}")
    for control_id in builtin_controls(CATALOG):
        findings = evaluate_control(CATALOG[control_id], snapshot, tunables=TUNABLES)
        run.results.extend(run.waive(findings))
    document = build_document(CATALOG, [run.target], run.results, tool_version="bench")
    report = run.waiver_report()
    assert report is not None
    document["waivers"] = combine_reports([report.to_dict()], document["controls"])
    return document


def write_shards(folder: Path, accounts: int, functions: int, variants: int) -> list[Path]:
    snapshots = []
    for variant in range(variants):
        print(f"seeding and reading variant {variant + 1}/{variants}", file=sys.stderr, flush=True)
        snapshots.append(variant_snapshot(functions, seed_value=variant + 1))
    shards = []
    for index in range(accounts):
        shard = folder / f"shard-{index:03d}.json"
        write_document(member_document(snapshots[index % variants], index), shard)
        shards.append(shard)
    return shards


def baseline_source(revision: str, folder: Path) -> Path:
    """``src`` of ``revision`` of this repository, unpacked into ``folder``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "src"], check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder / "src"


def bench_merge(source: Path, shards: list[Path], out: Path, runs: int) -> list[dict[str, Any]]:
    """``prr merge`` over ``shards`` with the package in ``source``, ``runs`` times."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    command = [PYTHON, "-m", "pytest_prr.commands.cli", "merge", "--force", "-o", str(out)]
    measured_runs = []
    for _ in range(runs):
        measured = measure.run([*command, *map(str, shards)], env=env)
        if measured.returncode != 0:
            raise RuntimeError(f"prr merge failed ({measured.returncode}):\n{measured.stderr}")
        measured_runs.append({"wall_s": measured.wall_s, "peak_rss_mb": measured.peak_rss_mb})
    return measured_runs


def without_time(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_text(encoding="utf-8"))
    del document["generated_at"]
    return document


def run_benchmark(options: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    started = time.monotonic()
    shards = write_shards(workdir, options.accounts, options.functions, options.variants)
    generated_s = time.monotonic() - started
    implementations = {"this checkout": ROOT / "src"}
    if options.baseline:
        baseline = workdir / "baseline"
        baseline.mkdir()
        source = baseline_source(options.baseline, baseline)
        implementations[f"baseline {options.baseline}"] = source
    merged = {}
    for label, source in implementations.items():
        print(f"merging {len(shards)} shards with {label}", file=sys.stderr, flush=True)
        out = workdir / f"merged-{len(merged)}.json"
        runs = bench_merge(source, shards, out, options.runs)
        merged[label] = {
            "runs": runs,
            "wall_s": measure.median(run["wall_s"] for run in runs),
            "peak_rss_mb": measure.median(run["peak_rss_mb"] for run in runs),
            "output_mb": out.stat().st_size / 2**20,
            "out": out,
        }
    outputs = [entry.pop("out") for entry in merged.values()]
    document = without_time(outputs[0])
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True
    )
    return {
        "settings": {key: value for key, value in vars(options).items() if key != "out"},
        "commit": commit.stdout.strip() or None,
        "generated_s": generated_s,
        "shards": len(shards),
        "input_mb": sum(shard.stat().st_size for shard in shards) / 2**20,
        "resource_entries": sum(len(control["resources"]) for control in document["controls"]),
        "targets": len(document["targets"]),
        "outputs_equal": all(without_time(out) == document for out in outputs[1:]),
        "merge": merged,
    }


def render(result: dict[str, Any]) -> str:
    lines = [
        f"{result['shards']} shards, {result['input_mb']:.0f} MB in; merged: "
        f"{result['targets']} targets, {result['resource_entries']:,} resource entries; "
        f"outputs equal: {result['outputs_equal']}",
        "",
        "| implementation | wall s | peak RSS MB | output MB |",
        "|---|---|---|---|",
    ]
    for label, entry in result["merge"].items():
        lines.append(
            f"| {label} | {entry['wall_s']:.1f} | {entry['peak_rss_mb']:.0f} | "
            f"{entry['output_mb']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--functions", type=int, default=20, help="functions per account")
    parser.add_argument("--variants", type=int, default=4, help="distinct seeded accounts")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--baseline", metavar="REV", help="also merge with this revision's src")
    parser.add_argument("--out", type=Path, default=HERE / "merge_results.json")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="prr-merge-bench-") as scratch:
        result = run_benchmark(options, Path(scratch))
    options.out.write_text(json.dumps(result, indent=2) + "\n")
    print(render(result))


if __name__ == "__main__":
    main()
