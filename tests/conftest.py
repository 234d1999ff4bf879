"""Shared fixtures: a pytester project, moto servers on loopback, the results schema."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_prr.accounts.motoserver import MotoServer


class Project:
    """A throwaway pytest project driven through pytester, as a user would set one up."""

    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        self.path = pytester.path

    def pyproject(self, body: str = "") -> None:
        self.pytester.makefile(".toml", pyproject=textwrap.dedent(body))

    def endpoint_account(self, endpoint_url: str, regions: tuple[str, ...] = ("us-east-1",)):
        """Configure account ``local`` as the emulator at ``endpoint_url``."""
        self.pyproject(
            "[tool.prr.accounts.local]\n"
            'account_id = "123456789012"\n'
            f"regions = {list(regions)!r}\n".replace("'", '"')
            + f'endpoint_url = "{endpoint_url}"\n'
        )

    def tests(self, source: str, name: str = "test_readiness") -> Path:
        return self.pytester.makepyfile(**{name: textwrap.dedent(source)})

    def conftest(self, source: str) -> Path:
        return self.pytester.makeconftest(textwrap.dedent(source))

    def run(self, *args: str, builtin: bool = False) -> pytest.RunResult:
        """A pytest run in-process; without the built-in controls unless ``builtin``, so
        that tests of the plugin's mechanics see only their own tests."""
        extra = () if builtin else ("--prr-no-builtin",)
        return self.pytester.runpytest_inprocess("-p", "no:cacheprovider", *extra, *args)

    def run_json(
        self, *args: str, name: str = "prr.json", builtin: bool = False
    ) -> tuple[pytest.RunResult, dict]:
        result = self.run(f"--prr-json={name}", *args, builtin=builtin)
        path = self.path / name
        assert path.is_file(), result.stdout.str()
        return result, json.loads(path.read_text())


@pytest.fixture
def project(pytester: pytest.Pytester) -> Project:
    return Project(pytester)


@pytest.fixture
def moto_endpoint() -> Iterator[str]:
    """A moto server of the test's own, on a free loopback port."""
    server = MotoServer()
    yield server.start()
    server.stop()


@pytest.fixture(scope="session")
def results_schema() -> dict[str, Any]:
    from importlib import resources

    return json.loads(
        resources.files("pytest_prr.report").joinpath("results.schema.json").read_text()
    )


def validate_results(document: dict[str, Any], schema: dict[str, Any]) -> None:
    import jsonschema

    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(document)
