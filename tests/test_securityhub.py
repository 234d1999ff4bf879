"""Security Hub import: the one write, through a guard that admits it and nothing else."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from documents import account_run, account_snapshot, document
from pytest_prr.accounts import guard
from pytest_prr.accounts.config import Account
from pytest_prr.accounts.guard import FINDINGS_IMPORT, WriteRefused, install_read_only_guard
from pytest_prr.accounts.sessions import EMULATOR_CREDENTIALS, TargetSession, open_session
from pytest_prr.commands.cli import main
from pytest_prr.report.asff import to_asff
from pytest_prr.report.securityhub import (
    BATCH_LIMIT,
    SecurityHubImportError,
    import_findings,
    import_session,
)
from snapshots import make_function

MOTO_ACCOUNT = "123456789012"
NOWHERE = "http://127.0.0.1:9"
ONE_ATTEMPT = Config(retries={"total_max_attempts": 1})
#: Services whose every operation the guard is checked against.
SERVICES = ("securityhub", "lambda", "iam", "s3", "sts", "config", "organizations")
OPERATIONS = [
    (service, operation)
    for service in SERVICES
    for operation in botocore.session.get_session().get_service_model(service).operation_names
]
ORDERS = account_run(
    account_snapshot(
        MOTO_ACCOUNT,
        [make_function("orders-api"), make_function("legacy", Runtime="python3.8")],
        regions=("us-east-1", "eu-west-1"),
    )
)
OTHER = account_run(account_snapshot("222222222222", [make_function("payments")]))
FINDINGS = to_asff(document(ORDERS, OTHER))
OURS = [f for f in FINDINGS if f["AwsAccountId"] == MOTO_ACCOUNT]


class SendRecorder:
    """Records the operation of every request botocore is about to send."""

    def __init__(self) -> None:
        self.operations: list[str] = []

    def __call__(self, model: Any, **kwargs: Any) -> None:
        self.operations.append(model.name)


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for variable in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(variable, raising=False)
    with mock_aws():
        yield


def hub_findings(region: str, endpoint_url: str | None = None) -> list[dict[str, Any]]:
    """Every finding in the region's hub, read with a client of its own."""
    client = boto3.client(
        "securityhub", region_name=region, endpoint_url=endpoint_url, **EMULATOR_CREDENTIALS
    )
    pages = client.get_paginator("get_findings").paginate()
    return [finding for page in pages for finding in page["Findings"]]


def enable_hubs(*regions: str, endpoint_url: str | None = None) -> None:
    """Security Hub must be enabled to accept findings on AWS; moto does not insist."""
    for region in regions:
        boto3.client(
            "securityhub", region_name=region, endpoint_url=endpoint_url, **EMULATOR_CREDENTIALS
        ).enable_security_hub()


# The guard's one exception ------------------------------------------------------------


def guarded_nowhere(*, allow_findings_import: bool) -> TargetSession:
    session = TargetSession(endpoint_url=NOWHERE, region_name="us-east-1", **EMULATOR_CREDENTIALS)
    install_read_only_guard(session, admit={FINDINGS_IMPORT} if allow_findings_import else ())
    return session


_CLIENTS: dict[tuple[str, bool], Any] = {}


def call_without_parameters(service: str, operation: str, allow: bool) -> str:
    """'refused', or 'passed' when the guard let the call go on (to validation or the port)."""
    if (service, allow) not in _CLIENTS:
        session = guarded_nowhere(allow_findings_import=allow)
        _CLIENTS[(service, allow)] = session.client(service, config=ONE_ATTEMPT)
    client = _CLIENTS[(service, allow)]
    method = {api: name for name, api in client.meta.method_to_api_mapping.items()}[operation]
    try:
        getattr(client, method)()
    except WriteRefused:
        return "refused"
    except Exception:  # parameter validation or the closed port: the guard let it pass
        return "passed"
    return "passed"


@settings(deadline=None, max_examples=150)
@given(st.sampled_from(OPERATIONS))
def test_the_import_session_refuses_every_other_write(service_operation) -> None:
    service, operation = service_operation
    allowed = (
        guard.is_read_operation(service, operation)
        or service_operation in guard.CREDENTIAL_CHAIN_OPERATIONS
        or service_operation == ("securityhub", "BatchImportFindings")
    )
    assert call_without_parameters(service, operation, allow=True) == (
        "passed" if allowed else "refused"
    )


