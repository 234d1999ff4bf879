"""Saving and loading snapshots, with the SHA-256 that ties results to their evidence."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pytest_prr.snapshot.model import SCHEMA, Snapshot

REQUIRED_KEYS = ("schema", "taken_at", "account", "global", "regions")


class SnapshotError(ValueError):
    """A snapshot file that cannot be evaluated; the message says why."""


class DigestMissing(SnapshotError):
    """A snapshot asked to be shown unaltered has no ``PATH.sha256`` to show it with."""


def save_snapshot(snapshot: Snapshot, path: Path) -> str:
    """Write ``snapshot`` atomically, and ``PATH.sha256`` beside it; return the digest."""
    payload = json.dumps(snapshot.data, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(payload).hexdigest()
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, payload)
    _write_atomically(checksum_path(path), f"{digest}  {path.name}\n".encode())
    return digest


def load_snapshot(path: Path, *, require_digest: bool = False) -> tuple[Snapshot, str]:
    """The snapshot stored at ``path`` and its SHA-256, verified against ``PATH.sha256``
    when that file exists.

    ``require_digest`` refuses a snapshot without ``PATH.sha256`` (:class:`DigestMissing`):
    a replay must not judge a file anyone could have edited, deleting the digest with it.
    Without it the caller vouches for the file another way: a bundle's manifest, or an
    xdist controller that loaded the same file first.
    """
    try:
        payload = path.read_bytes()
    except OSError as error:
        raise SnapshotError(f"{path}: cannot read the snapshot: {error.strerror}") from error
    digest = hashlib.sha256(payload).hexdigest()
    recorded = checksum_path(path)
    if recorded.is_file():
        expected = recorded.read_text().split()[0] if recorded.read_text().split() else ""
        if expected != digest:
            raise SnapshotError(
                f"{path}: SHA-256 is {digest}, but {recorded.name} records {expected or 'nothing'}"
                "; the snapshot was altered after it was saved"
            )
    try:
        data: Any = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SnapshotError(
            f"{path}: not a pytest-prr snapshot (not valid JSON: {error})"
        ) from error
    if not isinstance(data, dict) or "schema" not in data:
        raise SnapshotError(f"{path}: not a pytest-prr snapshot (no 'schema' field)")
    if data["schema"] != SCHEMA:
        raise SnapshotError(
            f"{path}: snapshot format {data['schema']!r}; this pytest-prr reads {SCHEMA!r}"
        )
    missing = [key for key in REQUIRED_KEYS if key not in data]
    if missing:
        raise SnapshotError(f"{path}: incomplete snapshot, missing {', '.join(missing)}")
    if require_digest and not recorded.is_file():
        raise DigestMissing(
            f"{path}: {recorded.name} is missing, so the snapshot cannot be shown unaltered "
            "since it was saved"
        )
    return Snapshot(data), digest


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _write_atomically(path: Path, payload: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(payload)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
