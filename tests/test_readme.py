"""The README's first example test runs, and checks what it says: this service's functions
only, and never passes on an account where the service has none (issue 15)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
SEED = """
import io, json, zipfile

def pytest_prr_seed_account(session, account):
    iam = session.client("iam")
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as package:
        package.writestr("app.py", "def handler(event, context):\\n    return None\\n")
    for name, tags, mode in FUNCTIONS:
        session.client("lambda").create_function(
            FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
            Code={"ZipFile": code.getvalue()}, Tags=tags, TracingConfig={"Mode": mode})
"""


def first_example() -> str:
    """The README's first example, up to the test that only sketches its body."""
    section = README.read_text().split("## Writing a control test", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code
    return code[1].split('@prr.control("NET-01"', 1)[0]


@pytest.mark.parametrize(
    ("functions", "outcome"),
    [
        # Another team's untraced function is not this test's business.
        ([("orders-api", {"Service": "orders"}, "Active"), ("billing", {}, "PassThrough")], "pass"),
        ([("orders-api", {"Service": "orders"}, "PassThrough")], "fail"),
        # An account without the service's functions is no evidence that they trace.
        ([("billing", {}, "PassThrough")], "fail"),
    ],
    ids=["other-teams-untouched", "untraced", "none-of-ours"],
)
def test_the_first_example_filters_its_functions(project, functions, outcome: str) -> None:
    project.conftest(f"FUNCTIONS = {functions!r}\n" + textwrap.dedent(SEED))
    project.tests(first_example(), name="test_readme_example")
    result = project.run("--prr-account=moto", "-p", "no:xdist")
    result.assert_outcomes(**{"passed" if outcome == "pass" else "failed": 1})


def test_the_readme_attestations_file_attests_every_process_control(tmp_path: Path) -> None:
    """The README's attestations file is complete: it loads, and on a day inside every
    attestation's validity each process control passes for the workload it names."""
    import datetime

    from pytest_prr.catalog import builtin_catalog
    from pytest_prr.results.attestations import evaluate, load_attestations

    section = README.read_text().split("### Attestations (process controls)", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block
    path = tmp_path / "attestations.yaml"
    path.write_text(block[1])
    catalog = builtin_catalog()
    process = [control for control in catalog if control.automation == "attested"]
    attestations = load_attestations(path, [control.id for control in catalog])
    assert sorted({a.control for a in attestations}) == [c.id for c in process]
    judged_on = datetime.date(2026, 11, 1)
    for control in process:
        verdicts = evaluate(
            control.id, control.valid_days, attestations, judged_on, "orders-service"
        )
        assert [status for _, status, _, _ in verdicts] == ["pass"], (control.id, verdicts)


def test_the_readme_organization_is_a_valid_configuration(tmp_path: Path) -> None:
    """The Organizations section's table is what `--prr-org=acme` reads, every key valid."""
    from pytest_prr.accounts.orgconfig import read_organization

    section = README.read_text().split("## Organizations", 1)[1]
    toml = re.search(r"```toml\n(.*?)```", section, re.S)
    assert toml
    (tmp_path / "pyproject.toml").write_text(toml[1])
    organization = read_organization(tmp_path, "acme")
    assert organization.member_role == "pytest-prr-reader"
    assert organization.include_tags == {"env": "prod"}
    assert organization.regions == ("eu-west-1", "eu-central-1")
