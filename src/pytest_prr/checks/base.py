"""What a check is, how it is registered, and how it runs over a snapshot, fail-closed.

A check is written for one resource: a function, an account region, an API stage. The
runner here walks the snapshot, gives each resource to the check, and turns a
:class:`~pytest_prr.snapshot.model.DataUnavailable` (the data the rule needs failed to load)
into an ERROR naming the operation, so a check never has to handle a missing permission and
can never pass because of one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_prr.results.model import BUILTIN_TEST, Result
from pytest_prr.snapshot.guarded import FIELD_MISSING, guard, unwrap
from pytest_prr.snapshot.model import (
    EMULATOR_GAP,
    UNIMPLEMENTED,
    DataUnavailable,
    Snapshot,
    is_error,
    require,
)


@dataclass(frozen=True)
class Verdict:
    """A check's answer for one resource: pass, fail or not_applicable, a message a
    reviewer can act on, and the configuration fields the verdict rests on."""

    status: str
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)


#: The code of a read the snapshot never made: taken by another version, or edited.
NOT_IN_SNAPSHOT = "NotInSnapshot"
#: How many items an evidence list keeps; see :func:`listed`.
EVIDENCE_ITEMS = 50


def listed(name: str, items: Sequence[Any]) -> dict[str, Any]:
    """``items`` as the evidence field ``name``, cut at :data:`EVIDENCE_ITEMS` with the
    full count in ``<name>_total``.

    A list can grow with the account rather than with the resource: a role allowing ``*``
    grants thousands of risky actions, and each of its functions carried them all (149 MB
    of a 217 MB results document at 2,000 functions). The items kept are the first in the
    list's order; all of them can be derived again from the snapshot.
    """
    if len(items) <= EVIDENCE_ITEMS:
        return {name: list(items)}
    return {name: list(items[:EVIDENCE_ITEMS]), f"{name}_total": len(items)}


def passed(message: str, **evidence: Any) -> Verdict:
    return Verdict("pass", message, evidence)


def failed(message: str, **evidence: Any) -> Verdict:
    return Verdict("fail", message, evidence)


def not_applicable(message: str, **evidence: Any) -> Verdict:
    return Verdict("not_applicable", message, evidence)


class SnapshotView(Snapshot):
    """The snapshot as checks see it: every section through a guarded view
    (:mod:`~pytest_prr.snapshot.guarded`), so no check can read a failed read as data. It
    shares the snapshot's indexes, which every control's checks build once."""

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__(snapshot.data)
        self._indexes = snapshot._indexes
        self._view = guard(snapshot.data)

    def region(self, name: str) -> Mapping[str, Any]:
        return self._view["regions"][name]

    @property
    def account_wide(self) -> Mapping[str, Any]:
        return self._view["global"]

    def functions(self) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for region in self.regions:
            for function in self.region(region)["lambda"]["functions"].values():
                yield region, require(function)

    def role(self, arn: str) -> Mapping[str, Any] | None:
        return self.account_wide["iam"]["roles"].get(arn)


@dataclass(frozen=True)
class Context:
    """What a check may read besides its resource: the whole snapshot, the resource's
    region and its section, the account, and the tunables (with their defaults)."""

    snapshot: SnapshotView
    region: str | None
    tunables: Mapping[str, Any]

    @property
    def account_id(self) -> str:
        return self.snapshot.account_id

    @property
    def section(self) -> Mapping[str, Any]:
        assert self.region is not None
        return self.snapshot.region(self.region)

    def role_of(self, function: Mapping[str, Any]) -> Mapping[str, Any] | None:
        return self.snapshot.role(function["Role"])


FunctionCheck = Callable[[Mapping[str, Any], Context], Verdict]
RegionCheck = Callable[[Context], Verdict]
StageCheck = Callable[[Mapping[str, Any], Context], Verdict]


@dataclass(frozen=True)
class Check:
    control_id: str
    scope: str
    evaluate: Callable[..., Verdict]


REGISTRY: dict[str, Check] = {}


def _name(function: Callable[..., Any]) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def _register(control_id: str, scope: str) -> Callable[[Callable[..., Verdict]], Any]:
    def decorate(function: Callable[..., Verdict]) -> Callable[..., Verdict]:
        known = REGISTRY.get(control_id)
        # A module imported again (pytester unloads modules between in-process runs)
        # registers the same function again; a second function for the control is a bug.
        if known is not None and _name(known.evaluate) != _name(function):
            raise ValueError(f"a check for {control_id} is registered twice")
        REGISTRY[control_id] = Check(control_id, scope, function)
        return function

    return decorate


def function_check(control_id: str) -> Callable[[FunctionCheck], FunctionCheck]:
    """Register ``check(function, context) -> Verdict``, run once per Lambda function."""
    return _register(control_id, "function")


def region_check(control_id: str) -> Callable[[RegionCheck], RegionCheck]:
    """Register ``check(context) -> Verdict``, run once per account region."""
    return _register(control_id, "account")


def account_check(control_id: str) -> Callable[[RegionCheck], RegionCheck]:
    """Register ``check(context) -> Verdict``, run once per account for global services
    (Organizations); ``context.region`` is None."""
    return _register(control_id, "global")


def stage_check(control_id: str) -> Callable[[StageCheck], StageCheck]:
    """Register ``check(stage, context) -> Verdict``, once per API Gateway stage that
    integrates a function (``section["apigw"]["stages"]``)."""
    return _register(control_id, "api")


def run_check(check: Check, snapshot: Snapshot, tunables: Mapping[str, Any]) -> list[Result]:
    """The result of ``check`` for each resource of ``snapshot``, an ERROR where data is
    missing: the record a run, its reports and ``prr verify`` all keep, as it is here."""
    findings: list[Result] = []
    view = SnapshotView(snapshot)
    if check.scope == "global":
        return [
            _result(
                check,
                snapshot.account_id,
                snapshot.account_id,
                None,
                lambda: check.evaluate(Context(view, None, tunables)),
            )
        ]
    for region in snapshot.regions:
        context = Context(view, region, tunables)
        for resource_id, resource, evaluate in _resources(check, context):
            findings.append(
                _result(
                    check,
                    snapshot.account_id,
                    resource_id,
                    region,
                    lambda r=resource, e=evaluate: e(r),
                    provenance=_provenance(resource) if check.scope == "function" else None,
                )
            )
    return findings


def _provenance(function: Any) -> Mapping[str, Any] | None:
    """Where fields of a function came from when not from the target's own API (an
    emulator's dropped field recorded from its write request, say): every verdict on the
    function carries it as evidence, since any of them may rest on those fields."""
    if not isinstance(function, Mapping) or is_error(function):
        return None
    return unwrap(function.get("provenance")) or None


def _result(
    check: Check,
    account_id: str,
    resource_id: str,
    region: str | None,
    evaluate: Callable[[], Verdict],
    *,
    provenance: Mapping[str, Any] | None = None,
) -> Result:
    """Run one evaluation; missing data becomes an ERROR that names the failed read."""
    try:
        verdict = evaluate()
    except DataUnavailable as error:
        verdict = Verdict(
            "error",
            f"cannot evaluate: {describe_unavailable(error)}",
            {
                "operation": error.operation,
                "code": error.code,
                **({"kind": error.kind} if error.kind else {}),
            },
        )
    evidence = unwrap(dict(verdict.evidence))
    if provenance:
        evidence["provenance"] = provenance
    return Result(
        control_id=check.control_id,
        resource_id=resource_id,
        status=verdict.status,
        test=BUILTIN_TEST.format(check.control_id),
        message=verdict.message,
        account_id=account_id,
        region=region,
        evidence=evidence or None,
    )


def describe_unavailable(error: DataUnavailable) -> str:
    """Why data is missing and what the reader of the ERROR can do about it: the remedy
    depends on why (a refused read, an operation the endpoint lacks, a field an emulator
    drops, a snapshot from another version)."""
    if error.kind == UNIMPLEMENTED:
        return (
            f"the endpoint does not implement {error.operation} ({error.code}); the control "
            "cannot be shown on this target: evaluate it against AWS"
        )
    if error.kind == EMULATOR_GAP:
        return f"{error.message}; the control cannot be decided on this target"
    if error.code == NOT_IN_SNAPSHOT:
        return (
            f"{error.operation} failed ({error.code}); {error.message}; take the snapshot "
            "again, with this version of pytest-prr and every region the resource uses"
        )
    if error.code == FIELD_MISSING:
        return (
            f"{error.message} (the target did not return it); a rule does not decide without "
            "a field it needs"
        )
    if error.code.endswith(".NotFound"):
        return (
            f"{error.operation} failed ({error.code}): the resource refers to something that "
            "no longer exists; correct its configuration"
        )
    return f"{error.operation} failed ({error.code}); grant the read permission, or retry"


def _raising(error: DataUnavailable) -> Callable[[Any], Verdict]:
    def evaluate(_: Any) -> Verdict:
        raise error

    return evaluate


def _resources(
    check: Check, context: Context
) -> Iterator[tuple[str, Any, Callable[[Any], Verdict]]]:
    region_id = f"{context.account_id}/{context.region}"
    if check.scope == "account":
        yield region_id, None, lambda _: check.evaluate(context)
        return
    try:
        listing = (
            context.section["lambda"]["functions"]
            if check.scope == "function"
            else context.section.get("apigw", {}).get("stages", [])
        )
    except DataUnavailable as error:
        yield region_id, None, _raising(error)
        return
    if check.scope == "function":
        for arn, function in listing.items():
            yield arn, function, lambda f: check.evaluate(f, context)
        return
    for index, stage in enumerate(listing):
        fallback = f"{region_id}/apigateway[{index}]"
        if is_error(stage):
            yield fallback, stage, require
            continue
        try:
            arn = stage.get("stage_arn")
        except DataUnavailable:
            arn = None
        resource_id = arn if isinstance(arn, str) else fallback
        yield resource_id, stage, lambda s: check.evaluate(s, context)
