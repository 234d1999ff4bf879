"""moto's server in a child process: the mocked account of a ``--prr-account=moto`` run.

A child process rather than a thread, because moto keeps its accounts in process-wide
memory that ``mock_aws`` resets whenever it starts: a user's unit test using ``mock_aws``
in the same pytest run would otherwise wipe the seeded account. The child listens on a free
loopback port, prints it, and exits when its parent closes its standard input (or dies).

moto accepts some Lambda fields and drops them (``DeadLetterConfig``, ``LoggingConfig``: see
``catalog/emulators.yaml``). Since pytest-prr owns this server, it records those fields from
the write requests the server answers (:class:`DroppedFieldRecorder`), and the snapshot
takes them from :data:`RECORDED_PATH` with their provenance, so the controls resting on them
are decided on moto as they would be on AWS.

moto's KMS ``Sign`` hashes a ``MessageType=DIGEST`` message again (moto 5.2.5; getmoto/moto
#10202 is open), so its signature is over the digest's digest and verifies nowhere else;
KMS signs the digest as given. pytest-prr signs evidence manifests that way
(``--prr-sign-kms``), so this server signs digests as KMS does (:func:`_sign_digests`).
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import re
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import unquote

from pytest_prr.accounts.emulators import FUNCTION_RESOURCE, embedded_moto, profile_for

START_TIMEOUT_S = 60
#: Like a real account, the mocked one has the AWS-managed policies (AdministratorAccess,
#: AWSLambdaBasicExecutionRole, ...) that execution roles attach.
SERVER_ENVIRONMENT = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
#: Where the server answers with what :class:`DroppedFieldRecorder` recorded.
RECORDED_PATH = "/_prr/recorded"
#: Where pytest-prr's deployer declares a template it deployed (``pytest_prr.deploy``).
DEPLOYMENTS_PATH = "/_prr/deployments"
#: The header of a Lambda write request naming the template that declared its configuration.
DECLARED_BY_ENVIRON = "HTTP_X_PRR_DECLARED_BY"
#: The stack a deployer's CreateFunction stands for (see pytest_prr.deploy.lambda_resources).
STACK_ID_ENVIRON = "HTTP_X_PRR_STACK_ID"
LOGICAL_ID_ENVIRON = "HTTP_X_PRR_LOGICAL_ID"
#: Lambda's write requests that carry function configuration: (method, path, request name).
_LAMBDA_WRITES = (
    ("POST", re.compile(r"^/[\d-]+/functions/?$"), "CreateFunction"),
    (
        "PUT",
        re.compile(r"^/[\d-]+/functions/(?P<name>[^/]+)/configuration/?$"),
        "UpdateFunctionConfiguration",
    ),
    ("DELETE", re.compile(r"^/[\d-]+/functions/(?P<name>[^/]+)/?$"), "DeleteFunction"),
)
#: The credential scope of a SigV4 request: .../DATE/REGION/SERVICE/aws4_request.
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request")


class MotoServer:
    """A fresh mocked account for one pytest run, reachable at :attr:`endpoint_url`.

    ``managed_policies=False`` leaves out AWS's managed policies: moto loads its ~1,000 of
    them into every account the first time IAM is asked there (about 2 s), which a server
    holding a whole organization of accounts pays once per member.
    """

    def __init__(self, *, managed_policies: bool = True) -> None:
        self._process: subprocess.Popen[str] | None = None
        self.endpoint_url: str | None = None
        self._environment = {
            **SERVER_ENVIRONMENT,
            "MOTO_IAM_LOAD_MANAGED_POLICIES": str(managed_policies).lower(),
        }

    def start(self) -> str:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "pytest_prr.accounts.motoserver"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, **self._environment},
        )
        assert self._process.stdout is not None
        timer = threading.Timer(START_TIMEOUT_S, self._process.kill)
        timer.start()
        try:
            line = self._process.stdout.readline().strip()
        finally:
            timer.cancel()
        if not line.isdigit():
            self.stop()
            raise RuntimeError(
                "the moto server did not start (see its error output above); "
                "is moto installed with its server extra (pip install 'moto[server]')?"
            )
        self.endpoint_url = f"http://127.0.0.1:{line}"
        return self.endpoint_url

    def stop(self) -> None:
        if self._process is None:
            return
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._process = None


def recorded(endpoint_url: str, timeout: float = 10.0) -> dict[str, Any]:
    """What the server at ``endpoint_url`` recorded: function ARN → the requests that set
    its configuration, the dropped fields they carried and the template that declared them."""
    return _recorded(endpoint_url, timeout)["functions"]


def deployments(endpoint_url: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The templates pytest-prr's deployer declared to the server, in deployment order."""
    return _recorded(endpoint_url, timeout)["deployments"]


