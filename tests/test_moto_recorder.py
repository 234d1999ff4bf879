"""pytest-prr's moto server records what moto drops from Lambda's write requests."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from pytest_prr.accounts.motoserver import DroppedFieldRecorder, recorded

REGION = "eu-west-1"
DLQ = f"arn:aws:sqs:{REGION}:123456789012:dlq"


def client(endpoint: str, service: str) -> Any:
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    return session.client(service, endpoint_url=endpoint)


def package() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("app.py", "def handler(event, context):\n    return event\n")
    return archive.getvalue()


def create(lam: Any, name: str, role: str, **fields: Any) -> str:
    return lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": package()},
        **fields,
    )["FunctionArn"]


@pytest.fixture
def lam(moto_endpoint: str) -> Any:
    return client(moto_endpoint, "lambda")


@pytest.fixture
def role(moto_endpoint: str) -> str:
    trust = {"Version": "2012-10-17", "Statement": []}
    iam = client(moto_endpoint, "iam")
    return iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def test_create_update_and_delete_are_recorded_as_lambda_stores_them(
    moto_endpoint: str, lam: Any, role: str
) -> None:
    arn = create(
        lam,
        "orders",
        role,
        DeadLetterConfig={"TargetArn": DLQ},
        LoggingConfig={"LogFormat": "JSON"},
    )
    plain = create(lam, "plain", role)
    lam.update_function_configuration(FunctionName="orders", LoggingConfig={"LogGroup": "/o"})
    lam.update_function_configuration(FunctionName=plain, DeadLetterConfig={"TargetArn": ""})
    functions = recorded(moto_endpoint)
    assert functions[arn] == {
        "requests": ["CreateFunction", "UpdateFunctionConfiguration"],
        "fields": {
            "DeadLetterConfig": {"TargetArn": DLQ},
            "LoggingConfig": {"LogFormat": "JSON", "LogGroup": "/o"},
        },
    }
    assert functions[plain]["fields"] == {}
    lam.delete_function(FunctionName="orders")
    assert list(recorded(moto_endpoint)) == [plain]
    # moto still answers the request the recorder read first.
    assert lam.get_function(FunctionName="plain")["Configuration"]["FunctionArn"] == plain


def test_a_refused_request_is_not_recorded(moto_endpoint: str, lam: Any, role: str) -> None:
    create(lam, "orders", role)
    with pytest.raises(ClientError):
        create(lam, "orders", role, DeadLetterConfig={"TargetArn": DLQ})  # already exists
    [entry] = recorded(moto_endpoint).values()
    assert entry["fields"] == {}


def test_other_services_pass_through_unrecorded(moto_endpoint: str) -> None:
    sqs = client(moto_endpoint, "sqs")
    assert sqs.create_queue(QueueName="q")["QueueUrl"].endswith("/q")
    assert recorded(moto_endpoint) == {}


def test_a_recorder_with_nothing_to_record_is_transparent() -> None:
    """A moto version that drops nothing leaves every request to moto untouched."""
    calls = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        calls.append(environ["wsgi.input"])
        start_response("200 OK", [])
        return [b"{}"]

    recorder = DroppedFieldRecorder(app, ())
    body = io.BytesIO(b"{}")
    environ = {
        "PATH_INFO": "/2015-03-31/functions",
        "REQUEST_METHOD": "POST",
        "HTTP_AUTHORIZATION": (
            "AWS4-HMAC-SHA256 Credential=x/20260101/eu-west-1/lambda/aws4_request"
        ),
        "CONTENT_LENGTH": "2",
        "wsgi.input": body,
    }
    assert recorder(environ, lambda *_: None) == [b"{}"]
    assert calls == [body] and recorder.functions == {}
