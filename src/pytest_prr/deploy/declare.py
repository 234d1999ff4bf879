"""What a deployment puts in the account besides the stack, and what it tells the server.

Before the stack: the packaged artifacts, uploaded where the template expects them (``cdk
synth``'s bucket names carry ``${AWS::AccountId}`` and ``${AWS::Region}``), what ``cdk
bootstrap`` leaves in an account (its version parameter), and a check that every parameter
read from SSM exists there. After it: on pytest-prr's own moto server, the deployment is
declared (``/_prr/deployments``), so the snapshot records the template and the resources
that could not be created, and the controls they feed are ERROR naming them.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from pytest_prr.accounts.motoserver import RECORDED_PATH
from pytest_prr.deploy.errors import TemplateError

if TYPE_CHECKING:
    from pytest_prr.deploy import Prepared
    from pytest_prr.deploy.stack import Deployment

#: Where pytest-prr's moto server takes deployments (see :mod:`pytest_prr.accounts.motoserver`).
DEPLOYMENTS_PATH = "/_prr/deployments"
SSM_PARAMETER_TYPE = "AWS::SSM::Parameter::Value<"
#: ``cdk bootstrap``'s version parameter, and the version a current bootstrap writes.
CDK_BOOTSTRAP_PREFIX = "/cdk-bootstrap/"
CDK_BOOTSTRAP_VERSION = "21"


def upload(session: Any, region: str, objects: Mapping[str, Mapping[str, bytes]]) -> str:
    """Create each artifact bucket (as ``sam package``'s or ``cdk bootstrap``'s) and put
    the objects in it; return the account's ID."""
    account = session.client("sts", region_name=region).get_caller_identity()["Account"]
    s3 = session.client("s3", region_name=region)
    for bucket, keys in objects.items():
        name = (
            bucket.replace("${AWS::AccountId}", account)
            .replace("${AWS::Region}", region)
            .replace("${AWS::Partition}", "aws")
        )
        location = {} if region == "us-east-1" else {"LocationConstraint": region}
        try:
            s3.create_bucket(
                Bucket=name, **({"CreateBucketConfiguration": location} if location else {})
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
                raise
        for key, data in keys.items():
            s3.put_object(Bucket=name, Key=key, Body=data)
    return account


def check_ssm_parameters(session: Any, region: str, prepared: Prepared) -> None:
    """Parameters CloudFormation reads from SSM must be there; ``cdk bootstrap``'s own is
    written, as bootstrapping the account writes it."""
    ssm = session.client("ssm", region_name=region)
    declared = prepared.template.get("Parameters") or {}
    for name, spec in declared.items():
        if not str(spec.get("Type", "")).startswith(SSM_PARAMETER_TYPE):
            continue
        parameter = prepared.stack_parameters.get(name, "")
        try:
            ssm.get_parameter(Name=parameter)
            continue
        except ClientError:
            pass
        if parameter.startswith(CDK_BOOTSTRAP_PREFIX):
            ssm.put_parameter(Name=parameter, Value=CDK_BOOTSTRAP_VERSION, Type="String")
            continue
        raise TemplateError(
            prepared.source.path,
            f"Parameters.{name}",
            f"reads SSM parameter {parameter!r}, which the moto account does not have: create it "
            "in a pytest_prr_seed_account hook",
        )


def declare(
    session: Any, prepared: Prepared, deployment: Deployment, *, pre_deploy: bool = False
) -> None:
    """Tell pytest-prr's moto server about the deployment; nothing for any other endpoint."""
    endpoint = getattr(session, "prr_endpoint_url", None)
    if not endpoint or not _is_prr_server(endpoint):
        return
    record = {
        **prepared.describe(),
        "stack_name": deployment.stack_name,
        "pre_deploy": pre_deploy,
        "unsupported": [entry.to_dict() for entry in deployment.unsupported],
    }
    request = urllib.request.Request(
        endpoint.rstrip("/") + DEPLOYMENTS_PATH,
        data=json.dumps(record).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def _is_prr_server(endpoint: str) -> bool:
    """Whether ``endpoint`` is pytest-prr's moto server (it answers its recorder's path)."""

    try:
        with urllib.request.urlopen(endpoint.rstrip("/") + RECORDED_PATH, timeout=10):
            return True
    except (urllib.error.URLError, OSError):
        return False
