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

from pytest_prr.checks.evaluation import builtin_controls, evaluate_control
from pytest_prr.results.model import BUILTIN_TEST, Result, Target, build_document
from pytest_prr.results.waivers import Waiver, apply_waivers, function_tags, report_waivers

if TYPE_CHECKING:
    from pytest_prr.catalog import Catalog, Control
    from pytest_prr.results.attestations import Attestation
    from pytest_prr.snapshot.model import Snapshot

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
    controls: Iterable[str] | None = None,
    workload: str | None = None,
) -> list[Result]:
    """The results of ``controls`` (by default every built-in control) over ``snapshot``,
    made as a run's items make them, before waivers; evidence through JSON, as recorded;
    attestations are judged for ``workload``, the run's ``prr_workload``."""
    selected = builtin_controls(catalog) if controls is None else list(controls)
    results: list[Result] = []
    for control_id in selected:
        evaluated = evaluate_control(
            catalog[control_id],
            snapshot,
            tunables=tunables,
            attestations=attestations,
            workload=workload,
        )
        results += [
            dataclasses.replace(result, evidence=json.loads(json.dumps(result.evidence)))
            if result.evidence
            else result
            for result in evaluated
        ]
    return results


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
    selected: Sequence[str] | None = None,
) -> Replay:
    """Compare the built-in results ``document`` records with a fresh evaluation of every
    control the run ``selected``: a selected control's results missing, extra or different
    are mismatches, and so is a built-in result of a control the run did not select.
    ``selected`` None (a bundle from before selections were recorded) re-evaluates the
    controls that have built-in results, and says so."""
    known = builtin_controls(catalog)
    recorded = recorded_results(document)
    builtin = [r for r in recorded if r.test == BUILTIN_TEST.format(r.control_id)]
    ran = {result.control_id for result in builtin}
    notes: list[str] = []
    mismatches: list[tuple[str, str]] = []
    if selected is None:
        selected = [control_id for control_id in known if control_id in ran]
        notes.append(
            "the manifest records no selected controls (a bundle of an older pytest-prr): only "
            "the controls with built-in results were re-evaluated"
        )
    mismatches += [
        (control_id, f"selected, but not a built-in control of catalog {catalog.version}")
        for control_id in selected
        if control_id not in known
    ]
    chosen = [control_id for control_id in known if control_id in selected]
    expected = builtin_results(
        snapshot,
        catalog,
        tunables=tunables,
        attestations=attestations,
        workload=workload,
        controls=chosen,
    )
    if waivers:
        assert judged_on is not None, "waivers are judged on a day"
        tags_of = function_tags(snapshot)
        expected = apply_waivers(expected, waivers, today=judged_on, tags_of=tags_of)
    for control_id in chosen:
        mismatches += _compare(
            catalog[control_id],
            [r for r in builtin if r.control_id == control_id],
            [r for r in expected if r.control_id == control_id],
        )
    mismatches += [
        (control_id, "results.json records its built-in results, but the run did not select it")
        for control_id in sorted(ran - set(chosen))
    ]
    notes += _user_test_note(r for r in recorded if r.test != BUILTIN_TEST.format(r.control_id))
    unselected = [control_id for control_id in known if control_id not in selected]
    if unselected:
        notes.append(
            f"{len(unselected)} built-in control(s) were not selected in the run, so not "
            f"tested: {', '.join(unselected)}"
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
