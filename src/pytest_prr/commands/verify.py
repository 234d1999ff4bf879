"""``prr verify DIR``: is an evidence bundle as it was written, by whom, and do its results
follow?"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from pytest_prr.commands.outputs import command_parser
from pytest_prr.evidence import EvidenceError, verify_bundle
from pytest_prr.evidence.bundle import MANIFEST, sha256sum_line
from pytest_prr.evidence.signing import SigningError, TrustedKey


def register(commands: Any) -> None:
    verify = command_parser(
        commands,
        "verify",
        statuses={
            0: "the bundle is intact (and, with a key, signed by it)",
            1: "something does not verify: a file, a result, the expected SHA-256 or the signature",
            2: "usage errors, and a key that cannot be read (a PEM file, kms:GetPublicKey)",
        },
        help="check an evidence bundle (--prr-evidence): digest, signature, hashes, results",
        description=(
            "Print the SHA-256 of the bundle's manifest.json as sha256sum does, check it "
            "against the digest you kept (--expect-sha256) and its signature against the key "
            "you trust (--public-key, --kms-key); re-hash every file against manifest.json, "
            "re-evaluate the snapshot with the bundled inputs, and compare with the recorded "
            "results."
        ),
    )
    verify.add_argument("directory", type=Path, metavar="DIR", help="the evidence bundle")
    verify.add_argument(
        "--expect-sha256",
        metavar="HEX",
        help="fail unless manifest.json's SHA-256 is this (the digest the run printed)",
    )
    keys = verify.add_mutually_exclusive_group()
    keys.add_argument(
        "--public-key",
        type=Path,
        metavar="PEM",
        help="fail unless manifest.json.sig verifies with this public key "
        "(Ed25519, ECDSA P-256 or RSA)",
    )
    keys.add_argument(
        "--kms-key",
        metavar="KEY",
        help="as --public-key, with the public key of this AWS KMS key (id, ARN or alias), "
        "read with kms:GetPublicKey",
    )
    kms = verify.add_argument_group("reading the KMS key")
    kms.add_argument("--profile", help="AWS profile to read the key with")
    kms.add_argument("--region", help="region of the key (an ARN names its own)")
    kms.add_argument("--endpoint-url", help="an emulator (moto server, LocalStack) instead")
    verify.set_defaults(handler=_verify_command)


def _verify_command(args: argparse.Namespace) -> int:
    if not args.kms_key and (args.profile or args.region or args.endpoint_url):
        return _fail("--profile, --region and --endpoint-url only apply with --kms-key")
    if args.profile and args.endpoint_url:
        return _fail("give either --profile or --endpoint-url, not both")
    expected = args.expect_sha256
    if expected is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", expected):
        return _fail(f"--expect-sha256 {expected}: not a SHA-256 (64 hexadecimal digits)")
    try:
        trusted = _trusted_key(args)
    except (ValueError, SigningError) as error:
        return _fail(str(error))
    try:
        verification = verify_bundle(args.directory, expect_sha256=expected, trusted=trusted)
    except EvidenceError as error:
        return _fail(str(error))
    if verification.manifest_sha256 is not None:
        print(sha256sum_line(verification.manifest_sha256, (args.directory / MANIFEST).as_posix()))
    if verification.signature is not None:
        print(f"signature: {verification.signature}")
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


def _trusted_key(args: argparse.Namespace) -> TrustedKey | None:
    """The key the auditor trusts: a PEM file, or a KMS key's public key read through a
    read-only session; None when neither was given."""
    if args.public_key is not None:
        # cryptography loads only where a signature is made or checked
        from pytest_prr.evidence.signing import load_public_key

        return TrustedKey(load_public_key(args.public_key), str(args.public_key))
    if args.kms_key is None:
        return None
    from botocore.exceptions import BotoCoreError

    from pytest_prr.accounts.sessions import command_session
    from pytest_prr.evidence.kms import kms_client, read_kms_key

    try:
        session = command_session(
            profile=args.profile, region=args.region, endpoint_url=args.endpoint_url
        )
        key = read_kms_key(kms_client(session, args.kms_key), args.kms_key)
    except BotoCoreError as error:  # no region, an unknown profile: before any request
        raise SigningError(f"KMS key {args.kms_key}", str(error)) from error
    return TrustedKey(key.public_key, f"KMS key {key.arn}")


def _fail(message: str) -> int:
    print(f"prr verify: {message}", file=sys.stderr)
    return 2
