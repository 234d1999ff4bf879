"""Emulator fidelity: the profiles, detecting the emulator behind an endpoint, what a failed
call means there, and what the snapshot makes of a field an emulator drops."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any, ClassVar

import boto3
import pytest

from faults import inject_fault
from moto_seed import ACCOUNT, REGION, function, mocked_account
from pytest_prr.accounts.config import Account
from pytest_prr.accounts.emulators import (
    FUNCTION_RESOURCE,
    LOCALSTACK,
    MOTO,
    UNKNOWN,
    Emulator,
    detect_emulator,
    profile_for,
    profiles,
)
from pytest_prr.checks import reliability, security  # noqa: F401 (registration)
from pytest_prr.checks.base import REGISTRY, run_check
from pytest_prr.snapshot.collect.fidelity import AWS, Fidelity
from pytest_prr.snapshot.collect.lambda_ import collect_lambda
from pytest_prr.snapshot.collect.reader import Reader
from pytest_prr.snapshot.model import EMULATOR_GAP, UNIMPLEMENTED, is_error
from pytest_prr.snapshot.take import take_snapshot

MOTO_VERSION = installed_version("moto")
DLQ = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"
MOTO_ACCOUNT = Account("moto", ACCOUNT, (REGION,), "moto")


# -- profiles -------------------------------------------------------------------------------


def test_moto_drops_what_it_drops_and_stores_kms_key_arn() -> None:
    profile = profile_for(Emulator(MOTO, MOTO_VERSION))
    assert profile is not None
    assert profile.dropped_fields(FUNCTION_RESOURCE) == ("DeadLetterConfig", "LoggingConfig")
    assert profile.lacks("lambda:ListFunctionUrlConfigs")
    assert not profile.lacks("lambda:ListFunctions")
    assert profile.represents("alias-function-urls") is not None


def test_localstack_drops_kms_key_arn() -> None:
    profile = profile_for(Emulator(LOCALSTACK, "4.0.3"))
    assert profile is not None and "KMSKeyArn" in profile.dropped_fields(FUNCTION_RESOURCE)


@pytest.mark.parametrize("version", [None, "99.0", "not-a-version"])
def test_an_unknown_or_newer_version_gets_the_newest_profile(version: str | None) -> None:
    assert profile_for(Emulator(MOTO, version)) == profiles()[MOTO][-1]


def test_aws_and_an_unrecognised_endpoint_get_no_profile() -> None:
    assert profile_for(None) is None
    assert profile_for(Emulator(UNKNOWN)) is None


def test_every_gap_names_controls_and_says_why() -> None:
    for name, known in profiles().items():
        for profile in known:
            for gap in profile.gaps:
                assert gap.controls and len(gap.why) > 30, (name, gap)


# -- detection ------------------------------------------------------------------------------


class _Endpoint(BaseHTTPRequestHandler):
    """An endpoint that answers each path with what ``routes`` says."""

    routes: ClassVar[dict[str, tuple[int, dict[str, str], bytes]]] = {}

    def do_GET(self) -> None:
        status, headers, body = self.routes.get(self.path, (404, {}, b"not found"))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[Any]:
    """A loopback HTTP server whose answers a test sets: ``endpoint(routes) -> url``."""
    servers = []

    def serve(routes: dict[str, tuple[int, dict[str, str], bytes]]) -> str:
        handler = type("Handler", (_Endpoint,), {"routes": routes})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_moto_server_is_recognised(moto_endpoint: str) -> None:
    assert detect_emulator(moto_endpoint) == Emulator(MOTO, None)


def test_localstack_is_recognised_with_its_version(endpoint: Any) -> None:
    health = {"edition": "community", "version": "4.0.3", "services": {"lambda": "available"}}
    url = endpoint(
        {"/_localstack/health": (200, {"x-localstack": "true"}, json.dumps(health).encode())}
    )
    assert detect_emulator(url + "/") == Emulator(LOCALSTACK, "4.0.3")


def test_an_endpoint_that_names_itself_localstack_only_by_header(endpoint: Any) -> None:
    url = endpoint({"/_localstack/health": (503, {"x-localstack": "true"}, b"starting")})
    assert detect_emulator(url) == Emulator(LOCALSTACK, None)


def test_anything_else_is_unknown(endpoint: Any) -> None:
    assert detect_emulator(endpoint({"/moto-api/": (200, {}, b"<html>hello</html>")})).name == (
        UNKNOWN
    )
    assert detect_emulator("http://127.0.0.1:9", timeout=1).name == UNKNOWN


# -- what a failed call means -------------------------------------------------------------


@pytest.mark.parametrize(
    ("fidelity", "operation", "status", "code", "unimplemented"),
    [
        (AWS, "lambda:ListFunctions", 501, "InternalFailure", True),
        (AWS, "lambda:ListFunctions", 400, "NotImplemented", True),
        (AWS, "lambda:ListFunctionUrlConfigs", 404, "404", True),
        (AWS, "lambda:GetPolicy", 403, "AccessDeniedException", False),
        (AWS, "config:DescribeConformancePacks", 500, "500", False),
        (
            Fidelity.of(Emulator(MOTO, MOTO_VERSION)),
            "config:DescribeConformancePacks",
            500,
            "500",
            True,
        ),
        (Fidelity.of(Emulator(MOTO, MOTO_VERSION)), "lambda:GetPolicy", 500, "500", False),
    ],
)
def test_what_counts_as_not_implemented(
    fidelity: Fidelity, operation: str, status: int, code: str, unimplemented: bool
) -> None:
    assert fidelity.unimplemented(operation, status, code) is unimplemented


@pytest.fixture
def session() -> Iterator[boto3.Session]:
    with mocked_account() as session:
        yield session


def test_localstack_s_501_is_an_error_saying_the_endpoint_lacks_the_operation(
    session: boto3.Session,
) -> None:
    """Finding 9 of issue 12: LocalStack answers 501 InternalFailure, and the remedy said
    to grant a permission."""
    function(session, "app")
    inject_fault(session, "lambda", "GetPolicy", "NotEmulated")
    snapshot = take_snapshot(session, MOTO_ACCOUNT)
    policy = snapshot.region(REGION)["lambda"]["functions"][arn("app")]["Policy"]
    assert policy["$error"]["kind"] == UNIMPLEMENTED
    (finding,) = run_check(REGISTRY["SEC-05"], snapshot, {})
    assert finding.status == "error"
    assert "the endpoint does not implement lambda:GetPolicy" in finding.message
    assert "grant" not in finding.message
    assert finding.evidence["kind"] == UNIMPLEMENTED


# -- fields an emulator drops -----------------------------------------------------------------


def arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def read_functions(session: boto3.Session, fidelity: Fidelity) -> dict[str, Any]:
    return collect_lambda(Reader(session, fidelity=fidelity), REGION)["functions"]


def test_a_dropped_field_is_unreadable_where_it_would_be(session: boto3.Session) -> None:
    function(session, "app", DeadLetterConfig={"TargetArn": DLQ})
    found = read_functions(session, Fidelity.of(Emulator(MOTO, MOTO_VERSION)))[arn("app")]
    for name in ("DeadLetterConfig", "LoggingConfig"):
        marker = found[name]["$error"]
        assert marker["kind"] == EMULATOR_GAP and marker["code"] == "EmulatorGap"
        assert f"moto {MOTO_VERSION} does not return {name}" in marker["message"]


def test_against_aws_an_absent_field_means_none(session: boto3.Session) -> None:
    function(session, "app")
    found = read_functions(session, AWS)[arn("app")]
    assert "DeadLetterConfig" not in found and "provenance" not in found


def test_a_recorded_field_is_kept_with_its_provenance(session: boto3.Session) -> None:
    function(session, "app", DeadLetterConfig={"TargetArn": DLQ})
    recorded = {
        arn("app"): {
            "requests": ["CreateFunction"],
            "fields": {"DeadLetterConfig": {"TargetArn": DLQ}},
        }
    }
    fidelity = Fidelity.of(Emulator(MOTO, MOTO_VERSION, embedded=True), recorded)
    found = read_functions(session, fidelity)[arn("app")]
    assert found["DeadLetterConfig"] == {"TargetArn": DLQ}
    assert "LoggingConfig" not in found
    assert (
        "recorded by pytest-prr's moto server from CreateFunction"
        in (found["provenance"]["DeadLetterConfig"])
    )
    assert "not set by CreateFunction" in found["provenance"]["LoggingConfig"]


def test_a_function_no_recorded_request_created_is_unreadable(session: boto3.Session) -> None:
    """One made by moto's CloudFormation, say: the server never saw its CreateFunction."""
    function(session, "app")
    fidelity = Fidelity.of(Emulator(MOTO, MOTO_VERSION, embedded=True), {})
    assert is_error(read_functions(session, fidelity)[arn("app")]["DeadLetterConfig"])


