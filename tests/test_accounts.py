"""Account configuration: where it is read from, and every way it can be wrong."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pytest_prr.accounts.config import AccountError, read_account_settings


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


def test_prr_toml_and_pyproject_s_tool_prr_together_are_refused(tmp_path: Path) -> None:
    """A prr.toml that only defines an account silently replaced pyproject's tunables, and
    OBS-02 turned from FAIL to PASS (issue 15)."""
    settings_from(tmp_path, "[tool.prr.tunables]\nprr_log_retention_min_days = 400\n")
    with pytest.raises(AccountError, match=r"both .*prr.toml and .*pyproject.toml \[tool.prr\]"):
        settings_from(tmp_path, '[accounts.moto]\nregions = ["ap-south-1"]\n', "prr.toml")


def test_prr_toml_beside_a_pyproject_without_tool_prr(tmp_path: Path) -> None:
    settings_from(tmp_path, "[tool.ruff]\nline-length = 100\n")
    settings = settings_from(tmp_path, '[accounts.moto]\nregions = ["ap-south-1"]\n', "prr.toml")
    assert settings.resolve("moto").regions == ("ap-south-1",)
    assert settings.source == tmp_path / "prr.toml"


def test_the_default_credential_chain(tmp_path: Path) -> None:
    settings = settings_from(
        tmp_path,
        """
        [tool.prr.accounts.ci]
        account_id = "111122223333"
        regions = ["eu-west-1"]
        credentials = "default"
        """,
    )
    ci = settings.resolve("ci")
    assert (ci.mode, ci.profile, ci.role_arn, ci.endpoint_url) == ("live", None, None, None)
    assert "the default credential chain" in ci.describe()
    with pytest.raises(AccountError, match='credentials may only be "default"'):
        settings_from(
            tmp_path,
            '[tool.prr.accounts.ci]\naccount_id = "111122223333"\n'
            'regions = ["eu-west-1"]\ncredentials = "env"\n',
        )


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
            'set exactly one of profile, role_arn, endpoint_url or credentials = "default" '
            "(got none)",
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
