"""Several ``--prr-account`` options in one run: two endpoint accounts on two moto servers,
each answering as its own account ID (moto's ``MOTO_ACCOUNT_ID``), seeded differently."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest

from conftest import Project, validate_results
from moto_seed import TRUST, lambda_zip
from pytest_prr.accounts.motoserver import MotoServer
from pytest_prr.commands.cli import main

PROD = "111111111111"
DR = "222222222222"
#: Per account: its functions, as (name, architecture, tags).
FUNCTIONS = {
    PROD: [("orders", "arm64", {"Owner": "team-orders"}), ("reports", "x86_64", {"Owner": "bi"})],
    DR: [("orders", "x86_64", {})],
}
USER_TESTS = """
import pytest
import pytest_prr as prr

@pytest.fixture(scope="session")
def function_names(prr_client):
    listed = prr_client("lambda").list_functions()["Functions"]
    return sorted(f["FunctionName"] for f in listed)

@prr.control("OBS-01")
def test_snapshot_is_the_accounts(prr_snapshot, prr_account):
    assert prr_snapshot.account_id == prr_account.account_id
    names = sorted(f["FunctionName"] for _, f in prr_snapshot.functions())
    assert names == {"prod": ["orders", "reports"], "dr": ["orders"]}[prr_account.name]

@prr.control("DEP-05")
def test_every_function_has_an_owner(prr_snapshot):
    for _, function in prr_snapshot.functions():
        assert "Owner" in function["Tags"], f"{function['FunctionName']} has no Owner tag"

@prr.control("DEP-03")
@pytest.mark.parametrize("region", ["us-east-1"])
def test_through_a_session_fixture(function_names, region):
    assert "orders" in function_names

@prr.control("GOV-01")
def test_marked_but_using_no_prr_fixture():
    pass

def test_plain():
    pass
"""
GROUPS_CONFTEST = """
import json

def pytest_collection_finish(session):
    groups = {
        item.nodeid: [mark.args[0] for mark in item.iter_markers("xdist_group")]
        for item in session.items
    }
    with open("groups.json", "w") as file:
        json.dump(groups, file)
"""
WAIVERS = """
waivers:
  - control: FIN-01
    resources: arn:aws:lambda:us-east-1:222222222222:function:*
    justification: the DR copy moves to arm64 with the next failover drill
    approved_by: ciso@example.com
    expires: 2099-06-30
"""


def seed(endpoint: str, account_id: str) -> None:
    """The account's functions, through boto3 as a deployment would make them."""
    session = boto3.Session(
        region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    identity = session.client("sts", endpoint_url=endpoint).get_caller_identity()
    assert identity["Account"] == account_id
    role = session.client("iam", endpoint_url=endpoint).create_role(
        RoleName="fn", AssumeRolePolicyDocument=json.dumps(TRUST)
    )["Role"]["Arn"]
    for name, architecture, tags in FUNCTIONS[account_id]:
        session.client("lambda", endpoint_url=endpoint).create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": lambda_zip()},
            Architectures=[architecture],
            Tags=tags,
        )


@contextmanager
def account_server(account_id: str) -> Iterator[str]:
    """A seeded moto server that answers as ``account_id``: moto takes the account of every
    request from ``MOTO_ACCOUNT_ID`` in the server's environment."""
    server = MotoServer()
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("MOTO_ACCOUNT_ID", account_id)
        endpoint = server.start()
    try:
        seed(endpoint, account_id)
        yield endpoint
    finally:
        server.stop()


@pytest.fixture(scope="module")
def endpoints() -> Iterator[dict[str, str]]:
    """prod and dr, read-only for the tests that share them."""
    with account_server(PROD) as prod, account_server(DR) as dr:
        yield {"prod": prod, "dr": dr}


def configure(project: Project, endpoints: dict[str, str], extra: str = "") -> None:
    project.pyproject(
        f"""
        [tool.prr.accounts.prod]
        account_id = "{PROD}"
        regions = ["us-east-1"]
        endpoint_url = "{endpoints["prod"]}"

        [tool.prr.accounts.dr]
        account_id = "{DR}"
        regions = ["us-east-1"]
        endpoint_url = "{endpoints["dr"]}"
        """
        + extra
    )


