"""What ``sam package`` (and ``aws cloudformation package``, and ``cdk deploy``'s asset
publishing) does before CloudFormation sees a template: local code and definitions become
S3 objects.

Each local path a resource names (table :data:`ARTIFACTS`) is zipped reproducibly, or taken
as it is, and the property is rewritten to the S3 location it will be uploaded to; a SAM
function without ``CodeUri`` gets the template's directory, as ``sam build`` gives it.
``AWS::Include`` snippets with a local ``Location`` are inlined, as CloudFormation inlines the
uploaded file. ``cdk synth``'s assets are read from its asset manifest. Nothing is uploaded
here: :class:`Packaged` lists the objects, and the deployment puts them in the moto account.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pytest_prr.deploy.errors import TemplateError, resource_at
from pytest_prr.deploy.loading import TemplateLoader

#: A fixed timestamp: the same code gives the same zip, hence the same CodeSha256.
ZIP_TIMESTAMP = (2024, 1, 1, 0, 0, 0)
#: Folders never shipped with the code: tool caches and SAM's own build output.
SKIPPED_FOLDERS = frozenset({"__pycache__", ".aws-sam", ".git", ".pytest_cache", ".venv"})
#: How a property holds an S3 location: SAM's "s3://bucket/key" URI, or an object with
#: the bucket and key under these names.
URI = ("uri",)
#: (resource type, property, packaging): "zip" zips a folder (a .zip or .jar file is taken
#: as it is), "file" uploads the file; then how the property holds the location.
ARTIFACTS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("AWS::Serverless::Function", "CodeUri", "zip", URI),
    ("AWS::Serverless::LayerVersion", "ContentUri", "zip", URI),
    ("AWS::Serverless::Api", "DefinitionUri", "file", URI),
    ("AWS::Serverless::HttpApi", "DefinitionUri", "file", URI),
    ("AWS::Serverless::StateMachine", "DefinitionUri", "file", URI),
    ("AWS::Lambda::Function", "Code", "zip", ("S3Bucket", "S3Key")),
    ("AWS::Lambda::LayerVersion", "Content", "zip", ("S3Bucket", "S3Key")),
    ("AWS::ApiGateway::RestApi", "BodyS3Location", "file", ("Bucket", "Key")),
    ("AWS::ApiGatewayV2::Api", "BodyS3Location", "file", ("Bucket", "Key")),
    ("AWS::StepFunctions::StateMachine", "DefinitionS3Location", "file", ("Bucket", "Key")),
)


@dataclass
class Packaged:
    """The template with local paths replaced by S3 locations, and the objects to upload
    there: bucket -> key -> bytes."""

    body: dict[str, Any]
    objects: dict[str, dict[str, bytes]] = field(default_factory=dict)

    def put(self, bucket: str, data: bytes, suffix: str) -> str:
        key = hashlib.sha256(data).hexdigest() + suffix
        self.objects.setdefault(bucket, {})[key] = data
        return key


def package(
    path: Path, body: dict[str, Any], bucket: str, asset_manifest: Path | None = None
) -> Packaged:
    """``body`` (a copy is changed) packaged into ``bucket`` relative to ``path``'s folder."""
    body = json.loads(json.dumps(body))
    packaged = Packaged(body)
    base = path.parent
    body = _include(path, base, body)
    packaged.body = body
    _default_code_uri(body)
    globals_ = body.get("Globals", {}).get("Function", {})
    if isinstance(globals_.get("CodeUri"), str):
        globals_["CodeUri"] = _upload(
            packaged,
            path,
            "Globals.Function",
            base,
            "CodeUri",
            "zip",
            URI,
            globals_["CodeUri"],
            bucket,
        )
    for logical_id, resource in body["Resources"].items():
        properties = resource.get("Properties", {})
        for kind, name, packaging, form in ARTIFACTS:
            value = properties.get(name)
            if resource["Type"] == kind and _is_local(value):
                properties[name] = _upload(
                    packaged,
                    path,
                    resource_at(logical_id),
                    base,
                    name,
                    packaging,
                    form,
                    value,
                    bucket,
                )
    if asset_manifest is not None:
        _cdk_assets(packaged, asset_manifest)
    return packaged


