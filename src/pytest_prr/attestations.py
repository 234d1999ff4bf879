"""Attestations: the evidence for process controls (PRC-*) that no AWS API can show.

A team records who attested what, when, with a link to the evidence, in a YAML file named by
the ``prr_attestations`` ini option. An attestation is valid until its ``expires`` date or the
control's validity period after its ``date``, whichever comes first.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

FIELDS = ("control", "scope", "attested_by", "date", "evidence", "expires")


class AttestationError(ValueError):
    """A malformed attestations file; the message names the file and the entry."""


@dataclass(frozen=True)
class Attestation:
    control: str
    scope: str
    attested_by: str
    date: datetime.date
    evidence: str
    expires: datetime.date

    def valid_until(self, valid_days: int | None) -> datetime.date:
        if valid_days is None:
            return self.expires
        return min(self.expires, self.date + datetime.timedelta(days=valid_days))


def load_attestations(path: Path, known_controls: Sequence[str]) -> list[Attestation]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise AttestationError(f"{path}: cannot read: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise AttestationError(f"{path}: not valid YAML: {error}") from error
    entries = data.get("attestations") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise AttestationError(f"{path}: expected a mapping with an 'attestations' list")
    return [
        _attestation(entry, f"{path}: attestations[{index}]", known_controls)
        for index, entry in enumerate(entries)
    ]


def _attestation(entry: Any, where: str, known_controls: Sequence[str]) -> Attestation:
    if not isinstance(entry, dict):
        raise AttestationError(f"{where}: must be a mapping of {', '.join(FIELDS)}")
    missing = [name for name in FIELDS if entry.get(name) in (None, "")]
    unknown = sorted(set(entry) - set(FIELDS))
    if missing or unknown:
        problems = [f"missing {', '.join(missing)}"] if missing else []
        problems += [f"unknown field(s) {', '.join(unknown)}"] if unknown else []
        raise AttestationError(f"{where}: {'; '.join(problems)}")
    if entry["control"] not in known_controls:
        raise AttestationError(
            f"{where}: control {entry['control']!r} is not an attested control "
            f"({', '.join(known_controls)})"
        )
    for name in ("date", "expires"):
        if not isinstance(entry[name], datetime.date) or isinstance(entry[name], datetime.datetime):
            raise AttestationError(f"{where}: {name} must be a date (YYYY-MM-DD)")
    if not str(entry["evidence"]).startswith("https://"):
        raise AttestationError(f"{where}: evidence must be an https:// link")
    if entry["expires"] < entry["date"]:
        raise AttestationError(f"{where}: expires {entry['expires']} is before date")
    return Attestation(
        control=entry["control"],
        scope=str(entry["scope"]),
        attested_by=str(entry["attested_by"]),
        date=entry["date"],
        evidence=entry["evidence"],
        expires=entry["expires"],
    )


def evaluate(
    control_id: str,
    valid_days: int | None,
    attestations: Sequence[Attestation],
    today: datetime.date,
) -> list[tuple[str, str, str, Mapping[str, Any]]]:
    """(scope, status, message, evidence) per attested scope of ``control_id``; one FAIL
    for the workload when nobody attested it. Never not_applicable (the spec)."""
    found = [a for a in attestations if a.control == control_id]
    if not found:
        return [
            (
                "workload",
                "fail",
                f"no attestation of {control_id}; record one in the prr_attestations file",
                {},
            )
        ]
    newest: dict[str, Attestation] = {}
    for attestation in sorted(found, key=lambda a: a.date):
        newest[attestation.scope] = attestation
    verdicts = []
    for scope, attestation in sorted(newest.items()):
        until = attestation.valid_until(valid_days)
        evidence = {
            "attested_by": attestation.attested_by,
            "date": attestation.date.isoformat(),
            "valid_until": until.isoformat(),
            "evidence": attestation.evidence,
        }
        if today > until:
            message = (
                f"{scope}: attestation by {attestation.attested_by} of {attestation.date} "
                f"expired on {until}"
            )
            verdicts.append((scope, "fail", message, evidence))
        else:
            message = (
                f"{scope}: attested by {attestation.attested_by} on {attestation.date}, "
                f"valid until {until}"
            )
            verdicts.append((scope, "pass", message, evidence))
    return verdicts
