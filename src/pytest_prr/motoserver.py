"""moto's server in a child process: the mocked account of a ``--prr-account=moto`` run.

A child process rather than a thread, because moto keeps its accounts in process-wide
memory that ``mock_aws`` resets whenever it starts: a user's unit test using ``mock_aws``
in the same pytest run would otherwise wipe the seeded account. The child listens on a free
loopback port, prints it, and exits when its parent closes its standard input (or dies).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading

START_TIMEOUT_S = 60
#: Like a real account, the mocked one has the AWS-managed policies (AdministratorAccess,
#: AWSLambdaBasicExecutionRole, ...) that execution roles attach.
SERVER_ENVIRONMENT = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}


class MotoServer:
    """A fresh mocked account for one pytest run, reachable at :attr:`endpoint_url`."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self.endpoint_url: str | None = None

    def start(self) -> str:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "pytest_prr.motoserver"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, **SERVER_ENVIRONMENT},
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


def _exit_with_parent() -> None:
    sys.stdin.read()
    os._exit(0)


def main() -> None:
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    # werkzeug logs every request, and a traceback for each operation moto does not
    # implement; the snapshot records those as errors, so the log is only noise here.
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    server = make_server(
        "127.0.0.1", 0, DomainDispatcherApplication(create_backend_app), threaded=True
    )
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    print(server.port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
