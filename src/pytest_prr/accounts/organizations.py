"""An organization's member accounts: discovered through AWS Organizations, each reached by
assuming the configured read-only role in it.

Discovery walks the organization's tree once (``ListRoots``, then
``ListOrganizationalUnitsForParent`` and ``ListAccountsForParent`` per unit): the same
number of calls as ``ListAccounts`` for a flat organization, and every account's path of
units comes with it, which the results record and the OU filter needs. A member is then an
:class:`~pytest_prr.accounts.config.Account` reached through the discovering account
(:attr:`~pytest_prr.accounts.config.Account.via`), whose session assumes the member role with
botocore's refreshing credentials, so a run longer than the role's session survives.

A member that cannot be reached (its role cannot be assumed, or the account left the
organization between a plan and its shard) is no reason to stop the others: it is returned
with the cause, and its every control becomes an ERROR naming it.

Imported only by runs and commands that read an organization (it loads boto3).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from pytest_prr.accounts.config import ACCOUNT_ID, REGION, Account, AccountError, Membership
from pytest_prr.accounts.orgconfig import Organization
from pytest_prr.accounts.sessions import IDENTITY_CLIENT_CONFIG, open_session, verify_identity

ACTIVE = "ACTIVE"
#: Regions a member has enabled, as EC2 says (``DescribeRegions`` without ``AllRegions``
#: answers these on AWS; emulators answer every Region, with its opt-in status).
_ENABLED = ("opt-in-not-required", "opted-in")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
#: A shard's accounts, and for each the Regions it reads (None: those the organization's
#: configuration names).
Shard = Mapping[str, "tuple[str, ...] | None"]


class MemberUnreachable(Exception):
    """A member account that cannot be read; the message is the cause, for its ERRORs."""


@dataclass(frozen=True)
class ListedAccount:
    """An account as the organization lists it."""

    account_id: str
    name: str
    status: str
    #: The IDs of the root and units above the account, and their names (root excluded).
    parent_ids: tuple[str, ...]
    ou_path: tuple[str, ...]
    tags: Mapping[str, str]


@dataclass(frozen=True)
class Member:
    """A member account to read, or the reason it cannot be (``unreachable``)."""

    account: Account
    unreachable: str | None = None


@dataclass(frozen=True)
class Discovery:
    """What the organization showed its management or delegated administrator account."""

    organization: Organization
    organization_id: str
    management_account_id: str
    partition: str
    #: The STS identity that listed it.
    caller_arn: str
    #: Every account of the organization, whatever its status, by account ID.
    accounts: tuple[ListedAccount, ...]

    def members(self, shard: Shard | None = None) -> list[Member]:
        """The member accounts a run reads, by account ID: those the configuration's
        filters select, or exactly the accounts of ``shard`` (a plan's), so that a shard
        reads what was planned even if the organization changed since."""
        if shard is None:
            return [Member(self._account(listed)) for listed in self._selected()]
        listed_by_id = {listed.account_id: listed for listed in self.accounts}
        members = []
        for account_id in sorted(shard):
            listed = listed_by_id.get(account_id)
            regions = shard[account_id]
            if listed is not None and listed.status == ACTIVE:
                members.append(Member(self._account(listed, regions)))
                continue
            state = "is not in it" if listed is None else f"is {listed.status}"
            members.append(
                Member(
                    self._account(listed, regions, account_id=account_id),
                    f"account {account_id} was planned but is no longer an active member of "
                    f"organization {self.organization.name} ({self.organization_id}): it {state}",
                )
            )
        return members

    def _selected(self) -> list[ListedAccount]:
        org = self.organization
        known = {parent for listed in self.accounts for parent in listed.parent_ids}
        unknown = [ou for ou in org.include_ous if ou not in known]
        if unknown:
            raise AccountError(
                f"{org.where}: include_ous names {', '.join(unknown)}, which holds no account of "
                f"organization {self.organization_id} (or is not one of its units)"
            )
        selected = [
            listed
            for listed in self.accounts
            if listed.status == ACTIVE
            and (org.include_management or listed.account_id != self.management_account_id)
            and (not org.include_ous or set(org.include_ous) & set(listed.parent_ids))
            and listed.account_id not in org.exclude_accounts
            and all(listed.tags.get(key) == value for key, value in org.include_tags.items())
        ]
        if not selected:
            raise AccountError(
                f"{org.where}: no active member account of organization {self.organization_id} "
                "is selected (check include_ous, exclude_accounts, include_tags and "
                "include_management)"
            )
        return selected

    def _account(
        self,
        listed: ListedAccount | None,
        regions: tuple[str, ...] | None = None,
        *,
        account_id: str | None = None,
    ) -> Account:
        org = self.organization
        account_id = listed.account_id if listed is not None else account_id
        assert account_id is not None
        access = org.access_account()
        return Account(
            name=self._names().get(account_id, account_id),
            account_id=account_id,
            regions=regions or org.regions or (org.home_region,),
            mode=access.mode,
            role_arn=f"arn:{self.partition}:iam::{account_id}:role/{org.member_role}",
            external_id=org.external_id,
            endpoint_url=org.endpoint_url,
            via=access,
            organization=Membership(
                organization=org.name,
                management_account_id=self.management_account_id,
                ou_path=listed.ou_path if listed is not None else (),
                regions_enabled=org.enabled_regions and regions is None,
            ),
        )

    def _names(self) -> dict[str, str]:
        """Each account's run name: its name in the organization, made safe for node IDs
        and file names; one that two accounts share gets the account ID appended."""
        safe = {
            listed.account_id: _UNSAFE_NAME.sub("-", listed.name).strip("-") or listed.account_id
            for listed in self.accounts
        }
        counts: dict[str, int] = {}
        for name in safe.values():
            counts[name] = counts.get(name, 0) + 1
        return {
            account_id: name if counts[name] == 1 else f"{name}-{account_id}"
            for account_id, name in safe.items()
        }


def discover(organization: Organization) -> Discovery:
    """List ``organization`` through its management or delegated administrator account,
    which first proves who it is; an error names the operation and what fixes it."""
    access = organization.access_account()
    session = open_session(access)
    caller_arn = verify_identity(session, access)
    client = session.client("organizations", region_name=organization.home_region)
    try:
        described = client.describe_organization()["Organization"]
        accounts = list(_walk(client, with_tags=bool(organization.include_tags)))
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "ClientError")
        text = error.response.get("Error", {}).get("Message", "")
        raise AccountError(
            f"{organization.where}: organizations:{error.operation_name} was refused "
            f"({code}: {text}); account {organization.account_id} must be the organization's "
            "management account, or a delegated administrator allowed organizations:List* "
            "and organizations:Describe*"
        ) from error
    except BotoCoreError as error:
        raise AccountError(
            f"{organization.where}: AWS Organizations cannot be asked: {error}"
        ) from error
    return Discovery(
        organization=organization,
        organization_id=described["Id"],
        management_account_id=described["MasterAccountId"],
        partition=described["Arn"].split(":")[1],
        caller_arn=caller_arn,
        accounts=tuple(sorted(accounts, key=lambda listed: listed.account_id)),
    )


def _walk(client: Any, *, with_tags: bool) -> Iterable[ListedAccount]:
    """Every account under every root, with the units above it."""
    for root in _pages(client, "list_roots", "Roots"):
        yield from _under(client, root["Id"], (root["Id"],), (), with_tags)


def _under(
    client: Any, parent: str, ids: tuple[str, ...], names: tuple[str, ...], with_tags: bool
) -> Iterable[ListedAccount]:
    for account in _pages(client, "list_accounts_for_parent", "Accounts", ParentId=parent):
        yield ListedAccount(
            account_id=account["Id"],
            name=account.get("Name", account["Id"]),
            status=account.get("State", account.get("Status", "")),
            parent_ids=ids,
            ou_path=names,
            tags=_tags_of(client, account["Id"]) if with_tags else {},
        )
    units = _pages(
        client, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent
    )
    for unit in units:
        yield from _under(client, unit["Id"], (*ids, unit["Id"]), (*names, unit["Name"]), with_tags)


def _tags_of(client: Any, account_id: str) -> dict[str, str]:
    tags = _pages(client, "list_tags_for_resource", "Tags", ResourceId=account_id)
    return {tag["Key"]: tag["Value"] for tag in tags}


def _pages(client: Any, method: str, key: str, **params: Any) -> list[dict[str, Any]]:
    return [item for page in client.get_paginator(method).paginate(**params) for item in page[key]]


def reach_member(session: Any, account: Account) -> tuple[str, Account]:
    """Assume the member role (through ``session``), prove it is the member's, and settle
    its Regions when they are the ones enabled in it: the caller ARN and the account as
    it will be read. :class:`MemberUnreachable` names what failed."""
    try:
        identity = session.client("sts", config=IDENTITY_CLIENT_CONFIG).get_caller_identity()
    except ClientError as error:
        raise MemberUnreachable(_refusal(error, account)) from error
    except BotoCoreError as error:
        raise MemberUnreachable(
            f"{type(error).__name__} on sts:AssumeRole of {account.role_arn}: {error}"
        ) from error
    if identity["Account"] != account.account_id:
        raise MemberUnreachable(
            f"the role {account.role_arn} answered as account {identity['Account']} "
            f"({identity['Arn']}), not {account.account_id}"
        )
    membership = account.organization
    if membership is not None and membership.regions_enabled:
        account = replace(
            account,
            regions=enabled_regions(session, account),
            organization=replace(membership, regions_enabled=False),
        )
    return identity["Arn"], account


def enabled_regions(session: Any, account: Account) -> tuple[str, ...]:
    """The Regions enabled in ``account``, as its own EC2 lists them."""
    try:
        listed = session.client("ec2", region_name=account.region).describe_regions()["Regions"]
    except ClientError as error:
        raise MemberUnreachable(_refusal(error, account)) from error
    except BotoCoreError as error:
        raise MemberUnreachable(
            f"{type(error).__name__} on ec2:DescribeRegions: {error}"
        ) from error
    regions = sorted(
        region["RegionName"]
        for region in listed
        if region.get("OptInStatus", "opt-in-not-required") in _ENABLED
    )
    if not regions:
        raise MemberUnreachable("ec2:DescribeRegions listed no enabled Region")
    return tuple(regions)


def _refusal(error: ClientError, account: Account) -> str:
    """``AccessDenied on sts:AssumeRole of arn:...:role/reader: <AWS's message>``."""
    code = error.response.get("Error", {}).get("Code", "ClientError")
    text = error.response.get("Error", {}).get("Message", "")
    operation = error.operation_name
    service = "ec2" if operation == "DescribeRegions" else "sts"
    of = f" of {account.role_arn}" if operation == "AssumeRole" else f" as {account.role_arn}"
    return f"{code} on {service}:{operation}{of}" + (f": {text}" if text else "")


def parse_shard(value: str) -> dict[str, tuple[str, ...] | None]:
    """``--prr-shard=111111111111,222222222222:eu-west-1,...``: each account of the
    shard, with the Region it reads when one is named (an account-region shard)."""
    shard: dict[str, tuple[str, ...] | None] = {}
    for entry in filter(None, (part.strip() for part in value.split(","))):
        account_id, _, region = entry.partition(":")
        if not ACCOUNT_ID.match(account_id) or (region and not REGION.match(region)):
            raise AccountError(
                f"--prr-shard: {entry!r} is not ACCOUNT_ID or ACCOUNT_ID:REGION "
                "(e.g. 111111111111 or 111111111111:eu-west-1)"
            )
        regions = shard.get(account_id, ())
        if regions is None or (account_id in shard and not region):
            raise AccountError(
                f"--prr-shard: account {account_id} is named whole and again; name it once, "
                "or once per Region"
            )
        if region:
            if region in regions:
                raise AccountError(f"--prr-shard: {entry} is named twice")
            shard[account_id] = (*regions, region)
        else:
            shard[account_id] = None
    if not shard:
        raise AccountError("--prr-shard names no account")
    return shard