def test_every_security_hub_write_but_the_import_is_refused() -> None:
    writes = [
        operation
        for service, operation in OPERATIONS
        if service == "securityhub" and not guard.is_read_operation(service, operation)
    ]
    assert {"BatchUpdateFindings", "EnableSecurityHub", "DisableSecurityHub"} <= set(writes)
    outcomes = {op: call_without_parameters("securityhub", op, allow=True) for op in writes}
    assert {op for op, outcome in outcomes.items() if outcome == "passed"} == {
        "BatchImportFindings"
    }


def test_the_import_is_sent_only_when_asked_for() -> None:
    with pytest.raises(WriteRefused, match="securityhub:BatchImportFindings was refused"):
        guarded_nowhere(allow_findings_import=False).client("securityhub").batch_import_findings(
            Findings=OURS[:1]
        )
    allowed = guarded_nowhere(allow_findings_import=True).client("securityhub", config=ONE_ATTEMPT)
    with pytest.raises(EndpointConnectionError):  # the guard let it go; nothing listens
        allowed.batch_import_findings(Findings=OURS[:1])


def test_a_session_guarded_without_the_exception_keeps_refusing() -> None:
    session = guarded_nowhere(allow_findings_import=False)
    install_read_only_guard(session, admit={FINDINGS_IMPORT})
    with pytest.raises(WriteRefused):
        session.client("securityhub").batch_import_findings(Findings=OURS[:1])


# Importing into moto ------------------------------------------------------------------


def test_findings_arrive_in_each_region_s_hub(moto) -> None:
    enable_hubs("us-east-1", "eu-west-1")
    session = import_session(region="us-east-1")
    outcome = import_findings(session, FINDINGS)
    assert outcome.imported == len(OURS) > 0
    assert outcome.failed == []
    assert outcome.left_for == {"222222222222": len(FINDINGS) - len(OURS)}
    for region in ("us-east-1", "eu-west-1"):
        expected = {f["Id"]: f for f in OURS if f["ProductArn"].split(":")[3] == region}
        arrived = {f["Id"]: f for f in hub_findings(region)}
        assert set(arrived) == set(expected) and expected
        for finding_id, finding in expected.items():
            assert arrived[finding_id]["Compliance"] == finding["Compliance"]
            assert arrived[finding_id]["Resources"] == finding["Resources"]
    assert "not imported, import them with each account's own credentials: " in outcome.describe()


def test_a_second_import_updates_rather_than_duplicates(moto) -> None:
    session = import_session(region="us-east-1")
    import_findings(session, OURS)
    changed = [{**f, "Description": "still failing"} for f in OURS]
    import_findings(session, changed)
    arrived = hub_findings("us-east-1") + hub_findings("eu-west-1")
    assert len(arrived) == len(OURS)
    assert {f["Description"] for f in arrived} == {"still failing"}


def test_findings_go_in_batches_of_at_most_100(moto) -> None:
    many = [
        {**OURS[0], "Id": f"pytest-prr/{MOTO_ACCOUNT}/TEST/{index}"}
        for index in range(2 * BATCH_LIMIT + 5)
    ]
    session = import_session(region="us-east-1")
    recorder = SendRecorder()
    session.events.register("before-parameter-build.securityhub.BatchImportFindings", recorder)
    sizes: list[int] = []
    session.events.register(
        "before-parameter-build.securityhub.BatchImportFindings",
        lambda params, **kwargs: sizes.append(len(params["Findings"])),
    )
    outcome = import_findings(session, many)
    assert outcome.requests == 3 and sizes == [100, 100, 5]
    assert len(recorder.operations) == 3
    assert len(hub_findings(OURS[0]["ProductArn"].split(":")[3])) == len(many)


# What Security Hub rejects, and errors ----------------------------------------------