def test_a_field_the_emulator_does_return_is_used(session: boto3.Session) -> None:
    """moto stores KMSKeyArn since 5.2.5; a profile that says otherwise costs nothing."""
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k"
    function(session, "app", KMSKeyArn=key, Environment={"Variables": {"A": "b"}})
    found = read_functions(session, Fidelity.of(Emulator(LOCALSTACK, "4.0")))[arn("app")]
    assert found["KMSKeyArn"] == key


def test_moto_s_function_url_stands_for_its_aliases(session: boto3.Session) -> None:
    """Finding: SEC-06 was ERROR on moto for every function with an alias. moto keeps a URL
    created on an alias as the function's URL, so an open URL on the alias FAILs."""
    function(session, "web")
    lam = session.client("lambda")
    lam.publish_version(FunctionName="web")
    lam.create_alias(FunctionName="web", Name="live", FunctionVersion="1")
    lam.create_function_url_config(FunctionName="web", Qualifier="live", AuthType="NONE")
    fidelity = Fidelity.of(Emulator(MOTO, MOTO_VERSION))
    snapshot = take_snapshot(
        session, Account("moto", ACCOUNT, (REGION,), "moto"), fidelity=fidelity
    )
    found = snapshot.region(REGION)["lambda"]["functions"][arn("web")]
    assert found["Aliases"][0]["FunctionUrl"] is None
    assert (
        "keeps a function URL created on any qualifier"
        in (found["provenance"]["Aliases.FunctionUrl"])
    )
    (finding,) = run_check(REGISTRY["SEC-06"], snapshot, {})
    assert finding.status == "fail"
    assert "Aliases.FunctionUrl" in finding.evidence["provenance"]
    lam.update_function_url_config(FunctionName="web", AuthType="AWS_IAM")
    snapshot = take_snapshot(
        session, Account("moto", ACCOUNT, (REGION,), "moto"), fidelity=fidelity
    )
    (finding,) = run_check(REGISTRY["SEC-06"], snapshot, {})
    assert finding.status == "pass"


