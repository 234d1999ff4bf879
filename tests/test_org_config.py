"""An organization's configuration, a shard's accounts, and which members are selected:
every way they can be wrong, named with the file, the table and the key."""

from __future__ import annotations

import fnmatch
import textwrap
from pathlib import Path

import pytest

from pytest_prr.accounts.config import Account, AccountError, Membership
from pytest_prr.accounts.organizations import Discovery, ListedAccount, parse_shard
from pytest_prr.accounts.orgconfig import parse_organization, read_organization

ORG = """
[tool.prr.organizations.acme]
account_id = "123456789012"
profile = "acme-management"
member_role = "pytest-prr-reader"
external_id = "prr-acme"
regions = ["eu-west-1", "us-east-1"]
include_ous = ["ou-ab12-34cd56ef"]
exclude_accounts = ["210987654321"]
include_tags = { env = "prod" }
"""


def read(tmp_path: Path, body: str, name: str = "acme", file: str = "pyproject.toml"):
    (tmp_path / file).write_text(textwrap.dedent(body))
    return read_organization(tmp_path, name)


def test_an_organization_from_pyproject_and_from_prr_toml(tmp_path: Path) -> None:
    org = read(tmp_path, ORG)
    assert (org.account_id, org.profile, org.member_role, org.external_id) == (
        "123456789012",
        "acme-management",
        "pytest-prr-reader",
        "prr-acme",
    )
    assert org.regions == ("eu-west-1", "us-east-1")
    assert org.home_region == "eu-west-1"
    assert (org.include_ous, org.exclude_accounts) == (("ou-ab12-34cd56ef",), ("210987654321",))
    assert org.include_tags == {"env": "prod"}
    assert not org.include_management and not org.enabled_regions
    access = org.access_account()
    assert (access.account_id, access.mode, access.profile) == (
        "123456789012",
        "live",
        "acme-management",
    )
    (tmp_path / "pyproject.toml").unlink()
    toml = ORG.replace("[tool.prr.organizations.acme]", "[organizations.acme]")
    assert read(tmp_path, toml, file="prr.toml").where.endswith("prr.toml [organizations.acme]")


def test_enabled_regions_and_a_home_region(tmp_path: Path) -> None:
    org = read(
        tmp_path,
        """
        [tool.prr.organizations.acme]
        account_id = "123456789012"
        credentials = "default"
        member_role = "audit/pytest-prr-reader"
        regions = "enabled"
        include_management = true
        """,
    )
    assert org.enabled_regions and org.regions == ()
    assert org.home_region == "us-east-1"
    assert org.include_management
    assert org.access_account().profile is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"member_role": None}, "member_role is required*"),
        (
            {"member_role": '"arn:aws:iam::123456789012:role/reader"'},
            "member_role must be an IAM role name*give the role's name*",
        ),
        ({"account_id": "123"}, "account_id must be the 12-digit ID*"),
        ({"regions": None}, 'regions must list the Regions*or be "enabled"*'),
        ({"regions": '"all"'}, 'regions must be a list of region names or "enabled"*'),
        ({"regions": '["moon-1"]'}, "not a region name: 'moon-1'"),
        ({"role_arn": '"arn:aws:iam::123456789012:role/m"'}, "set exactly one of profile*"),
        ({"profile": None}, "set exactly one of profile*(got none)"),
        ({"include_ous": '["Workloads"]'}, "include_ous: not an OU ID (ou-...)*'Workloads'"),
        ({"exclude_accounts": '["1"]'}, "exclude_accounts: not a 12-digit account ID: '1'"),
        ({"include_tags": '["env=prod"]'}, "include_tags must be a table of tag values*"),
        ({"include_management": '"yes"'}, "include_management must be true or false"),
        ({"regoins": '["eu-west-1"]'}, "unknown key(s) regoins; allowed:*"),
    ],
)
def test_every_mistake_names_the_file_the_table_and_the_key(
    tmp_path: Path, change: dict[str, str | None], message: str
) -> None:
    lines = ORG.strip().splitlines()[1:]
    table = {line.split(" = ")[0]: line.split(" = ", 1)[1] for line in lines}
    for key, value in change.items():
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    body = "[tool.prr.organizations.acme]\n" + "\n".join(f"{k} = {v}" for k, v in table.items())
    with pytest.raises(AccountError) as raised:
        read(tmp_path, body)
    text = str(raised.value)
    assert text.startswith(f"{tmp_path / 'pyproject.toml'} [tool.prr.organizations.acme]: ")
    assert fnmatch.fnmatchcase(text, f"*{message}"), text


def test_an_unknown_organization_lists_the_configured_ones(tmp_path: Path) -> None:
    with pytest.raises(AccountError, match=r"unknown organization 'other'.*configured in .*: acme"):
        read(tmp_path, ORG, name="other")
    with pytest.raises(AccountError, match=r"may hold letters, digits"):
        parse_organization("a b", {}, "here")


