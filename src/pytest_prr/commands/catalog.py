"""``prr catalog``: the controls, their rules and framework mappings, for people and tools."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pytest_prr.accounts.emulators import gaps_by_control, profiles
from pytest_prr.catalog import Catalog, load_catalog
from pytest_prr.commands.outputs import command_parser
from pytest_prr.report.catalog_markdown import render_catalog


def register(commands: Any) -> None:
    catalog = command_parser(
        commands, "catalog", statuses={0: "listed"}, help="list the controls of the catalog"
    )
    catalog.add_argument(
        "--catalog",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="add the controls of your own catalog file (as the prr_catalog ini option does)",
    )
    catalog.add_argument("--domain", action="append", default=[], help="only these domains")
    catalog.add_argument(
        "--format",
        choices=("table", "json", "markdown"),
        default="table",
        help="table (default), or json or markdown with rules, rationale, remediation, "
        "tunables, mappings and emulator gaps",
    )
    catalog.set_defaults(handler=_catalog_command)


def _catalog_command(args: argparse.Namespace) -> int:
    catalog = load_catalog()
    for path in args.catalog:
        catalog = catalog.with_file(path)
    domains = {domain.upper() for domain in args.domain}
    unknown = domains - set(catalog.domains)
    if unknown:
        print(
            f"prr: unknown domain(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(catalog.domains)}",
            file=sys.stderr,
        )
        return 2
    controls = [c for c in catalog if not domains or c.domain in domains]
    if args.format == "json":
        json.dump(_catalog_json(catalog, controls), sys.stdout, indent=2)
        print()
    elif args.format == "markdown":
        gaps = gaps_by_control(profiles())
        print(render_catalog(catalog, controls, emulator_gaps=gaps), end="")
    else:
        print(f"pytest-prr catalog {catalog.version}: {len(controls)} controls")
        for control in controls:
            print(f"{control.id:<8} {control.severity:<8} {control.scope:<8} {control.title}")
    return 0


def _catalog_json(catalog: Catalog, controls: list) -> dict:

    gaps = gaps_by_control(profiles())
    return {
        "catalog_version": catalog.version,
        "controls": [
            {
                "id": control.id,
                "title": control.title,
                "domain": control.domain,
                "scope": control.scope,
                "severity": control.severity,
                "automation": control.automation,
                "fail_when": control.fail_when,
                "not_applicable_when": control.not_applicable_when,
                "rationale": control.rationale,
                "remediation": control.remediation,
                "tunables": [
                    {
                        "name": t.name,
                        "type": t.type,
                        "default": t.default,
                        "description": t.description,
                    }
                    for t in control.tunables
                ],
                "frameworks": {key: list(refs) for key, refs in control.frameworks.items()},
                **({"valid_days": control.valid_days} if control.valid_days else {}),
                **({"emulator_gaps": gaps[control.id]} if control.id in gaps else {}),
            }
            for control in controls
        ],
    }
