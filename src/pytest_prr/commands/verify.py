"""``prr verify DIR``: is an evidence bundle as it was written, and do its results follow?"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pytest_prr.commands.outputs import command_parser
from pytest_prr.evidence import EvidenceError, verify_bundle


def register(commands: Any) -> None:
    verify = command_parser(
        commands,
        "verify",
        statuses={0: "the bundle is intact", 1: "something in the bundle does not verify"},
        help="check an evidence bundle (--prr-evidence): hashes, and the results re-evaluated",
        description=(
            "Re-hash every file of an evidence bundle against its manifest.json, re-evaluate "
            "the snapshot with the bundled inputs, and compare with the recorded results."
        ),
    )
    verify.add_argument("directory", type=Path, metavar="DIR", help="the evidence bundle")
    verify.set_defaults(handler=_verify_command)


def _verify_command(args: argparse.Namespace) -> int:
    try:
        verification = verify_bundle(args.directory)
    except EvidenceError as error:
        print(f"prr verify: {error}", file=sys.stderr)
        return 2
    for problem in verification.problems:
        print(f"FAILED {problem}")
    for note in verification.notes:
        print(f"note: {note}")
    checked = (
        f"{verification.files} file(s), {verification.reevaluated} built-in result(s) re-evaluated"
    )
    if verification.intact:
        print(f"prr verify: {args.directory}: intact ({checked})")
        return 0
    print(f"prr verify: {args.directory}: {len(verification.problems)} problem(s) ({checked})")
    return 1
