"""Account configuration: where it is read from, and every way it can be wrong."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pytest_prr.accounts import AccountError, read_account_settings


def settings_from(tmp_path: Path, body: str, name: str = "pyproject.toml"):
    (tmp_path / name).write_text(textwrap.dedent(body))
    return read_account_settings(tmp_path)


def test_profile_role_and_endpoint_accounts(tmp_path: Path) -> None:
    settings = settings_from(
        tmp_path,
        """
        [tool.prr.accounts.prod]
        account_id = "111122223333"
        regions = ["eu-west-1", "eu-central-1"]
        profile = "prod-readonly"

        [tool.prr.accounts.audit]
        account_id = "444455556666"
        regions = ["us-east-1"]
        role_arn = "arn:aws:iam::444455556666:role/prr-readonly"
        external_id = "prr"

        [tool.prr.accounts.local]
        account_id = "000000000000"
        regions = ["us-east-1"]
        endpoint_url = "http://localhost:4566"
        """,
    )
    prod = settings.resolve("prod")
    assert (prod.mode, prod.profile, prod.region) == ("live", "prod-readonly", "eu-west-1")
    audit = settings.resolve("audit")
    assert (audit.mode, audit.external_id) == ("live", "prr")
    assert settings.resolve("local").mode == "endpoint"
    assert settings.resolve("moto").account_id == "123456789012"


def test_prr_toml_wins_over_pyproject(tmp_path: Path) -> None:
    settings_from(tmp_path, '[tool.prr.accounts.moto]\nregions = ["eu-west-1"]\n')
    settings = settings_from(tmp_path, '[accounts.moto]\nregions = ["ap-south-1"]\n', "prr.toml")
    assert settings.resolve("moto").regions == ("ap-south-1",)
    assert settings.source == tmp_path / "prr.toml"


def test_no_configuration_still_knows_moto(tmp_path: Path) -> None:
    settings = read_account_settings(tmp_path)
    assert settings.resolve("moto").mode == "moto"
    with pytest.raises(AccountError, match=r"no prr.toml or \[tool.prr\] found\): moto"):
        settings.resolve("prod")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            'account_id = 111122223333\nregions = ["eu-west-1"]\nprofile = "p"',
            "account_id must be a 12-digit string in quotes, got 111122223333",
        ),
        ('account_id = "1111"\nregions = ["eu-west-1"]\nprofile = "p"', "12-digit"),
        ('account_id = "111122223333"\nprofile = "p"', "regions must list at least one region"),
        (
            'account_id = "111122223333"\nregions = ["Ireland"]\nprofile = "p"',
            "not a region name: 'Ireland'",
        ),
        (
            'account_id = "111122223333"\nregions = ["eu-west-1"]',
            "set exactly one of profile, role_arn or endpoint_url (got none)",
        ),
        (
            'account_id = "111122223333"\nregions = ["eu-west-1"]\nprofile = "p"\n'
            'endpoint_url = "http://x"',
            "(got profile, endpoint_url)",
        ),
        (
            'account_id = "111122223333"\nregions = ["eu-west-1"]\nprofile = "p"\n'
            'external_id = "x"',
            "external_id is only used with role_arn",
        ),
        (
            'account_id = "111122223333"\nregions = ["eu-west-1"]\nrole_arn = "prr-role"',
            "role_arn 'prr-role' is not an IAM role ARN",
        ),
        (
            'account_id = "111122223333"\nregions = ["eu-west-1"]\nendpoint_url = "localhost"',
            "endpoint_url must start with http:// or https://",
        ),
        (
            'account_id = "111122223333"\nregions = ["eu-west-1"]\nprofile = "p"\nregion = "x"',
            "unknown key(s) region",
        ),
    ],
)
def test_misconfigured_account_names_the_table_and_the_problem(
    tmp_path: Path, body: str, message: str
) -> None:
    with pytest.raises(AccountError) as error:
        settings_from(tmp_path, f"[tool.prr.accounts.prod]\n{body}\n")
    assert "pyproject.toml [tool.prr.accounts.prod]" in str(error.value)
    assert message in str(error.value)


def test_moto_accepts_only_regions(tmp_path: Path) -> None:
    with pytest.raises(AccountError, match="only 'regions' may be set"):
        settings_from(tmp_path, '[tool.prr.accounts.moto]\naccount_id = "111122223333"\n')


def test_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(AccountError, match=r"prr\.toml: not valid TOML"):
        settings_from(tmp_path, "[accounts\n", "prr.toml")
