"""``prr runbook [NAME]``: print one of the runbooks the controls' remediation points to."""

from __future__ import annotations

import argparse
import difflib
import sys
from typing import Any

from pytest_prr import runbooks
from pytest_prr.commands.outputs import command_parser


def register(commands: Any) -> None:
    runbook = command_parser(
        commands,
        "runbook",
        statuses={0: "printed"},
        help="print a runbook a control's remediation points to (without NAME: list them)",
        description=(
            "The incident runbooks and maintenance procedures that ship with pytest-prr, as "
            "Markdown. A remediation names one as `prr runbook NAME`."
        ),
    )
    runbook.add_argument("name", nargs="?", metavar="NAME", help="e.g. dlq-growth")
    runbook.set_defaults(handler=_runbook_command)


def _runbook_command(args: argparse.Namespace) -> int:
    if args.name is None:
        for name in runbooks.names():
            print(name)
        return 0
    try:
        print(runbooks.text(args.name), end="")
    except KeyError:
        close = difflib.get_close_matches(args.name, runbooks.names(), 1)
        hint = f"; did you mean {close[0]}?" if close else ""
        print(
            f"prr runbook: no runbook {args.name!r}{hint} (`prr runbook` lists them)",
            file=sys.stderr,
        )
        return 2
    return 0
