"""``prr plan``: an organization's run as shards for a CI system's parallel jobs.

The plan is made where the organization can be listed (the management or a delegated
administrator account): each shard names its member accounts (and Regions) and carries the
exact pytest arguments of its job, so that the jobs read what was planned, and
``prr merge`` of their results is the document of one ``pytest --prr-org`` run.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pytest_prr.accounts.config import Account, AccountError
from pytest_prr.accounts.orgconfig import read_organization
from pytest_prr.accounts.sharding import (
    GITHUB_MATRIX_LIMIT,
    SHARD_BY,
    github_matrix,
    plan_document,
    plan_shards,
    units_of,
)
from pytest_prr.commands.outputs import OutputRefused, add_force, check_outputs, command_parser
from pytest_prr.report.outputs import atomic_file

#: Members whose enabled Regions are asked at once when planning by account and Region.
_ASKED_AT_ONCE = 8


def register(commands: Any) -> None:
    plan = command_parser(
        commands,
        "plan",
        statuses={0: "plan written"},
        help="plan an organization's run as shards for a CI matrix (then prr merge)",
        description=(
            "Discover the member accounts of [tool.prr.organizations.NAME] and write shards, "
            "each with the pytest arguments that run it (args). Run every shard as a CI job "
            "(pytest ARGS), then `prr merge` their results into one document.\n\n"
            "  prr plan --org acme --format github-matrix -o matrix.json"
        ),
    )
    plan.add_argument("--org", required=True, metavar="NAME", help="the organization's name")
    plan.add_argument(
        "--shard-by",
        choices=SHARD_BY,
        default="account",
        help="a shard per member account (default), or per account and Region",
    )
    plan.add_argument(
        "--format",
        choices=("json", "github-matrix"),
        default="json",
        help='json (default): the plan for any CI; github-matrix: {"include": [...]} on one '
        "line, for strategy.matrix: ${{ fromJSON(...) }}",
    )
    plan.add_argument(
        "-o", "--output", type=Path, metavar="PATH", help="write the plan here (default: stdout)"
    )
    add_force(plan)
    plan.add_argument(
        "--max-shards",
        type=int,
        default=GITHUB_MATRIX_LIMIT,
        metavar="N",
        help=f"at most N shards of consecutive accounts (default {GITHUB_MATRIX_LIMIT}, "
        "GitHub Actions' limit of jobs per matrix)",
    )
    plan.add_argument(
        "--results-dir",
        default="prr-results",
        metavar="DIR",
        help="where each shard job writes its results, DIR/shard-NN.json (default prr-results)",
    )
    plan.add_argument(
        "--evidence-dir",
        metavar="DIR",
        help="also write each shard's evidence bundle, DIR/shard-NN (one account per shard)",
    )
    plan.add_argument(
        "--project",
        type=Path,
        default=Path(),
        metavar="DIR",
        help="the project whose pyproject.toml or prr.toml configures the organization "
        "(default: the current directory)",
    )
    plan.set_defaults(handler=_plan_command)


def _plan_command(args: argparse.Namespace) -> int:
    # boto3 loads only for a command that reads AWS
    from pytest_prr.accounts.organizations import discover

    try:
        if args.output is not None:
            check_outputs([args.output], [], force=args.force)
        organization = read_organization(args.project, args.org)
        discovery = discover(organization)
        members = [member.account for member in discovery.members()]
        regions = _regions(members) if args.shard_by == "account-region" else {}
        units = units_of(members, args.shard_by, lambda account: regions.get(account.account_id))
        shards = plan_shards(
            organization.name,
            units,
            max_shards=args.max_shards,
            results_dir=args.results_dir,
            evidence_dir=args.evidence_dir,
        )
        if args.format == "github-matrix":
            text = json.dumps(github_matrix(shards), separators=(",", ":")) + "\n"
        else:
            described = {
                "name": organization.name,
                "id": discovery.organization_id,
                "management_account_id": discovery.management_account_id,
            }
            text = json.dumps(plan_document(described, args.shard_by, shards), indent=2) + "\n"
    except (AccountError, OutputRefused) as error:
        print(f"prr plan: {error}", file=sys.stderr)
        return 2
    if args.output is None:
        sys.stdout.write(text)
    else:
        with atomic_file(args.output) as file:
            file.write(text)
    where = f"; written to {args.output}" if args.output is not None else ""
    print(
        f"prr plan: organization {organization.name} ({discovery.organization_id}): "
        f"{len(members)} member accounts in {len(shards)} shards by {args.shard_by}{where}",
        file=sys.stderr,
    )
    return 0


def _regions(members: list[Account]) -> dict[str, tuple[str, ...] | None]:
    """Each member's Regions: configured, or asked of the member when they are the ones
    enabled in it; None for a member that cannot be asked (planned whole, its shard job
    then reports why)."""
    # boto3 loads only for a command that reads AWS
    from pytest_prr.accounts.organizations import MemberUnreachable, reach_member
    from pytest_prr.accounts.sessions import open_session

    def regions_of(account: Account) -> tuple[str, ...] | None:
        if account.organization is None or not account.organization.regions_enabled:
            return account.regions
        try:
            return reach_member(open_session(account), account)[1].regions
        except MemberUnreachable as error:
            print(f"prr plan: {account.name} ({account.account_id}): {error}", file=sys.stderr)
            return None

    with ThreadPoolExecutor(_ASKED_AT_ONCE) as pool:
        return dict(
            zip((m.account_id for m in members), pool.map(regions_of, members), strict=True)
        )
