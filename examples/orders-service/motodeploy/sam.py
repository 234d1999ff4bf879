"""``sam package`` and the SAM transform, done locally for moto.

moto's CloudFormation does not run the ``AWS::Serverless-2016-10-31`` transform, so the
template is translated here with AWS's own translator (``aws-sam-translator``, the library
the CloudFormation service and the SAM CLI use), after its local ``CodeUri`` folders are
zipped and uploaded to S3 as ``sam package`` does.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

#: A fixed timestamp: the same code gives the same zip, hence the same CodeSha256.
ZIP_TIMESTAMP = (2024, 1, 1, 0, 0, 0)


def load_template(path: Path) -> dict[str, Any]:
    """Read a SAM template, with the short forms (``!Ref``, ``!Sub``) understood."""
    return yaml_parse(path.read_text())


def zip_folder(folder: Path) -> bytes:
    """Zip the Python sources under ``folder``, paths relative to it, reproducibly."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*.py")):
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), ZIP_TIMESTAMP)
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def package(template: dict[str, Any], base: Path, s3: Any, bucket: str) -> dict[str, Any]:
    """Upload each local ``CodeUri`` (global or per function) and point it at S3."""
    sections = [template.get("Globals", {}).get("Function", {})]
    sections += [
        resource.get("Properties", {})
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
    ]
    for section in sections:
        code_uri = section.get("CodeUri")
        if isinstance(code_uri, str) and not code_uri.startswith("s3://"):
            code = zip_folder(base / code_uri)
            key = f"{hashlib.sha256(code).hexdigest()}.zip"
            s3.put_object(Bucket=bucket, Key=key, Body=code)
            section["CodeUri"] = f"s3://{bucket}/{key}"
    return template


def to_cloudformation(
    template: dict[str, Any], parameters: Mapping[str, str], iam: Any
) -> dict[str, Any]:
    """Translate a packaged SAM template into plain CloudFormation.

    ``iam`` is only read when a policy names an AWS-managed policy by name instead of ARN.
    """
    return transform(template, dict(parameters), ManagedPolicyLoader(iam))
