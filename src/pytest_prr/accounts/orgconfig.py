"""An AWS Organization as a target: ``[tool.prr.organizations.NAME]`` of pyproject.toml (or
``[organizations.NAME]`` of prr.toml).

One table says how to reach the account that can list the organization (its management
account or a delegated administrator), which read-only role to assume in each member, which
Regions to read there, and which members to read. Every problem is an :class:`AccountError`
naming the file, the table and the key, raised before any AWS call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_prr.accounts.config import (
    ACCOUNT_ID,
    DEFAULT_CREDENTIALS,
    REGION,
    ROLE_ARN,
    Account,
    AccountError,
    parse_regions,
    project_file,
)

#: ``regions = "enabled"``: the Regions enabled in each member account, asked of it.
ENABLED_REGIONS = "enabled"
#: Where STS and Organizations are asked when ``regions`` names none to take it from.
DEFAULT_HOME_REGION = "us-east-1"
#: An organization's name travels in pytest arguments and CI job names: no spaces, no quotes.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: IAM's role name (with an optional path), as a member role is given: not an ARN.
_ROLE_NAME = re.compile(r"^(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}$")
_OU_ID = re.compile(r"^(?:ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32})$")
_ACCESS_KEYS = ("profile", "role_arn", "endpoint_url", "credentials")
_KEYS = frozenset(
    {
        "account_id",
        "member_role",
        "external_id",
        "regions",
        "home_region",
        "include_management",
        "include_ous",
        "exclude_accounts",
        "include_tags",
        *_ACCESS_KEYS,
    }
)


@dataclass(frozen=True)
class Organization:
    """A configured organization: how to list it, and which of its members to read how."""

    name: str
    #: The account the credentials below reach: the management or a delegated administrator.
    account_id: str
    member_role: str
    #: The Regions read in each member; empty when they are the ones enabled in it.
    regions: tuple[str, ...]
    home_region: str
    where: str
    profile: str | None = None
    role_arn: str | None = None
    endpoint_url: str | None = None
    #: The member role's ``sts:ExternalId``.
    external_id: str | None = None
    include_management: bool = False
    include_ous: tuple[str, ...] = ()
    exclude_accounts: tuple[str, ...] = ()
    include_tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def enabled_regions(self) -> bool:
        """Whether each member's Regions are the ones enabled in it, asked at run time."""
        return not self.regions

    def access_account(self) -> Account:
        """The account whose credentials list the organization and assume the member
        roles; it proves who it is (STS) before anything else is asked."""
        return Account(
            name=f"organization {self.name}",
            account_id=self.account_id,
            regions=(self.home_region,),
            mode="live" if self.endpoint_url is None else "endpoint",
            profile=self.profile,
            role_arn=self.role_arn,
            endpoint_url=self.endpoint_url,
        )


def read_organization(rootpath: Path, name: str) -> Organization:
    """The organization ``name`` configured for the project at ``rootpath``."""
    project = project_file(rootpath)
    table = project.settings.get("organizations", {})
    prefix = f"{project.prefix}organizations"
    if not isinstance(table, dict):
        raise AccountError(f"{project.source}: [{prefix}] must be a table of organizations")
    if name not in table:
        where = f"in {project.source}" if project.source else "(no prr.toml or [tool.prr] found)"
        configured = ", ".join(sorted(table)) or "none"
        raise AccountError(
            f"unknown organization {name!r} for --prr-org; configured {where}: {configured} "
            f"(add a [{prefix}.{name}] table)"
        )
    return parse_organization(name, table[name], f"{project.source} [{prefix}.{name}]")


