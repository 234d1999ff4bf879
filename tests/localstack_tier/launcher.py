"""LocalStack (localstack-core in host mode, no Docker) as a child process of the test run.

localstack-core needs Python 3.13+ and a dependency set of its own, so it runs from its own
venv (.venv-localstack, made by ``make test-localstack``), whose interpreter the environment
variable ``PRR_LOCALSTACK_PYTHON`` names; the tests run from the project's .venv and talk to
LocalStack over HTTP, as pytest-prr talks to any endpoint.

Each :class:`LocalStack` is a fresh server: a free loopback port, and a working directory of
its own for every file LocalStack writes (its filesystem root, caches, certificate, log), so
runs share nothing and leave nothing outside it. It is ready when ``/_localstack/health``
lists every needed service as available; it is killed with every process it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn

PYTHON_VARIABLE = "PRR_LOCALSTACK_PYTHON"
HOW_TO_RUN = (
    "run the LocalStack tier with `make test-localstack`: it makes .venv-localstack from a "
    f"Python 3.13+ and sets {PYTHON_VARIABLE} to its interpreter"
)
REGION = "us-east-1"
#: LocalStack's default account. (It takes a twelve-digit access key ID for the account ID;
#: the tier's clients use "test", which is not one.)
ACCOUNT = "000000000000"
#: Holds ``prr_localstack`` (the child's entry point and its Lambda executor).
RUNTIME_DIR = Path(__file__).resolve().parent / "runtime"
#: What pytest-prr's snapshot reads that LocalStack community serves, by their names in
#: ``/_localstack/health``. (apigatewayv2, cloudtrail, securityhub, guardduty, organizations,
#: codedeploy and signer are not in community: they answer 501, or 404 for signer.)
SERVICES = (
    "lambda",
    "iam",
    "sts",
    "sqs",
    "sns",
    "events",
    "scheduler",
    "s3",
    "logs",
    "cloudwatch",
    "kms",
    "secretsmanager",
    "ec2",
    "apigateway",
    "config",
)
#: LocalStack loads services on first use: "available" is as ready as "running".
READY = frozenset({"available", "running"})
#: Fixed settings of every run.
SETTINGS = {
    # This sandbox looks like a container to LocalStack (it then writes to /var/lib/localstack
    # and /tmp/localstack); host mode keeps every file under FILESYSTEM_ROOT.
    "OVERRIDE_IN_DOCKER": "0",
    "DISABLE_EVENTS": "1",  # no analytics events: there is no network to send them to
    "SKIP_SSL_CERT_DOWNLOAD": "1",  # the certificate is made here (CUSTOM_SSL_CERT_PATH)
    "DNS_ADDRESS": "0",  # no DNS server, which would bind port 53
    # The default server (Twisted) ignores GATEWAY_LISTEN's host and listens on 0.0.0.0
    # ("TODO: interface = host?" in localstack/runtime/server/twisted.py); Hypercorn binds
    # the loopback address it is given.
    "GATEWAY_SERVER": "hypercorn",
    "LAMBDA_RUNTIME_EXECUTOR": "prr-no-invoke",  # see runtime/prr_localstack.py
}
START_TIMEOUT_S = 120.0
POLL_INTERVAL_S = 0.1
LOG_TAIL_LINES = 40


class LocalStackError(RuntimeError):
    """LocalStack could not be started (or is not set up); the message says why."""


def python_from_environment() -> str:
    """The Python of .venv-localstack, or an error saying how to run the tier: never a skip,
    so that a CI that forgot the variable fails instead of passing on no tests."""
    python = os.environ.get(PYTHON_VARIABLE)
    if not python:
        raise LocalStackError(f"{PYTHON_VARIABLE} is not set; {HOW_TO_RUN}")
    if not os.access(python, os.X_OK):
        raise LocalStackError(f"{PYTHON_VARIABLE}={python} is not an executable; {HOW_TO_RUN}")
    return python


class LocalStack:
    """One LocalStack server, reachable at :attr:`endpoint_url` between start and stop."""

    def __init__(self, python: str, workdir: Path, *, services: Iterable[str] = SERVICES) -> None:
        self.python = python
        self.workdir = workdir
        self.services = tuple(services)
        self.endpoint_url: str | None = None
        #: From launch to healthy, in seconds.
        self.start_seconds: float | None = None
        self.log_path = workdir / "localstack.log"
        self._process: subprocess.Popen[bytes] | None = None
        # The health check must reach loopback directly, whatever proxy the environment sets.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> str:
        """Launch LocalStack and wait until it is healthy; its endpoint URL."""
        if self._process is not None:
            raise LocalStackError("this LocalStack is already running")
        self.workdir.mkdir(parents=True, exist_ok=True)
        port = _free_port()
        environment = self._environment(port)
        launched = time.monotonic()
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [self.python, "-m", "prr_localstack"],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                env=environment,
                start_new_session=True,  # its own process group, killed whole by stop()
            )
        self.endpoint_url = f"http://127.0.0.1:{port}"
        try:
            self._wait_until_healthy(port, launched + START_TIMEOUT_S)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - launched
        return self.endpoint_url

    def stop(self) -> None:
        """Kill LocalStack and every process it started: its files are thrown away, so a
        graceful shutdown (some 5 s once Lambda has run) buys nothing. Not the process group
        alone: LocalStack starts some servers (kinesis-mock's node) in sessions of their own."""
        process, self._process = self._process, None
        if process is None:
            return
        # Frozen first, so that nothing new is started while its tree is read.
        # ProcessLookupError: none of the group is left (LocalStack died and was reaped
        # while start() waited for it).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGSTOP)
        for pid in _descendants(process.pid):
            with contextlib.suppress(ProcessLookupError):  # exited meanwhile
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        assert process.stdin is not None
        process.stdin.close()

    def health(self) -> dict[str, Any]:
        return self._get("/_localstack/health")

    def info(self) -> dict[str, Any]:
        """Version and edition, as LocalStack reports them."""
        return self._get("/_localstack/info")

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def _environment(self, port: int) -> dict[str, str]:
        """The parent's environment (PATH, proxies and CA bundles for the npm packages that
        some services install on first use, DEBUG=1 when one wants it) without what would
        point the child at another Python or at real AWS credentials, plus this run's
        settings."""
        inherited = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("AWS_")
            and name not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
        }
        return {
            **inherited,
            **SETTINGS,
            "GATEWAY_LISTEN": f"127.0.0.1:{port}",
            "FILESYSTEM_ROOT": str(self.workdir / "filesystem"),
            "CUSTOM_SSL_CERT_PATH": str(_certificate(self.workdir)),
            # plux (LocalStack's plugin loader) caches its entry-point index here, not in ~.
            "XDG_CACHE_HOME": str(self.workdir / "cache"),
            "PYTHONPATH": str(RUNTIME_DIR),
            "PYTHONUNBUFFERED": "1",  # a log read after a failure is complete
        }

    def _wait_until_healthy(self, port: int, deadline: float) -> None:
        assert self._process is not None
        last = "no answer yet"
        while time.monotonic() < deadline:
            status = self._process.poll()
            if status is not None:
                self._fail(f"LocalStack exited with status {status} before it was healthy")
            listener = _listener(port)
            if listener is not None and listener not in _sockets(self._process.pid):
                # LocalStack does not exit when its port is taken (Hypercorn fails silently):
                # whoever took the port since it was found free must not be taken for it.
                if "Ready." in self.log_tail():
                    self._fail(f"port {port} is held by another process, not by LocalStack")
                last = f"port {port} is held by another process"
            elif listener is not None:
                try:
                    health = self.health()
                except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
                    last = f"{type(error).__name__}: {error}"
                else:
                    waiting = self._not_ready(health)
                    if not waiting:
                        return
                    last = f"services not ready: {waiting}"
            time.sleep(POLL_INTERVAL_S)
        self._fail(f"LocalStack was not healthy after {START_TIMEOUT_S:.0f} s ({last})")

    def _not_ready(self, health: dict[str, Any]) -> dict[str, str]:
        """The needed services not yet available, by state; fails at once on one that this
        LocalStack does not have at all."""
        services = health.get("services", {})
        absent = [name for name in self.services if name not in services]
        if absent:
            self._fail(
                f"LocalStack {health.get('version')} (edition {health.get('edition')}) "
                f"does not provide {', '.join(absent)}"
            )
        return {name: services[name] for name in self.services if services[name] not in READY}

    def _fail(self, reason: str) -> NoReturn:
        raise LocalStackError(
            f"{reason}; {self.python} -m prr_localstack, log {self.log_path}, "
            f"last {LOG_TAIL_LINES} lines:\n{self.log_tail()}"
        )

    def _get(self, path: str) -> dict[str, Any]:
        if self.endpoint_url is None:
            raise LocalStackError("LocalStack has not been started")
        with self._opener.open(self.endpoint_url + path, timeout=5) as response:
            return json.loads(response.read())


