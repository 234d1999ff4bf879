"""``prr verify DIR``: is an evidence bundle the one whose digest was kept, as it was
written, and do its results follow?"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from pytest_prr.evidence import EvidenceError, verify_bundle
from pytest_prr.evidence.bundle import MANIFEST, sha256sum_line

EXIT_CODES = (
    "Exit 0 when intact, 1 when anything does not verify (a file, a result, the expected "
    "SHA-256), 2 on usage errors."
)


def register(commands: Any) -> None:
    verify = commands.add_parser(
        "verify",
        help="check an evidence bundle (--prr-evidence): digest, hashes, and the results",
        description=(
            "Print the SHA-256 of the bundle's manifest.json as sha256sum does and check it "
            "against the digest you kept (--expect-sha256); re-hash every file against "
            "manifest.json, re-evaluate the snapshot with the bundled inputs, and compare with "
            f"the recorded results. {EXIT_CODES}"
        ),
    )
    verify.add_argument("directory", type=Path, metavar="DIR", help="the evidence bundle")
    verify.add_argument(
        "--expect-sha256",
        metavar="HEX",
        help="fail unless manifest.json's SHA-256 is this (the digest the run printed)",
    )
    verify.set_defaults(handler=_verify_command)


def _verify_command(args: argparse.Namespace) -> int:
    expected = args.expect_sha256
    if expected is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", expected):
        return _fail(f"--expect-sha256 {expected}: not a SHA-256 (64 hexadecimal digits)")
    try:
        verification = verify_bundle(args.directory, expect_sha256=expected)
    except EvidenceError as error:
        return _fail(str(error))
    if verification.manifest_sha256 is not None:
        print(sha256sum_line(verification.manifest_sha256, (args.directory / MANIFEST).as_posix()))
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


def _fail(message: str) -> int:
    print(f"prr verify: {message}", file=sys.stderr)
    return 2
