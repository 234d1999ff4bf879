"""``prr export-asff``: a results document as Security Hub findings, optionally imported."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pytest_prr.catalog import load_catalog
from pytest_prr.commands.outputs import OutputRefused, add_force, check_outputs, command_parser
from pytest_prr.report.asff import FindingError, to_asff, validate_findings
from pytest_prr.report.json_document import DocumentError


def register(commands: Any) -> None:
    export = command_parser(
        commands,
        "export-asff",
        statuses={0: "findings written (and imported)", 1: "the import into Security Hub failed"},
        help="write the failed and errored resources as AWS Security Finding Format findings",
        description=(
            "One ASFF finding per resource a control failed or could not evaluate, written as "
            '{"Findings": [...]}. With --import, they are sent to Security Hub with '
            "BatchImportFindings, one of the two write calls pytest-prr makes (the other signs "
            "an evidence bundle with KMS), each only when asked."
        ),
    )
    export.add_argument("document", type=Path, metavar="IN.json", help="a results document")
    export.add_argument(
        "-o", "--output", type=Path, metavar="OUT.json", help="write the findings here"
    )
    add_force(export)
    export.add_argument(
        "--catalog",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="your own catalog file, for the remediation of its controls",
    )
    export.add_argument(
        "--product-arn", help="the product to import as (default: each account's own product)"
    )
    sending = export.add_argument_group("import into Security Hub")
    sending.add_argument(
        "--import",
        dest="import_findings",
        action="store_true",
        help="send the findings of the credentials' account with BatchImportFindings",
    )
    sending.add_argument("--profile", help="AWS profile of the account to import into")
    sending.add_argument("--region", help="region of the session (findings go to their own)")
    sending.add_argument("--endpoint-url", help="an emulator (moto server, LocalStack) instead")
    export.set_defaults(handler=_export_command)


def _export_command(args: argparse.Namespace) -> int:
    if not args.import_findings and (args.profile or args.region or args.endpoint_url):
        return _fail("--profile, --region and --endpoint-url only apply with --import")
    if args.profile and args.endpoint_url:
        return _fail("give either --profile or --endpoint-url, not both")
    try:
        check_outputs([args.output] if args.output else [], [args.document], force=args.force)
    except OutputRefused as error:
        return _fail(str(error))
    catalog = load_catalog()
    for path in args.catalog:
        catalog = catalog.with_file(path)
    try:
        document = json.loads(args.document.read_text(encoding="utf-8"))
        findings = to_asff(document, catalog=catalog, product_arn=args.product_arn)
        validate_findings(findings)
    except OSError as error:
        return _fail(f"{args.document}: cannot be read: {error.strerror or error}")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        return _fail(f"{args.document}: not a JSON document: {error}")
    except (DocumentError, FindingError, ValueError) as error:
        return _fail(f"{args.document}: {error}")
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps({"Findings": findings}, indent=2, ensure_ascii=False))
        print(f"prr export-asff: {len(findings)} finding(s) written to {args.output}")
    elif not args.import_findings:
        json.dump({"Findings": findings}, sys.stdout, indent=2, ensure_ascii=False)
        print()
    if args.import_findings:
        return _import(args, findings)
    return 0


def _import(args: argparse.Namespace, findings: list[dict[str, Any]]) -> int:
    # boto3 (and moto) load only for a run that reads AWS or an emulator
    from botocore.exceptions import ProfileNotFound

    from pytest_prr.report.securityhub import (
        SecurityHubImportError,
        import_findings,
        import_session,
    )

    try:
        session = import_session(
            profile=args.profile, region=args.region, endpoint_url=args.endpoint_url
        )
    except ProfileNotFound:
        return _fail(
            f"the AWS profile {args.profile!r} is not configured on this machine; create it "
            "(aws configure --profile NAME) or name another with --profile"
        )
    try:
        outcome = import_findings(session, findings)
    except SecurityHubImportError as error:
        print(f"prr export-asff: {error}", file=sys.stderr)
        return 1
    print(f"prr export-asff: {outcome.describe()}")
    return 0


def _fail(message: str) -> int:
    print(f"prr export-asff: {message}", file=sys.stderr)
    return 2