def _recorded(endpoint_url: str, timeout: float) -> dict[str, Any]:
    with urllib.request.urlopen(endpoint_url + RECORDED_PATH, timeout=timeout) as response:
        return json.loads(response.read())


class DroppedFieldRecorder:
    """WSGI middleware that keeps, per function, the fields of Lambda's write requests that
    moto accepts and drops, as AWS would have stored them.

    Only answered requests count (a 2xx status): a refused CreateFunction stored nothing. A
    function deleted is forgotten. The function is identified by the ARN in moto's answer,
    which names its account and region, so the record is keyed as the snapshot keys it.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], fields: Iterable[str]) -> None:
        self.app = app
        self.fields = tuple(fields)
        self.functions: dict[str, dict[str, Any]] = {}
        self.deployments: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") == RECORDED_PATH:
            with self._lock:
                recorded = {
                    "fields": self.fields,
                    "functions": self.functions,
                    "deployments": self.deployments,
                }
                body = json.dumps(recorded).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        if environ.get("PATH_INFO") == DEPLOYMENTS_PATH and environ["REQUEST_METHOD"] == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            with self._lock:
                self.deployments.append(json.loads(environ["wsgi.input"].read(length)))
            start_response("204 No Content", [])
            return [b""]
        write = self._lambda_write(environ)
        if write is None or not self.fields:
            return self.app(environ, start_response)
        request_name, name = write
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # read again by moto
        answered: dict[str, int] = {}

        def capture(status: str, headers: Any, *args: Any) -> Any:
            answered["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, *args)

        response = b"".join(self.app(environ, capture))
        if 200 <= answered.get("status", 500) < 300:
            self._record(request_name, name, environ, body, response)
        return [response]

    def _lambda_write(self, environ: Mapping[str, Any]) -> tuple[str, str | None] | None:
        scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if scope is None or scope["service"] != "lambda":
            return None
        for method, path, request_name in _LAMBDA_WRITES:
            match = path.match(environ.get("PATH_INFO", ""))
            if environ.get("REQUEST_METHOD") == method and match:
                if request_name == "DeleteFunction" and "Qualifier=" in environ.get(
                    "QUERY_STRING", ""
                ):
                    return None  # deleting one version leaves the function
                return request_name, match.groupdict().get("name")
        return None

    def _record(
        self,
        request_name: str,
        name: str | None,
        environ: Mapping[str, Any],
        body: bytes,
        response: bytes,
    ) -> None:
        if request_name == "DeleteFunction":
            with self._lock:
                for arn in [a for a in self.functions if _named(a, unquote(name or ""))]:
                    del self.functions[arn]
            return
        try:
            arn = _unqualified(json.loads(response)["FunctionArn"])
            sent = json.loads(body or b"{}")
        except (ValueError, KeyError, TypeError):
            return
        with self._lock:
            entry = self.functions.setdefault(arn, {"requests": [], "fields": {}})
            if request_name == "CreateFunction":
                entry.update(requests=[], fields={})
                entry.pop("declared_by", None)
                entry.pop("stack", None)
            if DECLARED_BY_ENVIRON in environ:
                entry["declared_by"] = environ[DECLARED_BY_ENVIRON]
            if environ.get(STACK_ID_ENVIRON) and environ.get(LOGICAL_ID_ENVIRON):
                entry["stack"] = {
                    "stack_id": environ[STACK_ID_ENVIRON],
                    "logical_id": environ[LOGICAL_ID_ENVIRON],
                }
            if request_name not in entry["requests"]:
                entry["requests"].append(request_name)
            for field in self.fields:
                if field in sent:
                    _store(entry["fields"], field, sent[field])


def _store(fields: dict[str, Any], field: str, value: Any) -> None:
    """Set ``field`` as Lambda stores it: a DeadLetterConfig without a target removes it; a
    LoggingConfig update changes only the settings it names."""
    if field == "DeadLetterConfig" and not (value or {}).get("TargetArn"):
        fields.pop(field, None)
    elif field == "LoggingConfig" and isinstance(fields.get(field), dict):
        fields[field] = {**fields[field], **(value or {})}
    else:
        fields[field] = value


def _unqualified(arn: str) -> str:
    return ":".join(arn.split(":")[:7])


def _named(arn: str, name: str) -> bool:
    """Whether a function's ARN is the one a request names (by name or by ARN)."""
    return name in (arn, arn.rsplit(":", 1)[-1]) or _unqualified(name) == arn


