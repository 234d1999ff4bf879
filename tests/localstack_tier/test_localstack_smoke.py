"""The tier starts LocalStack, LocalStack answers, and the launcher reports what goes wrong."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from localstack_tier import launcher
from localstack_tier.launcher import ACCOUNT, REGION


def function_zip() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as package:
        package.writestr("app.py", "def handler(event, context):\n    return event\n")
    return archive.getvalue()


def test_a_function_is_created_and_read_back(localstack_client: Callable[[str], Any]) -> None:
    lam = localstack_client("lambda")
    role = f"arn:aws:iam::{ACCOUNT}:role/smoke"
    created = lam.create_function(
        FunctionName="smoke",
        Role=role,
        Runtime="python3.12",
        Handler="app.handler",
        Code={"ZipFile": function_zip()},
        MemorySize=256,
        TracingConfig={"Mode": "Active"},
        Environment={"Variables": {"POWERTOOLS_SERVICE_NAME": "smoke"}},
        Tags={"Owner": "team@example.com"},
    )
    assert created["FunctionArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:smoke"
    lam.get_waiter("function_active_v2").wait(
        FunctionName="smoke", WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )

    read = lam.get_function(FunctionName="smoke")
    configuration = read["Configuration"]
    # Active, not Failed: the prr-no-invoke executor prepares no runtime (there is no Docker).
    assert configuration["State"] == "Active"
    assert configuration["Role"] == role
    assert configuration["MemorySize"] == 256
    assert configuration["TracingConfig"] == {"Mode": "Active"}
    assert configuration["Environment"]["Variables"] == {"POWERTOOLS_SERVICE_NAME": "smoke"}
    assert read["Tags"] == {"Owner": "team@example.com"}
    listed = lam.list_functions(FunctionVersion="ALL")["Functions"]
    assert "smoke" in {function["FunctionName"] for function in listed}


def test_the_needed_services_are_healthy(localstack: launcher.LocalStack) -> None:
    services = localstack.health()["services"]
    assert {name: services[name] for name in launcher.SERVICES} == {
        name: services[name] for name in launcher.SERVICES if services[name] in launcher.READY
    }


def test_without_its_python_the_tier_says_how_to_run_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(launcher.PYTHON_VARIABLE, raising=False)
    with pytest.raises(launcher.LocalStackError, match="make test-localstack"):
        launcher.python_from_environment()


def test_a_localstack_that_cannot_start_is_reported_with_its_log(tmp_path: Path) -> None:
    # The test run's own Python has no LocalStack: the child dies on its first import.
    server = launcher.LocalStack(sys.executable, tmp_path)
    with pytest.raises(launcher.LocalStackError) as failure:
        server.start()
    message = str(failure.value)
    assert "exited with status 1 before it was healthy" in message
    assert "No module named 'localstack'" in message
    assert str(server.log_path) in message


def test_a_port_taken_meanwhile_is_not_taken_for_localstack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # LocalStack (Hypercorn) neither exits nor logs when its port is taken: the launcher must
    # not take whatever answers there for it.
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        monkeypatch.setattr(launcher, "_free_port", lambda: squatter.getsockname()[1])
        server = launcher.LocalStack(launcher.python_from_environment(), tmp_path)
        with pytest.raises(launcher.LocalStackError, match="held by another process"):
            server.start()


def test_stop_finds_the_processes_that_left_the_process_group() -> None:
    # LocalStack starts kinesis-mock in a session of its own: killing LocalStack's process
    # group would leave it running; stop() kills every descendant it finds in /proc.
    starter = (
        "import subprocess; "
        "child = subprocess.Popen(['sleep', '60'], start_new_session=True); "
        "print(child.pid, flush=True); child.wait()"
    )
    parent = subprocess.Popen([sys.executable, "-c", starter], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    try:
        assert os.getsid(child) != os.getsid(parent.pid)
        assert child in launcher._descendants(parent.pid)
    finally:
        os.kill(child, signal.SIGKILL)
        parent.wait()
        parent.stdout.close()