def parse_organization(name: str, entry: Any, where: str) -> Organization:
    """One ``[...organizations.NAME]`` table; ``where`` names it in every error."""
    if not _NAME.match(name):
        raise AccountError(
            f"{where}: an organization's name may hold letters, digits, '_', '.' and '-' only "
            "(it is passed to pytest and named in CI jobs)"
        )
    if not isinstance(entry, dict):
        raise AccountError(f"{where}: must be a table")
    unknown = set(entry) - _KEYS
    if unknown:
        raise AccountError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(_KEYS))}"
        )
    account_id = entry.get("account_id")
    if not isinstance(account_id, str) or not ACCOUNT_ID.match(account_id):
        raise AccountError(
            f"{where}: account_id must be the 12-digit ID, in quotes, of the account the "
            f"credentials reach (the management or a delegated administrator account), got "
            f"{account_id!r}"
        )
    _check_access(entry, where)
    regions = _regions(entry.get("regions"), where)
    home_region = entry.get("home_region", regions[0] if regions else DEFAULT_HOME_REGION)
    if not isinstance(home_region, str) or not REGION.match(home_region):
        raise AccountError(f"{where}: home_region must be a region name, got {home_region!r}")
    include_management = entry.get("include_management", False)
    if not isinstance(include_management, bool):
        raise AccountError(f"{where}: include_management must be true or false")
    return Organization(
        name=name,
        account_id=account_id,
        member_role=_member_role(entry.get("member_role"), where),
        regions=regions,
        home_region=home_region,
        where=where,
        profile=entry.get("profile"),
        role_arn=entry.get("role_arn"),
        endpoint_url=entry.get("endpoint_url"),
        external_id=_text(entry, "external_id", where),
        include_management=include_management,
        include_ous=_listed(
            entry, "include_ous", _OU_ID, "an OU ID (ou-...) or the root's (r-...)", where
        ),
        exclude_accounts=_listed(
            entry, "exclude_accounts", ACCOUNT_ID, "a 12-digit account ID", where
        ),
        include_tags=_tags(entry.get("include_tags", {}), where),
    )


def _check_access(entry: Mapping[str, Any], where: str) -> None:
    given = [key for key in _ACCESS_KEYS if key in entry]
    if len(given) != 1:
        raise AccountError(
            f"{where}: set exactly one of profile, role_arn, endpoint_url or "
            f'credentials = "default" to reach the management or delegated administrator '
            f"account (got {', '.join(given) or 'none'})"
        )
    key = given[0]
    value = _text(entry, key, where)
    if key == "credentials" and value != DEFAULT_CREDENTIALS:
        raise AccountError(
            f'{where}: credentials may only be "default" (the default credential chain), '
            f"got {value!r}"
        )
    if key == "role_arn" and not ROLE_ARN.match(value or ""):
        raise AccountError(f"{where}: role_arn {value!r} is not an IAM role ARN")
    if key == "endpoint_url" and not (value or "").startswith(("http://", "https://")):
        raise AccountError(f"{where}: endpoint_url must start with http:// or https://")


def _member_role(value: Any, where: str) -> str:
    if value is None:
        raise AccountError(
            f"{where}: member_role is required: the name of the read-only role to assume in "
            'each member account, e.g. member_role = "pytest-prr-reader"'
        )
    if not isinstance(value, str) or not _ROLE_NAME.match(value):
        hint = (
            " (give the role's name: its ARN differs in each member)"
            if "arn:" in str(value)
            else ""
        )
        raise AccountError(f"{where}: member_role must be an IAM role name, got {value!r}{hint}")
    return value


def _regions(value: Any, where: str) -> tuple[str, ...]:
    if value == ENABLED_REGIONS:
        return ()
    if value is None or value == []:
        raise AccountError(
            f"{where}: regions must list the Regions to read in each member, e.g. "
            f'["eu-west-1"], or be "enabled" for the Regions enabled in each'
        )
    if isinstance(value, str):
        raise AccountError(
            f'{where}: regions must be a list of region names or "enabled", got {value!r}'
        )
    return parse_regions(value, where)


def _text(entry: Mapping[str, Any], key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise AccountError(f"{where}: {key} must be a non-empty string")
    return value


def _listed(
    entry: Mapping[str, Any], key: str, pattern: re.Pattern[str], what: str, where: str
) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise AccountError(f"{where}: {key} must be a list of strings")
    bad = [item for item in value if not pattern.match(item)]
    if bad:
        raise AccountError(f"{where}: {key}: not {what}: {', '.join(map(repr, bad))}")
    if len(set(value)) != len(value):
        raise AccountError(f"{where}: {key} lists an entry twice")
    return tuple(value)


def _tags(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(key, str) and isinstance(tag, str) for key, tag in value.items()
    ):
        raise AccountError(
            f'{where}: include_tags must be a table of tag values, e.g. {{ env = "prod" }}'
        )
    return dict(value)