@pytest.fixture
def accounts_project(project: Project, endpoints: dict[str, str]) -> Project:
    configure(project, endpoints, '[tool.pytest.ini_options]\nprr_waivers = "waivers.yaml"\n')
    (project.path / "waivers.yaml").write_text(WAIVERS)
    project.tests(USER_TESTS)
    return project


def comparable(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` without what differs between two runs over the same accounts: when it
    was made and when (so with which digest) each snapshot was taken."""
    kept = {key: value for key, value in document.items() if key != "generated_at"}
    kept["targets"] = [
        {k: v for k, v in target.items() if k not in ("snapshot_taken_at", "snapshot_sha256")}
        for target in document["targets"]
    ]
    return kept


def entries(document: dict[str, Any], control_id: str) -> list[tuple[str, str, str, str]]:
    """(account ID, resource, status, test) of each result of ``control_id``."""
    control = next(c for c in document["controls"] if c["id"] == control_id)
    return [
        (r.get("account_id", ""), r["id"].rsplit(":", 1)[-1], r["status"], r["test"])
        for r in control["resources"]
    ]


def test_two_accounts_in_one_run_equal_the_merge_of_a_run_per_account(
    accounts_project: Project, results_schema: dict
) -> None:
    project = accounts_project
    run: Callable[..., Any] = project.run_json
    prod, prod_alone = run("--prr-account=prod", "-p", "no:xdist", name="prod.json", builtin=True)
    dr, _ = run("--prr-account=dr", "-p", "no:xdist", name="dr.json", builtin=True)
    assert main(["merge", "-o", str(project.path / "merged.json"), "prod.json", "dr.json"]) == 0
    merged = json.loads((project.path / "merged.json").read_text())
    both = ("--prr-account=prod", "--prr-account=dr")
    result, serial = run(*both, "-p", "no:xdist", name="serial.json", builtin=True)
    validate_results(serial, results_schema)
    assert comparable(serial) == comparable(merged)
    assert [t["account_id"] for t in serial["targets"]] == [PROD, DR]
    assert entries(serial, "FIN-01") == [
        (PROD, "orders", "pass", "prr::FIN-01"),
        (PROD, "reports", "fail", "prr::FIN-01"),
        (DR, "orders", "waived", "prr::FIN-01"),
    ]
    # prod's run alone finds the waiver stale (nothing of prod's fails); over both it is in use.
    assert [w["control"] for w in prod_alone["waivers"]["stale"]] == ["FIN-01"]
    assert serial["waivers"] == merged["waivers"] == {"expired": [], "stale": []}
    user_test = "test_readiness.py::test_snapshot_is_the_accounts"
    assert [e for e in entries(serial, "OBS-01") if e[3] == user_test] == [
        (PROD, PROD, "pass", user_test),
        (DR, DR, "pass", user_test),
    ]
    owner = "test_readiness.py::test_every_function_has_an_owner"
    assert [e for e in entries(serial, "DEP-05") if e[3] == owner] == [
        (PROD, PROD, "pass", owner),
        (DR, DR, "fail", owner),
    ]
    assert [e[0] for e in entries(serial, "GOV-01") if not e[3].startswith("prr::")] == [PROD, DR]
    assert [e[3] for e in entries(serial, "DEP-03") if not e[3].startswith("prr::")] == [
        "test_readiness.py::test_through_a_session_fixture[us-east-1]"
    ] * 2
    alone = [prod.parseoutcomes(), dr.parseoutcomes()]
    # Every item of each account's run, and test_plain (which is about no account) once.
    result.assert_outcomes(
        passed=sum(outcomes["passed"] for outcomes in alone) - 1,
        failed=sum(outcomes["failed"] for outcomes in alone),
        errors=sum(outcomes.get("errors", 0) for outcomes in alone),
    )
    for workers in (["-n", "2"], ["-n", "2", "--dist", "loadgroup"]):
        _, parallel = run(*both, *workers, name="xdist.json", builtin=True)
        assert comparable(parallel) == comparable(serial), workers


def test_node_ids_and_xdist_groups_name_the_account_and_k_selects_one(
    accounts_project: Project,
) -> None:
    project = accounts_project
    project.conftest(GROUPS_CONFTEST)
    both = ("--prr-account=prod", "--prr-account=dr", "--prr-controls=FIN-01")
    result = project.run(*both, "--collect-only", "-q", builtin=True)
    collected = [line for line in result.outlines if "::" in line]
    assert collected == [
        "test_readiness.py::test_snapshot_is_the_accounts[prod]",
        "test_readiness.py::test_every_function_has_an_owner[prod]",
        "test_readiness.py::test_through_a_session_fixture[prod-us-east-1]",
        "test_readiness.py::test_marked_but_using_no_prr_fixture[prod]",
        "test_readiness.py::test_snapshot_is_the_accounts[dr]",
        "test_readiness.py::test_every_function_has_an_owner[dr]",
        "test_readiness.py::test_through_a_session_fixture[dr-us-east-1]",
        "test_readiness.py::test_marked_but_using_no_prr_fixture[dr]",
        "test_readiness.py::test_plain",
        "prr::FIN-01[prod]",
        "prr::FIN-01[dr]",
    ]
    groups = json.loads((project.path / "groups.json").read_text())
    assert groups == {
        nodeid: ["dr"] if "[dr" in nodeid else ["prod"] if "[prod" in nodeid else []
        for nodeid in collected
    }
    assert groups["test_readiness.py::test_plain"] == []
    # Without pytest-xdist the xdist_group mark is not registered, so none is added; in a
    # process of its own, as in-process runs share pytest's registry of known marks.
    result = project.pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
        "--strict-markers",
        *both,
        "-k",
        "dr",
        "--prr-json=prr.json",
    )
    document = json.loads((project.path / "prr.json").read_text())
    result.assert_outcomes(passed=4, failed=1, deselected=6)
    tested = {e[0] for c in document["controls"] for e in entries(document, c["id"])}
    assert tested == {DR}
    result.stdout.fnmatch_lines(
        [
            "*prr control coverage: 2 accounts*",
            f"prr: account prod ({PROD}, us-east-1; endpoint http://127.0.0.1:*)",
            f"prr: account dr ({DR}, us-east-1; endpoint http://127.0.0.1:*)",
        ]
    )


@pytest.mark.xfail(
    pytest.version_tuple >= (9, 2),
    reason="pytest-xdist 3.8 loadgroup cannot rename pytest 9.2's node ids (pytest-xdist#1386)",
    strict=True,
)
def test_loadgroup_keeps_each_account_on_one_worker(accounts_project: Project) -> None:
    result = accounts_project.run(
        "--prr-account=prod",
        "--prr-account=dr",
        "--prr-controls=FIN-*,SEC-0*",
        "-n",
        "2",
        "--dist",
        "loadgroup",
        "-v",
        builtin=True,
    )
    item_of_an_account = re.compile(r"^\[(gw\d+)\] .* (?:PASSED|FAILED) \S+\[(prod|dr)\b", re.M)
    ran = item_of_an_account.findall(result.stdout.str())
    assert len(ran) == 2 * (4 + 10)  # per account: the user's tests and FIN-01..02, SEC-01..08
    workers: dict[str, set[str]] = {}
    for worker, account in ran:
        workers.setdefault(account, set()).add(worker)
    assert {account: len(names) for account, names in workers.items()} == {"prod": 1, "dr": 1}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--prr-account=prod", "--prr-account=prod"), "--prr-account=prod is given twice"),
        (
            ("--prr-account=moto", "--prr-account=moto"),
            "--prr-account=moto is given twice (moto is one mocked account)",
        ),
        (
            ("--prr-account=prod", "--prr-account=dr", "--prr-snapshot-out=s.json"),
            "--prr-snapshot-out writes one account's snapshot file; with 2 accounts run pytest "
            "once per account*prr merge*",
        ),
        (
            ("--prr-account=prod", "--prr-account=dr", "--prr-evidence=bundle"),
            "--prr-evidence writes one account's bundle*",
        ),
        (
            ("--prr-account=prod", "--prr-account=prod-again"),
            f"prr: accounts 'prod' and 'prod-again' are both {PROD} in us-east-1*",
        ),
        (
            ("--prr-account=moto", "--prr-account=live"),
            "--prr-account=moto cannot run beside live account(s) live*",
        ),
    ],
)
def test_what_several_accounts_cannot_do_is_a_usage_error(
    project: Project, args: tuple[str, ...], message: str
) -> None:
    configure(
        project,
        {"prod": "http://127.0.0.1:9", "dr": "http://127.0.0.1:9"},
        f"""
        [tool.prr.accounts.prod-again]
        account_id = "{PROD}"
        regions = ["eu-west-1", "us-east-1"]
        endpoint_url = "http://127.0.0.1:9"

        [tool.prr.accounts.live]
        account_id = "{DR}"
        regions = ["eu-west-1"]
        profile = "dr-readonly"
        """,
    )
    project.tests("def test_plain(): pass")
    result = project.run(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}"])


def test_a_marked_item_that_cannot_run_per_account_is_a_usage_error(
    project: Project, endpoints: dict[str, str]
) -> None:
    configure(project, endpoints)
    project.conftest(
        """
        import pytest

        class CheckItem(pytest.Item):
            def runtest(self):
                pass

        class CheckFile(pytest.File):
            def collect(self):
                item = CheckItem.from_parent(self, name="check")
                item.add_marker(pytest.mark.prr_control("SEC-01"))
                yield item

        def pytest_collect_file(file_path, parent):
            if file_path.suffix == ".check":
                return CheckFile.from_parent(parent, path=file_path)
        """
    )
    (project.path / "lambda.check").write_text("")
    project.run("--prr-account=prod").assert_outcomes(passed=1)
    result = project.run("--prr-account=prod", "--prr-account=dr")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*lambda.check::check: marked with controls but not a test function pytest-prr could*"]
    )


def test_moto_beside_an_endpoint_account(project: Project, endpoints: dict[str, str]) -> None:
    configure(project, endpoints)
    project.conftest(
        """
        def pytest_prr_seed_account(session, account):
            session.client("sqs").create_queue(QueueName="seeded")
        """
    )
    project.tests(
        """
        import pytest_prr as prr

        @prr.control("DAT-02")
        def test_queues(prr_client, prr_account):
            urls = prr_client("sqs").list_queues().get("QueueUrls", [])
            expected = {"moto": ["seeded"], "dr": []}[prr_account.name]
            assert [url.rsplit("/", 1)[1] for url in urls] == expected
        """
    )
    result, document = project.run_json("--prr-account=moto", "--prr-account=dr")
    result.assert_outcomes(passed=2)
    assert [t["mode"] for t in document["targets"]] == ["moto", "endpoint"]
    assert [e[0] for e in entries(document, "DAT-02")] == ["123456789012", DR]


def test_security_hub_import_sends_each_account_its_own_findings(project: Project) -> None:
    with account_server(PROD) as prod, account_server(DR) as dr:
        configure(project, {"prod": prod, "dr": dr})
        project.tests("def test_plain(): pass")
        result = project.run(
            "--prr-account=prod",
            "--prr-account=dr",
            "--prr-controls=FIN-01",
            "--prr-securityhub-import",
            builtin=True,
        )
        result.assert_outcomes(passed=1, failed=2)
        result.stdout.fnmatch_lines(
            [
                f"prr: Security Hub: imported 1 finding(s) of account {PROD}*",
                f"prr: Security Hub: imported 1 finding(s) of account {DR}*",
            ]
        )
        session = boto3.Session(
            region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        for endpoint, account_id, function in ((prod, PROD, "reports"), (dr, DR, "orders")):
            hub = session.client("securityhub", endpoint_url=endpoint)
            (finding,) = hub.get_findings()["Findings"]
            assert finding["AwsAccountId"] == account_id
            assert finding["Resources"][0]["Id"].endswith(f":{account_id}:function:{function}")