#: The signing algorithms :func:`_sign_digests` signs a digest with: those pytest-prr uses.
_DIGEST_ALGORITHMS = ("ECDSA_SHA_256", "RSASSA_PKCS1_V1_5_SHA_256")


def _sign_digests() -> None:
    """Make moto's KMS ``Sign`` sign a ``MessageType=DIGEST`` message of the algorithms
    pytest-prr uses as KMS does, the digest as given; other requests are moto's own."""

    # cryptography loads only where a signature is made or checked
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
    from moto.kms.exceptions import ValidationException
    from moto.kms.responses import KmsResponse

    moto_sign = KmsResponse.sign

    def sign(self: KmsResponse) -> str:
        algorithm = self._get_param("SigningAlgorithm")
        if self._get_param("MessageType") != "DIGEST" or algorithm not in _DIGEST_ALGORITHMS:
            return moto_sign(self)
        digest = self._get_param("Message")
        if len(digest) != 32:
            raise ValidationException(f"Digest is invalid length for algorithm {algorithm}.")
        key_id = self._get_param("KeyId")
        self._validate_key_id(key_id)  # moto's checks of the key and the algorithm
        self.kms_backend.sign(key_id, digest, algorithm)
        key = self.kms_backend.describe_key(key_id)
        prehashed = utils.Prehashed(hashes.SHA256())
        private_key = key.private_key.private_key  # the cryptography key of moto's key
        if algorithm == "ECDSA_SHA_256":
            signature = private_key.sign(digest, ec.ECDSA(prehashed))
        else:
            signature = private_key.sign(digest, padding.PKCS1v15(), prehashed)
        return json.dumps(
            {
                "KeyId": key.arn,
                "Signature": base64.b64encode(signature).decode(),
                "SigningAlgorithm": algorithm,
            }
        )

    KmsResponse.sign = sign  # type: ignore[method-assign]


def _exit_with_parent() -> None:
    sys.stdin.read()
    os._exit(0)


def main() -> None:
    # moto and its server load in seconds: only a run on the embedded emulator pays
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    # werkzeug logs every request, and a traceback for each operation moto does not
    # implement; the snapshot records those as errors, so the log is only noise here.
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)

    _sign_digests()
    profile = profile_for(embedded_moto())
    dropped = profile.dropped_fields(FUNCTION_RESOURCE) if profile is not None else ()
    app = DroppedFieldRecorder(DomainDispatcherApplication(create_backend_app), dropped)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    print(server.port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
