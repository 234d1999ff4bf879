"""A plan of an organization's run as shards for a CI system's parallel jobs.

Each shard names its accounts (and, sharded by account and Region, its Regions) explicitly:
``--prr-shard=111111111111,222222222222``. A shard job then reads exactly what was planned,
even if the organization changes between the plan and the job. An index into a fresh
discovery (``--prr-shard=2/13``) would not: an account created in between shifts every later
slice by one, so that one account is read by two jobs (which ``prr merge`` refuses) and
another by none (which nothing would notice). With explicit lists an account that joins is
read by the next plan, and one that leaves becomes an ERROR target of its shard.

Shards are in account order, and each shard's results file is numbered with leading zeros,
so that ``prr merge results/*.json`` takes them in the order one ``--prr-org`` run lists
its targets: the merged document is that run's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from pytest_prr.accounts.config import Account, AccountError

PLAN_SCHEMA = "prr-plan/1"
SHARD_BY = ("account", "account-region")
#: GitHub Actions runs at most 256 jobs of one matrix.
GITHUB_MATRIX_LIMIT = 256
_SAFE_PATH = re.compile(r"^[A-Za-z0-9_./-]+$")


@dataclass(frozen=True)
class Unit:
    """The smallest piece of work a plan places in a shard: an account, or one Region of
    it (None: every Region the configuration names, as the shard job finds them)."""

    account: Account
    region: str | None = None


@dataclass(frozen=True)
class PlannedShard:
    """One CI job: what it reads, where it writes, and the pytest arguments that run it."""

    id: str
    units: tuple[Unit, ...]
    args: tuple[str, ...]
    results: str
    evidence: str | None

    def to_dict(self) -> dict[str, Any]:
        accounts = list(dict.fromkeys(unit.account.account_id for unit in self.units))
        names = list(dict.fromkeys(unit.account.name for unit in self.units))
        label = names[0] if len(names) == 1 else f"{names[0]} … {names[-1]} ({len(names)})"
        regions = sorted({unit.region for unit in self.units if unit.region is not None})
        return {
            "id": self.id,
            "name": f"{self.id} {label}" + (f" {', '.join(regions)}" if len(regions) == 1 else ""),
            "accounts": accounts,
            "args": list(self.args),
            "results": self.results,
            **({"evidence": self.evidence} if self.evidence else {}),
        }


def units_of(
    members: Sequence[Account],
    shard_by: str,
    regions_of: Callable[[Account], tuple[str, ...] | None],
) -> list[Unit]:
    """The units of ``members`` in account order: an account each, or an account's Region
    each; ``regions_of`` says which Regions an account has (None when that cannot be known
    now, e.g. its role refused: it is then planned whole, and its shard reports why)."""
    if shard_by not in SHARD_BY:
        raise AccountError(f"--shard-by must be one of {', '.join(SHARD_BY)}, got {shard_by!r}")
    units = []
    for account in sorted(members, key=lambda member: member.account_id):
        regions = regions_of(account) if shard_by == "account-region" else None
        if regions is None:
            units.append(Unit(account))
        else:
            units.extend(Unit(account, region) for region in regions)
    return units


def plan_shards(
    organization: str,
    units: Sequence[Unit],
    *,
    max_shards: int,
    results_dir: str,
    evidence_dir: str | None = None,
) -> list[PlannedShard]:
    """``units`` in at most ``max_shards`` shards of consecutive units, as even as can be.

    Every shard's ``args`` are the whole pytest command line after ``pytest``: the
    organization, the shard, its results file and, with ``evidence_dir``, its evidence
    bundle (one account's, so then every shard must hold one account).
    """
    if max_shards < 1:
        raise AccountError(f"--max-shards must be at least 1, got {max_shards}")
    for flag, directory in (("--results-dir", results_dir), ("--evidence-dir", evidence_dir)):
        if directory is not None and not _SAFE_PATH.match(directory):
            raise AccountError(
                f"{flag} {directory!r}: a CI job joins the arguments into one command line, so "
                "name a directory with letters, digits, '_', '.', '-' and '/' only"
            )
    if not units:
        raise AccountError("nothing to plan: the organization selects no member account")
    count = min(max_shards, len(units))
    width = len(str(count))
    size, extra = divmod(len(units), count)
    shards, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        group = tuple(units[start:end])
        start = end
        shard_id = f"{index + 1:0{width}d}"
        results = str(PurePosixPath(results_dir) / f"shard-{shard_id}.json")
        evidence = None
        if evidence_dir is not None:
            accounts = {unit.account.account_id for unit in group}
            if len(accounts) > 1:
                raise AccountError(
                    f"--evidence-dir: an evidence bundle is one account's, and shard {shard_id} "
                    f"holds {len(accounts)} accounts; raise --max-shards to at least "
                    f"{len({unit.account.account_id for unit in units})}, or drop --evidence-dir"
                )
            evidence = str(PurePosixPath(evidence_dir) / f"shard-{shard_id}")
        args = (
            f"--prr-org={organization}",
            f"--prr-shard={shard_value(group)}",
            f"--prr-json={results}",
            *((f"--prr-evidence={evidence}",) if evidence else ()),
        )
        shards.append(PlannedShard(shard_id, group, args, results, evidence))
    return shards


def shard_value(units: Sequence[Unit]) -> str:
    """The ``--prr-shard`` value of ``units``: each account, or each ``account:Region``."""
    return ",".join(
        unit.account.account_id
        if unit.region is None
        else f"{unit.account.account_id}:{unit.region}"
        for unit in units
    )


def plan_document(
    organization: Mapping[str, Any], shard_by: str, shards: Sequence[PlannedShard]
) -> dict[str, Any]:
    """The plan as plain JSON for any CI system (``--format json``)."""
    return {
        "schema": PLAN_SCHEMA,
        "organization": dict(organization),
        "shard_by": shard_by,
        "shards": [shard.to_dict() for shard in shards],
    }


def github_matrix(shards: Sequence[PlannedShard]) -> dict[str, Any]:
    """The plan as a GitHub Actions matrix (``strategy.matrix: ${{ fromJSON(...) }}``):
    one ``include`` entry per shard, its ``args`` to ``join(matrix.args, ' ')``."""
    if len(shards) > GITHUB_MATRIX_LIMIT:
        raise AccountError(
            f"{len(shards)} shards exceed GitHub Actions' {GITHUB_MATRIX_LIMIT} jobs per matrix; "
            f"pass --max-shards {GITHUB_MATRIX_LIMIT} or fewer"
        )
    return {"include": [shard.to_dict() for shard in shards]}
