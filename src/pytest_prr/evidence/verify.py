"""Verifying an evidence bundle: every byte as recorded, every built-in verdict reproducible.

Three questions, all answered in full rather than stopping at the first problem, so that an
auditor sees everything that is wrong: is ``manifest.json`` the one the auditor kept the
SHA-256 of, or signed by the key they trust; does each file match it (nothing altered,
missing or added); and do the results follow from the snapshot and the bundled inputs when
the checks run again?
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_prr.__about__ import __version__
from pytest_prr.catalog import Catalog, CatalogError, builtin_catalog
from pytest_prr.evidence.bundle import (
    CONTROLS,
    JUNIT,
    MANIFEST,
    RESULTS,
    SIGNATURE,
    SNAPSHOT,
    EvidenceError,
    control_evidence,
    files_in,
    fingerprint,
    read_manifest,
)
from pytest_prr.evidence.junit import junit_problems
from pytest_prr.evidence.replay import inconsistencies, replay
from pytest_prr.evidence.signing import TrustedKey, check_signature
from pytest_prr.report.json_document import DocumentError, validate_document
from pytest_prr.results.attestations import Attestation, AttestationError, load_attestations
from pytest_prr.results.waivers import Waiver, WaiverError, load_waivers
from pytest_prr.snapshot.model import Snapshot
from pytest_prr.snapshot.store import SnapshotError, load_snapshot


@dataclass(frozen=True)
class Problem:
    """One reason a bundle does not verify. ``where`` is a file of the bundle (its path in
    the bundle), or a control and resource whose recorded result does not follow."""

    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass(frozen=True)
class Verification:
    """The outcome of :func:`verify_bundle`; ``notes`` say what could not be checked."""

    problems: tuple[Problem, ...]
    notes: tuple[str, ...]
    files: int
    reevaluated: int
    #: The SHA-256 of manifest.json's bytes (None when it cannot be read).
    manifest_sha256: str | None = None
    #: Whether and by what key the bundle is signed, and whether that was checked.
    signature: str | None = None

    @property
    def intact(self) -> bool:
        return not self.problems


class _Unusable(Exception):
    """A bundle file that re-evaluation needs cannot be used; stops the re-evaluation."""

    def __init__(self, where: str, what: str) -> None:
        super().__init__(what)
        self.problem = Problem(where, what)


def verify_bundle(
    directory: Path, *, expect_sha256: str | None = None, trusted: TrustedKey | None = None
) -> Verification:
    """Check the manifest of the bundle at ``directory``, re-hash every file and re-evaluate
    its snapshot.

    A manifest whose SHA-256 is not ``expect_sha256``, or whose signature is missing or does
    not verify with ``trusted``, is a problem; so is every file altered, missing or added,
    naming it, and every recorded result that re-evaluation does not reproduce, naming its
    control and resource.
    """
    if not directory.is_dir():
        raise EvidenceError(f"{directory}: no such directory")
    present = files_in(directory)
    try:
        raw = (directory / MANIFEST).read_bytes()
    except OSError as error:
        problem = Problem(MANIFEST, f"cannot read it ({error.strerror}): not an evidence bundle?")
        return Verification((problem,), (), len(present), 0)
    digest = hashlib.sha256(raw).hexdigest()
    manifest, manifest_problems = read_manifest(raw)
    problems = [Problem(MANIFEST, what) for what in manifest_problems]
    if expect_sha256 is not None and digest != expect_sha256.lower():
        problems.append(Problem(MANIFEST, f"SHA-256 {digest}, not the expected {expect_sha256}"))
    if manifest is None:
        return Verification(tuple(problems), (), len(present), 0, digest)
    signature_problems, notes, signature = _signature_problems(raw, manifest, present, trusted)
    contents = _verify_contents(directory, manifest, present)
    return Verification(
        (*problems, *signature_problems, *contents.problems),
        (*notes, *contents.notes),
        contents.files,
        contents.reevaluated,
        digest,
        signature,
    )


def _signature_problems(
    raw: bytes, manifest: Mapping[str, Any], present: Mapping[str, Path], trusted: TrustedKey | None
) -> tuple[list[Problem], list[str], str]:
    problems = []
    path = present.get(SIGNATURE)
    if path is not None and (path.is_symlink() or not path.is_file()):
        problems.append(Problem(SIGNATURE, "replaced: not a regular file (a link?)"))
        path = None
    found, notes, signature = check_signature(
        raw, path.read_bytes() if path else None, manifest.get("signature"), trusted
    )
    return [*problems, *(Problem(where, what) for where, what in found)], notes, signature


def _verify_contents(
    directory: Path, manifest: Mapping[str, Any], present: Mapping[str, Path]
) -> Verification:
    """Every file against the manifest, and the results against the snapshot."""
    problems = _file_problems(manifest["files"], present)
    notes = []
    if manifest["tool"]["version"] != __version__:
        notes.append(
            f"written by pytest-prr {manifest['tool']['version']}, verified with {__version__}: "
            "a check that changed in between shows as a mismatch"
        )
    missing = [rel for rel in (RESULTS, SNAPSHOT) if rel not in present]
    if missing:
        notes.append(f"not re-evaluated: the bundle lacks {' and '.join(missing)}")
        return Verification(tuple(problems), tuple(notes), len(present), 0)
    try:
        replayed, replay_notes, reevaluated = _replay(directory, manifest, present)
    except _Unusable as unusable:
        problems.append(unusable.problem)
        notes.append("not re-evaluated: a file it needs cannot be used")
        return Verification(tuple(problems), tuple(notes), len(present), 0)
    except Exception as error:  # fail closed: a bundle that crashes the replay does not verify
        what = f"could not be completed ({type(error).__name__}: {error}): files not as written?"
        problems.append(Problem("re-evaluation", what))
        return Verification(tuple(problems), tuple(notes), len(present), 0)
    return Verification(
        tuple(problems + replayed), tuple(notes + replay_notes), len(present), reevaluated
    )


def _file_problems(listed: Mapping[str, Any], present: Mapping[str, Path]) -> list[Problem]:
    problems = []
    for rel in sorted((listed.keys() | present.keys()) - {MANIFEST, SIGNATURE}):
        if rel not in present:
            problems.append(Problem(rel, f"missing: {MANIFEST} lists it, the bundle lacks it"))
        elif rel not in listed:
            problems.append(Problem(rel, f"added: not listed in {MANIFEST}"))
        elif present[rel].is_symlink() or not present[rel].is_file():
            problems.append(Problem(rel, "replaced: not a regular file (a link?)"))
        else:
            found = fingerprint(present[rel])
            if found != listed[rel]:
                problems.append(
                    Problem(
                        rel,
                        f"altered: SHA-256 {found['sha256']} ({found['size']} bytes); "
                        f"{MANIFEST} records {listed[rel]['sha256']} ({listed[rel]['size']} bytes)",
                    )
                )
    problems += [
        Problem(MANIFEST, f"lists no {rel}: not a complete bundle")
        for rel in (RESULTS, SNAPSHOT)
        if rel not in listed
    ]
    return problems


def _replay(
    directory: Path, manifest: Mapping[str, Any], present: Mapping[str, Path]
) -> tuple[list[Problem], list[str], int]:
    inputs = manifest["inputs"]
    catalog = _catalog(directory, inputs["catalog"])
    document = _document(directory)
    snapshot, digest = _snapshot(directory)
    try:
        tunables = catalog.tunables(manifest["tunables"], "tunables")
    except CatalogError as error:
        raise _Unusable(MANIFEST, str(error)) from error
    attestations = _attestations(directory, inputs["attestations"], catalog)
    waivers = _waivers(directory, inputs["waivers"], catalog)
    judged_on = None
    if inputs["waivers"]:
        if not inputs["waivers_judged_on"]:
            raise _Unusable(MANIFEST, "records a waivers file but not the day it was applied on")
        judged_on = datetime.date.fromisoformat(inputs["waivers_judged_on"])
    notes = []
    if catalog.version != manifest["tool"]["catalog_version"]:
        notes.append(
            f"the bundle records catalog {manifest['tool']['catalog_version']}; this "
            f"pytest-prr with the bundled catalog files makes {catalog.version}"
        )
    found = replay(
        document,
        snapshot,
        catalog,
        tunables=tunables,
        attestations=attestations,
        workload=inputs.get("workload"),
        waivers=waivers or (),
        judged_on=judged_on,
        selected=manifest.get("selected_controls"),
    )
    problems = [Problem(where, what) for where, what in found.mismatches]
    problems += [
        Problem(RESULTS, what)
        for what in inconsistencies(
            document, catalog, waivers=waivers, judged_on=judged_on, snapshot=snapshot
        )
    ]
    problems += _target_problems(manifest, document, snapshot.account_id, digest)
    problems += _control_file_problems(document, catalog, present, manifest["files"])
    problems += [
        Problem(where, what)
        for where, what in junit_problems(
            document, manifest.get("selected_controls"), present.get(JUNIT)
        )
    ]
    return problems, [*notes, *found.notes], found.reevaluated


def _catalog(directory: Path, files: list[str]) -> Catalog:
    catalog = builtin_catalog()
    for rel in files:
        try:
            catalog = catalog.with_file(directory / rel)
        except CatalogError as error:
            raise _Unusable(rel, _unprefixed(error, directory / rel)) from error
    return catalog


def _document(directory: Path) -> dict[str, Any]:
    try:
        document = json.loads((directory / RESULTS).read_bytes())
        validate_document(document)
    except (UnicodeDecodeError, json.JSONDecodeError, DocumentError) as error:
        raise _Unusable(RESULTS, f"not a results document: {error}") from error
    return document


def _snapshot(directory: Path) -> tuple[Snapshot, str]:
    try:
        return load_snapshot(directory / SNAPSHOT)
    except SnapshotError as error:
        raise _Unusable(SNAPSHOT, _unprefixed(error, directory / SNAPSHOT)) from error


def _attestations(directory: Path, files: list[str], catalog: Catalog) -> list[Attestation]:
    attested = [control.id for control in catalog if control.automation == "attested"]
    found: list[Attestation] = []
    for rel in files:
        try:
            found += load_attestations(directory / rel, attested)
        except AttestationError as error:
            raise _Unusable(rel, _unprefixed(error, directory / rel)) from error
    return found


def _waivers(directory: Path, rel: str | None, catalog: Catalog) -> list[Waiver] | None:
    """The bundled waivers; None when the run had no waivers file (not even an empty one)."""
    if rel is None:
        return None
    try:
        return load_waivers(directory / rel, catalog)
    except WaiverError as error:
        raise _Unusable(rel, _unprefixed(error, directory / rel)) from error


def _unprefixed(error: Exception, path: Path) -> str:
    return str(error).removeprefix(f"{path}: ")


def _target_problems(
    manifest: Mapping[str, Any], document: Mapping[str, Any], account_id: str, digest: str
) -> list[Problem]:
    problems = []
    if manifest["targets"] != document["targets"]:
        problems.append(Problem(MANIFEST, f"its targets are not those of {RESULTS}"))
    for target in document["targets"]:
        recorded = target.get("snapshot_sha256")
        if recorded and recorded != digest:
            problems.append(
                Problem(SNAPSHOT, f"SHA-256 {digest}, but {RESULTS} records {recorded}")
            )
        if target["account_id"] != account_id:
            problems.append(
                Problem(SNAPSHOT, f"of account {account_id}, {RESULTS} of {target['account_id']}")
            )
    return problems


def _control_file_problems(
    document: Mapping[str, Any],
    catalog: Catalog,
    present: Mapping[str, Path],
    listed: Mapping[str, Any],
) -> list[Problem]:
    """Each ``controls/<ID>.json`` must say what the results say about its control."""
    problems = []
    expected = {
        f"{CONTROLS}/{control['id']}.json": control["id"] for control in document["controls"]
    }
    for rel, control_id in expected.items():
        if rel not in present:
            if rel not in listed:
                problems.append(Problem(rel, f"missing: {RESULTS} records {control_id}"))
            continue
        try:
            found = json.loads(present[rel].read_bytes())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            problems.append(Problem(rel, f"not valid JSON: {error}"))
            continue
        if found != control_evidence(document, catalog, control_id):
            problems.append(Problem(rel, f"does not say what {RESULTS} records for {control_id}"))
    problems += [
        Problem(rel, f"not a control of {RESULTS}")
        for rel in sorted(present)
        if rel.startswith(f"{CONTROLS}/") and rel not in expected
    ]
    return problems
