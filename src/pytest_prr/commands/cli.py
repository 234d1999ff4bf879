"""The ``prr`` command: one subcommand per module of ``pytest_prr.commands``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from pytest_prr.__about__ import __version__
from pytest_prr.catalog import CatalogError

#: The modules of ``pytest_prr.commands``, in the order ``prr --help`` lists them.
COMMANDS = ("catalog", "plan", "merge", "asff", "report", "guardrails", "verify", "runbook")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except CatalogError as error:
        print(f"prr: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prr", description="pytest-prr: production readiness controls for AWS Lambda"
    )
    parser.add_argument("--version", action="version", version=f"pytest-prr {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"pytest_prr.commands.{name}").register(commands)
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
