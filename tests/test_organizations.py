"""``--prr-org``: an organization of 13 member accounts in units, on one moto server behind a
proxy that refuses one member's role and denies another's reads: read in one serial run, and
planned as two shards run under ``-n 2`` whose merged results are that run's document.

Every member is seeded with functions through a role assumed in it (moto keys its state by
the account of the caller's credentials). The refused member and the denied one become
targets whose every built-in control is an ERROR naming the cause; the 11 others complete.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from conftest import Project, validate_results
from org_harness import (
    MANAGEMENT,
    READER_ROLE,
    REGION,
    BuiltOrganization,
    MemberSpec,
    RefusingProxy,
    build_organization,
)
from pytest_prr.accounts.motoserver import MotoServer
from pytest_prr.accounts.organizations import discover, reach_member
from pytest_prr.accounts.orgconfig import parse_organization
from pytest_prr.accounts.sessions import open_session
from pytest_prr.catalog import builtin_catalog
from pytest_prr.commands.cli import main
from pytest_prr.plugin.state import RunState

MEMBERS = [
    *(MemberSpec(f"prod-{n}", ("Workloads", "Prod"), tags={"env": "prod"}) for n in (1, 2, 3, 4)),
    *(MemberSpec(f"dev-{n}", ("Workloads", "Dev")) for n in (1, 2, 3, 4)),
    *(MemberSpec(f"sandbox-{n}", ("Sandbox",), functions=1) for n in (1, 2, 3)),
    *(MemberSpec(f"shared-{n}", ()) for n in (1, 2)),
]
ORG_RUN = ("--prr-org=acme", "--prr-json=prr.json")
REFUSED = "dev-3"
DENIED = "sandbox-2"
USER_TESTS = """
import pytest_prr as prr

@prr.control("DEP-05")
def test_every_function_has_an_owner(prr_snapshot):
    for _, function in prr_snapshot.functions():
        assert "Owner" in function["Tags"]
"""


@pytest.fixture(scope="module")
def organization() -> Iterator[tuple[BuiltOrganization, RefusingProxy, str]]:
    """The organization, and the proxy's endpoint that every run reaches it through."""
    server = MotoServer(managed_policies=False)
    endpoint = server.start()
    try:
        built = build_organization(endpoint, MEMBERS)
        proxy = RefusingProxy(
            endpoint, refuse_roles={built.role_of(REFUSED)}, deny_reads={built.role_of(DENIED)}
        )
        with proxy.serving() as proxied:
            yield built, proxy, proxied
    finally:
        server.stop()


def org_config(endpoint: str, extra: str = "") -> str:
    return (
        "[tool.prr.organizations.acme]\n"
        f'account_id = "{MANAGEMENT}"\n'
        f'endpoint_url = "{endpoint}"\n'
        f'member_role = "{READER_ROLE}"\n'
        f'regions = ["{REGION}"]\n' + extra
    )


@pytest.fixture
def org_project(project: Project, organization: tuple[Any, Any, str]) -> Project:
    project.pyproject(org_config(organization[2]))
    project.tests(USER_TESTS)
    return project


@dataclass(frozen=True)
class SerialRun:
    """The reference: one serial ``--prr-org`` run, which the others must equal."""

    returncode: int
    lines: list[str]
    document: dict[str, Any]


@pytest.fixture(scope="module")
def serial(
    organization: tuple[Any, Any, str], tmp_path_factory: pytest.TempPathFactory
) -> SerialRun:
    """Made once for the module, in a process of its own: in this one its reads would
    contend for the interpreter with the proxy's threads, which serve them."""
    path = tmp_path_factory.mktemp("org-serial")
    (path / "pyproject.toml").write_text(org_config(organization[2]))
    (path / "test_readiness.py").write_text(USER_TESTS)
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", *ORG_RUN],
        cwd=path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert (path / "prr.json").is_file(), completed.stdout + completed.stderr
    document = json.loads((path / "prr.json").read_text())
    return SerialRun(completed.returncode, completed.stdout.splitlines(), document)


