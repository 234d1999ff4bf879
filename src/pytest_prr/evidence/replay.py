"""Re-evaluating a snapshot to check a results document: do the recorded verdicts follow?

The built-in checks are pure functions of the snapshot, the tunables, the attestations and
the waivers, so a verifier can run them again and compare, resource by resource, with what
a results document records; and every roll-up in the document (control statuses, summary,
framework requirements, the waivers section) can be rebuilt from its own resources. Results
of users' own tests cannot be re-run (their code is not evidence the bundle holds): they are
counted and said so, never passed over silently.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_prr.attestations import evaluate as evaluate_attestations
from pytest_prr.checks.base import run_check
from pytest_prr.results import Result, Target, build_document, describe_exception
from pytest_prr.waivers import Waiver, apply_waivers, function_tags, report_waivers

if TYPE_CHECKING:
    from pytest_prr.attestations import Attestation
    from pytest_prr.catalog import Catalog, Control
    from pytest_prr.checks.base import Check
    from pytest_prr.snapshot.model import Snapshot

BUILTIN_TEST = "prr::{}"
#: The fields of a result that re-evaluation must reproduce exactly.
COMPARED = ("status", "original_status", "message", "evidence", "waiver", "region", "account_id")
_SHOWN = 160


@dataclass(frozen=True)
class Replay:
    """What re-evaluation found: ``mismatches`` as (control and resource, what differs),
    ``notes`` on what it could not check, and how many recorded built-in results it
    compared."""

    mismatches: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]
    reevaluated: int


def recorded_results(document: Mapping[str, Any]) -> list[Result]:
    """The results a document records, as the run held them before building it."""
    return [
        Result(
            control_id=control["id"],
            resource_id=entry["id"],
            status=entry["status"],
            test=entry.get("test", ""),
            message=entry.get("message", ""),
            account_id=entry.get("account_id"),
            region=entry.get("region"),
            evidence=entry.get("evidence"),
            original_status=entry.get("original_status"),
            waiver=entry.get("waiver"),
        )
        for control in document["controls"]
        for entry in control["resources"]
    ]


def builtin_results(
    snapshot: Snapshot,
    catalog: Catalog,
    *,
    tunables: Mapping[str, Any],
    attestations: Sequence[Attestation] = (),
    workload: str | None = None,
) -> list[Result]:
    """Every built-in control's results over ``snapshot``, exactly as a run's items make
    them (a crashed check is one ERROR for the account), before waivers; attestations are
    judged for ``workload``, the run's ``prr_workload``."""
    # builtin.py is the plugin's side (pytest items); only its registry is needed here.
    from pytest_prr.builtin import registered_checks

    checks = registered_checks()
    today = datetime.date.fromisoformat(snapshot.taken_at[:10])
    results: list[Result] = []
    for control in catalog:
        test = BUILTIN_TEST.format(control.id)
        if control.id in checks:
            results += _check_results(checks[control.id], snapshot, tunables, test)
        elif control.automation == "attested":
            results += [
                _result(snapshot, control.id, scope, None, status, message, evidence, test)
                for scope, status, message, evidence in evaluate_attestations(
                    control.id, control.valid_days, attestations, today, workload
                )
            ]
    return results


def _check_results(
    check: Check, snapshot: Snapshot, tunables: Mapping[str, Any], test: str
) -> list[Result]:
    try:
        findings = run_check(check, snapshot, tunables)
    except Exception as error:
        message = f"the check crashed: {describe_exception(error, '')}"
        account = snapshot.account_id
        return [_result(snapshot, check.control_id, account, None, "error", message, {}, test)]
    return [
        _result(
            snapshot, f.control_id, f.resource_id, f.region, f.status, f.message, f.evidence, test
        )
        for f in findings
    ]


def _result(
    snapshot: Snapshot,
    control_id: str,
    resource_id: str,
    region: str | None,
    status: str,
    message: str,
    evidence: Mapping[str, Any],
    test: str,
) -> Result:
    # Through JSON, as the recorded result went: a tuple in evidence is a list there.
    return Result(
        control_id=control_id,
        resource_id=resource_id,
        status=status,
        test=test,
        message=message,
        account_id=snapshot.account_id,
        region=region,
        evidence=json.loads(json.dumps(evidence)) if evidence else None,
    )


