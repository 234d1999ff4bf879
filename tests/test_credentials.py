"""Every way an account's credentials can be wrong ends in one line naming the account, the
cause and the fix, with pytest's usage exit status: never a traceback (issue 15)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs

import pytest

from conftest import Project
from pytest_prr.accounts.motoserver import MotoServer

#: STS errors as AWS answers them, by the action they answer.
STS_ERROR = """<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>
<RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>"""
ROLE = "arn:aws:iam::111122223333:role/prr-readonly"


class _Sts(BaseHTTPRequestHandler):
    """An STS that refuses every request with the error its class names per action."""

    errors: ClassVar[dict[str, tuple[str, str]]] = {}

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        action = parse_qs(body).get("Action", [""])[0]
        code, message = self.errors.get(action, ("InternalFailure", "unexpected " + action))
        payload = STS_ERROR.format(code=code, message=message).encode()
        self.send_response(403 if code == "AccessDenied" else 400)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def sts() -> Iterator[Any]:
    """``sts(errors) -> url``: a refusing STS on loopback."""
    servers = []

    def serve(errors: dict[str, tuple[str, str]]) -> str:
        handler = type("Sts", (_Sts,), {"errors": errors})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def account(project: Project, how: str) -> None:
    project.pyproject(
        f'[tool.prr.accounts.prod]\naccount_id = "111122223333"\nregions = ["eu-west-1"]\n{how}\n'
    )


def aws_files(project: Project, monkeypatch: pytest.MonkeyPatch, config: str = "") -> None:
    """No credentials anywhere but where the test puts them."""
    (project.path / "aws-config").write_text(config)
    (project.path / "aws-credentials").write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(project.path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(project.path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for variable in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        monkeypatch.delenv(variable, raising=False)


def profile(endpoint: str) -> str:
    return (
        "[profile prod-readonly]\naws_access_key_id = AKIAEXAMPLE\n"
        f"aws_secret_access_key = secret\nendpoint_url = {endpoint}\n"
    )


def missing_profile(project: Project, monkeypatch: pytest.MonkeyPatch, sts: Any) -> str:
    account(project, 'profile = "prod-readonly"')
    aws_files(project, monkeypatch)
    return "AWS profile 'prod-readonly' is not configured on this machine"


def role_without_source(project: Project, monkeypatch: pytest.MonkeyPatch, sts: Any) -> str:
    account(project, f'role_arn = "{ROLE}"')
    aws_files(project, monkeypatch)
    return "needs credentials to assume it with, and the default chain found none"


def expired_token(project: Project, monkeypatch: pytest.MonkeyPatch, sts: Any) -> str:
    url = sts({"GetCallerIdentity": ("ExpiredToken", "The security token included has expired")})
    account(project, 'profile = "prod-readonly"')
    aws_files(project, monkeypatch, profile(url))
    return "the credentials have expired (ExpiredToken)"


def assume_role_denied(project: Project, monkeypatch: pytest.MonkeyPatch, sts: Any) -> str:
    url = sts({"AssumeRole": ("AccessDenied", "User is not authorized to perform sts:AssumeRole")})
    account(project, f'role_arn = "{ROLE}"')
    aws_files(project, monkeypatch)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", url)
    return f"cannot assume {ROLE} (AccessDenied: User is not authorized"


def sso_expired(project: Project, monkeypatch: pytest.MonkeyPatch, sts: Any) -> str:
    account(project, 'profile = "prod-readonly"')
    aws_files(
        project,
        monkeypatch,
        "[profile prod-readonly]\nsso_session = corp\nsso_account_id = 111122223333\n"
        "sso_role_name = ReadOnly\nregion = eu-west-1\n\n[sso-session corp]\n"
        "sso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n",
    )
    monkeypatch.setenv("HOME", str(project.path))  # no SSO token cache
    return "run aws sso login --profile prod-readonly"


def unreachable(project: Project, monkeypatch: pytest.MonkeyPatch, sts: Any) -> str:
    account(project, 'profile = "prod-readonly"')
    aws_files(project, monkeypatch, profile("http://127.0.0.1:9"))
    return "the STS endpoint cannot be reached"


def another_account(project: Project, monkeypatch: pytest.MonkeyPatch, sts: Any) -> str:
    server = MotoServer()
    project.pytester._request.addfinalizer(server.stop)  # type: ignore[attr-defined]
    account(project, 'profile = "prod-readonly"')
    aws_files(project, monkeypatch, profile(server.start()))
    return "is configured as 111122223333, but its credentials belong to account 123456789012"


@pytest.mark.parametrize(
    "mode",
    [
        missing_profile,
        role_without_source,
        expired_token,
        assume_role_denied,
        sso_expired,
        unreachable,
        another_account,
    ],
    ids=lambda mode: mode.__name__,
)
def test_a_credential_failure_is_one_line_and_no_traceback(
    project: Project, monkeypatch: pytest.MonkeyPatch, sts: Any, mode: Any
) -> None:
    expected = mode(project, monkeypatch, sts)
    project.tests("def test_plain(): pass")
    result = project.run("--prr-account=prod")
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, output
    assert "Traceback" not in output and "INTERNALERROR" not in output, output
    errors = [line for line in result.stderr.lines if line.startswith("ERROR: ")]
    assert len(errors) == 1, output
    assert errors[0].startswith("ERROR: prr: account 'prod'"), errors
    assert expected in errors[0], errors[0]


def test_the_default_credential_chain_is_verified_like_any_other(
    project: Project, monkeypatch: pytest.MonkeyPatch, moto_endpoint: str
) -> None:
    """credentials = "default": CI's environment credentials (OIDC), checked by STS like a
    profile's: here they belong to moto's account, not the configured one."""
    project.pyproject(
        '[tool.prr.accounts.ci]\naccount_id = "111122223333"\nregions = ["eu-west-1"]\n'
        'credentials = "default"\n'
    )
    aws_files(project, monkeypatch)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    project.tests("def test_plain(): pass")
    result = project.run("--prr-account=ci")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: prr: account 'ci' is configured as 111122223333, but its credentials belong "
            "to account 123456789012*"
        ]
    )
