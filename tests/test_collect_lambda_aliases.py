"""The Lambda collector reads the function URLs and resource policies of aliases.

Two kinds of endpoint: a fake Lambda answering in a botocore ``before-send`` handler, so each
answer is a real HTTP status, header and body that botocore parses (pages, named errors,
and the bare 404/501 of an emulator lacking an operation); and moto, in process and as a
server, seeded through boto3.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from moto_seed import ACCOUNT, REGION, function, mocked_account
from pytest_prr.accounts.config import Account
from pytest_prr.accounts.guard import install_read_only_guard
from pytest_prr.accounts.motoserver import MotoServer
from pytest_prr.accounts.sessions import EMULATOR_CREDENTIALS, TargetSession, open_session
from pytest_prr.snapshot.collect.lambda_ import collect_lambda
from pytest_prr.snapshot.collect.reader import Reader
from pytest_prr.snapshot.model import errors_in, is_error

ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:app"
OWN_URL = {"FunctionUrl": "https://own.lambda-url.us-east-1.on.aws/", "AuthType": "AWS_IAM"}
LIVE_URL = {"FunctionUrl": "https://live.lambda-url.us-east-1.on.aws/", "AuthType": "NONE"}
LIVE_POLICY = {
    "Version": "2012-10-17",
    "Id": "default",
    "Statement": [
        {
            "Sid": "public-live",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "lambda:InvokeFunction",
            "Resource": f"{ARN}:live",
        }
    ],
}
#: (HTTP status, headers, body) of one answer, or what answers a request by its path (an
#: operation whose parameter is in the path: a function name, a code signing config's ARN).
Reply = tuple[int, dict[str, str], bytes]
Replies = Reply | Callable[[str], Reply]


def ok(document: dict[str, Any]) -> Reply:
    return 200, {"Content-Type": "application/json"}, json.dumps(document).encode()


def aws_error(status: int, code: str) -> Reply:
    """An error as Lambda answers it: the code in ``x-amzn-ErrorType``."""
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": code}
    return status, headers, json.dumps({"Type": "User", "Message": f"{code} (fake)"}).encode()


def url_config(url: dict[str, str], qualifier: str | None = None) -> dict[str, Any]:
    return {
        **url,
        "FunctionArn": ARN if qualifier is None else f"{ARN}:{qualifier}",
        "CreationTime": "2026-01-01T00:00:00.000+0000",
        "LastModifiedTime": "2026-01-01T00:00:00.000+0000",
    }


NOT_FOUND = aws_error(404, "ResourceNotFoundException")
#: How endpoints without ListFunctionUrlConfigs answer it: moto in process (its stub's
#: plain text), moto's server (werkzeug's page), the benchmark simulator (its moto_gap).
NOT_IMPLEMENTED = {
    "moto": (404, {}, b"Not yet implemented"),
    "moto-server": (
        404,
        {"Content-Type": "text/html; charset=utf-8"},
        b"<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n",
    ),
    "simulator": (
        501,
        {"Content-Type": "application/json"},
        b'{"message": "moto does not implement lambda:ListFunctionUrlConfigs"}',
    ),
}


def answers(**overrides: Replies) -> dict[str, Replies]:
    """One function ``app`` with the aliases live and blue; no policy, URL or anything else.
    Keys are operations, with the query string of a request that has one."""
    configuration = {
        "FunctionName": "app",
        "FunctionArn": f"{ARN}:$LATEST",
        "Version": "$LATEST",
        "Runtime": "python3.12",
        "Role": f"arn:aws:iam::{ACCOUNT}:role/fn",
        "Handler": "app.handler",
    }
    aliases = [
        {"AliasArn": f"{ARN}:{name}", "Name": name, "FunctionVersion": "3"}
        for name in ("live", "blue")
    ]
    replies = {
        "ListFunctions?FunctionVersion=ALL": ok({"Functions": [configuration]}),
        "ListEventSourceMappings": ok({"EventSourceMappings": []}),
        "ListCodeSigningConfigs": ok({"CodeSigningConfigs": []}),
        "GetFunction": ok({"Configuration": configuration, "Tags": {}}),
        "GetPolicy": NOT_FOUND,
        "GetPolicy?Qualifier=live": NOT_FOUND,
        "GetPolicy?Qualifier=blue": NOT_FOUND,
        "ListAliases": ok({"Aliases": aliases}),
        "ListFunctionUrlConfigs": ok({"FunctionUrlConfigs": []}),
        "GetFunctionCodeSigningConfig": ok({}),
        "ListFunctionEventInvokeConfigs": ok({"FunctionEventInvokeConfigs": []}),
    }
    return {**replies, **overrides}


class FakeLambda:
    """A session whose Lambda clients are answered by :attr:`replies`, never by a network.

    Retries are off: a 429 or a 500 is a failed read at once, as the tests expect. With
    ``guarded``, the clients are behind the read-only guard a target's session has.
    """

    def __init__(self, replies: dict[str, Replies], *, guarded: bool = False) -> None:
        self.replies = replies
        self.requests: list[str] = []
        self._session = boto3.Session(region_name=REGION, **EMULATOR_CREDENTIALS)
        if guarded:
            install_read_only_guard(self._session)

    def client(self, service: str, region_name: str) -> Any:
        config = Config(retries={"mode": "standard", "total_max_attempts": 1})
        client = self._session.client(service, region_name=region_name, config=config)
        client.meta.events.register("before-send.lambda", self._answer)
        return client

    def _answer(self, request: Any, event_name: str, **_: Any) -> AWSResponse:
        query = "&".join(f"{k}={v}" for k, v in sorted(parse_qsl(urlsplit(request.url).query)))
        key = event_name.rsplit(".", 1)[1] + (f"?{query}" if query else "")
        self.requests.append(key)
        reply = self.replies[key]
        status, headers, body = (
            reply(unquote(urlsplit(request.url).path)) if callable(reply) else reply
        )
        return AWSResponse(request.url, status, headers, _Raw(body))


class _Raw:
    """The urllib3 response botocore reads an answer's body from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, *_: Any, **__: Any) -> Iterator[bytes]:
        yield self._body


