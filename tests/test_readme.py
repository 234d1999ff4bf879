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
