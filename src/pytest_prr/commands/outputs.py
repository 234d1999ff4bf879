"""What every ``prr`` command does with the files it writes, and how it says how it ended.

A command writes only where an output option names, and never over its own input, nor over
an existing file unless ``--force`` says so: ``prr merge prod.json dr.json`` once overwrote
``prod.json`` with the merge of ``dr.json`` alone and reported success.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from pathlib import Path

#: The exit statuses every command shares; a command adds its own.
USAGE = {2: "usage error: bad arguments, an input that cannot be read, an output refused"}


class OutputRefused(ValueError):
    """An output that would destroy an input or an existing file."""


def check_outputs(outputs: Iterable[Path], inputs: Iterable[Path], *, force: bool) -> None:
    """Refuse an output that is one of the inputs (even through another path or a link), or
    that exists already without ``force``; before anything is read or written."""
    inputs = list(inputs)
    for output in outputs:
        for source in inputs:
            if _same_file(output, source):
                raise OutputRefused(f"{output} is also an input ({source}); choose another output")
        if output.exists() and not force:
            raise OutputRefused(f"{output} exists; pass --force to replace it")


def _same_file(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return a.samefile(b)
    return a.resolve() == b.resolve()


def add_force(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force", action="store_true", help="replace an output file that exists already"
    )


def exit_statuses(statuses: Mapping[int, str]) -> str:
    """The help's epilog: each exit status and what it means."""
    lines = [f"  {code}  {meaning}" for code, meaning in sorted({**statuses, **USAGE}.items())]
    return "exit status:\n" + "\n".join(lines)


def command_parser(
    commands: argparse._SubParsersAction, name: str, *, statuses: Mapping[int, str], **kwargs: str
) -> argparse.ArgumentParser:
    """A subcommand's parser whose help ends with its exit statuses."""
    return commands.add_parser(
        name,
        epilog=exit_statuses(statuses),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        **kwargs,
    )
