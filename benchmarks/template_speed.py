"""How long ``pytest --prr-template`` takes on each template of the corpus, as CI runs it.

Each template is copied, with the stub code it names, into a fresh directory beside a
trivial test file, and ``pytest --prr-template=T --prr-json=...`` runs there in a process
of its own: interpreter start, the moto server, the deployment, the snapshot and every
built-in control, from nothing, as a pull request's pre-deploy job would. The issue's target
is a template of up to 20 resources deployed and evaluated in under 10 s; this prints each
template's resources (as written, and as CloudFormation resources after the SAM transform)
and its median time over ``--runs``, then the median over the corpus, and writes every run
to ``benchmarks/template_results.json``.

The runs write bytecode, as an installed pytest-prr does (pip compiles it, and pytest keeps
its rewritten plugin modules), even where ``PYTHONDONTWRITEBYTECODE`` is set; one run before
the measured ones fills those caches.

    .venv/bin/python benchmarks/template_speed.py [--runs 3] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"
EXAMPLE = ROOT / "examples" / "orders-service"
#: The example's parameters without a default, as its CI pre-deploy job passes them.
EXAMPLE_PARAMETERS = {
    "SigningProfileVersionArn": "arn:aws:signer:us-east-1:123456789012:/signing-profiles/ci/v1",
    "PermissionsBoundaryArn": "arn:aws:iam::123456789012:policy/lambda-workload-boundary",
}
RESULTS = Path(__file__).with_name("template_results.json")
TARGET_S = 10.0
PYTEST = (sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider")


#: The environment of a measured run: bytecode written and reused, as in an installation.
ENVIRONMENT = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measure(name: str, entry: dict[str, Any], runs: int) -> dict[str, Any]:
    """One corpus template, beside a trivial test file."""

    def lay_out(root: Path) -> tuple[Path, list[str]]:
        shutil.copytree(CORPUS / "_code", root / "_code")
        folder = CORPUS / entry["template"].split("/")[0]
        shutil.copytree(folder, root / folder.name)
        (root / folder.name / "test_trivial.py").write_text("def test_trivial():\n    pass\n")
        return root / folder.name, [f"--prr-template={root / entry['template']}"]

    return _measure(name, CORPUS / entry["template"], entry.get("parameters", {}), lay_out, runs)


def measure_example(runs: int) -> dict[str, Any]:
    """The example service's template with its team's readiness tests, as its CI job runs."""

    def lay_out(root: Path) -> tuple[Path, list[str]]:
        ignored = shutil.ignore_patterns("__pycache__", ".*_cache", "reports")
        shutil.copytree(EXAMPLE, root / EXAMPLE.name, ignore=ignored)
        return root / EXAMPLE.name, [
            "--noconftest",
            "tests/readiness",
            "--prr-template=template.yaml",
        ]

    template = EXAMPLE / "template.yaml"
    return _measure("orders-service (example)", template, EXAMPLE_PARAMETERS, lay_out, runs)


def _measure(
    name: str,
    template: Path,
    parameters: dict[str, str],
    lay_out: Any,
    runs: int,
) -> dict[str, Any]:
    from pytest_prr.deploy import prepare

    prepared = prepare(template, parameters, "us-east-1")
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="prr-bench-") as scratch:
            where, arguments = lay_out(Path(scratch))
            arguments += [f"--prr-template-param={k}={v}" for k, v in parameters.items()]
            started = time.monotonic()
            done = subprocess.run(
                [*PYTEST, *arguments, "--prr-json=prr.json"],
                cwd=where,
                env=ENVIRONMENT,
                capture_output=True,
                text=True,
                check=False,
            )
            elapsed = time.monotonic() - started
            if done.returncode not in (0, 1) or not (where / "prr.json").is_file():
                raise RuntimeError(f"{name}: pytest exited {done.returncode}:\n{done.stderr}")
            times.append(elapsed)
    return {
        "template": name,
        "resources": len(prepared.source.body["Resources"]),
        "cloudformation_resources": len(prepared.template["Resources"]),
        "seconds": times,
        "median_s": statistics.median(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="template names of the corpus")
    arguments = parser.parse_args()
    manifest = yaml.safe_load((CORPUS / "corpus.yaml").read_text())["templates"]
    names = [n for n, e in manifest.items() if e.get("deploys", True)]
    if arguments.only:
        names = [n for n in names if n in arguments.only]
    measure(names[0], manifest[names[0]], 1)  # fills the bytecode caches
    results = []
    print("| template | resources (CloudFormation) | median s |")
    print("|---|---|---|")
    measured = (measure(name, manifest[name], arguments.runs) for name in names)
    example = (measure_example(arguments.runs) for _ in range(0 if arguments.only else 1))
    for result in itertools.chain(measured, example):
        results.append(result)
        name = result["template"]
        print(
            f"| {name} | {result['resources']} ({result['cloudformation_resources']}) "
            f"| {result['median_s']:.1f} |",
            flush=True,
        )
    median = statistics.median(r["median_s"] for r in results)
    within = sum(1 for r in results if r["median_s"] < TARGET_S)
    print(f"\nmedian over {len(results)} templates: {median:.1f} s; {within} under {TARGET_S} s")
    RESULTS.write_text(json.dumps({"runs": arguments.runs, "results": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
