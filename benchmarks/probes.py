"""What the benchmark runs in a child process, so that each is timed and weighed alone.

``collect ENDPOINT OUT`` takes a snapshot through the simulator as pytest-prr would of a
live account (AWS's retry policy and pacing), saves it, and prints what it saw as JSON.
``evaluate SNAPSHOT`` loads a stored snapshot and runs every built-in check over it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from pytest_prr.accounts.config import Account
from pytest_prr.accounts.sessions import CLIENT_CONFIG, open_session
from pytest_prr.catalog import builtin_catalog
from pytest_prr.checks.base import run_check
from pytest_prr.checks.registry import registered_checks
from pytest_prr.snapshot.collect.pacing import AWS_RATES
from pytest_prr.snapshot.store import load_snapshot, save_snapshot
from pytest_prr.snapshot.take import take_snapshot

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"


def collect(endpoint: str, out: Path, *, paced: bool) -> dict:
    account = Account(
        name="bench",
        account_id=ACCOUNT_ID,
        regions=(REGION,),
        mode="endpoint",
        endpoint_url=endpoint,
    )
    session = open_session(account)
    # An endpoint account is taken for an emulator that never throttles: no retries, no
    # pacing. The simulator throttles like AWS, so the snapshot is taken as of a live account.
    session.prr_config = CLIENT_CONFIG
    started = time.monotonic()
    snapshot = take_snapshot(session, account, rates=AWS_RATES if paced else {})
    wall = time.monotonic() - started
    save_snapshot(snapshot, out)
    functions = snapshot.region(REGION)["lambda"]["functions"]
    return {
        "wall_s": wall,
        "functions": len(functions),
        "calls": snapshot.data["calls"],
        "failed_reads": sorted(error["operation"] for _, error in snapshot.errors()),
    }


def evaluate(path: Path) -> dict:
    started = time.monotonic()
    snapshot, _ = load_snapshot(path)
    loaded = time.monotonic()
    checks = registered_checks()
    tunables = builtin_catalog().tunables({}, "benchmark")
    findings = sum(len(list(run_check(check, snapshot, tunables))) for check in checks.values())
    return {
        "load_s": loaded - started,
        "evaluate_s": time.monotonic() - loaded,
        "controls": len(checks),
        "findings": findings,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    collecting = commands.add_parser("collect")
    collecting.add_argument("endpoint")
    collecting.add_argument("out", type=Path)
    collecting.add_argument("--unpaced", action="store_true")
    evaluating = commands.add_parser("evaluate")
    evaluating.add_argument("snapshot", type=Path)
    options = parser.parse_args()
    if options.command == "collect":
        result = collect(options.endpoint, options.out, paced=not options.unpaced)
    else:
        result = evaluate(options.snapshot)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