def comparable(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` without when it and each snapshot were made."""
    kept = {key: value for key, value in document.items() if key != "generated_at"}
    kept["targets"] = [
        {k: v for k, v in target.items() if k not in ("snapshot_taken_at", "snapshot_sha256")}
        for target in document["targets"]
    ]
    return kept


def by_account(document: dict[str, Any], control_id: str) -> dict[str, list[dict[str, Any]]]:
    control = next(c for c in document["controls"] if c["id"] == control_id)
    found: dict[str, list[dict[str, Any]]] = {}
    for resource in control["resources"]:
        found.setdefault(resource["account_id"], []).append(resource)
    return found


def test_one_run_reads_every_member_and_isolates_the_two_it_cannot_read(
    serial: SerialRun,
    organization: tuple[BuiltOrganization, RefusingProxy, str],
    results_schema: dict,
) -> None:
    built, proxy, _ = organization
    validate_results(serial.document, results_schema)
    document = serial.document
    ids = sorted(built.accounts.values())
    assert [target["account_id"] for target in document["targets"]] == ids
    names = {value: key for key, value in built.accounts.items()}
    refused, denied = built.accounts[REFUSED], built.accounts[DENIED]
    for target in document["targets"]:
        spec = next(spec for spec in MEMBERS if spec.name == names[target["account_id"]])
        assert target["account"] == spec.name
        assert target["organization"] == {
            "name": "acme",
            "management_account_id": MANAGEMENT,
            "ou_path": list(spec.ou_path),
        }
    unreadable = {t["account_id"]: t.get("unreadable") for t in document["targets"]}
    assert unreadable.pop(refused).startswith(
        f"AccessDenied on sts:AssumeRole of arn:aws:iam::{refused}:role/{READER_ROLE}: "
    )
    assert unreadable.pop(denied) == f"AccessDeniedException on lambda:ListFunctions in {REGION}"
    assert set(unreadable.values()) == {None}
    assert built.role_of(REFUSED) in proxy.refused
    # Every built-in control of the two is one ERROR naming the cause; the others complete.
    for control in document["controls"]:
        if not any(r["test"].startswith("prr::") for r in control["resources"]):
            continue
        builtin = [r for r in control["resources"] if r["test"] == f"prr::{control['id']}"]
        for account_id in (refused, denied):
            mine = [r for r in builtin if r["account_id"] == account_id]
            assert [(r["id"], r["status"]) for r in mine] == [(account_id, "error")], control["id"]
            assert mine[0]["message"].startswith("account not read: AccessDenied")
    fin = by_account(document, "FIN-01")
    for name, account_id in built.accounts.items():
        if account_id not in (refused, denied):
            spec = next(spec for spec in MEMBERS if spec.name == name)
            assert len(fin[account_id]) == spec.functions, name
    user_test = "test_readiness.py::test_every_function_has_an_owner"
    owner = {
        a: [r["status"] for r in rs if r["test"] == user_test]
        for a, rs in by_account(document, "DEP-05").items()
    }
    assert owner[refused] == owner[denied] == ["error"]
    assert {tuple(statuses) for a, statuses in owner.items() if a not in (refused, denied)} == {
        ("pass",)
    }
    # The terminal and the headline name the two first (in account order).
    first = sorted([REFUSED, DENIED], key=built.accounts.__getitem__)
    lines = serial.lines
    accounts = [line for line in lines if line.startswith("prr: account ")]
    assert len(accounts) == 13
    assert [line.split()[2] for line in accounts[:2]] == first
    assert all("NOT READ" in line for line in accounts[:2])
    assert not any("NOT READ" in line for line in accounts[2:])
    verdict = next(i for i, line in enumerate(lines) if line.startswith("Not ready:"))
    for offset, name in enumerate(first, start=1):
        assert lines[verdict + offset].startswith(
            f"{name} ({built.accounts[name]}) was not read: AccessDenied"
        ), lines[verdict : verdict + 4]
    assert "moto emulator" in lines[verdict + 3]
    assert serial.returncode == pytest.ExitCode.TESTS_FAILED


def test_a_plan_s_shards_run_under_xdist_and_merged_equal_one_serial_run(
    org_project: Project, serial: SerialRun
) -> None:
    """plan → shard jobs → merge, the shards under ``-n 2`` (the controller reads its
    accounts, the workers evaluate what it hands them): one document, the serial run's."""
    project = org_project
    where = ("--org", "acme", "--project", str(project.path), "--max-shards", "2")
    assert main(["plan", *where, "-o", "plan.json"]) == 0
    plan = json.loads((project.path / "plan.json").read_text())
    assert main(["plan", *where, "--format", "github-matrix", "-o", "matrix.json"]) == 0
    matrix = (project.path / "matrix.json").read_text()
    assert matrix.count("\n") == 1 and json.loads(matrix) == {"include": plan["shards"]}
    assert plan["organization"]["management_account_id"] == MANAGEMENT
    ids = [target["account_id"] for target in serial.document["targets"]]
    assert [len(shard["accounts"]) for shard in plan["shards"]] == [7, 6]
    assert [a for shard in plan["shards"] for a in shard["accounts"]] == ids
    assert plan["shards"][1]["args"] == [
        "--prr-org=acme",
        f"--prr-shard={','.join(ids[7:])}",
        "--prr-json=prr-results/shard-2.json",
    ]
    for shard in plan["shards"]:
        result = project.pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "-n", "2", *shard["args"]
        )
        assert (project.path / shard["results"]).is_file(), result.stdout.str()
    results = sorted(str(path) for path in (project.path / "prr-results").glob("shard-*.json"))
    assert main(["merge", "-o", "merged.json", *results]) == 0
    merged = json.loads((project.path / "merged.json").read_text())
    assert comparable(merged) == comparable(serial.document)


def test_the_organization_s_filters_choose_the_members(
    organization: tuple[BuiltOrganization, RefusingProxy, str],
) -> None:
    built, _, endpoint = organization
    prod_unit = built.units[("Workloads", "Prod")]

    def members(extra: dict[str, Any]) -> list[str]:
        entry = {
            "account_id": MANAGEMENT,
            "endpoint_url": endpoint,
            "member_role": READER_ROLE,
            "regions": [REGION],
            **extra,
        }
        found = discover(parse_organization("acme", entry, "here")).members()
        return sorted(member.account.name for member in found)

    workloads = sorted(spec.name for spec in MEMBERS if spec.ou_path[:1] == ("Workloads",))
    assert members({"include_ous": [built.units[("Workloads",)]]}) == workloads
    assert members(
        {"include_ous": [prod_unit], "exclude_accounts": [built.accounts["prod-2"]]}
    ) == [
        "prod-1",
        "prod-3",
        "prod-4",
    ]
    assert members({"include_tags": {"env": "prod"}}) == ["prod-1", "prod-2", "prod-3", "prod-4"]
    everyone = members({"include_management": True})
    assert "master" in everyone and len(everyone) == 14


def test_enabled_regions_are_asked_of_each_member(
    organization: tuple[BuiltOrganization, RefusingProxy, str],
) -> None:
    _, _, endpoint = organization
    entry = {
        "account_id": MANAGEMENT,
        "endpoint_url": endpoint,
        "member_role": READER_ROLE,
        "regions": "enabled",
        "include_tags": {"env": "prod"},
    }
    member = discover(parse_organization("acme", entry, "here")).members()[0].account
    assert member.regions == ("us-east-1",) and member.organization.regions_enabled
    caller, reached = reach_member(open_session(member), member)
    assert caller.startswith(f"arn:aws:sts::{member.account_id}:assumed-role/{READER_ROLE}/")
    listed = boto3.client(
        "ec2",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).describe_regions()["Regions"]
    enabled = sorted(r["RegionName"] for r in listed if r["OptInStatus"] != "not-opted-in")
    assert reached.regions == tuple(enabled) and len(enabled) > 1
    assert not reached.organization.regions_enabled


class _Reading:
    """A stand-in for an account's run that records how many are read at once."""

    def __init__(self, name: str, counter: dict[str, Any]) -> None:
        self.account = type("A", (), {"mode": "live", "name": name})()
        self.unreadable = None
        self.counter = counter

    def take_snapshot(self, progress: Any = None) -> str:
        with self.counter["lock"]:
            self.counter["now"] += 1
            self.counter["most"] = max(self.counter["most"], self.counter["now"])
        time.sleep(0.02)
        with self.counter["lock"]:
            self.counter["now"] -= 1
        return self.account.name


@pytest.mark.parametrize("at_most", [1, 3, 8])
def test_at_most_k_accounts_are_read_at_once(at_most: int) -> None:
    counter: dict[str, Any] = {"lock": threading.Lock(), "now": 0, "most": 0}
    runs = {f"a{n:02}": _Reading(f"a{n:02}", counter) for n in range(20)}
    state = RunState(runs=runs, catalog=builtin_catalog(), max_reading=at_most)  # type: ignore[arg-type]
    assert state.take_snapshots(lambda run: None) == list(runs)
    assert counter["most"] == at_most


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--prr-shard=111111111111",), "--prr-shard names members of an organization*"),
        (
            ("--prr-org=acme", "--prr-account=moto"),
            "--prr-org reads the organization's members; drop --prr-account*",
        ),
        (
            ("--prr-org=acme", "--prr-max-accounts=0"),
            "--prr-max-accounts must be at least 1, got 0",
        ),
        (("--prr-org=other",), "prr: unknown organization 'other' for --prr-org*"),
        (("--prr-org=acme", "--prr-shard=1"), "prr: --prr-shard: '1' is not ACCOUNT_ID*"),
    ],
)
def test_organization_options_that_cannot_work_are_usage_errors(
    project: Project, args: tuple[str, ...], message: str
) -> None:
    project.pyproject(org_config("http://127.0.0.1:9"))
    project.tests("def test_plain(): pass")
    result = project.run(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}"])


def test_evidence_of_a_whole_organization_is_refused_before_a_member_is_read(
    org_project: Project,
) -> None:
    result = org_project.run("--prr-org=acme", "--prr-evidence=bundle")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--prr-evidence writes one account's bundle; with 13 accounts*"])
