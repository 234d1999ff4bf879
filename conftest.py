"""What every test of this repository shares (tests/, and the benchmarks' smoke tests).

pytest reads ``pytest_plugins`` only from the root conftest: ``pytester`` drives the plugin
through real runs. Fixtures for the suite itself live in tests/conftest.py.
"""

from __future__ import annotations

import pytest

# Loaded before any in-process pytest run: pytester unloads the modules a run imports, and
# PyYAML's C parser, once loaded, keeps building nodes of the first yaml module's classes,
# which a yaml module imported again no longer recognises.
import pytest_prr.catalog  # noqa: F401

pytest_plugins = ["pytester"]

#: A developer's AWS settings that would send a test to a real account or a profile's
#: endpoint, or give it a Region it did not ask for; tests that need one set it themselves.
AWS_SETTINGS = (
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_CONFIG_FILE",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
)


@pytest.fixture(autouse=True)
def _no_developer_aws_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in AWS_SETTINGS:
        monkeypatch.delenv(variable, raising=False)
