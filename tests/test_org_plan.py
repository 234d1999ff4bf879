"""A plan's shards: explicit accounts (or account Regions) in account order, as even as can
be, each with the exact pytest arguments of its CI job."""

from __future__ import annotations

import pytest

from pytest_prr.accounts.config import Account, AccountError
from pytest_prr.accounts.organizations import parse_shard
from pytest_prr.accounts.sharding import (
    GITHUB_MATRIX_LIMIT,
    Unit,
    github_matrix,
    plan_document,
    plan_shards,
    units_of,
)

MEMBERS = [
    Account(f"member-{n}", f"{n:012d}", ("eu-west-1", "us-east-1"), "live") for n in (5, 1, 3, 2, 4)
]


def test_units_are_accounts_or_account_regions_in_account_order() -> None:
    by_account = units_of(MEMBERS, "account", lambda account: account.regions)
    assert [(u.account.name, u.region) for u in by_account] == [
        (f"member-{n}", None) for n in (1, 2, 3, 4, 5)
    ]
    unknown = "000000000003"  # its role refused at plan time: planned whole
    by_region = units_of(
        MEMBERS[:3], "account-region", lambda a: None if a.account_id == unknown else a.regions
    )
    assert [(u.account.account_id[-1], u.region) for u in by_region] == [
        ("1", "eu-west-1"),
        ("1", "us-east-1"),
        ("3", None),
        ("5", "eu-west-1"),
        ("5", "us-east-1"),
    ]
    with pytest.raises(AccountError, match="--shard-by must be one of account, account-region"):
        units_of(MEMBERS, "region", lambda account: None)


def test_shards_carry_their_exact_pytest_arguments() -> None:
    units = units_of(MEMBERS, "account", lambda account: None)
    shards = plan_shards("acme", units, max_shards=256, results_dir="out", evidence_dir="ev")
    assert [shard.id for shard in shards] == ["1", "2", "3", "4", "5"]
    assert shards[0].to_dict() == {
        "id": "1",
        "name": "1 member-1",
        "accounts": ["000000000001"],
        "args": [
            "--prr-org=acme",
            "--prr-shard=000000000001",
            "--prr-json=out/shard-1.json",
            "--prr-evidence=ev/shard-1",
        ],
        "results": "out/shard-1.json",
        "evidence": "ev/shard-1",
    }
    regions = units_of(MEMBERS, "account-region", lambda account: account.regions)
    grouped = plan_shards("acme", regions, max_shards=4, results_dir="prr-results")
    # 10 units in 4 shards: 3, 3, 2, 2, consecutive, so one account may span two shards.
    assert [shard.args[1] for shard in grouped] == [
        "--prr-shard=000000000001:eu-west-1,000000000001:us-east-1,000000000002:eu-west-1",
        "--prr-shard=000000000002:us-east-1,000000000003:eu-west-1,000000000003:us-east-1",
        "--prr-shard=000000000004:eu-west-1,000000000004:us-east-1",
        "--prr-shard=000000000005:eu-west-1,000000000005:us-east-1",
    ]
    assert grouped[2].to_dict()["name"] == "3 member-4"
    assert grouped[0].to_dict()["name"] == "1 member-1 … member-2 (2)"
    assert parse_shard(grouped[0].args[1].split("=", 1)[1]) == {
        "000000000001": ("eu-west-1", "us-east-1"),
        "000000000002": ("eu-west-1",),
    }
    many = plan_shards("acme", units * 3, max_shards=15, results_dir="r")
    assert [shard.results for shard in many][:2] == ["r/shard-01.json", "r/shard-02.json"]


def test_what_a_plan_cannot_promise_is_refused() -> None:
    units = units_of(MEMBERS, "account", lambda account: None)
    with pytest.raises(
        AccountError, match=r"shard 1 holds 3 accounts; raise --max-shards to at least 5"
    ):
        plan_shards("acme", units, max_shards=2, results_dir="r", evidence_dir="e")
    with pytest.raises(AccountError, match=r"--results-dir 'my results'.*one command line"):
        plan_shards("acme", units, max_shards=2, results_dir="my results")
    with pytest.raises(AccountError, match="--max-shards must be at least 1"):
        plan_shards("acme", units, max_shards=0, results_dir="r")
    one = Unit(MEMBERS[0])
    too_many = plan_shards(
        "acme", [one] * (GITHUB_MATRIX_LIMIT + 1), max_shards=999, results_dir="r"
    )
    with pytest.raises(AccountError, match="257 shards exceed GitHub Actions' 256 jobs"):
        github_matrix(too_many)


def test_the_plan_document_and_the_github_matrix_list_the_same_shards() -> None:
    shards = plan_shards(
        "acme", units_of(MEMBERS, "account", lambda a: None), max_shards=2, results_dir="r"
    )
    document = plan_document({"name": "acme", "id": "o-1"}, "account", shards)
    assert document["schema"] == "prr-plan/1"
    assert document["shards"] == github_matrix(shards)["include"]
    assert [shard["accounts"] for shard in document["shards"]] == [
        ["000000000001", "000000000002", "000000000003"],
        ["000000000004", "000000000005"],
    ]
