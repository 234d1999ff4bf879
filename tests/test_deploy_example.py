"""What the deployment of the example's template creates, and how: its README's table of gaps.

The example is deployed through pytest-prr's deployer into pytest-prr's own moto server, as
``--prr-account=moto`` deploys it, so the declarations the server records are checked too.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from types import ModuleType

import pytest

from orders_example import EXAMPLE
from pytest_prr.accounts.config import moto_account
from pytest_prr.accounts.motoserver import MotoServer, deployments, recorded
from pytest_prr.accounts.sessions import open_session
from pytest_prr.deploy import Deployment, deploy_template

REGION = "us-east-1"


def example_conftest() -> ModuleType:
    """The example's conftest.py (tests/ has its own ``conftest`` module)."""
    spec = importlib.util.spec_from_file_location("orders_conftest", EXAMPLE / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    moto = MotoServer()
    yield moto.start()
    moto.stop()


@pytest.fixture(scope="module")
def deployment(server: str) -> Deployment:
    with pytest.MonkeyPatch.context() as env:
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            env.setenv(key, "testing")
        session = open_session(moto_account(), server)
        example = example_conftest()
        parameters = example.platform_parameters(session, REGION)
        return deploy_template(session, REGION, example.TEMPLATE, parameters, example.STACK_NAME)


def test_only_code_signing_and_codedeploy_are_left_out(deployment: Deployment) -> None:
    left_out = {entry.logical_id: entry for entry in deployment.unsupported}
    assert set(left_out) == {
        "CodeSigningConfig",
        "ServerlessDeploymentApplication",
        "OrdersApiFunctionDeploymentGroup",
        "OrdersConsumerFunctionDeploymentGroup",
    }
    signing = left_out["CodeSigningConfig"]
    assert signing.controls == ("DEP-03", "SEC-04")
    assert signing.functions == ("orders-api-prod", "orders-consumer-prod")
    assert left_out["OrdersApiFunctionDeploymentGroup"].functions == ("orders-api-prod",)


def test_every_resource_is_created_through_the_api_without_a_stack(
    deployment: Deployment,
) -> None:
    """Every type of the example has a fallback, so moto's CloudFormation is never loaded."""
    assert deployment.by_stack == {}
    assert {
        "AWS::Lambda::Function",
        "AWS::Lambda::Alias",
        "AWS::Lambda::EventSourceMapping",
        "AWS::Lambda::Permission",
        "AWS::CloudWatch::Alarm",
        "AWS::ApiGateway::RestApi",
        "AWS::SQS::Queue",
        "AWS::SNS::Topic",
    } <= set(deployment.by_api.values())
    # Aliases wait for versions, the mapping and API for aliases, the stage for the API.
    assert deployment.waves >= 3


def test_the_server_knows_the_template_and_who_declared_each_function(
    deployment: Deployment, server: str
) -> None:
    [declared] = deployments(server)
    assert declared["stack_name"] == "orders-prod"
    assert declared["path"].endswith("template.yaml")
    assert {entry["logical_id"] for entry in declared["unsupported"]} == {
        entry.logical_id for entry in deployment.unsupported
    }
    functions = recorded(server)
    api = functions["arn:aws:lambda:us-east-1:123456789012:function:orders-api-prod"]
    assert api["declared_by"] == "template.yaml (OrdersApiFunction)"
