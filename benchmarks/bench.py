"""Benchmark pytest-prr against a simulated AWS account of N functions.

Run by hand (not part of the test suite)::

    .venv/bin/python benchmarks/bench.py                  # N = 100, 1000, 2000; 3 runs each
    .venv/bin/python benchmarks/bench.py --sizes 100 --runs 1 --latency-ms 5

For each N: a moto server is seeded (``seeder.py``), the simulator (``simulator.py``) puts
AWS's latency and rate limits in front of it, and the benchmark measures the snapshot
(wall time, API calls per function by operation, throttles and retries, against the lower
bound the rate limits imply), the evaluation of every built-in control over the stored
snapshot, ``pytest`` end to end on that snapshot (serial and ``-n 2``: wall time, peak RSS),
and the AWS calls of a live ``pytest`` run, serial and ``-n 2``. Medians of ``--runs`` runs
are printed as one table and written, with every run, as JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import measure
from botocore.config import Config
from report import render_table
from seeder import ACCOUNT_ID, REGION, seed

from pytest_prr.accounts.motoserver import MotoServer

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable


class SimulatorProcess:
    """``simulator.py`` in a child process, so that its work does not share the GIL (or
    the memory) of what is measured."""

    def __init__(
        self,
        upstream: str,
        latency_ms: float,
        limits: list[str] | None,
        code_signing_configs: Path | None = None,
    ) -> None:
        command = [PYTHON, str(HERE / "simulator.py"), "--upstream", upstream]
        command += ["--latency-ms", str(latency_ms)]
        if code_signing_configs is not None:
            command += ["--code-signing-configs", str(code_signing_configs)]
        if limits is None:
            command.append("--no-limits")
        else:
            for limit in limits:
                command += ["--limit", limit]
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        self.url = f"http://127.0.0.1:{self._process.stdout.readline().strip()}"

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/__simulator__/stats") as answer:
            return json.load(answer)

    def warm(self) -> None:
        """Read Lambda's listings once, untimed: the simulator keeps what it read from moto
        (see ``listings.py``), so the timed runs see AWS's latency, not moto's CPU."""
        client = boto3.client(
            "lambda",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(read_timeout=900, retries={"max_attempts": 1}),
        )
        client.list_functions(FunctionVersion="ALL", MaxItems=1)
        client.list_event_source_mappings(MaxItems=1)
        for config in client.list_code_signing_configs(MaxItems=1)["CodeSigningConfigs"]:
            arn = config["CodeSigningConfigArn"]
            client.list_functions_by_code_signing_config(CodeSigningConfigArn=arn, MaxItems=1)
        self.reset()

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/__simulator__/reset", method="POST")
        with urllib.request.urlopen(request) as answer:
            answer.read()

    def stop(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=30)


def lower_bound(stats: dict[str, Any]) -> tuple[float, str]:
    """The shortest time the rate limits allow for the calls made: the busiest bucket's
    calls divided by its rate; and that bucket's name."""
    seconds, key = max(
        ((entry["calls"] / entry["rate"], key) for key, entry in stats["bucket_calls"].items()),
        default=(0.0, "-"),
    )
    return seconds, key


def bench_snapshot(simulator: SimulatorProcess, out: Path, *, paced: bool) -> dict[str, Any]:
    simulator.reset()
    command = [PYTHON, str(HERE / "probes.py"), "collect", simulator.url, str(out)]
    measured = measure.run(command if paced else [*command, "--unpaced"])
    if measured.returncode != 0:
        raise RuntimeError(f"snapshot failed:\n{measured.stderr}")
    probe = json.loads(measured.stdout.splitlines()[-1])
    stats = simulator.stats()
    bound, bucket = lower_bound(stats)
    return {
        "wall_s": probe["wall_s"],
        "peak_rss_mb": measured.peak_rss_mb,
        "functions": probe["functions"],
        "calls": probe["calls"],
        "failed_reads": probe["failed_reads"],
        "requests": stats["requests"],
        "throttled": sum(stats["throttled"].values()),
        "retried": sum(stats["retried"].values()),
        "max_attempt": stats["max_attempt"],
        "attempt_budget": stats["attempt_budget"],
        "lower_bound_s": bound,
        "bottleneck": bucket,
        "bucket_calls": stats["bucket_calls"],
    }


def bench_evaluation(snapshot: Path) -> dict[str, Any]:
    measured = measure.run([PYTHON, str(HERE / "probes.py"), "evaluate", str(snapshot)])
    if measured.returncode != 0:
        raise RuntimeError(f"evaluation failed:\n{measured.stderr}")
    return {**json.loads(measured.stdout.splitlines()[-1]), "peak_rss_mb": measured.peak_rss_mb}


