"""The LocalStack tier: one LocalStack server for the session, started and stopped by the
tests themselves (``launcher.py``). ``make test-localstack`` runs it; without the variable that
names LocalStack's Python, every test of the tier fails saying so, and none is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from localstack_tier.launcher import REGION, LocalStack, LocalStackError, python_from_environment


@pytest.fixture(scope="session")
def localstack(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[LocalStack]:
    """A running LocalStack; its log and files stay in pytest's temporary directory."""
    try:
        python = python_from_environment()
    except LocalStackError as error:
        raise pytest.fail.Exception(str(error), pytrace=False) from None
    server = LocalStack(python, tmp_path_factory.mktemp("localstack"))
    server.start()
    info = server.info()
    # On the terminal, not in the first test's captured output: a CI log shows the version.
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    if capture is not None and reporter is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"LocalStack {info.get('version')} (edition {info.get('edition')}) healthy at "
                f"{server.endpoint_url} in {server.start_seconds:.1f} s; log {server.log_path}"
            )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def localstack_client(localstack: LocalStack) -> Callable[[str], Any]:
    """``localstack_client("lambda")``: a boto3 client of the session's LocalStack."""
    session = boto3.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION
    )

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=localstack.endpoint_url)

    return client