class StubbedSession:
    """Clients whose answers are stubbed, for what moto never does: reject a valid finding."""

    def __init__(self, answers: dict[str, dict[str, Any]]) -> None:
        self.answers = answers

    def client(self, service: str, region_name: str | None = None) -> Any:
        client = boto3.client(
            service, region_name=region_name or "us-east-1", **EMULATOR_CREDENTIALS
        )
        stubber = Stubber(client)
        if service == "sts":
            identity = {"Account": MOTO_ACCOUNT, "Arn": f"arn:aws:iam::{MOTO_ACCOUNT}:user/u"}
            stubber.add_response("get_caller_identity", {**identity, "UserId": "u"})
        else:
            stubber.add_response("batch_import_findings", self.answers[region_name])
        stubber.activate()
        return client


def test_rejected_findings_are_listed_after_every_batch_was_tried() -> None:
    east = [f for f in OURS if ":us-east-1:" in f["ProductArn"]]
    west = len(OURS) - len(east)
    rejected = {"Id": east[0]["Id"], "ErrorCode": "InvalidInput", "ErrorMessage": "bad finding"}
    session = StubbedSession(
        {
            "eu-west-1": {"FailedCount": 0, "SuccessCount": west, "FailedFindings": []},
            "us-east-1": {
                "FailedCount": 1,
                "SuccessCount": len(east) - 1,
                "FailedFindings": [rejected],
            },
        }
    )
    with pytest.raises(SecurityHubImportError) as failed:
        import_findings(session, OURS)
    outcome = failed.value.outcome
    assert outcome.requests == 2 and outcome.imported == len(OURS) - 1
    assert str(failed.value) == (
        f"Security Hub rejected findings: imported {len(OURS) - 1} finding(s) of account "
        f"{MOTO_ACCOUNT} into Security Hub in 2 request(s); 1 rejected: {east[0]['Id']}: "
        "InvalidInput bad finding"
    )


def test_an_api_error_says_how_far_the_import_got(moto, monkeypatch) -> None:
    session = import_session(region="us-east-1")

    def access_denied(**kwargs: Any) -> None:
        from botocore.exceptions import ClientError

        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "BatchImportFindings"
        )

    session.events.register(
        "before-call.securityhub.BatchImportFindings", lambda **kwargs: access_denied()
    )
    with pytest.raises(SecurityHubImportError, match=r"in eu-west-1 failed after 0 finding\(s\)"):
        import_findings(session, OURS)


def test_invalid_or_repeated_findings_are_refused_before_anything_is_sent(moto) -> None:
    from pytest_prr.report.asff import FindingError

    session = import_session(region="us-east-1")
    with pytest.raises(FindingError, match="'Title' is a required property"):
        import_findings(session, [{k: v for k, v in OURS[0].items() if k != "Title"}])
    with pytest.raises(ValueError, match="findings with the same Id would overwrite"):
        import_findings(session, [OURS[0], OURS[0]])
    assert hub_findings("us-east-1") == hub_findings("eu-west-1") == []


# The command --------------------------------------------------------------------------


def test_an_emulator_account_imports_through_the_guard_and_the_command(
    tmp_path: Path, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """One moto server for both ways in: the plugin's account session, then the command."""
    account = Account(
        name="local",
        account_id=MOTO_ACCOUNT,
        regions=("us-east-1",),
        mode="endpoint",
        endpoint_url=moto_endpoint,
    )
    refusal = "open the session admitting securityhub:BatchImportFindings"
    with pytest.raises(SecurityHubImportError, match=refusal):
        import_findings(open_session(account), OURS)
    outcome = import_findings(open_session(account, admit={FINDINGS_IMPORT}), OURS)
    assert outcome.imported == len(OURS)

    source = tmp_path / "results.json"
    source.write_text(json.dumps(document(ORDERS, OTHER)))
    argv = ["export-asff", str(source), "--import", "--endpoint-url", moto_endpoint]
    assert main([*argv, "--region", "us-east-1"]) == 0
    assert capsys.readouterr().out == (
        f"prr export-asff: imported {len(OURS)} finding(s) of account {MOTO_ACCOUNT} into "
        "Security Hub in 2 request(s); not imported, import them with each account's own "
        f"credentials: {len(FINDINGS) - len(OURS)} of account 222222222222\n"
    )
    arrived = hub_findings("us-east-1", moto_endpoint) + hub_findings("eu-west-1", moto_endpoint)
    assert sorted(f["Id"] for f in arrived) == sorted(f["Id"] for f in OURS)
