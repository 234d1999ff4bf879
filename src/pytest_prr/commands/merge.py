"""``prr merge``: one org-wide results document from the documents of separate runs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pytest_prr.commands.outputs import OutputRefused, add_force, check_outputs, command_parser
from pytest_prr.report.merge import DocumentMerger, MergeError


def register(commands: Any) -> None:
    merge = command_parser(
        commands,
        "merge",
        statuses={0: "merged and written"},
        help="merge the results documents of separate runs (e.g. one CI job per account)",
        description=(
            "Merge prr-results/1 documents into the document one run over all their targets "
            "would have written. Each account and region may appear in one input only.\n\n"
            "  prr merge -o org.json prod.json dr.json"
        ),
    )
    merge.add_argument(
        "inputs", type=Path, nargs="+", metavar="IN.json", help="results documents (--prr-json)"
    )
    merge.add_argument(
        "-o", "--output", type=Path, required=True, metavar="OUT.json", help="the merged document"
    )
    add_force(merge)
    merge.add_argument(
        "--allow-overlap",
        action="store_true",
        help="accept an account and region in several inputs; the worse verdict of each "
        "resource stands",
    )
    merge.set_defaults(handler=_merge_command)


def _merge_command(args: argparse.Namespace) -> int:
    try:
        _refuse_repeated(args.inputs)
        check_outputs([args.output], args.inputs, force=args.force)
        with DocumentMerger(allow_overlap=args.allow_overlap) as merger:
            for path in args.inputs:
                # One at a time: an organization's documents do not fit in memory together.
                merger.add(str(path), _read(path))
            merged = merger.write(args.output)
    except (MergeError, OutputRefused) as error:
        print(f"prr merge: {error}", file=sys.stderr)
        return 2
    summary = merged["summary"]
    print(
        f"prr merge: {len(args.inputs)} documents, {len(merged['targets'])} targets, "
        f"{summary['controls_tested']}/{summary['controls_total']} controls tested; "
        f"written to {args.output}"
    )
    return 0


def _refuse_repeated(paths: list[Path]) -> None:
    seen: dict[Path, Path] = {}
    for path in paths:
        resolved = path.resolve()
        if resolved in seen:
            raise MergeError(f"{path} is given twice (also as {seen[resolved]})")
        seen[resolved] = path


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise MergeError(f"{path}: cannot be read: {error.strerror or error}") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise MergeError(f"{path}: not a JSON document: {error}") from error
