"""Evidence bundles: what one run leaves for an auditor, and how it is written.

An auditor is handed a directory, not a promise: the snapshot the run judged, the results
document, the JUnit XML, one evidence file per control, the inputs that shaped the verdicts
(user catalog files, attestations, waivers) and ``manifest.json``, which records the SHA-256
and size of every file and how the run was made (``manifest.schema.json``).
:mod:`pytest_prr.evidence.verify` checks a bundle against all of it.

A SHA-256 shows that a file changed, not who changed it: whoever can rewrite a file can
rewrite the manifest too. Re-evaluating the snapshot is what catches results forged
consistently with their hashes. What ties a bundle to its author is outside the manifest:
its SHA-256, which the run prints for an auditor to keep, and a detached signature over its
bytes (``manifest.json.sig``, :mod:`pytest_prr.evidence.signing`). Both are what standard
tools compute (``sha256sum``, ``openssl``), so the manifest carries no digest of itself.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_prr.__about__ import __version__
from pytest_prr.catalog import Catalog, builtin_catalog
from pytest_prr.report.json_document import validate_document

if TYPE_CHECKING:
    from pytest_prr.evidence.signing import Signer

SCHEMA_ID = "prr-evidence/2"
#: Earlier manifest formats: ``prr-evidence/1`` carried ``manifest_sha256``, a digest of its
#: own bytes with that value zeroed, which no standard tool computes.
OLD_SCHEMA_IDS = ("prr-evidence/1",)
CONTROL_SCHEMA_ID = "prr-control-evidence/1"
MANIFEST = "manifest.json"
#: The detached signature over the manifest's bytes, when the bundle is signed.
SIGNATURE = f"{MANIFEST}.sig"
RESULTS = "results.json"
SNAPSHOT = "snapshot.json"
JUNIT = "junit.xml"
CONTROLS = "controls"


class EvidenceError(ValueError):
    """A bundle that cannot be written where asked, or a path that holds no bundle."""


@dataclass(frozen=True)
class WrittenBundle:
    """What :func:`write_bundle` wrote: the manifest, its SHA-256 (the digest an auditor
    keeps) and the key that signed it (None when unsigned)."""

    manifest: Path
    manifest_sha256: str
    signed_with: str | None


def write_bundle(
    directory: Path,
    *,
    document: Mapping[str, Any],
    snapshot_path: Path,
    command_line: Sequence[str],
    tunables: Mapping[str, Any],
    junit_path: Path | None = None,
    waivers_file: Path | None = None,
    waivers_judged_on: datetime.date | None = None,
    catalog_files: Sequence[Path] = (),
    attestation_files: Sequence[Path] = (),
    selected_controls: Sequence[str] = (),
    workload: str | None = None,
    created_at: datetime.datetime | None = None,
    signer: Signer | None = None,
) -> WrittenBundle:
    """Write the bundle of one run into ``directory``, signed by ``signer`` if given.

    ``directory`` must be absent, empty, or a previous bundle, which is replaced whole.
    The bundle is built beside it and renamed into place, so a crash leaves the previous
    bundle or none, never a manifest describing files that are not there; nor, when the
    signing fails (:class:`~pytest_prr.evidence.signing.SigningError`), one without the
    signature it records. ``selected_controls`` are the built-in controls the run evaluated:
    ``prr verify`` re-evaluates each, so a control's results cannot vanish unnoticed.
    """
    if waivers_file is not None and waivers_judged_on is None:
        raise ValueError("waivers_file needs waivers_judged_on: verify re-applies them that day")
    validate_document(document)
    catalog = bundle_catalog(catalog_files)
    if catalog.version != document["tool"]["catalog_version"]:
        raise EvidenceError(
            f"the results were made with catalog {document['tool']['catalog_version']}, but the "
            f"catalog files given make {catalog.version}; pass the run's prr_catalog files"
        )
    _check_destination(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = _sibling(directory, "new")
    staging.mkdir()
    try:
        shutil.copyfile(snapshot_path, staging / SNAPSHOT)
        _write_json(staging / RESULTS, document)
        if junit_path is not None:
            shutil.copyfile(junit_path, staging / JUNIT)
        (staging / CONTROLS).mkdir()
        for control in document["controls"]:
            evidence = control_evidence(document, catalog, control["id"])
            _write_json(staging / CONTROLS / f"{control['id']}.json", evidence)
        judged_on = waivers_judged_on if waivers_file else None
        inputs = _copy_inputs(staging, catalog_files, attestation_files, waivers_file, judged_on)
        # The workload the attestations were judged for (prr_workload): verify judges them so.
        inputs["workload"] = workload
        moment = created_at or datetime.datetime.now(datetime.UTC)
        manifest = {
            "schema": SCHEMA_ID,
            "created_at": moment.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "tool": {
                "name": "pytest-prr",
                "version": __version__,
                "catalog_version": catalog.version,
            },
            "targets": document["targets"],
            "command_line": list(command_line),
            "tunables": dict(sorted(tunables.items())),
            "selected_controls": list(selected_controls),
            "inputs": inputs,
            "files": {rel: fingerprint(path) for rel, path in sorted(files_in(staging).items())},
        }
        if signer is not None:
            manifest["signature"] = signer.entry()
        raw = (json.dumps(manifest, indent=2) + "\n").encode()
        (staging / MANIFEST).write_bytes(raw)
        if signer is not None:
            (staging / SIGNATURE).write_bytes(signer.sign(raw))
        _move_into_place(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return WrittenBundle(
        manifest=directory / MANIFEST,
        manifest_sha256=hashlib.sha256(raw).hexdigest(),
        signed_with=signer.describe() if signer is not None else None,
    )


def bundle_catalog(catalog_files: Sequence[Path]) -> Catalog:
    """The built-in catalog with the run's own catalog files, as the plugin loads it."""
    catalog = builtin_catalog()
    for path in catalog_files:
        catalog = catalog.with_file(path)
    return catalog


