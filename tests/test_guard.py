"""The read-only guard: writes are refused before they leave the process, reads pass."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_prr.accounts import guard
from pytest_prr.accounts.guard import WriteRefused, install_read_only_guard, is_read_operation
from pytest_prr.accounts.sessions import EMULATOR_CREDENTIALS, TargetSession

#: Nothing listens on the discard port: a request that were sent would fail to connect.
NOWHERE = "http://127.0.0.1:9"
ONE_ATTEMPT = Config(retries={"total_max_attempts": 1})
#: The services pytest-prr reads.
SERVICES = (
    "lambda",
    "iam",
    "sts",
    "ec2",
    "logs",
    "cloudwatch",
    "sqs",
    "sns",
    "events",
    "s3",
    "secretsmanager",
    "kms",
    "codedeploy",
    "signer",
    "apigateway",
    "apigatewayv2",
    "wafv2",
    "cloudtrail",
    "config",
    "securityhub",
    "organizations",
    "guardduty",
)
OPERATIONS = [
    (service, operation)
    for service in SERVICES
    for operation in botocore.session.get_session().get_service_model(service).operation_names
]
#: The rule, restated here so that a change to the module's lists has to be reviewed here too.
READ_PREFIXES = (
    "List",
    "Get",
    "Describe",
    "Head",
    "Lookup",
    "Search",
    "Select",
    "Query",
    "Scan",
    "BatchGet",
    "Filter",
    "Simulate",
)
NAMED_READS = {("sts", "DecodeAuthorizationMessage")}
#: Read-named operations that create or change something (see guard.WRITE_TRAPS for why).
WRITE_TRAPS = {
    ("ec2", "GetFlowLogsIntegrationTemplate"),
    ("ec2", "GetConsoleScreenshot"),
    ("sts", "GetDelegatedAccessToken"),
    ("sts", "GetSessionToken"),
    ("sts", "GetFederationToken"),
    ("sts", "GetScopedCredentials"),
    ("sts", "GetWebIdentityToken"),
    ("cognito-identity", "GetId"),
}


class SendRecorder:
    """A ``before-send`` handler: records every request that botocore is about to send."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, request: Any, **kwargs: Any) -> None:
        self.urls.append(request.url)


def target_session(endpoint_url: str = NOWHERE) -> tuple[TargetSession, SendRecorder]:
    session = TargetSession(
        endpoint_url=endpoint_url, region_name="eu-west-1", **EMULATOR_CREDENTIALS
    )
    recorder = SendRecorder()
    session.events.register("before-send", recorder)
    return session, recorder


@pytest.fixture
def guarded() -> tuple[TargetSession, SendRecorder]:
    session, recorder = target_session()
    install_read_only_guard(session)
    return session, recorder


@pytest.mark.parametrize(
    ("method", "params", "operation"),
    [
        ("delete_function", {"FunctionName": "orders"}, "DeleteFunction"),
        (
            "put_function_concurrency",
            {"FunctionName": "orders", "ReservedConcurrentExecutions": 5},
            "PutFunctionConcurrency",
        ),
        ("delete_function", {}, "DeleteFunction"),  # invalid parameters: refused all the same
    ],
)
def test_writes_are_refused_before_anything_is_sent(guarded, method, params, operation) -> None:
    session, recorder = guarded
    with pytest.raises(WriteRefused) as refused:
        getattr(session.client("lambda"), method)(**params)
    assert (refused.value.service, refused.value.operation) == ("lambda", operation)
    assert str(refused.value) == (
        f"pytest-prr is read-only: lambda:{operation} was refused before it was sent "
        "(allow writes only with --prr-allow-writes)"
    )
    assert recorder.urls == []


def test_an_unguarded_session_sends_writes() -> None:
    session, recorder = target_session()
    with pytest.raises(EndpointConnectionError):
        session.client("lambda", config=ONE_ATTEMPT).delete_function(FunctionName="orders")
    assert len(recorder.urls) == 1


def test_a_plain_boto3_session_can_be_guarded() -> None:
    session = boto3.Session(region_name="eu-west-1", **EMULATOR_CREDENTIALS)
    install_read_only_guard(session)
    with pytest.raises(WriteRefused):
        session.client("sqs", endpoint_url=NOWHERE).delete_queue(QueueUrl=f"{NOWHERE}/1/q")


