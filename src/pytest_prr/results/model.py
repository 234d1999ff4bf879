"""Results of readiness tests, their roll-up, and the results document they make.

One :class:`Result` says what one test found about one control for one resource. Results
travel from xdist workers to the controller as plain dicts on the test report; the
controller turns them, with the catalog, into the ``prr-results/1`` document that every
output renders.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from pytest_prr.accounts.emulators import MOTO, Emulator, profile_for
from pytest_prr.catalog import Catalog

SCHEMA_ID = "prr-results/1"
STATUSES = ("pass", "fail", "error", "waived", "not_applicable", "not_tested")
#: A control's status is the first of these among its results (results.schema.json).
CONTROL_ROLLUP = ("fail", "error", "waived", "pass", "not_applicable")
#: A framework requirement is only met when every control mapped to it has evidence, so
#: an untested control outranks a pass there (spec v1.1, "Requirement roll-up").
REQUIREMENT_ROLLUP = ("fail", "error", "not_tested", "waived", "pass", "not_applicable")
#: A requirement's status -> what the summary counts it as, in the order outputs report them.
#: Each is a count of its own: a requirement met only through a waiver, or whose controls were
#: all not applicable (no positive evidence), is not "met".
REQUIREMENT_OUTCOMES: Mapping[str, str] = {
    "pass": "met",
    "waived": "waived",
    "not_applicable": "not_applicable",
    "fail": "unmet",
    "error": "error",
    "not_tested": "not_tested",
}
#: Control statuses that keep a run from being ready for production.
NOT_READY = ("fail", "error", "not_tested")
MESSAGE_LIMIT = 2000
#: The test a built-in control's results name, the same in every run and every account.
BUILTIN_TEST = "prr::{}"


@dataclass(frozen=True)
class Result:
    """What one test (a built-in check or a team's own) found about one control for one
    resource of one account: the one record from the check to every report."""

    control_id: str
    resource_id: str
    status: str
    test: str
    message: str = ""
    account_id: str | None = None
    region: str | None = None
    evidence: Mapping[str, Any] | None = None
    #: Set when a waiver turned a FAIL into ``waived``: what it was, and the waiver.
    original_status: str | None = None
    waiver: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The result as plain data, for a test report to carry across xdist.

        The evidence and waiver are shared, not copied: a result is frozen and nothing
        changes its evidence, and ``dataclasses.asdict``'s deep copy of them cost 5 s over
        the 96,000 results of a 2,000-function account.
        """
        return {field.name: getattr(self, field.name) for field in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Result:
        return cls(**data)


def rollup(statuses: Iterable[str], order: Sequence[str] = CONTROL_ROLLUP) -> str:
    """The first status of ``order`` present in ``statuses``; not_tested when none is."""
    present = set(statuses)
    unknown = present - set(STATUSES)
    if unknown:
        raise ValueError(f"unknown status(es): {', '.join(sorted(unknown))}")
    return next((status for status in order if status in present), "not_tested")


def describe_exception(exception: BaseException | None, fallback: str) -> str:
    """A one-paragraph message for a result; AWS errors keep their operation name."""
    if exception is None:
        text = fallback
    elif isinstance(exception, AssertionError):
        text = str(exception) or "assertion failed"
    else:
        text = f"{type(exception).__name__}: {exception}"
    text = text.strip()
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


@dataclass(frozen=True)
class Target:
    """One account a run evaluated, as the results document records it."""

    account: str
    account_id: str
    regions: tuple[str, ...]
    mode: str
    snapshot_taken_at: str | None = None
    snapshot_sha256: str | None = None
    #: Where a replayed snapshot (mode "snapshot") was taken: live, endpoint or moto.
    snapshot_mode: str | None = None
    #: The emulator behind a moto or endpoint target, as detected: name and version.
    emulator: Mapping[str, Any] | None = None
    #: Who read the account: the STS caller identity that verified a live or endpoint target.
    caller_arn: str | None = None
    #: A replay's: whether its ``.sha256`` showed the snapshot unaltered (None: not a replay).
    snapshot_verified: bool | None = None
    #: Mode template: what was deployed (path, sha256, parameters, unsupported resources).
    templates: tuple[Mapping[str, Any], ...] = ()
    #: A member account reached through an organization: its name, management account and
    #: units (``Membership.record()``).
    organization: Mapping[str, Any] | None = None
    #: Why the account could not be read at all (its role refused, its reads denied): every
    #: built-in control of it is then an ERROR saying this.
    unreadable: str | None = None

    def to_dict(self) -> dict[str, Any]:
        target: dict[str, Any] = {
            "account": self.account,
            "account_id": self.account_id,
            "regions": list(self.regions),
            "mode": self.mode,
        }
        if self.snapshot_taken_at:
            target["snapshot_taken_at"] = self.snapshot_taken_at
        if self.snapshot_sha256:
            target["snapshot_sha256"] = self.snapshot_sha256
        if self.snapshot_mode:
            target["snapshot_mode"] = self.snapshot_mode
        if self.snapshot_verified is not None:
            target["snapshot_verified"] = self.snapshot_verified
        if self.emulator:
            target["emulator"] = {
                "name": self.emulator["name"],
                "version": self.emulator.get("version"),
            }
        if self.caller_arn:
            target["caller_arn"] = self.caller_arn
        if self.organization:
            target["organization"] = dict(self.organization)
        if self.unreadable:
            target["unreadable"] = self.unreadable
        if self.templates:
            # The schema's ``template`` is one; a run over several keeps each in ``templates``.
            described = [_template(template) for template in self.templates]
            target["template"] = described[0]
            if len(described) > 1:
                target["templates"] = described
        return target


def _template(template: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "path": template["path"],
        "sha256": template["sha256"],
        "parameters": dict(template.get("parameters", {})),
        "unsupported": [
            {key: entry[key] for key in ("logical_id", "type", "reason")}
            for entry in template.get("unsupported", ())
        ],
    }


def build_document(
    catalog: Catalog,
    targets: Sequence[Target],
    results: Iterable[Result],
    *,
    tool_version: str,
    generated_at: datetime | None = None,
) -> dict[str, Any]:
    """The control-coverage matrix as a ``prr-results/1`` document.

    Deterministic for a given set of results, whatever order they arrived in, so a run
    under xdist and a serial run produce the same document.
    """
    by_control: dict[str, list[Result]] = defaultdict(list)
    for result in merge_phases(results):
        by_control[result.control_id].append(result)
    gaps = emulator_gaps(targets)
    controls: list[dict[str, Any]] = []
    for control in catalog:
        entries = sorted(map(_resource_entry, by_control.get(control.id, [])), key=resource_order)
        controls.append(
            {
                "id": control.id,
                "title": control.title,
                "domain": control.domain,
                "scope": control.scope,
                "severity": control.severity,
                "status": rollup(entry["status"] for entry in entries),
                "frameworks": {key: list(refs) for key, refs in control.frameworks.items() if refs},
                "tests": sorted({entry["test"] for entry in entries}),
                "resources": entries,
                **({"emulator_gaps": gaps[control.id]} if control.id in gaps else {}),
            }
        )
    frameworks = rollup_frameworks(
        framework_requirements(catalog), {c["id"]: c["status"] for c in controls}
    )
    return {
        "schema": SCHEMA_ID,
        "generated_at": timestamp(generated_at),
        "tool": {"name": "pytest-prr", "version": tool_version, "catalog_version": catalog.version},
        "targets": [target.to_dict() for target in targets],
        "summary": summarize(controls, frameworks),
        "domains": dict(catalog.domains),
        "controls": controls,
        "frameworks": frameworks,
    }


def emulator_gaps(targets: Iterable[Target]) -> dict[str, dict[str, list[str]]]:
    """control → emulator → what that emulator cannot show of the control, for the
    emulators the targets ran on (a replayed snapshot names the one it was taken on; one
    from before emulators were recorded is taken as moto when it was a moto run)."""

    found: dict[str, dict[str, list[str]]] = {}
    for target in targets:
        emulator = Emulator.from_dict(target.emulator)
        if emulator is None and MOTO in (target.mode, target.snapshot_mode):
            emulator = Emulator(MOTO)
        profile = profile_for(emulator)
        if profile is None:
            continue
        for control, whys in profile.by_control().items():
            known = found.setdefault(control, {}).setdefault(profile.emulator, [])
            known.extend(why for why in whys if why not in known)
    return found


def timestamp(moment: datetime | None = None) -> str:
    """``moment`` (now when None) as the documents write it: UTC, seconds, a trailing Z."""
    moment = moment or datetime.now(UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def summarize(
    controls: Sequence[Mapping[str, Any]],
    frameworks: Mapping[str, Sequence[Mapping[str, Any]]],
) -> dict[str, Any]:
    """The summary of a document's control entries and framework requirements: coverage,
    controls per status, requirements per outcome for each framework, and the readiness
    verdict, which is what a reader must see first (coverage counts a FAIL as tested)."""
    tested = sum(1 for control in controls if control["status"] != "not_tested")
    by_status = dict.fromkeys(STATUSES, 0)
    for control in controls:
        by_status[control["status"]] += 1
    return {
        "controls_total": len(controls),
        "controls_tested": tested,
        "coverage_pct": round(100 * tested / len(controls), 1) if controls else 0.0,
        "by_status": by_status,
        "requirements": requirement_counts(frameworks),
        "readiness": readiness(by_status),
    }


def requirement_counts(
    frameworks: Mapping[str, Sequence[Mapping[str, Any]]],
) -> dict[str, dict[str, int]]:
    """Per framework, how many requirements roll up to each outcome (met, waived,
    not_applicable, unmet, error, not_tested), every outcome present."""
    counts = {}
    for key, requirements in frameworks.items():
        found = dict.fromkeys(REQUIREMENT_OUTCOMES.values(), 0)
        for requirement in requirements:
            found[REQUIREMENT_OUTCOMES[requirement["status"]]] += 1
        counts[key] = found
    return counts


def readiness(by_status: Mapping[str, int]) -> dict[str, Any]:
    """The verdict on controls counted per status: ready only when none fails, errors or
    is untested, since a control without a result is no evidence either way."""
    counts = {status: by_status.get(status, 0) for status in NOT_READY}
    return {"verdict": "not_ready" if any(counts.values()) else "ready", **counts}


def merge_phases(results: Iterable[Result]) -> list[Result]:
    """One result per control, resource (in its account and region) and test, however many
    phases reported.

    A test whose call passed but whose teardown failed is one ERROR for its resource, not
    a PASS beside an ERROR.
    """
    grouped: dict[tuple[Any, ...], list[Result]] = defaultdict(list)
    for result in results:
        key = (result.control_id, result.account_id, result.region, result.resource_id)
        grouped[(*key, result.test)].append(result)
    merged = []
    for found in grouped.values():
        status = rollup(result.status for result in found)
        merged.append(next(result for result in found if result.status == status))
    return merged


def resource_order(entry: Mapping[str, Any]) -> tuple[str, ...]:
    """Where a resource entry sorts within its control: by resource, account, region, test
    and status, so that a document depends neither on the order its results arrived in nor
    on the order of the documents ``prr merge`` combines."""
    return (
        entry["id"],
        entry.get("account_id") or "",
        entry.get("region") or "",
        entry.get("test", ""),
        entry["status"],
    )


def _resource_entry(result: Result) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": result.resource_id, "status": result.status}
    if result.original_status:
        entry["original_status"] = result.original_status
    if result.waiver:
        entry["waiver"] = dict(result.waiver)
    if result.account_id:
        entry["account_id"] = result.account_id
    if result.region:
        entry["region"] = result.region
    if result.message:
        entry["message"] = result.message
    if result.evidence:
        entry["evidence"] = dict(result.evidence)
    entry["test"] = result.test
    return entry


def framework_requirements(catalog: Catalog) -> dict[str, list[dict[str, Any]]]:
    """Per framework, each requirement some control maps to, with those controls."""
    frameworks: dict[str, list[dict[str, Any]]] = {}
    for key, framework in catalog.frameworks.items():
        mapped: dict[str, list[str]] = defaultdict(list)
        for control in catalog:
            for ref in control.frameworks.get(key, ()):
                mapped[ref].append(control.id)
        frameworks[key] = [
            {
                "ref": requirement.ref,
                "title": requirement.title,
                "controls": mapped[requirement.ref],
            }
            for requirement in framework.requirements
            if requirement.ref in mapped
        ]
    return frameworks


def rollup_frameworks(
    requirements: Mapping[str, Sequence[Mapping[str, Any]]], status_of: Mapping[str, str]
) -> dict[str, list[dict[str, Any]]]:
    """``requirements`` (as :func:`framework_requirements` lists them), each with the status
    its controls roll up to."""
    return {
        key: [
            {
                "ref": requirement["ref"],
                "title": requirement["title"],
                "controls": list(requirement["controls"]),
                "status": rollup(
                    (status_of[control_id] for control_id in requirement["controls"]),
                    REQUIREMENT_ROLLUP,
                ),
            }
            for requirement in listed
        ]
        for key, listed in requirements.items()
    }