def control_evidence(
    document: Mapping[str, Any], catalog: Catalog, control_id: str
) -> dict[str, Any]:
    """``controls/<ID>.json``: one control's rule, verdicts and waivers, for a reviewer who
    audits one control at a time. Derived from the results, so verify can re-derive it."""
    control = next(entry for entry in document["controls"] if entry["id"] == control_id)
    definition = catalog[control_id]
    waivers = document.get("waivers") or {}
    applied: list[Mapping[str, Any]] = []
    for resource in control["resources"]:
        if resource.get("waiver") and resource["waiver"] not in applied:
            applied.append(resource["waiver"])
    return {
        "schema": CONTROL_SCHEMA_ID,
        "control": {
            "id": definition.id,
            "title": definition.title,
            "domain": definition.domain,
            "scope": definition.scope,
            "severity": definition.severity,
            "automation": definition.automation,
            "fail_when": definition.fail_when,
            "not_applicable_when": definition.not_applicable_when,
            "rationale": definition.rationale,
            "remediation": definition.remediation,
            "frameworks": control["frameworks"],
            **({"emulator_gaps": control["emulator_gaps"]} if "emulator_gaps" in control else {}),
        },
        "status": control["status"],
        "targets": document["targets"],
        "tests": control["tests"],
        "resources": control["resources"],
        "waivers": {
            "applied": applied,
            **{
                kind: [w for w in waivers.get(kind, []) if w.get("control") == control_id]
                for kind in ("expired", "stale")
            },
        },
    }


def _check_destination(directory: Path) -> None:
    if directory.is_symlink() or (directory.exists() and not directory.is_dir()):
        raise EvidenceError(f"{directory}: exists and is not a directory")
    if not directory.exists() or not any(directory.iterdir()):
        return
    listed = _listed_files(directory)
    if listed is None:
        raise EvidenceError(
            f"{directory}: not empty and not an intact evidence bundle (no valid {MANIFEST}); "
            "choose an empty or new directory"
        )
    foreign = sorted(set(files_in(directory)) - listed - {MANIFEST, SIGNATURE})
    if foreign:
        raise EvidenceError(
            f"{directory}: holds files that are not part of its bundle "
            f"({', '.join(foreign[:5])}); refusing to replace it"
        )


def _move_into_place(staging: Path, directory: Path) -> None:
    if directory.exists():
        previous = _sibling(directory, "old")
        os.rename(directory, previous)
        os.rename(staging, directory)
        shutil.rmtree(previous)
    else:
        os.rename(staging, directory)


