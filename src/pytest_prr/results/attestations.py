"""Attestations: the evidence for process controls (PRC-*) that no AWS API can show.

A team records who attested what, when, with a link to the evidence, in a YAML file named by
the ``prr_attestations`` ini option. An attestation is valid from its ``date`` until its
``expires`` date or the control's validity period after its ``date``, whichever comes first.

Two ways an attestation could vouch for more than it saw are closed here: one dated after the
day the run is judged on (the snapshot's) describes nothing that had happened yet, so it
fails; and with the ``prr_workload`` ini option set, only attestations whose ``scope`` is that
workload count, so one service's threat model cannot satisfy every workload's run.
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
    workload: str | None = None,
) -> list[tuple[str, str, str, Mapping[str, Any]]]:
    """(scope, status, message, evidence) per attested scope of ``control_id``; one FAIL
    for the workload when nobody attested it. Never not_applicable (the spec).

    With ``workload`` (the run's ``prr_workload``) only attestations of that scope count, and
    the one verdict is about the workload; without it every scope in the file is judged.
    """
    found = [a for a in attestations if a.control == control_id]
    if workload is not None:
        bound = [a for a in found if a.scope == workload]
        if not bound:
            return [_unattested(control_id, workload, sorted({a.scope for a in found}))]
        found = bound
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
    return [_judge(attestation, valid_days, today) for _, attestation in sorted(newest.items())]


def _unattested(
    control_id: str, workload: str, other_scopes: list[str]
) -> tuple[str, str, str, Mapping[str, Any]]:
    """The FAIL of a workload nobody attested, naming the scopes that were attested instead:
    an attestation of another workload is no evidence about this one."""
    message = f"no attestation of {control_id} for workload {workload!r} (prr_workload)"
    if other_scopes:
        scopes = ", ".join(repr(scope) for scope in other_scopes)
        message += (
            f": the attestations of {control_id} are for scope {scopes}, not for workload "
            f"{workload!r}, so they do not count"
        )
    else:
        message += "; record one in the prr_attestations file"
    return workload, "fail", message, {"workload": workload, "attested_scopes": other_scopes}


def _judge(
    attestation: Attestation, valid_days: int | None, today: datetime.date
) -> tuple[str, str, str, Mapping[str, Any]]:
    """One attestation's verdict on ``today``: a future date fails before anything else,
    since such an attestation vouches for what had not happened when the account was read."""
    scope = attestation.scope
    until = attestation.valid_until(valid_days)
    evidence = {
        "attested_by": attestation.attested_by,
        "date": attestation.date.isoformat(),
        "valid_until": until.isoformat(),
        "evidence": attestation.evidence,
    }
    if attestation.date > today:
        message = (
            f"{scope}: attestation by {attestation.attested_by} is attested in the future: "
            f"dated {attestation.date}, after the snapshot date {today}"
        )
        return scope, "fail", message, evidence
    if today > until:
        message = (
            f"{scope}: attestation by {attestation.attested_by} of {attestation.date} "
            f"expired on {until}"
        )
        return scope, "fail", message, evidence
    message = (
        f"{scope}: attested by {attestation.attested_by} on {attestation.date}, valid until {until}"
    )
    return scope, "pass", message, evidence


def unbound_warning(attestations: Sequence[Attestation]) -> str | None:
    """The terminal's warning for a run without ``prr_workload``: its attestations count
    for whatever workload is read, so the reader is shown what each one claims to cover."""
    if not attestations:
        return None
    scopes = ", ".join(f"{a.control} {a.scope!r}" for a in attestations)
    return (
        "prr: WARNING: prr_workload is not set, so attestations are not bound to a workload: "
        f"each counts for this run whatever its scope; scopes: {scopes}"
    )
