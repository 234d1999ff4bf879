"""A control whose data a template resource would have provided, had moto been able to
create it, is ERROR naming that resource: never a PASS, FAIL or N/A decided without it.

The snapshot of a deployed template carries its deployments (``deployments``, declared by
the deployer to pytest-prr's moto server), each listing its unsupported resources with the
controls and functions they concern; this turns the findings of those controls into
ERRORs, in the one evaluation path that a run and ``prr verify`` share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pytest_prr.results.model import BUILTIN_TEST, Result

if TYPE_CHECKING:
    from pytest_prr.snapshot.model import Snapshot


def unsupported_for(snapshot: Snapshot, control_id: str) -> list[tuple[str, Mapping[str, Any]]]:
    """(template path, unsupported resource) for each resource the control depends on."""
    return [
        (deployment.get("path", "template"), entry)
        for deployment in snapshot.data.get("deployments", ())
        for entry in deployment.get("unsupported", ())
        if control_id in entry.get("controls", ())
    ]


def with_unsupported(
    control_id: str, findings: Sequence[Result], snapshot: Snapshot
) -> list[Result]:
    """``findings`` with those an unsupported resource concerns turned into ERRORs; an
    unsupported resource that concerns no finding is an ERROR of its own."""

    entries = unsupported_for(snapshot, control_id)
    if not entries:
        return list(findings)
    result = []
    used: set[int] = set()
    for finding in findings:
        concerning = [
            index
            for index, (_, entry) in enumerate(entries)
            if not entry.get("functions")
            or _function_name(finding.resource_id) in entry["functions"]
        ]
        if not concerning:
            result.append(finding)
            continue
        used.update(concerning)
        cause = [entries[index] for index in concerning]
        result.append(
            replace(
                finding,
                status="error",
                message=_message(control_id, cause),
                evidence={**(finding.evidence or {}), "unsupported": [entry for _, entry in cause]},
            )
        )
    for index, (path, entry) in enumerate(entries):
        if index not in used:
            result.append(
                Result(
                    control_id=control_id,
                    resource_id=snapshot.account_id,
                    status="error",
                    test=BUILTIN_TEST.format(control_id),
                    message=_message(control_id, [(path, entry)]),
                    account_id=snapshot.account_id,
                    evidence={"unsupported": [entry]},
                )
            )
    return result


def judged_before_deploy(
    control_id: str, findings: Sequence[Result], snapshot: Snapshot
) -> list[Result]:
    """An account guardrail's ``findings`` when templates are judged before they are
    deployed (``--prr-template``): the moto account stands in for the account the template
    will deploy into, which pytest-prr did not read, so only what the template (or the seed
    hook) put there is certain. A PASS stands, since that guardrail will be there; a FAIL or
    N/A of the stand-in account says nothing of the real one and is ERROR naming why."""
    judged = [
        deployment.get("path", "template")
        for deployment in snapshot.data.get("deployments", ())
        if deployment.get("pre_deploy")
    ]
    if not judged:
        return list(findings)
    message = (
        f"{control_id} is an account guardrail, and {', '.join(judged)} is judged before it "
        "is deployed, in pytest-prr's moto account rather than the account it will deploy "
        "into: decide it on that account (pytest --prr-account)"
    )
    return [
        finding
        if finding.status == "pass"
        else replace(
            finding,
            status="error",
            message=message,
            evidence={
                **(finding.evidence or {}),
                "pre_deploy": judged,
                "stand_in": finding.message,
            },
        )
        for finding in findings
    ]


def _function_name(resource_id: str) -> str:
    """A function's name from its ARN (any qualifier dropped), or the ID as it is."""
    parts = resource_id.split(":")
    return parts[6] if len(parts) >= 7 and parts[5] == "function" else resource_id


def _message(control_id: str, cause: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    named = "; ".join(
        f"{path}: {entry['logical_id']} ({entry['type']}) was not deployed: {entry['reason']}"
        for path, entry in cause
    )
    return f"{named}; {control_id} cannot be decided without it"
