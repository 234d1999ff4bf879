"""The snapshot engine: Lambda and IAM collectors, fail-closed markers, storage, progress."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from faults import inject_fault
from moto_seed import TRUST, lambda_zip
from pytest_prr.accounts.config import Account
from pytest_prr.snapshot.collect.reader import Reader
from pytest_prr.snapshot.model import DataUnavailable, Snapshot, is_error, require
from pytest_prr.snapshot.progress import SnapshotProgress
from pytest_prr.snapshot.store import SnapshotError, load_snapshot, save_snapshot
from pytest_prr.snapshot.take import take_snapshot

REGION = "us-east-1"
ACCOUNT = Account(name="moto", account_id="123456789012", regions=(REGION,), mode="moto")
FAKE_KEY = "AKIA" + "Q3EXAMPLEKEY7890"
#: Operations moto 5.2 does not implement: an honest moto-mode snapshot marks them failed.
#: Without ListFunctionUrlConfigs, the function's own URL is still read (GetFunctionUrlConfig);
#: the URLs of its aliases (billing:live) are what is marked.
MOTO_GAPS = {
    "lambda:ListCodeSigningConfigs",
    "lambda:ListFunctionUrlConfigs",
    "config:DescribeConformancePacks",
}


@pytest.fixture
def session() -> Iterator[boto3.Session]:
    with mock_aws(config={"iam": {"load_aws_managed_policies": True}}):
        yield boto3.Session(region_name=REGION)


@pytest.fixture
def seeded(session: boto3.Session) -> dict[str, Any]:
    """Two functions sharing a role, one with a public URL, a policy and a plaintext key."""
    iam = session.client("iam")
    role = iam.create_role(RoleName="shared", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    iam.put_role_policy(
        RoleName="shared",
        PolicyName="inline",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
        ),
    )
    iam.attach_role_policy(
        RoleName="shared", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    )
    lam = session.client("lambda")
    arns = {}
    for name, env in (
        ("orders", {"POWERTOOLS_SERVICE_NAME": "orders", "AWS_KEY": FAKE_KEY}),
        ("billing", {"DB_PASSWORD": "hunter2-plaintext"}),
    ):
        arns[name] = lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role["Arn"],
            Handler="app.handler",
            Code={"ZipFile": lambda_zip()},
            Environment={"Variables": env},
            TracingConfig={"Mode": "Active"},
            Tags={"Owner": "team"},
        )["FunctionArn"]
    lam.create_function_url_config(FunctionName="orders", AuthType="NONE")
    lam.add_permission(
        FunctionName="orders",
        StatementId="public",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
    )
    lam.put_function_concurrency(FunctionName="billing", ReservedConcurrentExecutions=5)
    version = lam.publish_version(FunctionName="billing")["Version"]
    lam.create_alias(FunctionName="billing", Name="live", FunctionVersion=version)
    return {"role": role["Arn"], **arns}


def test_snapshot_holds_functions_roles_and_policies(session, seeded) -> None:
    snapshot = take_snapshot(session, ACCOUNT)
    functions = dict(require(snapshot.region(REGION)["lambda"]["functions"]))
    assert set(functions) == {seeded["orders"], seeded["billing"]}
    orders, billing = functions[seeded["orders"]], functions[seeded["billing"]]
    assert orders["FunctionUrl"]["AuthType"] == "NONE"
    assert orders["Policy"]["Statement"][0]["Principal"] == "*"
    assert orders["Tags"] == {"Owner": "team"}
    assert orders["TracingConfig"] == {"Mode": "Active"}
    assert billing["Policy"] is None and billing["FunctionUrl"] is None
    assert billing["ReservedConcurrentExecutions"] == 5
    [live] = billing["Aliases"]
    assert live["Name"] == "live" and live["Policy"] is None
    assert live["FunctionUrl"]["$error"]["operation"] == "lambda:ListFunctionUrlConfigs"
    assert billing["Versions"] == ["1"] and orders["Versions"] == []
    role = snapshot.role(seeded["role"])
    assert role["AssumeRolePolicyDocument"] == TRUST
    assert role["InlinePolicies"]["inline"]["Statement"][0]["Action"] == "s3:*"
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    assert [p["PolicyArn"] for p in role["AttachedManagedPolicies"]] == [admin]
    policy = snapshot.account_wide["iam"]["policies"][admin]
    assert policy["Document"]["Statement"][0]["Action"] == "*"
    assert {error["operation"] for _, error in snapshot.errors()} == MOTO_GAPS
    assert snapshot.data["calls"]["lambda:ListFunctions"] == 1


def test_customer_managed_policies_come_from_the_bulk_read(session, seeded) -> None:
    iam = session.client("iam")
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}],
    }
    arn = iam.create_policy(PolicyName="queue-access", PolicyDocument=json.dumps(document))[
        "Policy"
    ]["Arn"]
    iam.attach_role_policy(RoleName="shared", PolicyArn=arn)
    snapshot = take_snapshot(session, ACCOUNT)
    policy = snapshot.account_wide["iam"]["policies"][arn]
    assert policy == {"PolicyName": "queue-access", "Arn": arn, "Document": document}
    # Only AWS's own AdministratorAccess is read on its own; the customer's came in bulk.
    assert snapshot.data["calls"]["iam:GetPolicy"] == 1
    assert snapshot.data["calls"]["iam:GetAccountAuthorizationDetails"] == 2


def test_layers_of_the_account_come_with_their_policies(session, seeded) -> None:
    lam = session.client("lambda")
    layer = lam.publish_layer_version(LayerName="shared", Content={"ZipFile": lambda_zip()})
    lam.add_layer_version_permission(
        LayerName="shared",
        VersionNumber=layer["Version"],
        StatementId="org",
        Action="lambda:GetLayerVersion",
        Principal="*",
        OrganizationId="o-example",
    )
    lam.update_function_configuration(FunctionName="orders", Layers=[layer["LayerVersionArn"]])
    section = take_snapshot(session, ACCOUNT).region(REGION)["lambda"]
    policy = section["layer_policies"][layer["LayerVersionArn"]]
    assert policy["Statement"][0]["Principal"] == "*"
    assert section["functions"][seeded["orders"]]["Layers"][0]["Arn"] == layer["LayerVersionArn"]


def test_environment_secrets_never_reach_the_snapshot(session, seeded, tmp_path) -> None:
    snapshot = take_snapshot(session, ACCOUNT)
    path = tmp_path / "snapshot.json"
    save_snapshot(snapshot, path)
    text = path.read_text()
    assert FAKE_KEY not in text and "hunter2-plaintext" not in text
    orders = snapshot.region(REGION)["lambda"]["functions"][seeded["orders"]]
    assert orders["Environment"]["POWERTOOLS_SERVICE_NAME"] == {"value": "orders"}
    assert orders["Environment"]["AWS_KEY"]["redacted"] is True


@pytest.mark.parametrize("fault", ["AccessDenied", "Throttling", "ServerError", "Timeout"])
def test_a_failed_call_marks_exactly_its_data(session, seeded, fault: str) -> None:
    clean = take_snapshot(session, ACCOUNT)
    inject_fault(session, "lambda", "GetPolicy", fault)
    snapshot = take_snapshot(session, ACCOUNT)
    functions = snapshot.region(REGION)["lambda"]["functions"]
    for arn in (seeded["orders"], seeded["billing"]):
        assert is_error(functions[arn]["Policy"])
        with pytest.raises(DataUnavailable) as error:
            require(functions[arn]["Policy"])
        assert error.value.operation == "lambda:GetPolicy"
        assert functions[arn]["Tags"] == {"Owner": "team"}
    # billing's alias live has its own policy, read by GetPolicy with its qualifier.
    assert is_error(functions[seeded["billing"]]["Aliases"][0]["Policy"])
    failed = sorted(error["operation"] for _, error in snapshot.errors())
    baseline = [error["operation"] for _, error in clean.errors()]
    assert failed == sorted(["lambda:GetPolicy"] * 3 + baseline)
    for arn, function in clean.region(REGION)["lambda"]["functions"].items():
        aliases = [{**alias, "Policy": None} for alias in function["Aliases"]]
        faulted = functions[arn]
        faulted_aliases = [{**alias, "Policy": None} for alias in faulted["Aliases"]]
        assert aliases == faulted_aliases
        assert {**function, "Policy": None, "Aliases": None} == {
            **faulted,
            "Policy": None,
            "Aliases": None,
        }


def test_a_failed_listing_fails_every_function_closed(session, seeded) -> None:
    inject_fault(session, "lambda", "ListFunctions")
    snapshot = take_snapshot(session, ACCOUNT)
    with pytest.raises(DataUnavailable, match="lambda:ListFunctions failed"):
        list(snapshot.functions())


def test_a_failed_bulk_iam_read_marks_the_roles(session, seeded) -> None:
    inject_fault(session, "iam", "GetAccountAuthorizationDetails")
    snapshot = take_snapshot(session, ACCOUNT)
    with pytest.raises(DataUnavailable, match="iam:GetAccountAuthorizationDetails"):
        snapshot.role(seeded["role"])


def test_reader_counts_calls_per_operation(session, seeded) -> None:
    reader = Reader(session)
    reader.pages("lambda", REGION, "list_functions", "Functions")
    reader.call(
        "lambda",
        REGION,
        "get_policy",
        absent=("ResourceNotFoundException",),
        FunctionName="billing",
    )
    assert reader.calls == {"lambda:ListFunctions": 1, "lambda:GetPolicy": 1}


def test_save_and_load_round_trip(session, seeded, tmp_path: Path) -> None:
    snapshot = take_snapshot(session, ACCOUNT)
    path = tmp_path / "deep" / "snapshot.json"
    digest = save_snapshot(snapshot, path)
    loaded, loaded_digest = load_snapshot(path)
    assert loaded.data == json.loads(json.dumps(snapshot.data))
    assert loaded_digest == digest
    assert (tmp_path / "deep" / "snapshot.json.sha256").read_text().startswith(digest)
    assert loaded.account.mode == "snapshot"


def test_altered_snapshot_is_refused(session, seeded, tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    save_snapshot(take_snapshot(session, ACCOUNT), path)
    path.write_text(path.read_text().replace("orders", "ordrrs"))
    with pytest.raises(SnapshotError, match="altered after it was saved"):
        load_snapshot(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"schema": "prr-snapshot/9"}', "snapshot format 'prr-snapshot/9'; this pytest-prr"),
        ("[1, 2]", "no 'schema' field"),
        ('{"schema": "prr-snapshot/1", "taken_at": "x"}', "missing account, global, regions"),
    ],
)
def test_corrupt_or_foreign_files_are_refused(tmp_path: Path, content: str, message: str):
    path = tmp_path / "snapshot.json"
    path.write_text(content)
    with pytest.raises(SnapshotError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_snapshot(path)


def test_progress_is_quiet_for_fast_reads_then_throttled() -> None:
    now = [0.0]
    lines: list[str] = []
    progress = SnapshotProgress(lines.append, delay=2.0, interval=0.5, clock=lambda: now[0])
    progress("us-east-1", 5, 10)
    assert lines == []
    now[0] = 2.1
    progress("eu-west-1", 1, 3)
    now[0] = 2.2
    progress("us-east-1", 6, 10)
    now[0] = 2.7
    progress("us-east-1", 7, 10)
    assert lines == [
        "prr: reading functions: eu-west-1 1/3, us-east-1 5/10",
        "prr: reading functions: eu-west-1 1/3, us-east-1 7/10",
    ]


def test_snapshot_view_of_stored_data() -> None:
    data = {
        "schema": "prr-snapshot/1",
        "taken_at": "2026-11-28T00:00:00Z",
        "account": {"name": "p", "account_id": "111122223333", "regions": ["eu-west-1"]},
        "global": {"iam": {"roles": {}, "policies": {}}},
        "regions": {"eu-west-1": {"lambda": {"functions": {"a": {"FunctionArn": "a"}}}}},
    }
    snapshot = Snapshot(data)
    assert list(snapshot.functions()) == [("eu-west-1", {"FunctionArn": "a"})]
    assert snapshot.role("arn:aws:iam::111122223333:role/x") is None
    assert snapshot.account.regions == ("eu-west-1",)


def faulted_session(operations: set[str], fault: str) -> boto3.Session:
    """A session on the mocked account whose ``service:Operation`` calls all fail."""
    session = boto3.Session(region_name=REGION)
    for operation in operations:
        service, api = operation.split(":")
        event = session.client(service).meta.service_model.service_id.hyphenize()
        inject_fault(session, event, api, fault)
    return session


def differences(clean: Any, faulted: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Paths where ``faulted`` departs from ``clean``, with the faulted value there."""
    if is_error(faulted):
        if faulted != clean:
            yield path, faulted
    elif isinstance(clean, dict) and isinstance(faulted, dict):
        for key in clean.keys() | faulted.keys():
            yield from differences(clean.get(key), faulted.get(key), f"{path}.{key}")
    elif isinstance(clean, list) and isinstance(faulted, list) and len(clean) == len(faulted):
        for index, (a, b) in enumerate(zip(clean, faulted, strict=True)):
            yield from differences(a, b, f"{path}[{index}]")
    elif isinstance(clean, list) and isinstance(faulted, list):
        added = [item for item in faulted if item not in clean]
        yield from ((f"{path}[+]", item) for item in added)
        if not added:
            yield path, faulted
    elif clean != faulted:
        yield path, faulted