def collect_app(replies: dict[str, Replies]) -> tuple[dict[str, Any], dict[str, int], list[str]]:
    """The collected ``app``, the calls the reader counted, the requests the endpoint saw."""
    endpoint = FakeLambda(replies)
    reader = Reader(endpoint)
    section = collect_lambda(reader, REGION)
    return section["functions"][ARN], dict(reader.calls), endpoint.requests


def operation_of(value: Any) -> str:
    assert is_error(value), value
    return value["$error"]["operation"]


def test_the_urls_of_the_function_and_its_aliases_come_from_one_paged_listing() -> None:
    app, calls, _ = collect_app(
        answers(
            ListFunctionUrlConfigs=ok(
                {"FunctionUrlConfigs": [url_config(OWN_URL)], "NextMarker": "page-2"}
            ),
            **{
                "ListFunctionUrlConfigs?Marker=page-2": ok(
                    {"FunctionUrlConfigs": [url_config(LIVE_URL, "live")]}
                )
            },
        )
    )
    assert app["FunctionUrl"] == OWN_URL
    live, blue = app["Aliases"]
    assert (live["Name"], live["FunctionUrl"]) == ("live", LIVE_URL)
    assert (blue["Name"], blue["FunctionUrl"]) == ("blue", None)
    assert calls["lambda:ListFunctionUrlConfigs"] == 2
    assert "lambda:GetFunctionUrlConfig" not in calls
    assert list(errors_in(app)) == []


def test_each_alias_policy_is_read_with_its_qualifier() -> None:
    app, calls, requests = collect_app(
        answers(**{"GetPolicy?Qualifier=live": ok({"Policy": json.dumps(LIVE_POLICY)})})
    )
    live, blue = app["Aliases"]
    assert live["Policy"] == LIVE_POLICY
    assert blue["Policy"] is None and app["Policy"] is None
    assert calls["lambda:GetPolicy"] == 3
    assert {"GetPolicy", "GetPolicy?Qualifier=live", "GetPolicy?Qualifier=blue"} <= set(requests)


def test_an_unreadable_alias_policy_is_marked_on_that_alias_only() -> None:
    denied = aws_error(403, "AccessDeniedException")
    app, _, _ = collect_app(answers(**{"GetPolicy?Qualifier=blue": denied}))
    live, blue = app["Aliases"]
    assert live["Policy"] is None
    assert blue["Policy"]["$error"]["code"] == "AccessDeniedException"
    assert operation_of(blue["Policy"]) == "lambda:GetPolicy"
    assert [path for path, _ in errors_in(app)] == ["Aliases[1].Policy"]


@pytest.mark.parametrize("endpoint", sorted(NOT_IMPLEMENTED))
def test_without_the_listing_the_own_url_is_read_and_the_alias_urls_are_marked(
    endpoint: str,
) -> None:
    app, calls, _ = collect_app(
        answers(
            ListFunctionUrlConfigs=NOT_IMPLEMENTED[endpoint],
            GetFunctionUrlConfig=ok(url_config(LIVE_URL)),
        )
    )
    assert app["FunctionUrl"] == LIVE_URL
    for alias in app["Aliases"]:
        assert operation_of(alias["FunctionUrl"]) == "lambda:ListFunctionUrlConfigs"
    assert calls["lambda:GetFunctionUrlConfig"] == 1


