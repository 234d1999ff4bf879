"""What the moto deployment of template.yaml creates, and how: the README's table of gaps."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

import conftest
from motodeploy import Deployment, deploy

REGION = "us-east-1"


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    with pytest.MonkeyPatch.context() as env:
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            env.setenv(key, "testing")
        env.delenv("AWS_SESSION_TOKEN", raising=False)
        # Execution roles attach AWS-managed policies, which a real account always has.
        env.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        with mock_aws():
            session = boto3.Session(region_name=REGION)
            parameters = conftest.platform_parameters(session, REGION)
            yield deploy(session, REGION, conftest.TEMPLATE, conftest.STACK_NAME, parameters)


def test_only_code_signing_and_codedeploy_are_left_out(deployment: Deployment) -> None:
    assert set(deployment.not_on_moto) == {
        "CodeSigningConfig",
        "ServerlessDeploymentApplication",
        "OrdersApiFunctionDeploymentGroup",
        "OrdersConsumerFunctionDeploymentGroup",
    }


def test_the_stack_creates_what_moto_supports_and_fallbacks_the_rest(
    deployment: Deployment,
) -> None:
    assert set(deployment.by_stack.values()) == {
        "AWS::SQS::Queue",
        "AWS::SNS::Topic",
        "AWS::Lambda::EventSourceMapping",
        "AWS::Lambda::Permission",
    }
    assert {"AWS::Lambda::Function", "AWS::Lambda::Alias", "AWS::CloudWatch::Alarm"} <= set(
        deployment.by_api.values()
    )
    # Aliases wait for versions, the mapping and API for aliases, the stage for the API.
    assert deployment.waves >= 3
