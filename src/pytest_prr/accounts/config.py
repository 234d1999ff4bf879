"""Which AWS account a run targets, and a boto3 session that reaches it.

Accounts are named in ``[tool.prr.accounts.NAME]`` of pyproject.toml, or ``[accounts.NAME]``
of a prr.toml beside it; a project that configures both is refused, since one would silently
replace the other (its tunables included). The reserved name
``moto`` needs no configuration: a moto server on loopback inside this process.
A live or endpoint account must prove who it is (STS) before anything runs. The member
accounts of an organization (:mod:`pytest_prr.accounts.orgconfig`) are accounts too, reached
through the account that discovered them (:attr:`Account.via`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

MOTO = "moto"
MOTO_ACCOUNT_ID = "123456789012"
DEFAULT_MOTO_REGIONS = ("us-east-1",)
ROLE_SESSION_NAME = "pytest-prr"

ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$")
_TARGET_KEYS = ("profile", "role_arn", "endpoint_url", "credentials")
#: ``credentials = "default"``: the default credential chain (CI's environment, OIDC).
DEFAULT_CREDENTIALS = "default"
_KEYS = {"account_id", "regions", "external_id", *_TARGET_KEYS}


class AccountError(ValueError):
    """An account that cannot be used: unknown, misconfigured, or not the one it claims."""


@dataclass(frozen=True)
class Membership:
    """Where a member account sits in the organization it was discovered in: the results
    record it (a target's ``organization``)."""

    organization: str
    management_account_id: str
    #: The names of the organizational units from the root down to the account's parent.
    ou_path: tuple[str, ...] = ()
    #: Whether the account's Regions are still to be asked of it (``regions = "enabled"``).
    regions_enabled: bool = False

    def record(self) -> dict[str, Any]:
        """What a results document records of it (a target's ``organization``)."""
        return {
            "name": self.organization,
            "management_account_id": self.management_account_id,
            "ou_path": list(self.ou_path),
        }


@dataclass(frozen=True)
class Account:
    """A configured target account; exposed to tests as the ``prr_account`` fixture."""

    name: str
    account_id: str
    regions: tuple[str, ...]
    mode: str
    profile: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    endpoint_url: str | None = None
    #: The account whose credentials assume ``role_arn`` (an organization's management or
    #: delegated administrator account); None: the default credential chain assumes it.
    via: Account | None = None
    #: For an organization's member account: where it sits in the organization.
    organization: Membership | None = None

    @property
    def region(self) -> str:
        """The default region: the first one configured."""
        return self.regions[0]

    def describe(self) -> str:
        if self.organization is not None:
            how = f"role {self.role_arn} from organization {self.organization.organization}"
            return f"{self.name} ({self.account_id}, {', '.join(self.regions)}; {how})"
        if self.profile:
            live = f"profile {self.profile}"
        elif self.role_arn:
            live = f"role {self.role_arn}"
        else:
            live = "the default credential chain"
        how = {
            "live": live,
            "endpoint": f"endpoint {self.endpoint_url}",
            "moto": "moto server on loopback",
        }.get(self.mode, self.mode)
        return f"{self.name} ({self.account_id}, {', '.join(self.regions)}; {how})"

    def to_dict(self) -> dict[str, Any]:
        """The account as plain data: how the xdist controller hands a discovered member
        (and the account it is reached through) to its workers."""
        data: dict[str, Any] = {
            field.name: getattr(self, field.name)
            for field in fields(self)
            if field.name not in _NESTED
        }
        data["regions"] = list(self.regions)
        data["via"] = None if self.via is None else self.via.to_dict()
        if self.organization is not None:
            membership = asdict(self.organization)
            data["organization"] = {**membership, "ou_path": list(self.organization.ou_path)}
        else:
            data["organization"] = None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Account:
        membership = data.get("organization")
        return cls(
            **{key: value for key, value in data.items() if key not in _NESTED},
            regions=tuple(data["regions"]),
            via=None if data.get("via") is None else cls.from_dict(data["via"]),
            organization=None
            if membership is None
            else Membership(**{**membership, "ou_path": tuple(membership["ou_path"])}),
        )


#: The fields of an :class:`Account` that :meth:`Account.to_dict` writes other than as they are.
_NESTED = ("regions", "via", "organization")


@dataclass(frozen=True)
class AccountSettings:
    """The accounts and tunables configured for a project, and the file they came from."""

    accounts: Mapping[str, Account]
    source: Path | None
    tunables: Mapping[str, Any] = field(default_factory=dict)
    tunables_origin: str = "[tool.prr.tunables]"

    def resolve(self, name: str) -> Account:
        if name in self.accounts:
            return self.accounts[name]
        if name == MOTO:
            return moto_account()
        configured = ", ".join(sorted({*self.accounts, MOTO}))
        where = f" in {self.source}" if self.source else " (no prr.toml or [tool.prr] found)"
        raise AccountError(
            f"unknown account {name!r} for --prr-account; configured{where}: {configured}"
        )


def moto_account(regions: tuple[str, ...] = DEFAULT_MOTO_REGIONS) -> Account:
    return Account(name=MOTO, account_id=MOTO_ACCOUNT_ID, regions=regions, mode="moto")


@dataclass(frozen=True)
class ProjectFile:
    """pytest-prr's settings of a project: the table, the prefix its keys are written with
    (``tool.prr.`` in pyproject.toml, nothing in prr.toml), and the file; no file, no source."""

    settings: Mapping[str, Any]
    prefix: str
    source: Path | None


def project_file(rootpath: Path) -> ProjectFile:
    """The settings of the project whose root (pytest's rootdir) is ``rootpath``: its
    prr.toml, or pyproject.toml's ``[tool.prr]``, never both."""
    prr_toml = rootpath / "prr.toml"
    pyproject = rootpath / "pyproject.toml"
    if prr_toml.is_file():
        if pyproject.is_file() and _load_toml(pyproject).get("tool", {}).get("prr"):
            raise AccountError(
                f"both {prr_toml} and {pyproject} [tool.prr] configure pytest-prr; keep one "
                "of them (neither silently replaces the other, tunables included)"
            )
        return ProjectFile(_load_toml(prr_toml), "", prr_toml)
    if pyproject.is_file():
        return ProjectFile(
            _load_toml(pyproject).get("tool", {}).get("prr", {}), "tool.prr.", pyproject
        )
    return ProjectFile({}, "", None)


def read_account_settings(rootpath: Path) -> AccountSettings:
    """Read the accounts of the project whose root (pytest's rootdir) is ``rootpath``."""
    project = project_file(rootpath)
    settings, prefix, source = project.settings, project.prefix, project.source
    if source is None:
        return AccountSettings(accounts={}, source=None)
    tunables = settings.get("tunables", {})
    if not isinstance(tunables, dict):
        raise AccountError(f"{source}: [{prefix}tunables] must be a table")
    table = settings.get("accounts", {})
    prefix += "accounts"
    if not isinstance(table, dict):
        raise AccountError(f"{source}: [{prefix}] must be a table of accounts")
    accounts = {
        name: _parse_account(name, entry, f"{source} [{prefix}.{name}]")
        for name, entry in table.items()
    }
    return AccountSettings(
        accounts=accounts,
        source=source,
        tunables=tunables,
        tunables_origin=f"{source} [{prefix.removesuffix('accounts')}tunables]",
    )


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        raise AccountError(f"{path}: not valid TOML: {error}") from error


def _parse_account(name: str, entry: Any, where: str) -> Account:
    if not isinstance(entry, dict):
        raise AccountError(f"{where}: must be a table")
    regions = parse_regions(entry.get("regions"), where)
    if name == MOTO:
        extra = set(entry) - {"regions"}
        if extra:
            raise AccountError(
                f"{where}: 'moto' is the built-in mocked account; only 'regions' may be set "
                f"(got {', '.join(sorted(extra))})"
            )
        return moto_account(regions or DEFAULT_MOTO_REGIONS)
    unknown = set(entry) - _KEYS
    if unknown:
        raise AccountError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(_KEYS))}"
        )
    account_id = entry.get("account_id")
    if not isinstance(account_id, str) or not ACCOUNT_ID.match(account_id):
        raise AccountError(
            f"{where}: account_id must be a 12-digit string in quotes, got {account_id!r}"
        )
    if not regions:
        raise AccountError(f"{where}: regions must list at least one region, e.g. ['eu-west-1']")
    targets = [key for key in _TARGET_KEYS if key in entry]
    if len(targets) != 1:
        raise AccountError(
            f"{where}: set exactly one of profile, role_arn, endpoint_url or "
            f'credentials = "default" (got {", ".join(targets) or "none"})'
        )
    if "credentials" in entry and entry["credentials"] != DEFAULT_CREDENTIALS:
        raise AccountError(
            f'{where}: credentials may only be "default" (the default credential chain: the '
            f"environment, web identity, an instance role), got {entry['credentials']!r}"
        )
    for key in (*targets, "external_id"):
        if key in entry and (not isinstance(entry[key], str) or not entry[key]):
            raise AccountError(f"{where}: {key} must be a non-empty string")
    if "external_id" in entry and "role_arn" not in entry:
        raise AccountError(f"{where}: external_id is only used with role_arn")
    if "role_arn" in entry and not ROLE_ARN.match(entry["role_arn"]):
        raise AccountError(f"{where}: role_arn {entry['role_arn']!r} is not an IAM role ARN")
    if "endpoint_url" in entry and not entry["endpoint_url"].startswith(("http://", "https://")):
        raise AccountError(f"{where}: endpoint_url must start with http:// or https://")
    return Account(
        name=name,
        account_id=account_id,
        regions=regions,
        mode="endpoint" if "endpoint_url" in entry else "live",
        profile=entry.get("profile"),
        role_arn=entry.get("role_arn"),
        external_id=entry.get("external_id"),
        endpoint_url=entry.get("endpoint_url"),
    )


def parse_regions(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise AccountError(f"{where}: regions must be a list of region names")
    bad = [item for item in value if not REGION.match(item)]
    if bad:
        raise AccountError(f"{where}: not a region name: {', '.join(map(repr, bad))}")
    if len(set(value)) != len(value):
        raise AccountError(f"{where}: regions are listed twice")
    return tuple(value)
