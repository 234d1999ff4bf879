"""A broken copy of the example's template fails exactly the controls it breaks.

The copy is deployed through the same CloudFormation path as the example itself, so this
proves the verdicts come from what the template declares, not from a hand-made account.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from orders_example import EXAMPLE, EXPECTED_STATUSES, run_on_moto, statuses

#: Looks like a credential to SEC-02 by its name; must never be printed or stored.
SECRET_VALUE = "prr-test-not-a-real-key-5f0c9a"
#: What each breakage below makes FAIL; every other control keeps its verdict.
BROKEN = {
    "SEC-02": "a secret-looking value in an environment variable",
    "SEC-05": "a resource policy lets anyone invoke the function",
    "SEC-06": "a function URL with AuthType NONE",
    "OBS-03": "no Errors alarm",
    "OBS-04": "no Throttles alarm",
    # The built-in check is not applicable without alarms; the team's test fails.
    "OBS-05": "no alarm to page anyone",
}


def break_template(template: dict[str, Any]) -> dict[str, Any]:
    """Make public, leak a secret into the environment and drop every alarm."""
    resources = template["Resources"]
    template["Globals"]["Function"]["Environment"]["Variables"]["PAYMENT_API_KEY"] = SECRET_VALUE
    resources["PublicUrl"] = {
        "Type": "AWS::Lambda::Url",
        "Properties": {
            "TargetFunctionArn": {"Fn::GetAtt": ["OrdersApiFunction", "Arn"]},
            "AuthType": "NONE",
        },
    }
    for name, action in (("PublicUrl", "InvokeFunctionUrl"), ("Public", "InvokeFunction")):
        resources[f"{name}Permission"] = {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "FunctionName": {"Ref": "OrdersApiFunction"},
                "Action": f"lambda:{action}",
                "Principal": "*",
                **({"FunctionUrlAuthType": "NONE"} if name == "PublicUrl" else {}),
            },
        }
    for name in [n for n, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"]:
        del resources[name]
    for resource in resources.values():
        resource.get("Properties", {}).get("DeploymentPreference", {}).pop("Alarms", None)
    return template


@pytest.fixture
def broken_example(pytester: pytest.Pytester) -> Path:
    """A copy of the example whose template is broken by ``break_template``."""
    copy = pytester.path / "orders-service"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__", ".*_cache"))
    template = break_template(yaml_parse((copy / "template.yaml").read_text()))
    # JSON is YAML: the deployer reads the broken copy like the original.
    (copy / "template.yaml").write_text(json.dumps(template, indent=2))
    return copy


def test_breaking_the_template_fails_exactly_the_broken_controls(
    pytester: pytest.Pytester, broken_example: Path
) -> None:
    result, document = run_on_moto(pytester, broken_example, "-p", "no:xdist")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    got = statuses(document)
    changed = {cid: (was, got[cid]) for cid, was in EXPECTED_STATUSES.items() if got[cid] != was}
    assert changed == {cid: (EXPECTED_STATUSES[cid], "fail") for cid in BROKEN}
    output = result.stdout.str() + result.stderr.str()
    assert SECRET_VALUE not in output
    assert SECRET_VALUE not in json.dumps(document)
