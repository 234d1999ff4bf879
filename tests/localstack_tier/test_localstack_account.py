"""The mixed account of good and bad functions (``mixed_account``) on LocalStack, read by
``pytest --prr-account`` as an endpoint account: every built-in verdict pinned, beside moto's
(``tests/test_mixed_account.py``).

What LocalStack community lacks (CloudTrail, GuardDuty, Security Hub, AWS WAF, Organizations,
API Gateway v2, CodeDeploy, Signer, conformance packs) is left out of the seed, and the
controls that read it are ERROR naming the operation the endpoint does not implement; where
it drops a field (``KMSKeyArn``), every rule resting on the field is ERROR, or FAIL where
what was read proves it. Each verdict that differs from moto's says why.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest

import mixed_account
from conftest import validate_results
from localstack_tier.launcher import LocalStack
from test_mixed_account import EXPECTED as ON_MOTO
from test_mixed_account import FUNCTIONS, SECRETS

#: The services LocalStack community does not emulate: the seed leaves them out.
LACKS = frozenset({"cloudtrail", "guardduty", "securityhub", "wafv2"})
#: Where LocalStack's verdict differs from moto's (pytest-prr's own moto server), and why.
ON_LOCALSTACK = {
    # LocalStack accepts KMSKeyArn and drops it: whether the environment is encrypted with a
    # customer-managed key cannot be read (ERROR, never the FAIL its absence would suggest).
    "SEC-03": "error error n/a",
    # good's environment key cannot be read; shared's log group key is a static CMK, which
    # proves the violation whatever the environment's key (a certain FAIL).
    "DAT-04": "error error fail",
    # No trail, detector or hub can be created: the reads are unimplemented (501).
    "GOV-01": "error",
    "GOV-02": "error",
    "GOV-05": "error",
    "GOV-08": "error",
    # Organizations answers 501: whether the account is in one cannot be read.
    "GOV-06": "error",
    "GOV-07": "error",
    # No web ACL can be associated without AWS WAF; the stages have none.
    "API-04": "fail fail",
    # CodeDeploy answers 501: no deployment group can be read (moto: no group is tied to a
    # function, a FAIL), so gradual deployment and rollback are unknown.
    "DEP-01": "error error error",
    "DEP-02": "error error error",
    # API Gateway v2 answers 501: an HTTP API could front good and shared (ERROR); bad is
    # behind the open REST API with a 60 s timeout, which proves the violation.
    "REL-08": "error fail error",
}
EXPECTED = {**ON_MOTO, **ON_LOCALSTACK}


@pytest.fixture(scope="module")
def seeded(localstack: LocalStack) -> dict[str, str]:
    """The mixed account in LocalStack's account 123456789012 (LocalStack serves the account
    whose twelve-digit ID is the access key, as pytest-prr's endpoint session sends it)."""
    session = boto3.Session(
        aws_access_key_id=mixed_account.ACCOUNT,
        aws_secret_access_key="test",
        region_name=mixed_account.REGION,
    )
    original = session.client

    def client(service: str, **kwargs: Any) -> Any:
        return original(service, endpoint_url=localstack.endpoint_url, **kwargs)

    session.client = client  # type: ignore[method-assign]
    return mixed_account.seed(session, lacks=LACKS)


def names(document: dict[str, Any], seeded: dict[str, str]) -> dict[str, str]:
    found = {arn: name for name, arn in seeded.items()}
    region = f"{mixed_account.ACCOUNT}/{mixed_account.REGION}"
    found |= {region: mixed_account.REGION, mixed_account.ACCOUNT: mixed_account.ACCOUNT}
    for control in document["controls"]:
        for resource in control["resources"]:
            if "/restapis/" in resource["id"]:
                found.setdefault(resource["id"], resource["message"])
    return found


def order(control_id: str) -> tuple[str, ...]:
    if control_id.startswith("API-"):
        return ("orders", "open")
    if control_id.startswith("GOV-"):
        if control_id in ("GOV-06", "GOV-07"):
            return (mixed_account.ACCOUNT,)
        return (mixed_account.REGION,)
    return FUNCTIONS


def statuses(document: dict[str, Any], seeded: dict[str, str]) -> dict[str, list[str]]:
    labels = names(document, seeded)
    found = {}
    for control in document["controls"]:
        if control["id"] not in EXPECTED:
            continue
        by = {}
        for resource in control["resources"]:
            label = labels.get(resource["id"], resource["id"])
            if "/restapis/" in resource["id"]:
                label = "orders" if "API orders" in label else "open"
            by[label] = resource["status"]
        found[control["id"]] = [by.get(name, "missing") for name in order(control["id"])]
    return found


def expected(control_id: str) -> list[str]:
    return [s.replace("n/a", "not_applicable") for s in EXPECTED[control_id].split()]


def test_every_control_on_localstack(
    project: Any, localstack: LocalStack, seeded: dict[str, str], results_schema: dict
) -> None:
    project.endpoint_account(localstack.endpoint_url, (mixed_account.REGION,))
    tunables = "\n".join(f"{k} = {json.dumps(v)}" for k, v in mixed_account.TUNABLES.items())
    with (project.path / "pyproject.toml").open("a") as pyproject:
        pyproject.write(f"\n[tool.prr.tunables]\n{tunables}\n")
    result, document = project.run_json("--prr-account=local", "-p", "no:xdist", builtin=True)
    validate_results(document, results_schema)
    (target,) = document["targets"]
    version = localstack.info()["version"]
    assert target["emulator"] == {"name": "localstack", "version": version}
    result.stdout.fnmatch_lines(
        [
            f"prr: snapshot of local: 3 function(s) in 1 region(s), * API calls, * s, "
            f"on LocalStack {version}*",
            f"local (123456789012): localstack {version} emulator — not evidence about a real "
            "account",
        ]
    )
    assert statuses(document, seeded) == {cid: expected(cid) for cid in EXPECTED}
    output = result.stdout.str()
    assert not any(secret in output + json.dumps(document) for secret in SECRETS)
    by_id = {control["id"]: control for control in document["controls"]}
    # No result rests on KMSKeyArn's absence: each says LocalStack does not return it.
    for resource in by_id["SEC-03"]["resources"]:
        if resource["status"] == "error":
            assert "does not return KMSKeyArn" in resource["message"], resource
    # An operation LocalStack lacks is named as such, never as a missing permission.
    for control_id in ("GOV-01", "GOV-06"):
        (resource,) = by_id[control_id]["resources"]
        assert "the endpoint does not implement" in resource["message"], resource
        assert "grant" not in resource["message"]
    assert "KMSKeyArn" in " ".join(by_id["SEC-03"]["emulator_gaps"]["localstack"])


def test_the_readme_names_what_localstack_cannot_show() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = re.search(r"### LocalStack\n(.*?)\n## ", readme, re.S)
    assert section, "README has no LocalStack section"
    for service in ("CodeDeploy", "CloudTrail", "Security Hub", "GuardDuty", "Organizations"):
        assert service in section[1], service
    assert "KMSKeyArn" in section[1]