def _sibling(directory: Path, role: str) -> Path:
    """A fresh hidden name beside ``directory``: on the same file system, so renames are
    atomic, and made with ``mkdir`` so the bundle gets the umask's permissions."""
    return directory.with_name(f".{directory.name}.{role}-{secrets.token_hex(6)}")


def _copy_inputs(
    staging: Path,
    catalog_files: Sequence[Path],
    attestation_files: Sequence[Path],
    waivers_file: Path | None,
    waivers_judged_on: datetime.date | None,
) -> dict[str, Any]:
    """Copy the run's inputs under ``inputs/``; the manifest's ``inputs`` section."""
    return {
        "catalog": [
            _copy_input(staging, f"catalog/{n}", path) for n, path in enumerate(catalog_files)
        ],
        "attestations": [
            _copy_input(staging, f"attestations/{n}", path)
            for n, path in enumerate(attestation_files)
        ],
        "waivers": _copy_input(staging, "waivers", waivers_file) if waivers_file else None,
        "waivers_judged_on": waivers_judged_on.isoformat() if waivers_judged_on else None,
    }


def _copy_input(staging: Path, folder: str, path: Path) -> str:
    """Copy an input under ``inputs/``, keeping its file name (a user catalog's version
    is derived from its name and bytes)."""
    target = staging / "inputs" / folder / path.name
    target.parent.mkdir(parents=True)
    shutil.copyfile(path, target)
    return target.relative_to(staging).as_posix()


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def files_in(directory: Path) -> dict[str, Path]:
    """Every file below ``directory`` (symbolic links too, never followed), by bundle path."""
    found = {}
    for root, folders, names in os.walk(directory):
        for name in names + [f for f in folders if os.path.islink(os.path.join(root, f))]:
            path = Path(root, name)
            found[path.relative_to(directory).as_posix()] = path
    return found


def fingerprint(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(functools.partial(file.read, 1 << 20), b""):
            digest.update(block)
    return {"sha256": digest.hexdigest(), "size": path.stat().st_size}


def sha256sum_line(digest: str, path: str) -> str:
    """``digest`` of ``path`` as ``sha256sum`` prints it, so that an auditor can keep the
    line and check it with ``sha256sum -c``: two spaces, and a name holding a backslash or
    a line break escaped behind a leading backslash, as GNU coreutils does."""
    escaped = path.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return ("\\" if escaped != path else "") + f"{digest}  {escaped}"


def read_manifest(raw: bytes) -> tuple[dict[str, Any] | None, list[str]]:
    """The manifest, or None and what is wrong with it."""
    try:
        manifest = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, [f"not valid JSON ({error}): altered, or not written by pytest-prr"]
    schema = manifest.get("schema") if isinstance(manifest, dict) else None
    if schema in OLD_SCHEMA_IDS:
        tool = manifest.get("tool")
        version = tool.get("version") if isinstance(tool, dict) else None
        return None, [
            f"an old-format manifest ({schema}, written by pytest-prr {version or '?'}), whose "
            f"integrity rested on a digest of itself that this pytest-prr ({SCHEMA_ID}) no "
            "longer checks: verify it with the pytest-prr that wrote it, or write the bundle "
            "again and keep its SHA-256 or sign it"
        ]
    error = next(iter(_manifest_validator().iter_errors(manifest)), None)
    if error is not None:
        where = "/".join(str(step) for step in error.absolute_path) or "top level"
        return None, [f"not a {SCHEMA_ID} manifest at {where}: {error.message}"]
    return manifest, []


def _listed_files(directory: Path) -> set[str] | None:
    """The files the manifest of the bundle at ``directory`` lists (one of an older format
    too, which a new run may replace); None when there is no such manifest."""
    try:
        manifest = json.loads((directory / MANIFEST).read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if isinstance(manifest, dict) and manifest.get("schema") in OLD_SCHEMA_IDS:
        files = manifest.get("files")
        return set(files) if isinstance(files, dict) else None
    if next(iter(_manifest_validator().iter_errors(manifest)), None) is not None:
        return None
    return set(manifest["files"])


@functools.cache
def _manifest_validator() -> Any:
    # the validator loads only when a file is validated
    import jsonschema

    schema = json.loads(resources.files(__package__).joinpath("manifest.schema.json").read_text())
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