def test_a_shard_names_accounts_or_account_regions_once() -> None:
    shard = parse_shard("111111111111, 222222222222:eu-west-1,222222222222:us-east-1")
    assert shard == {"111111111111": None, "222222222222": ("eu-west-1", "us-east-1")}
    for value, message in [
        ("11111", "'11111' is not ACCOUNT_ID or ACCOUNT_ID:REGION"),
        ("111111111111:mars", "is not ACCOUNT_ID or ACCOUNT_ID:REGION"),
        ("111111111111,111111111111:eu-west-1", "named whole and again"),
        ("111111111111:eu-west-1,111111111111", "named whole and again"),
        ("111111111111:eu-west-1,111111111111:eu-west-1", "is named twice"),
        (" , ", "names no account"),
    ]:
        with pytest.raises(AccountError, match=message):
            parse_shard(value)


def listed(account_id: str, name: str, *parents: str, status: str = "ACTIVE", **tags: str):
    return ListedAccount(
        account_id=account_id,
        name=name,
        status=status,
        parent_ids=("r-root", *parents),
        ou_path=tuple(parent.upper() for parent in parents),
        tags=tags,
    )


def discovery(tmp_path: Path, extra: str = "", *accounts: ListedAccount) -> Discovery:
    body = ORG.split("include_ous")[0] + extra
    return Discovery(
        organization=read(tmp_path, body),
        organization_id="o-abc",
        management_account_id="100000000000",
        partition="aws-us-gov",
        caller_arn="arn:aws-us-gov:sts::100000000000:assumed-role/m/s",
        accounts=accounts
        or (
            listed("100000000000", "management"),
            listed("111111111111", "Orders prod", "ou-ab12-prodprod", env="prod"),
            listed("222222222222", "orders prod", "ou-ab12-prodprod", env="prod"),
            listed("333333333333", "dev", "ou-ab12-devdevde", env="dev"),
            listed("444444444444", "gone", status="SUSPENDED"),
        ),
    )


def ids(members) -> list[str]:
    return [member.account.account_id for member in members]


def test_filters_select_the_active_members(tmp_path: Path) -> None:
    assert ids(discovery(tmp_path).members()) == ["111111111111", "222222222222", "333333333333"]
    with_management = discovery(tmp_path, "include_management = true\n").members()
    assert ids(with_management)[0] == "100000000000"
    prod_units = discovery(tmp_path, 'include_ous = ["ou-ab12-prodprod"]\n').members()
    assert ids(prod_units) == ["111111111111", "222222222222"]
    root = discovery(tmp_path, 'include_ous = ["r-root"]\n').members()
    assert ids(root) == ["111111111111", "222222222222", "333333333333"]
    tagged = discovery(tmp_path, 'include_tags = { env = "dev" }\n').members()
    assert ids(tagged) == ["333333333333"]
    excluded = discovery(tmp_path, 'exclude_accounts = ["333333333333"]\n').members()
    assert ids(excluded) == ["111111111111", "222222222222"]
    with pytest.raises(AccountError, match=r"include_ous names ou-ab12-nothere1, which holds no"):
        discovery(tmp_path, 'include_ous = ["ou-ab12-nothere1"]\n').members()
    with pytest.raises(AccountError, match="no active member account of organization o-abc"):
        discovery(tmp_path, 'include_tags = { env = "qa" }\n').members()


def test_a_member_is_reached_through_the_management_account(tmp_path: Path) -> None:
    member = discovery(tmp_path).members()[0].account
    assert member.role_arn == "arn:aws-us-gov:iam::111111111111:role/pytest-prr-reader"
    assert (member.external_id, member.mode, member.regions) == (
        "prr-acme",
        "live",
        ("eu-west-1", "us-east-1"),
    )
    assert member.via == discovery(tmp_path).organization.access_account()
    assert member.organization == Membership("acme", "100000000000", ("OU-AB12-PRODPROD",))
    assert member.organization.record() == {
        "name": "acme",
        "management_account_id": "100000000000",
        "ou_path": ["OU-AB12-PRODPROD"],
    }
    assert Account.from_dict(member.to_dict()) == member


def test_run_names_are_safe_and_unique(tmp_path: Path) -> None:
    names = [member.account.name for member in discovery(tmp_path).members()]
    # "Orders prod" and "orders prod" differ, but only in case: kept as they are.
    assert names == ["Orders-prod", "orders-prod", "dev"]
    twins = discovery(
        tmp_path,
        "",
        listed("111111111111", "twin"),
        listed("222222222222", "twin"),
        listed("333333333333", "///"),
    )
    assert [m.account.name for m in twins.members()] == [
        "twin-111111111111",
        "twin-222222222222",
        "333333333333",
    ]


def test_a_shard_reads_what_was_planned_even_if_the_organization_changed(tmp_path: Path) -> None:
    found = discovery(tmp_path)
    shard = parse_shard("444444444444,555555555555:eu-west-1,333333333333:us-east-1")
    members = found.members(shard)
    assert ids(members) == ["333333333333", "444444444444", "555555555555"]
    assert [m.account.regions for m in members] == [
        ("us-east-1",),
        ("eu-west-1", "us-east-1"),
        ("eu-west-1",),
    ]
    assert members[0].unreachable is None
    assert members[1].unreachable == (
        "account 444444444444 was planned but is no longer an active member of organization "
        "acme (o-abc): it is SUSPENDED"
    )
    assert members[2].unreachable is not None and members[2].unreachable.endswith("is not in it")
    assert members[2].account.name == "555555555555"