def replay(
    document: Mapping[str, Any],
    snapshot: Snapshot,
    catalog: Catalog,
    *,
    tunables: Mapping[str, Any],
    attestations: Sequence[Attestation] = (),
    workload: str | None = None,
    waivers: Sequence[Waiver] = (),
    judged_on: datetime.date | None = None,
) -> Replay:
    """Compare the built-in results ``document`` records with a fresh evaluation."""
    expected = builtin_results(
        snapshot, catalog, tunables=tunables, attestations=attestations, workload=workload
    )
    if waivers:
        assert judged_on is not None, "waivers are judged on a day"
        tags_of = function_tags(snapshot)
        expected = apply_waivers(expected, waivers, today=judged_on, tags_of=tags_of)
    recorded = recorded_results(document)
    builtin = [r for r in recorded if r.test == BUILTIN_TEST.format(r.control_id)]
    ran = {result.control_id for result in builtin}
    mismatches: list[tuple[str, str]] = []
    for control in catalog:
        if control.id in ran:
            mismatches += _compare(
                control,
                [r for r in builtin if r.control_id == control.id],
                [r for r in expected if r.control_id == control.id],
            )
    notes = _user_test_note(r for r in recorded if r.test != BUILTIN_TEST.format(r.control_id))
    not_recorded = sorted({r.control_id for r in expected} - ran, key=list(catalog.controls).index)
    if not_recorded:
        notes.append(
            f"{len(not_recorded)} built-in control(s) have results on this snapshot but none "
            f"in the results (not selected in the run?): {', '.join(not_recorded)}"
        )
    return Replay(tuple(mismatches), tuple(notes), len(builtin))


def _compare(
    control: Control, recorded: list[Result], expected: list[Result]
) -> list[tuple[str, str]]:
    got = {result.resource_id: result for result in recorded}
    want = {result.resource_id: result for result in expected}
    mismatches = []
    for resource_id in sorted(got.keys() | want.keys()):
        where = f"{control.id} {resource_id}"
        if resource_id not in got:
            status = want[resource_id].status
            mismatches.append((where, f"re-evaluation gives {status}; results.json records none"))
        elif resource_id not in want:
            status = got[resource_id].status
            mismatches.append((where, f"results.json records {status}; re-evaluation finds none"))
        else:
            mismatches += [
                (where, f"{name}: results.json records {_show(a)}, re-evaluation gives {_show(b)}")
                for name in COMPARED
                if (a := getattr(got[resource_id], name)) != (b := getattr(want[resource_id], name))
            ]
    return mismatches


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _user_test_note(results: Iterable[Result]) -> list[str]:
    tests = sorted({result.test for result in results})
    if not tests:
        return []
    example = f" (e.g. {tests[0]})"
    return [
        f"{len(tests)} user test(s){example} cannot be re-run from a snapshot: their results "
        "are covered by the SHA-256 of results.json only"
    ]


def inconsistencies(
    document: Mapping[str, Any],
    catalog: Catalog,
    *,
    waivers: Sequence[Waiver] | None = None,
    judged_on: datetime.date | None = None,
    snapshot: Snapshot | None = None,
) -> list[str]:
    """Where ``document`` does not follow from its own resources: a control's status,
    the summary, a framework requirement, and the waivers section, which a run with a
    waivers file (``waivers`` not None, even if empty) always writes and any other never."""
    recorded = recorded_results(document)
    rebuilt = build_document(
        catalog,
        [_target(target) for target in document["targets"]],
        recorded,
        tool_version=document["tool"]["version"],
        generated_at=datetime.datetime.fromisoformat(document["generated_at"]),
    )
    problems = [
        f"{key} does not follow from the recorded resources"
        for key in ("tool", "summary", "domains", "frameworks")
        if document.get(key) != rebuilt[key]
    ]
    by_id = {control["id"]: control for control in document["controls"]}
    if list(by_id) != [control["id"] for control in rebuilt["controls"]]:
        problems.append(f"the controls are not those of catalog {catalog.version}")
    for control in rebuilt["controls"]:
        found = by_id.get(control["id"], {})
        problems += [
            f"controls {control['id']}: {key} does not follow from the catalog and its resources"
            for key, value in control.items()
            if found.get(key) != value
        ]
    if waivers is not None:
        assert judged_on is not None and snapshot is not None
        section = report_waivers(
            waivers, recorded, today=judged_on, tags_of=function_tags(snapshot)
        ).to_dict()
        if document.get("waivers") != section:
            problems.append("waivers (expired, stale) do not follow from the waivers file")
    elif "waivers" in document:
        problems.append("records a waivers section, but the bundle holds no waivers file")
    return problems


def _target(recorded: Mapping[str, Any]) -> Target:
    names = {field.name for field in dataclasses.fields(Target)}
    values = {key: value for key, value in recorded.items() if key in names}
    return Target(**{**values, "regions": tuple(recorded["regions"])})
