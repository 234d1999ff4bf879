"""pytest-prr's pre-deploy verdicts beside Checkov's, on the corpus (docs/pre-deploy.md).

Checkov reads a template as written; pytest-prr deploys it (SAM transform included) and
judges what CloudFormation would create. For the Lambda checks both have, this prints one
row per function and control where either tool has a verdict, and a summary: agreements,
and each kind of disagreement. pytest-prr's verdicts are the corpus's pinned ones
(tests/corpus/verdicts.json, which tests/test_corpus.py keeps true).

Checkov is not a dependency of pytest-prr: install it in a virtual environment of its own
and name its executable::

    python3 -m venv /tmp/checkov-venv && /tmp/checkov-venv/bin/pip install checkov
    .venv/bin/python benchmarks/checkov_compare.py --checkov /tmp/checkov-venv/bin/checkov
"""

from __future__ import annotations

import argparse
import json
import subprocess
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "corpus"
#: Checkov's Lambda checks that have a pytest-prr control deciding the same question.
PAIRS = {
    "CKV_AWS_45": "SEC-02",  # no hard-coded secrets in the environment
    "CKV_AWS_173": "SEC-03",  # environment variables encrypted with a customer key
    "CKV_AWS_272": "SEC-04",  # code signing
    "CKV_AWS_301": "SEC-05",  # not publicly invocable
    "CKV_AWS_258": "SEC-06",  # function URL auth type not NONE
    "CKV_AWS_363": "SEC-01",  # runtime not deprecated
    "CKV_AWS_117": "NET-01",  # in a VPC
    "CKV_AWS_115": "REL-02",  # function-level concurrency limit
    "CKV_AWS_116": "REL-01",  # a dead-letter queue
    "CKV_AWS_50": "OBS-01",  # X-Ray tracing
}
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
PERMISSION = "AWS::Lambda::Permission"


def checkov_verdicts(checkov: str, template: Path) -> dict[tuple[str, str], str]:
    """(function logical ID, check ID) -> "pass"/"fail", for the paired checks; a check of
    a permission counts for the function the permission names (a fail wins)."""
    from pytest_prr.deploy.intrinsics import references
    from pytest_prr.deploy.loading import read_template

    resources = read_template(template).body["Resources"]
    found = subprocess.run(
        [checkov, "-f", str(template), "--framework", "cloudformation", "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    document: Any = json.loads(found.stdout or "{}")
    if isinstance(document, list):
        document = document[0] if document else {}
    results = document.get("results", {})
    verdicts = {}
    for key, status in (("passed_checks", "pass"), ("failed_checks", "fail")):
        for check in results.get(key, []):
            kind, _, logical_id = check["resource"].rpartition(".")
            if check["check_id"] not in PAIRS:
                continue
            if kind == PERMISSION:
                named = resources[logical_id].get("Properties", {}).get("FunctionName")
                functions = sorted(references(named) & resources.keys())
                logical_id = functions[0] if functions else logical_id
            elif kind not in FUNCTION_TYPES:
                continue
            key = (logical_id, check["check_id"])
            verdicts[key] = "fail" if "fail" in (status, verdicts.get(key)) else status
    return verdicts


def rows(checkov: str) -> Iterator[dict[str, str]]:
    manifest = yaml.safe_load((CORPUS / "corpus.yaml").read_text())["templates"]
    pinned: Mapping[str, Mapping[str, Mapping[str, str]]] = json.loads(
        (CORPUS / "verdicts.json").read_text()
    )
    for name, entry in manifest.items():
        if not entry.get("deploys", True):
            continue
        theirs = checkov_verdicts(checkov, CORPUS / entry["template"])
        for logical_id, ours in sorted(pinned.get(name, {}).items()):
            for check_id, control_id in PAIRS.items():
                prr = ours.get(control_id)
                other = theirs.get((logical_id, check_id))
                if prr is None and other is None:
                    continue
                yield {
                    "template": name,
                    "function": logical_id,
                    "control": f"{control_id} / {check_id}",
                    "pytest-prr": prr or "-",
                    "checkov": other or "no verdict",
                }


def kind(row: Mapping[str, str]) -> str:
    prr, other = row["pytest-prr"], row["checkov"]
    if prr == other:
        return f"both {prr}"
    if other == "no verdict":
        return f"pytest-prr {prr}, Checkov silent"
    return f"pytest-prr {prr}, Checkov {other}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkov", required=True, help="the checkov executable")
    parser.add_argument("--json", type=Path, help="also write every row to this file")
    arguments = parser.parse_args()
    table = list(rows(arguments.checkov))
    if arguments.json:
        arguments.json.write_text(json.dumps(table, indent=1) + "\n")
    print("| control / Checkov check | " + " | ".join(sorted({kind(r) for r in table})) + " |")
    kinds = sorted({kind(r) for r in table})
    print("|---" * (len(kinds) + 1) + "|")
    by_control = Counter((r["control"], kind(r)) for r in table)
    for control in sorted({r["control"] for r in table}):
        cells = [str(by_control[(control, k)] or "") for k in kinds]
        print(f"| {control} | " + " | ".join(cells) + " |")
    print()
    for row in table:
        if row["pytest-prr"] != row["checkov"]:
            print(
                f"- {row['template']} {row['function']} {row['control']}: pytest-prr "
                f"{row['pytest-prr']}, Checkov {row['checkov']}"
            )


if __name__ == "__main__":
    main()