def test_without_a_profile_alias_urls_stay_unreadable(session: boto3.Session) -> None:
    """An endpoint pytest-prr does not recognise gets no assumption about its URLs."""
    function(session, "web")
    lam = session.client("lambda")
    lam.publish_version(FunctionName="web")
    lam.create_alias(FunctionName="web", Name="live", FunctionVersion="1")
    found = read_functions(session, Fidelity.of(Emulator(UNKNOWN)))[arn("web")]
    assert is_error(found["Aliases"][0]["FunctionUrl"])


def test_the_readme_table_lists_every_gap_of_every_profile() -> None:
    """What each emulator cannot show, per control: README and profiles say the same."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = readme.split("What each emulator cannot show", 1)[1].split("\n\n", 2)[1]
    listed: set[tuple[str, str]] = set()
    emulator = ""
    for row in table.splitlines()[2:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        if cells[0]:
            emulator = cells[0].split()[0].lower()
        listed |= {(emulator, control) for control in re.findall(r"[A-Z]{3}-\d\d", cells[1])}
    profiled = {
        (name, control) for name, known in profiles().items() for control in known[-1].by_control()
    }
    assert listed == profiled


S3_TRIGGERED = {
    "Resources": {
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}},
        },
        "Thumbnails": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": "thumbnails",
                "Runtime": "python3.12",
                "Handler": "app.handler",
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Code": {"ZipFile": "def handler(event, context):\n    return None\n"},
            },
        },
        "S3Invoke": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "FunctionName": {"Ref": "Thumbnails"},
                "Action": "lambda:InvokeFunction",
                "Principal": "s3.amazonaws.com",
                "SourceAccount": {"Ref": "AWS::AccountId"},
            },
        },
        "Uploads": {
            "Type": "AWS::S3::Bucket",
            "DependsOn": "S3Invoke",
            "Properties": {
                "NotificationConfiguration": {
                    "LambdaConfigurations": [
                        {
                            "Event": "s3:ObjectCreated:*",
                            "Function": {"Fn::GetAtt": ["Thumbnails", "Arn"]},
                        }
                    ]
                }
            },
        },
    }
}


def test_an_s3_trigger_moto_s_cloudformation_dropped_is_never_not_applicable(
    session: boto3.Session,
) -> None:
    """Finding 4 of issue 12: moto's CloudFormation creates the bucket without its
    NotificationConfiguration, and REL-01 said N/A. The grant that lets S3 invoke the
    function is still there: read as AWS would be, the function FAILs; on moto, whose
    CloudFormation also drops DeadLetterConfig, it is ERROR naming that gap."""
    cloudformation = session.client("cloudformation")
    cloudformation.create_stack(StackName="thumbnails", TemplateBody=json.dumps(S3_TRIGGERED))
    buckets = session.client("s3").list_buckets()["Buckets"]
    [bucket] = [b["Name"] for b in buckets if b["Name"].startswith("thumbnails-uploads")]
    notifications = session.client("s3").get_bucket_notification_configuration(Bucket=bucket)
    assert "LambdaFunctionConfigurations" not in notifications  # what moto dropped
    as_aws = take_snapshot(session, MOTO_ACCOUNT)
    (finding,) = run_check(REGISTRY["REL-01"], as_aws, {})
    assert finding.status == "fail", finding.message
    assert "s3.amazonaws.com" in finding.evidence["async_sources"]["service_grants"][0]
    on_moto = take_snapshot(
        session, MOTO_ACCOUNT, fidelity=Fidelity.of(Emulator(MOTO, MOTO_VERSION), {})
    )
    (finding,) = run_check(REGISTRY["REL-01"], on_moto, {})
    assert finding.status == "error" and "DeadLetterConfig" in finding.message
