"""``prr guardrails``: write out the SCP, permissions boundary, conformance pack and the
member-role StackSet template.

Export never silently replaces a file a team has edited (a boundary widened for its
functions, a pack with regional rules removed): a file that differs from the packaged one
is only overwritten with ``--force``, and then nothing is written unless every conflict
is forced.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pytest_prr.commands.outputs import command_parser
from pytest_prr.guardrails import ARTIFACTS, Artifact


def register(commands: Any) -> None:
    guardrails = command_parser(
        commands,
        "guardrails",
        statuses={0: "done", 1: "files differ from the packaged ones; nothing written"},
        help="the SCP, boundary and conformance pack for GOV/IAM-04; the organization member role",
    )
    actions = guardrails.add_subparsers(title="actions", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="write the guardrail files into DIR")
    export.add_argument("directory", type=Path, metavar="DIR", help="created if missing")
    export.add_argument(
        "--force", action="store_true", help="overwrite files that differ from the packaged ones"
    )
    export.set_defaults(handler=_export)
    listing = actions.add_parser("list", help="list the guardrail files and their controls")
    listing.set_defaults(handler=_list)


def _describe(item: Artifact) -> str:
    controls = f" ({', '.join(item.controls)})" if item.controls else ""
    return f"{item.kind}{controls}"


def _list(args: argparse.Namespace) -> int:
    width = max(len(item.filename) for item in ARTIFACTS)
    for item in ARTIFACTS:
        print(f"{item.filename:<{width}}  {_describe(item)}")
    return 0


def _export(args: argparse.Namespace) -> int:
    directory: Path = args.directory
    if directory.exists() and not directory.is_dir():
        print(f"prr: {directory} exists and is not a directory", file=sys.stderr)
        return 2
    plan = [(item, directory / item.filename, item.text().encode("utf-8")) for item in ARTIFACTS]
    conflicts = [path for _, path, data in plan if path.exists() and path.read_bytes() != data]
    if conflicts and not args.force:
        for path in conflicts:
            print(f"prr: {path} differs from the packaged version", file=sys.stderr)
        print("prr: nothing written; use --force to overwrite", file=sys.stderr)
        return 1
    directory.mkdir(parents=True, exist_ok=True)
    for item, path, data in plan:
        if path.exists() and path.read_bytes() == data:
            verb = "unchanged"
        else:
            verb = "overwrote" if path in conflicts else "wrote"
            path.write_bytes(data)
        print(f"{verb:<9} {path}  {_describe(item)}")
    print(f"see {directory / 'README.md'} for how to deploy them")
    return 0