def _is_local(value: Any) -> bool:
    return isinstance(value, str) and not value.startswith(("s3://", "https://", "http://"))


def _default_code_uri(body: dict[str, Any]) -> None:
    """A SAM function with no code of its own gets the template's folder, as ``sam build``
    gives it, unless Globals gives one."""
    if "CodeUri" in body.get("Globals", {}).get("Function", {}):
        return
    for resource in body["Resources"].values():
        properties = resource.setdefault("Properties", {})
        if resource["Type"] != "AWS::Serverless::Function" or not isinstance(properties, dict):
            continue
        if properties.get("PackageType") == "Image":
            continue
        if not {"CodeUri", "InlineCode", "ImageUri"} & properties.keys():
            properties["CodeUri"] = "."


def _upload(
    packaged: Packaged,
    path: Path,
    where: str,
    base: Path,
    name: str,
    packaging: str,
    form: tuple[str, ...],
    value: str,
    bucket: str,
) -> Any:
    local = (base / value).resolve()
    if not local.exists():
        raise TemplateError(
            path, where, f"{name} {value!r} does not exist (paths are relative to the template)"
        )
    if local.is_dir():
        if packaging != "zip":
            raise TemplateError(path, where, f"{name} {value!r} is a folder, not a file")
        data, suffix = zip_folder(local), ".zip"
    elif packaging == "zip" and local.suffix not in (".zip", ".jar"):
        data, suffix = _zip_file(local), ".zip"
    else:
        data, suffix = local.read_bytes(), local.suffix
    key = packaged.put(bucket, data, suffix)
    if form == URI:
        return f"s3://{bucket}/{key}"
    return {form[0]: bucket, form[1]: key}


def zip_folder(folder: Path) -> bytes:
    """Zip every file under ``folder``, paths relative to it, reproducibly."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in _files(folder):
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), ZIP_TIMESTAMP)
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def _files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.iterdir()):
        if path.is_dir():
            if path.name not in SKIPPED_FOLDERS:
                yield from _files(path)
        elif path.is_file() and path.suffix != ".pyc":
            yield path


def _zip_file(path: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(path.name, ZIP_TIMESTAMP)
        info.external_attr = 0o644 << 16
        archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def _include(path: Path, base: Path, node: Any) -> Any:
    """Replace each ``Fn::Transform`` ``AWS::Include`` of a local file by its content."""
    if isinstance(node, list):
        return [_include(path, base, item) for item in node]
    if not isinstance(node, dict):
        return node
    transform = node.get("Fn::Transform")
    if len(node) == 1 and isinstance(transform, dict) and transform.get("Name") == "AWS::Include":
        location = transform.get("Parameters", {}).get("Location")
        if not _is_local(location):
            raise TemplateError(
                path, None, f"AWS::Include of {location!r}: only local files can be included here"
            )
        try:
            text = (base / location).read_text(encoding="utf-8")
        except OSError as error:
            raise TemplateError(
                path, None, f"AWS::Include of {location!r}: {error.strerror}"
            ) from None
        return _include(path, base, yaml.load(text, Loader=TemplateLoader))
    return {key: _include(path, base, value) for key, value in node.items()}


def _cdk_assets(packaged: Packaged, manifest: Path) -> None:
    """Put the file assets of ``cdk synth``'s manifest where the template expects them."""
    try:
        files: Mapping[str, Any] = json.loads(manifest.read_text()).get("files", {})
    except (OSError, json.JSONDecodeError) as error:
        raise TemplateError(manifest, None, f"unreadable asset manifest: {error}") from None
    for asset_id, asset in files.items():
        source = asset.get("source", {})
        local = manifest.parent / source.get("path", "")
        if not local.exists():
            raise TemplateError(manifest, f"files.{asset_id}", f"{local} does not exist")
        zipped = source.get("packaging") == "zip" and local.is_dir()
        data = zip_folder(local) if zipped else local.read_bytes()
        for destination in asset.get("destinations", {}).values():
            bucket = destination["bucketName"]
            packaged.objects.setdefault(bucket, {})[destination["objectKey"]] = data
