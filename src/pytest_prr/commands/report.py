"""``prr report``: render a results document after the fact, as HTML, CSV or Markdown.

A run in CI keeps its ``--prr-json`` document as the record; this turns any such
document, old or from another machine, into the views people read. The document is
validated first: a report rendered from a broken document would mislead its reader.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pytest_prr.catalog import load_catalog
from pytest_prr.commands.outputs import OutputRefused, add_force, check_outputs, command_parser
from pytest_prr.report.json_document import DocumentError, validate_document
from pytest_prr.report.outputs import render, write_text

_OUTPUTS = (
    ("html", "--html", "a self-contained HTML report (matrix, frameworks, every resource)"),
    ("csv", "--csv", "a CSV table: one row per control and resource, with frameworks"),
    ("markdown", "--markdown", "a Markdown checklist for a pull-request comment or a wiki"),
)
#: Older spellings of the output options, kept working.
_ALIASES = {"--markdown": ("--md",)}


def register(commands: Any) -> None:
    report = command_parser(
        commands,
        "report",
        statuses={0: "every report written"},
        help="render a results document (--prr-json) as HTML, CSV or Markdown",
        description="Render a prr-results/1 document as HTML, CSV and/or Markdown.",
    )
    report.add_argument("document", type=Path, metavar="IN.json", help="the results document")
    for kind, flag, help_text in _OUTPUTS:
        report.add_argument(
            flag,
            *_ALIASES.get(flag, ()),
            dest=kind,
            type=Path,
            metavar="PATH",
            help=f"write {help_text}",
        )
    add_force(report)
    report.add_argument(
        "--catalog",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="your own catalog file, so that your controls' rationale and remediation show",
    )
    report.set_defaults(handler=_report_command)


def _report_command(args: argparse.Namespace) -> int:
    wanted = {kind: getattr(args, kind) for kind, _, _ in _OUTPUTS if getattr(args, kind)}
    if not wanted:
        flags = ", ".join(flag for _, flag, _ in _OUTPUTS)
        print(f"prr report: give at least one output: {flags}", file=sys.stderr)
        return 2
    try:
        check_outputs(wanted.values(), [args.document], force=args.force)
        document = _read_document(args.document)
    except (OSError, DocumentError, OutputRefused) as error:
        print(f"prr report: {error}", file=sys.stderr)
        return 2
    catalog = load_catalog()
    for path in args.catalog:
        catalog = catalog.with_file(path)
    for kind, path in wanted.items():
        text = render(kind, document, catalog=catalog)
        try:
            write_text(path, text)
        except OSError as error:
            print(f"prr report: cannot write {path}: {error.strerror}", file=sys.stderr)
            return 2
        print(f"prr report: {kind} written to {path}")
    return 0


def _read_document(path: Path) -> dict[str, Any]:
    """The document at ``path``, checked against ``results.schema.json``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise OSError(f"cannot read {path}: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise DocumentError(f"{path} is not UTF-8 text: {error.reason}") from error
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise DocumentError(f"{path} is not JSON: {error}") from error
    try:
        validate_document(document)
    except DocumentError as error:
        raise DocumentError(f"{path}: {error}") from error
    return document
