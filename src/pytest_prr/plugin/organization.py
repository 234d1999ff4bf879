"""``--prr-org`` (and ``--prr-shard``): an organization's member accounts as the accounts of
a run.

The controller discovers them when the run is configured, before anything is read; an
xdist worker takes the members its controller discovered (``workerinput``) rather than
asking Organizations again, which could answer otherwise in between.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_prr.accounts.config import Account, AccountError
from pytest_prr.accounts.orgconfig import read_organization
from pytest_prr.plugin.state import WORKER_RUNS_KEY

if TYPE_CHECKING:
    from collections.abc import Mapping

#: Options that choose other targets than an organization's members.
OTHER_TARGETS = (
    ("prr_accounts", "--prr-account"),
    ("prr_snapshot", "--prr-snapshot"),
    ("prr_templates", "--prr-template"),
)


def check_organization_options(config: pytest.Config) -> None:
    """``--prr-shard`` is a part of an organization; an organization is the whole target."""
    option = config.option
    if option.prr_shard and not option.prr_org:
        raise pytest.UsageError("--prr-shard names members of an organization: add --prr-org=NAME")
    if option.prr_max_accounts < 1:
        raise pytest.UsageError(
            f"--prr-max-accounts must be at least 1, got {option.prr_max_accounts}"
        )
    if option.prr_org:
        for name, flag in OTHER_TARGETS:
            if getattr(option, name):
                raise pytest.UsageError(
                    f"--prr-org reads the organization's members; drop {flag} (or run it "
                    "apart and `prr merge` the results)"
                )


def organization_members(config: pytest.Config) -> tuple[list[Account], Mapping[str, str]]:
    """The members to read, by account ID, and why each that cannot be read cannot (by
    run name); the configuration and ``--prr-shard`` are checked before any AWS call."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        handed = workerinput[WORKER_RUNS_KEY]
        return [Account.from_dict(run["account"]) for run in handed.values()], {}
    # boto3 loads only for a run that reads AWS or an emulator
    from pytest_prr.accounts.organizations import discover, parse_shard

    try:
        shard = parse_shard(config.option.prr_shard) if config.option.prr_shard else None
        organization = read_organization(config.rootpath, config.option.prr_org)
        members = discover(organization).members(shard)
    except AccountError as error:
        raise pytest.UsageError(f"prr: {error}") from error
    unreachable = {
        member.account.name: member.unreachable for member in members if member.unreachable
    }
    return [member.account for member in members], unreachable