@pytest.mark.parametrize("endpoint", sorted(NOT_IMPLEMENTED))
def test_without_the_listing_a_function_without_aliases_has_nothing_missing(
    endpoint: str,
) -> None:
    app, calls, _ = collect_app(
        answers(
            ListAliases=ok({"Aliases": []}),
            ListFunctionUrlConfigs=NOT_IMPLEMENTED[endpoint],
            GetFunctionUrlConfig=NOT_FOUND,
        )
    )
    assert app["FunctionUrl"] is None and app["Aliases"] == []
    assert list(errors_in(app)) == []
    assert calls["lambda:ListFunctionUrlConfigs"] == calls["lambda:GetFunctionUrlConfig"] == 1


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (403, "AccessDeniedException"),
        (429, "TooManyRequestsException"),
        (500, "ServiceException"),
        # A named 404: the function is gone, not the operation.
        (404, "ResourceNotFoundException"),
    ],
)
def test_any_other_listing_failure_marks_every_url_with_no_fallback(status: int, code: str) -> None:
    app, calls, _ = collect_app(answers(ListFunctionUrlConfigs=aws_error(status, code)))
    for value in (app["FunctionUrl"], *(alias["FunctionUrl"] for alias in app["Aliases"])):
        assert operation_of(value) == "lambda:ListFunctionUrlConfigs"
        assert value["$error"]["code"] == code
    assert "lambda:GetFunctionUrlConfig" not in calls


def test_unlisted_aliases_leave_their_urls_and_policies_unread() -> None:
    app, calls, _ = collect_app(answers(ListAliases=aws_error(403, "AccessDeniedException")))
    assert operation_of(app["Aliases"]) == "lambda:ListAliases"
    assert app["FunctionUrl"] is None
    assert calls["lambda:GetPolicy"] == calls["lambda:ListFunctionUrlConfigs"] == 1


# --- moto ------------------------------------------------------------------------------


def seed(session: boto3.Session) -> None:
    """``app``: its own open URL, alias live with a public permission of its own; ``plain``:
    an IAM-authenticated URL and no alias."""
    lam = session.client("lambda", region_name=REGION)
    function(session, "app")
    function(session, "plain")
    version = lam.publish_version(FunctionName="app")["Version"]
    lam.create_alias(FunctionName="app", Name="live", FunctionVersion=version)
    lam.add_permission(
        FunctionName="app",
        Qualifier="live",
        StatementId="public-live",
        Action="lambda:InvokeFunction",
        Principal="*",
    )
    lam.create_function_url_config(FunctionName="app", AuthType="NONE")
    lam.create_function_url_config(FunctionName="plain", AuthType="AWS_IAM")


@pytest.fixture
def in_process() -> Iterator[boto3.Session]:
    with mocked_account() as session:
        seed(session)
        yield session


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    server = MotoServer()
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def through_server(moto_server: str) -> boto3.Session:
    """The server seeded through a writable session, read through the read-only one the
    plugin opens for an endpoint: the guard lets the new reads through."""
    writer = TargetSession(endpoint_url=moto_server, region_name=REGION, **EMULATOR_CREDENTIALS)
    writer.client("iam").create_role(
        RoleName="fn", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
    )
    seed(writer)
    account = Account("server", ACCOUNT, (REGION,), "endpoint", endpoint_url=moto_server)
    return open_session(account)


@pytest.mark.parametrize("target", ["in_process", "through_server"])
def test_moto_alias_permissions_round_trip_and_alias_urls_are_marked(
    target: str, request: pytest.FixtureRequest
) -> None:
    session: boto3.Session = request.getfixturevalue(target)
    reader = Reader(session)
    functions = collect_lambda(reader, REGION)["functions"]
    app, plain = functions[ARN], functions[ARN.replace(":app", ":plain")]
    [live] = app["Aliases"]
    # moto keeps the permission added with Qualifier=live and answers it for the alias.
    # (moto also shows it on the function: its versions share one policy object, so moto
    # cannot hold a permission on the alias alone; the snapshot tests cover that case.)
    assert [s["Sid"] for s in live["Policy"]["Statement"]] == ["public-live"]
    # moto lacks ListFunctionUrlConfigs: the own URL comes from GetFunctionUrlConfig...
    assert app["FunctionUrl"]["AuthType"] == "NONE"
    assert plain["FunctionUrl"]["AuthType"] == "AWS_IAM"
    # ...and the alias's URL is marked unread, never copied from the function's.
    assert live["FunctionUrl"]["$error"]["code"] == "404"
    assert operation_of(live["FunctionUrl"]) == "lambda:ListFunctionUrlConfigs"
    assert list(errors_in(plain)) == []
    assert reader.calls["lambda:ListFunctionUrlConfigs"] == 2
    assert reader.calls["lambda:GetFunctionUrlConfig"] == 2