def test_reads_pass_and_writes_change_nothing(moto_endpoint) -> None:
    seeder, _ = target_session(moto_endpoint)
    queue_url = seeder.client("sqs").create_queue(QueueName="orders")["QueueUrl"]
    session, _ = target_session(moto_endpoint)
    install_read_only_guard(session)
    sqs = session.client("sqs")

    assert sqs.list_queues()["QueueUrls"] == [queue_url]
    assert (
        "VisibilityTimeout"
        in sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    )
    pages = session.client("lambda").get_paginator("list_functions").paginate()
    assert [page["Functions"] for page in pages] == [[]]
    with pytest.raises(WriteRefused):
        sqs.delete_queue(QueueUrl=queue_url)
    assert seeder.client("sqs").list_queues()["QueueUrls"] == [queue_url]


def test_resources_are_guarded(guarded) -> None:
    session, recorder = guarded
    with pytest.raises(WriteRefused, match="sqs:CreateQueue"):
        session.resource("sqs").create_queue(QueueName="orders")
    with pytest.raises(WriteRefused, match="s3:DeleteBucket"):
        session.resource("s3").Bucket("evidence").delete()
    with pytest.raises(WriteRefused, match="dynamodb:PutItem"):
        session.resource("dynamodb").Table("orders").put_item(Item={"id": "1"})
    assert recorder.urls == []


def test_presigned_write_urls_are_refused(guarded) -> None:
    s3 = guarded[0].client("s3")
    with pytest.raises(WriteRefused, match="s3:PutObject"):
        s3.generate_presigned_url("put_object", Params={"Bucket": "evidence", "Key": "k"})
    assert s3.generate_presigned_url("get_object", Params={"Bucket": "evidence", "Key": "k"})


def test_only_clients_created_after_install_are_guarded() -> None:
    session, recorder = target_session()
    early = session.client("lambda", config=ONE_ATTEMPT)
    install_read_only_guard(session)
    with pytest.raises(WriteRefused):
        session.client("lambda").delete_function(FunctionName="orders")
    with pytest.raises(EndpointConnectionError):
        early.delete_function(FunctionName="orders")
    assert len(recorder.urls) == 1


def test_installing_twice_guards_once(monkeypatch) -> None:
    checks: list[tuple[str, str]] = []

    def counting(service: str, operation: str) -> bool:
        checks.append((service, operation))
        return is_read_operation(service, operation)

    monkeypatch.setattr(guard, "is_read_operation", counting)
    session, _ = target_session()
    install_read_only_guard(session)
    install_read_only_guard(session)
    with pytest.raises(EndpointConnectionError):
        session.client("lambda", config=ONE_ATTEMPT).list_functions()
    assert checks == [("lambda", "ListFunctions")]


def test_a_profile_that_assumes_a_role_still_authenticates(
    moto_endpoint, tmp_path: Path, monkeypatch
) -> None:
    """botocore assumes a profile's role_arn through a client of the guarded session."""
    config = tmp_path / "config"
    config.write_text(
        textwrap.dedent(
            """
            [profile source]
            aws_access_key_id = testing
            aws_secret_access_key = testing
            [profile target]
            role_arn = arn:aws:iam::123456789012:role/prr-readonly
            source_profile = source
            """
        )
    )
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    session = TargetSession(
        endpoint_url=moto_endpoint, profile_name="target", region_name="us-east-1"
    )
    install_read_only_guard(session)
    identity = session.client("sts").get_caller_identity()
    assert ":assumed-role/prr-readonly/" in identity["Arn"]


@given(st.sampled_from(OPERATIONS))
def test_is_read_operation_follows_the_rule(service_operation: tuple[str, str]) -> None:
    service, operation = service_operation
    expected = service_operation in NAMED_READS or (
        operation.startswith(READ_PREFIXES) and service_operation not in WRITE_TRAPS
    )
    assert is_read_operation(service, operation) is expected


_GUARDED_CLIENTS: dict[tuple[str, frozenset[tuple[str, str]]], Any] = {}
#: The guards pytest-prr installs: read-only, and the sessions of its two writes.
ADMISSIONS = (
    frozenset(),
    frozenset({guard.FINDINGS_IMPORT}),
    frozenset({guard.EVIDENCE_SIGNATURE}),
)


def _guarded_client(service: str, admitted: frozenset[tuple[str, str]]) -> Any:
    if (service, admitted) not in _GUARDED_CLIENTS:
        session, _ = target_session()
        install_read_only_guard(session, admit=admitted)
        _GUARDED_CLIENTS[service, admitted] = session.client(service, config=ONE_ATTEMPT)
    return _GUARDED_CLIENTS[service, admitted]