def bench_pytest(project: Path, snapshot: Path, workers: int) -> dict[str, Any]:
    """``pytest`` end to end on a stored snapshot: every built-in control, reported as JSON,
    JUnit XML and on the terminal."""
    for report in ("prr.json", "junit.xml"):
        (project / report).unlink(missing_ok=True)
    command = [PYTHON, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly"]
    command += [f"--prr-snapshot={snapshot}", "--prr-json=prr.json", "--junitxml=junit.xml"]
    measured = measure.run([*command, "-n", str(workers)] if workers else command, cwd=project)
    if measured.returncode not in (0, 1) or not (project / "prr.json").is_file():
        raise RuntimeError(f"pytest failed ({measured.returncode}):\n{measured.stdout[-3000:]}")
    document = json.loads((project / "prr.json").read_text())
    junit = (project / "junit.xml").read_text()
    return {
        "wall_s": measured.wall_s,
        "peak_rss_mb": measured.peak_rss_mb,
        "peak_tree_rss_mb": measured.peak_tree_rss_mb,
        "controls_tested": document["summary"]["controls_tested"],
        "resource_results": sum(len(control["resources"]) for control in document["controls"]),
        "junit_testcases": junit.count("<testcase "),
    }


def live_calls(simulator: SimulatorProcess, project: Path, workers: int) -> dict[str, Any]:
    """The AWS calls of a live ``pytest`` run (it takes its own snapshot), counted by the
    simulator: under ``-n 2`` only the controller may read the account."""
    simulator.reset()
    command = [PYTHON, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--prr-account=bench"]
    measured = measure.run([*command, "-n", str(workers)] if workers else command, cwd=project)
    if measured.returncode not in (0, 1):
        raise RuntimeError(f"pytest failed ({measured.returncode}):\n{measured.stdout[-3000:]}")
    requests = simulator.stats()["requests"]
    return {"wall_s": measured.wall_s, "calls": sum(requests.values()), "requests": requests}


def bench_size(size: int, options: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    print(f"N = {size}: seeding", file=sys.stderr, flush=True)
    moto = MotoServer()
    upstream = moto.start()
    simulators: list[SimulatorProcess] = []
    try:
        started = time.monotonic()
        _, configs = seed(upstream, size, options.seed)
        seeded_s = time.monotonic() - started
        signing = workdir / f"code-signing-{size}.json"
        signing.write_text(json.dumps(configs))
        limited = SimulatorProcess(upstream, options.latency_ms, options.limit, signing)
        unlimited = SimulatorProcess(upstream, options.latency_ms, None, signing)
        simulators += [limited, unlimited]
        for simulator in simulators:
            simulator.warm()
        snapshot = workdir / f"snapshot-{size}.json"
        snapshots = []
        for run in range(options.runs):
            print(f"N = {size}: snapshot {run + 1}/{options.runs}", file=sys.stderr, flush=True)
            snapshots.append(bench_snapshot(limited, snapshot, paced=not options.unpaced))
        evaluations = [bench_evaluation(snapshot) for _ in range(options.runs)]
        project = workdir / f"project-{size}"
        project.mkdir(exist_ok=True)
        pytest_runs = {
            label: [bench_pytest(project, snapshot, workers) for _ in range(options.runs)]
            for label, workers in (("serial", 0), ("n2", 2))
        }
        live: dict[str, Any] = {}
        if not options.skip_live:
            (project / "prr.toml").write_text(
                f'[accounts.bench]\naccount_id = "{ACCOUNT_ID}"\nregions = ["{REGION}"]\n'
                f'endpoint_url = "{unlimited.url}"\n'
            )
            print(f"N = {size}: live pytest runs", file=sys.stderr, flush=True)
            live = {
                label: live_calls(unlimited, project, w) for label, w in (("serial", 0), ("n2", 2))
            }
            (project / "prr.toml").unlink()
    finally:
        for simulator in simulators:
            simulator.stop()
        moto.stop()
    return {
        "functions": size,
        "seeded_s": seeded_s,
        "snapshot_runs": snapshots,
        "evaluation_runs": evaluations,
        "pytest_runs": pytest_runs,
        "live_pytest": live,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 2000])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--latency-ms", type=float, default=40.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--limit", action="append", default=[], metavar="KEY=RPS", help="see simulator.py"
    )
    parser.add_argument("--unpaced", action="store_true", help="snapshot without pacing")
    parser.add_argument("--skip-live", action="store_true", help="no live pytest runs")
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    options = parser.parse_args(argv)
    settings = {
        "latency_ms": options.latency_ms,
        "seed": options.seed,
        "runs": options.runs,
        "limits": options.limit,
        "paced": not options.unpaced,
    }
    with tempfile.TemporaryDirectory(prefix="prr-bench-") as scratch:
        sizes = [bench_size(size, options, Path(scratch)) for size in options.sizes]
    document = {"settings": settings, "sizes": sizes}
    options.out.write_text(json.dumps(document, indent=2) + "\n")
    print(render_table(document))


if __name__ == "__main__":
    main()
