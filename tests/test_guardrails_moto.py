"""Deploying the shipped guardrails into moto turns their controls from FAIL to PASS, through
the real collectors (``take_snapshot``) and the real checks. The artifacts are the exported
files, deployed with the boto3 calls a platform team would make."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from moto_seed import ACCOUNT, REGION, function, mocked_account
from pytest_prr.accounts.config import Account, moto_account
from pytest_prr.catalog import builtin_catalog
from pytest_prr.checks.base import run_check
from pytest_prr.checks.registry import registered_checks
from pytest_prr.commands.cli import main
from pytest_prr.guardrails import conformance_pack_name
from pytest_prr.results.model import Result
from pytest_prr.snapshot.model import Snapshot
from pytest_prr.snapshot.take import take_snapshot

BOUNDARY_NAME = "prr-lambda-boundary"


@pytest.fixture
def session() -> Iterator[boto3.Session]:
    with mocked_account() as session:
        yield session


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("guardrails")
    assert main(["guardrails", "export", str(directory)]) == 0
    return directory


def verdicts(snapshot: Snapshot, control: str, **tunables: object) -> list[Result]:
    values = builtin_catalog().tunables(tunables, "test")
    return run_check(registered_checks()[control], snapshot, values)


def statuses(snapshot: Snapshot, control: str, **tunables: object) -> list[str]:
    return [finding.status for finding in verdicts(snapshot, control, **tunables)]


def test_the_boundary_turns_iam04_from_fail_to_pass(session: boto3.Session, exported: Path) -> None:
    function(session, "orders")
    before = take_snapshot(session, moto_account())
    assert statuses(before, "IAM-04") == ["fail"]
    iam = session.client("iam")
    arn = iam.create_policy(
        PolicyName=BOUNDARY_NAME,
        PolicyDocument=(exported / "permission-boundary-lambda.json").read_text(),
    )["Policy"]["Arn"]
    iam.put_role_permissions_boundary(RoleName="fn", PermissionsBoundary=arn)
    after = take_snapshot(session, moto_account())
    (finding,) = verdicts(after, "IAM-04", prr_permission_boundary=arn)
    assert finding.status == "pass", finding.message
    assert finding.evidence["PermissionsBoundary"] == arn
    assert statuses(after, "IAM-04") == ["pass"]
    assert statuses(after, "IAM-04", prr_permission_boundary=BOUNDARY_NAME) == ["pass"]
    assert statuses(after, "IAM-04", prr_permission_boundary="other-boundary") == ["fail"]


def _organization(session: boto3.Session) -> dict[str, str]:
    """An organization with a member account in a workloads OU; moto's caller is the
    management account."""
    org = session.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    workloads = org.create_organizational_unit(ParentId=root, Name="workloads")[
        "OrganizationalUnit"
    ]["Id"]
    member = org.create_account(Email="orders@example.com", AccountName="orders")[
        "CreateAccountStatus"
    ]["AccountId"]
    org.move_account(AccountId=member, SourceParentId=root, DestinationParentId=workloads)
    return {"root": root, "workloads": workloads, "member": member}


def _attach_scp(session: boto3.Session, exported: Path, target: str) -> None:
    org = session.client("organizations")
    policy = org.create_policy(
        Name="lambda-prr",
        Description="pytest-prr GOV-06/07",
        Type="SERVICE_CONTROL_POLICY",
        Content=(exported / "scp-lambda-prr.json").read_text(),
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=policy, TargetId=target)


def test_the_scp_turns_gov06_and_gov07_from_fail_to_pass(
    session: boto3.Session, exported: Path
) -> None:
    """Only the management account may read which SCPs apply to an account, so the member
    account's snapshot is read through the management account's session, as a delegated
    read-only role would."""
    ids = _organization(session)
    member = Account(name="orders", account_id=ids["member"], regions=(REGION,), mode="moto")
    before = take_snapshot(session, member)
    assert statuses(before, "GOV-06") == statuses(before, "GOV-07") == ["fail"]
    _attach_scp(session, exported, ids["workloads"])
    after = take_snapshot(session, member)
    for control in ("GOV-06", "GOV-07"):
        (finding,) = verdicts(after, control)
        assert finding.status == "pass", finding.message
        assert "SCP lambda-prr denies" in finding.message


def test_the_scp_cannot_make_the_management_account_pass(
    session: boto3.Session, exported: Path
) -> None:
    ids = _organization(session)
    _attach_scp(session, exported, ids["root"])
    snapshot = take_snapshot(session, moto_account())
    assert snapshot.account_wide["organizations"]["management_account_id"] == ACCOUNT
    for control in ("GOV-06", "GOV-07"):
        (finding,) = verdicts(snapshot, control)
        assert finding.status == "fail"
        assert "management account" in finding.message


def test_the_conformance_pack_turns_gov04_from_fail_to_pass_on_the_snapshot(
    session: boto3.Session, exported: Path
) -> None:
    """moto implements neither PutConformancePack nor DescribeConformancePacks, so on moto
    GOV-04 is an ERROR naming the read, never a verdict. The FAIL-to-PASS step is shown on
    that snapshot with the conformance packs section as DescribeConformancePacks reports it
    before and after deploying the exported pack under its name."""
    config = session.client("config")
    with pytest.raises(NotImplementedError, match="put_conformance_pack"):
        config.put_conformance_pack(
            ConformancePackName=conformance_pack_name(),
            TemplateBody=(exported / "conformance-pack-lambda-prr.yaml").read_text(),
        )
    snapshot = take_snapshot(session, moto_account())
    (finding,) = verdicts(snapshot, "GOV-04")
    assert finding.status == "error"
    assert finding.evidence["operation"] == "config:DescribeConformancePacks"

    def with_packs(packs: list[str]) -> Snapshot:
        data = copy.deepcopy(snapshot.data)
        data["regions"][REGION]["guardrails"]["config"]["conformance_packs"] = packs
        return Snapshot(data)

    assert statuses(with_packs([]), "GOV-04") == ["fail"]
    assert statuses(with_packs([conformance_pack_name()]), "GOV-04") == ["pass"]