@pytest.mark.parametrize("admitted", ADMISSIONS, ids=["read-only", "findings-import", "signing"])
@settings(deadline=None)  # the first example of a service creates its client
@given(service_operation=st.sampled_from(OPERATIONS))
def test_the_guard_refuses_exactly_the_non_reads_it_does_not_admit(
    admitted: frozenset[tuple[str, str]], service_operation: tuple[str, str]
) -> None:
    service, operation = service_operation
    client = _guarded_client(service, admitted)
    method = {api: name for name, api in client.meta.method_to_api_mapping.items()}[operation]
    try:
        getattr(client, method)()
    except WriteRefused:
        refused = True
    except Exception:  # a read goes on to parameter validation or to the closed port
        refused = False
    else:
        refused = False
    allowed = (
        is_read_operation(service, operation)
        or service_operation in guard.CREDENTIAL_CHAIN_OPERATIONS
        or service_operation in admitted
    )
    assert refused is not allowed


@pytest.mark.parametrize("admitted", ADMISSIONS[1:], ids=["findings-import", "signing"])
def test_an_admission_lets_its_one_write_through_and_no_other(
    admitted: frozenset[tuple[str, str]],
) -> None:
    """Hypothesis samples 3,000 operations at random; every write of the admitted
    operation's service is checked here, since a neighbour is the likeliest slip."""
    ((service, operation),) = admitted
    client = _guarded_client(service, admitted)
    methods = {api: name for name, api in client.meta.method_to_api_mapping.items()}
    writes = [op for svc, op in OPERATIONS if svc == service and not is_read_operation(svc, op)]
    assert len(writes) > 10
    passed = []
    for write in writes:
        try:
            getattr(client, methods[write])()
        except WriteRefused:
            continue
        except Exception:  # parameter validation or the closed port: the guard let it pass
            passed.append(write)
    assert passed == [operation]


def test_kms_sign_is_refused_unless_admitted() -> None:
    session, recorder = target_session()
    install_read_only_guard(session)
    with pytest.raises(WriteRefused, match="kms:Sign was refused"):
        session.client("kms").sign(KeyId="k", Message=b"m", SigningAlgorithm="ECDSA_SHA_256")
    signing, recorder = target_session()
    install_read_only_guard(signing, admit={guard.EVIDENCE_SIGNATURE})
    with pytest.raises(EndpointConnectionError):  # let through; nothing listens
        signing.client("kms", config=ONE_ATTEMPT).sign(
            KeyId="k", Message=b"m", SigningAlgorithm="ECDSA_SHA_256"
        )
    assert len(recorder.urls) == 1


def test_a_guard_admits_no_write_pytest_prr_does_not_make() -> None:
    session, _ = target_session()
    with pytest.raises(ValueError, match="admits no write but those pytest-prr makes: kms:Decrypt"):
        install_read_only_guard(session, admit={guard.EVIDENCE_SIGNATURE, ("kms", "Decrypt")})
    assert {("securityhub", "BatchImportFindings"), ("kms", "Sign")} == guard.ADMISSIBLE_WRITES


def test_the_write_traps() -> None:
    models = botocore.session.get_session()
    assert set(guard.WRITE_TRAPS) == WRITE_TRAPS
    for service, operation in WRITE_TRAPS:
        assert operation in models.get_service_model(service).operation_names
        assert operation.startswith(READ_PREFIXES)
        assert not is_read_operation(service, operation)
    assert "despite its name, it writes the generated CloudFormation template" in str(
        WriteRefused("ec2", "GetFlowLogsIntegrationTemplate")
    )


def test_the_listed_exceptions_are_real_operations() -> None:
    models = botocore.session.get_session()
    assert guard.READ_EXCEPTIONS == NAMED_READS
    for service, operation in guard.READ_EXCEPTIONS | guard.CREDENTIAL_CHAIN_OPERATIONS:
        assert operation in models.get_service_model(service).operation_names
    for service, operation in guard.CREDENTIAL_CHAIN_OPERATIONS:
        assert not is_read_operation(service, operation)


@pytest.mark.parametrize(
    ("service", "operation"),
    [
        ("sqs", "ReceiveMessage"),
        ("logs", "StartQuery"),
        ("iam", "GenerateCredentialReport"),
        ("kms", "GenerateDataKey"),
        ("lambda", "Invoke"),
        ("sts", "AssumeRole"),  # allowed by the guard for the credential chain, not a read
    ],
)
def test_not_reads(service: str, operation: str) -> None:
    assert not is_read_operation(service, operation)