def _free_port() -> int:
    """A loopback port free now. LocalStack binds it a moment later; should another process
    take it in between, start() sees that the listener is not LocalStack's and says so."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listener(port: int) -> str | None:
    """The inode of the socket listening on loopback (or any address) at ``port``, if any."""
    wanted = {f"0100007F:{port:04X}", f"00000000:{port:04X}"}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] in wanted and fields[3] == "0A":  # 0A: LISTEN
            return fields[9]
    return None


def _sockets(pid: int) -> set[str]:
    """The inodes of the sockets that process ``pid`` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):  # closed while the folder was read
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    return inodes


def _descendants(pid: int) -> list[int]:
    """Every living process below ``pid``, by the parent IDs in /proc (Linux, as LocalStack's
    host mode here is)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (command) state ppid ...": the command may hold spaces and parentheses.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process exited while /proc was read
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, pending = [], [pid]
    while pending:
        below = children.get(pending.pop(), [])
        found.extend(below)
        pending.extend(below)
    return found


def _certificate(directory: Path) -> Path:
    """A self-signed certificate for the gateway's TLS (served on the same port), made with
    openssl. LocalStack would download one (SKIP_SSL_CERT_DOWNLOAD stops that) or make its own,
    which fails with the pyOpenSSL it installs ("'X509' object has no attribute
    'add_extensions'": LocalStack exits at start). One PEM file holding the key and the
    certificate, the form CUSTOM_SSL_CERT_PATH takes."""
    key, certificate, bundle = (directory / name for name in ("key.pem", "cert.pem", "server.pem"))
    command = [
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-keyout", str(key), "-out", str(certificate),
    ]  # fmt: skip
    made = subprocess.run(command, capture_output=True, text=True, check=False)
    if made.returncode != 0:
        raise LocalStackError(f"openssl could not make the gateway's certificate:\n{made.stderr}")
    bundle.write_text(key.read_text() + certificate.read_text())
    return bundle
