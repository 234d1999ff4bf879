"""The results name who read each account: the STS caller that verified a live or endpoint
target, recorded by the controller (the process that verifies and builds the document), so
a run under xdist records it too."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Project
from pytest_prr.accounts import sessions
from pytest_prr.report.markdown import code

MOTO_CALLER = "arn:aws:sts::123456789012:user/moto"
TESTS = """
def test_plain():
    pass
"""


def live_profile(
    project: Project, endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Account ``prod`` as a live account whose profile (in an AWS config file of the test's
    own) reaches the moto server: the live path, STS and all, without AWS."""
    config = tmp_path / "aws-config"
    config.write_text(
        "[profile prr-prod]\nregion = us-east-1\n"
        f"endpoint_url = {endpoint}\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    # AWS's retry policy (ten adaptive attempts) would retry each read moto does not
    # implement for seconds; the controller takes the snapshot, in this process.
    monkeypatch.setattr(sessions, "CLIENT_CONFIG", sessions.EMULATOR_CLIENT_CONFIG)
    project.pyproject(
        """
        [tool.prr.accounts.prod]
        account_id = "123456789012"
        regions = ["us-east-1"]
        profile = "prr-prod"
        """
    )


@pytest.mark.parametrize("workers", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_live_account_records_its_caller(
    project: Project,
    moto_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    workers: list[str],
) -> None:
    live_profile(project, moto_endpoint, tmp_path, monkeypatch)
    project.tests(TESTS)
    result, document = project.run_json(
        "--prr-account=prod", "--prr-markdown=checklist.md", "--prr-html=report.html", *workers
    )
    result.assert_outcomes(passed=1)
    [target] = document["targets"]
    assert (target["mode"], target["caller_arn"]) == ("live", MOTO_CALLER)
    assert f"| live | {code(MOTO_CALLER)} |" in (project.path / "checklist.md").read_text()
    assert f"<code>{MOTO_CALLER}</code>" in (project.path / "report.html").read_text()


def test_an_endpoint_account_records_its_caller(project: Project, moto_endpoint: str) -> None:
    project.endpoint_account(moto_endpoint)
    project.tests(TESTS)
    _, document = project.run_json("--prr-account=local", "-p", "no:xdist")
    [target] = document["targets"]
    assert (target["mode"], target["caller_arn"]) == ("endpoint", MOTO_CALLER)
