"""Deploy the SAM template into the moto account through CloudFormation, as the pipeline does.

``deploy`` packages the code, transforms the SAM template locally (moto has no SAM
transform) and creates the stack on the moto server, with API fallbacks for the resource
types moto's CloudFormation lacks (see ``fallbacks``). What was created how, and what moto
cannot create at all, is returned as a ``Deployment``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import boto3

from motodeploy.fallbacks import NOT_ON_MOTO
from motodeploy.sam import load_template, package, to_cloudformation
from motodeploy.stack import Deployment, deploy_stack
from motodeploy.target import Target

__all__ = ["NOT_ON_MOTO", "Deployment", "deploy"]


def deploy(
    session: boto3.Session,
    region: str,
    template_path: Path,
    stack_name: str,
    parameters: Mapping[str, str],
) -> Deployment:
    """Package, transform and deploy ``template_path`` as ``stack_name`` in ``region``."""
    s3 = session.client("s3", region_name=region)
    bucket = f"{stack_name}-artifacts"
    location = {} if region == "us-east-1" else {"LocationConstraint": region}
    s3.create_bucket(Bucket=bucket, **({"CreateBucketConfiguration": location} if location else {}))
    template = package(load_template(template_path), template_path.parent, s3, bucket)
    template = to_cloudformation(template, parameters, session.client("iam", region_name=region))
    return deploy_stack(Target(session, region, stack_name), template, parameters)