def test_random_faults_only_ever_mark_the_data_of_the_failed_operations(seeded) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from faults import FAULTS

    base = boto3.Session(region_name=REGION)
    clean = take_snapshot(base, ACCOUNT).data
    operations = sorted(clean["calls"])

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.sets(st.sampled_from(operations), min_size=1, max_size=4),
        st.sampled_from(sorted(FAULTS)),
    )
    def check(injected: set[str], fault: str) -> None:
        faulted = take_snapshot(faulted_session(injected, fault), ACCOUNT).data
        for path, value in differences(
            {k: v for k, v in clean.items() if k not in ("calls", "taken_at")},
            {k: v for k, v in faulted.items() if k not in ("calls", "taken_at")},
        ):
            if ".code_signing_read." in path:
                # How the code signing configs were read changes with the listing that failed
                # (read per function, or not at all): it must name that listing.
                region = path.split(".")[2]
                read = faulted["regions"][region]["lambda"]["code_signing_read"]
                assert any(operation in read["reason"] for operation in injected), (path, read)
                continue
            assert is_error(value), f"{path} changed without an error marker: {value!r}"
            failed = value["$error"]["operation"]
            assert failed in injected, f"{path} marked for {failed}, not injected"

    check()


def test_no_fault_ever_turns_a_verdict_into_a_pass(seeded) -> None:
    """Fail closed end to end: with any reads failing, every built-in control's verdict
    for every resource is what it was without faults, or ERROR; never a new PASS. And no
    resource's verdict vanishes: one that is not judged any more stands under an ERROR of
    its whole region (its listing failed), never under nothing."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from faults import FAULTS
    from pytest_prr.catalog import builtin_catalog
    from pytest_prr.checks.base import run_check
    from pytest_prr.checks.registry import registered_checks

    checks = registered_checks()
    tunables = builtin_catalog().tunables({}, "test")

    def verdicts(snapshot: Snapshot) -> dict[tuple[str, str], str]:
        return {
            (finding.control_id, finding.resource_id): finding.status
            for check in checks.values()
            for finding in run_check(check, snapshot, tunables)
        }

    clean_snapshot = take_snapshot(boto3.Session(region_name=REGION), ACCOUNT)
    clean = verdicts(clean_snapshot)
    operations = sorted(clean_snapshot.data["calls"])

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.sets(st.sampled_from(operations), min_size=1, max_size=3),
        st.sampled_from(sorted(FAULTS)),
    )
    def check(injected: set[str], fault: str) -> None:
        faulted = verdicts(take_snapshot(faulted_session(injected, fault), ACCOUNT))
        for key, status in faulted.items():
            if status == "error":
                continue
            assert clean.get(key) == status, f"{key}: {clean.get(key)} became {status}"
        region = f"{ACCOUNT.account_id}/{REGION}"
        listing_errors = {
            control
            for (control, resource), status in faulted.items()
            if status == "error" and resource.startswith(region)
        }
        for control, resource in clean.keys() - faulted.keys():
            assert control in listing_errors, (
                f"{control} on {resource} vanished under {sorted(injected)} ({fault})"
            )

    check()
