"""An AWS Organization on one moto server, and a proxy in front of it that refuses what AWS
would refuse a misconfigured member.

moto keys its state by the account of the caller's credentials, and the credentials
``sts:AssumeRole`` returns belong to the role's account, so one server holds the management
account and every member. moto does not check that a role exists or trusts the caller, so
the refusals a real organization shows (a member whose read-only role is missing, one whose
role may not read Lambda) are made by :class:`RefusingProxy`, answering as AWS answers.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3

from moto_seed import TRUST, lambda_zip

MANAGEMENT = "123456789012"
READER_ROLE = "pytest-prr-reader"
REGION = "us-east-1"
_KEY_IN_RESPONSE = re.compile(rb"<AccessKeyId>([^<]+)</AccessKeyId>")
_KEY_IN_REQUEST = re.compile(r"Credential=([^/]+)/\d{8}/[^/]+/(?P<service>[^/]+)/aws4_request")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}
_ASSUME_ROLE_DENIED = """<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>Sender</Type>
    <Code>AccessDenied</Code>
    <Message>User: arn:aws:sts::{caller}:assumed-role/management/pytest-prr is not authorized \
to perform: sts:AssumeRole on resource: {role}</Message>
  </Error>
  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
</ErrorResponse>"""


@dataclass
class RefusingProxy:
    """An HTTP proxy to ``upstream`` that refuses ``sts:AssumeRole`` of the roles in
    ``refuse_roles`` (403 AccessDenied, as STS answers a role whose trust policy does not
    name the caller), and every call but STS's made with the credentials of a role in
    ``deny_reads`` (as AWS answers a role without the permissions); the rest it forwards."""

    upstream: str
    refuse_roles: set[str] = field(default_factory=set)
    deny_reads: set[str] = field(default_factory=set)
    refused: list[str] = field(default_factory=list)
    _denied_keys: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def serving(self) -> Iterator[str]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, answer = proxy.answer(self.command, self.path, self.headers, body)
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()

    def answer(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        form = urllib.parse.parse_qs(body.decode("latin-1")) if body else {}
        role = form.get("RoleArn", [""])[0] if form.get("Action") == ["AssumeRole"] else ""
        if role in self.refuse_roles:
            with self._lock:
                self.refused.append(role)
            text = _ASSUME_ROLE_DENIED.format(caller=MANAGEMENT, role=role).encode()
            return 403, [("Content-Type", "text/xml")], text
        signed = _KEY_IN_REQUEST.search(headers.get("Authorization", ""))
        if signed and signed.group(1) in self._denied_keys and signed["service"] != "sts":
            return _access_denied(headers)
        status, answered, text = self._forward(method, path, headers, body)
        if role in self.deny_reads and status == 200:
            key = _KEY_IN_RESPONSE.search(text)
            if key:
                with self._lock:
                    self._denied_keys.add(key.group(1).decode())
        return status, answered, text

    def _forward(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        target = urllib.parse.urlsplit(self.upstream)
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        try:
            forwarded = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
            connection.request(method, path, body=body or None, headers=forwarded)
            response = connection.getresponse()
            text = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
            return response.status, kept, text
        finally:
            connection.close()


def _access_denied(headers: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """AWS's refusal in the protocol of the request: XML for the query protocol, JSON with
    the error type in a header for the JSON ones (Lambda, SQS, ...)."""
    message = "User is not authorized to perform this action"
    if "x-www-form-urlencoded" in headers.get("Content-Type", ""):
        text = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
            f"<Message>{message}</Message></Error><RequestId>1</RequestId></ErrorResponse>"
        )
        return 403, [("Content-Type", "text/xml")], text.encode()
    body = json.dumps({"__type": "AccessDeniedException", "Message": message}).encode()
    return (
        403,
        [("Content-Type", "application/json"), ("x-amzn-ErrorType", "AccessDeniedException")],
        body,
    )


@dataclass(frozen=True)
class MemberSpec:
    """A member account to create: its name, the unit path it sits in (names from the
    root), its tags, and the functions to deploy into it."""

    name: str
    ou_path: tuple[str, ...]
    functions: int = 2
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BuiltOrganization:
    organization_id: str
    #: The root's ID and each unit's, by its path of names.
    units: Mapping[tuple[str, ...], str]
    #: Each member's account ID, by name.
    accounts: Mapping[str, str]

    def role_of(self, name: str) -> str:
        return f"arn:aws:iam::{self.accounts[name]}:role/{READER_ROLE}"


def build_organization(endpoint: str, members: Sequence[MemberSpec]) -> BuiltOrganization:
    """The organization, its units and members, through the calls a platform team makes;
    each member seeded with its functions through a role assumed in it."""
    management = _session(endpoint)
    org = management.client("organizations")
    organization_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root = org.list_roots()["Roots"][0]["Id"]
    units: dict[tuple[str, ...], str] = {(): root}
    accounts: dict[str, str] = {}
    for spec in members:
        for depth in range(1, len(spec.ou_path) + 1):
            path = spec.ou_path[:depth]
            if path not in units:
                units[path] = org.create_organizational_unit(
                    ParentId=units[path[:-1]], Name=path[-1]
                )["OrganizationalUnit"]["Id"]
        created = org.create_account(
            AccountName=spec.name,
            Email=f"{spec.name}@example.com",
            Tags=[{"Key": key, "Value": value} for key, value in spec.tags.items()],
        )["CreateAccountStatus"]
        accounts[spec.name] = created["AccountId"]
        if spec.ou_path:
            org.move_account(
                AccountId=created["AccountId"],
                SourceParentId=root,
                DestinationParentId=units[spec.ou_path],
            )
        _seed_member(endpoint, management, created["AccountId"], spec.functions)
    return BuiltOrganization(organization_id, units, accounts)


def _seed_member(endpoint: str, management: Any, account_id: str, count: int) -> None:
    credentials = management.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
        RoleSessionName="seed",
    )["Credentials"]
    member = _session(
        endpoint,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    assert member.client("sts").get_caller_identity()["Account"] == account_id
    role = member.client("iam").create_role(
        RoleName="fn", AssumeRolePolicyDocument=json.dumps(TRUST)
    )["Role"]["Arn"]
    for index in range(count):
        member.client("lambda").create_function(
            FunctionName=f"fn-{index}",
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": lambda_zip()},
            Tags={"Owner": "team"},
        )


def _session(endpoint: str, **credentials: str) -> Any:
    """A session whose clients all reach ``endpoint``."""
    credentials = credentials or {"aws_access_key_id": "testing", "aws_secret_access_key": "x"}
    session = boto3.Session(region_name=REGION, **credentials)
    return _EndpointSession(session, endpoint)


class _EndpointSession:
    def __init__(self, session: boto3.Session, endpoint: str) -> None:
        self._session = session
        self._endpoint = endpoint

    def client(self, service: str) -> Any:
        return self._session.client(service, endpoint_url=self._endpoint)
