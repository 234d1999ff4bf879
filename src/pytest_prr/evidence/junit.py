"""The bundle's JUnit XML as a witness of what ran: results.json may only record a user
test's result for a control if the JUnit shows that test, tagged with that control, for that
account, and a built-in control was selected exactly if its item is in the JUnit.

The JUnit is written by pytest itself as the tests run, the results document by pytest-prr
at the end; an edit of one that the other does not repeat shows here. (Both rewritten
consistently, with the manifest, is what a signature over the manifest catches.)
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_prr.evidence.bundle import JUNIT, RESULTS
from pytest_prr.results.model import BUILTIN_TEST

#: A JUnit test case that did not pass.
_NOT_PASSED = ("failure", "error")


@dataclass
class Case:
    """What the JUnit shows of one readiness test case."""

    controls: set[str] = field(default_factory=set)
    passed: bool = True


def junit_cases(path: Path) -> dict[tuple[str, str], Case]:
    """(test, account ID) → its case, from the ``prr_test``, ``prr_control`` and
    ``prr_account_id`` properties pytest-prr gives every readiness test case."""
    cases: dict[tuple[str, str], Case] = {}
    for testcase in ElementTree.parse(path).getroot().iter("testcase"):
        properties: dict[str, list[str]] = {}
        for prop in testcase.iter("property"):
            properties.setdefault(prop.get("name", ""), []).append(prop.get("value", ""))
        tests = properties.get("prr_test")
        if not tests:
            continue
        key = (tests[0], (properties.get("prr_account_id") or [""])[0])
        case = cases.setdefault(key, Case())
        case.controls.update(properties.get("prr_control", []))
        case.passed &= not any(testcase.find(kind) is not None for kind in _NOT_PASSED)
    return cases


def junit_problems(
    document: Mapping[str, Any], selected: Sequence[str] | None, junit: Path | None
) -> list[tuple[str, str]]:
    """(where, what) for every result of a user test the JUnit does not show (or shows
    failing where the result passes), and every selected built-in control whose item it
    does not show or unselected one whose item it does."""
    user = [
        (control["id"], resource)
        for control in document["controls"]
        for resource in control["resources"]
        if resource.get("test") != BUILTIN_TEST.format(control["id"])
    ]
    if junit is None:
        if not user:
            return []
        return [
            (
                RESULTS,
                f"records {len(user)} result(s) of user tests, but the bundle has no {JUNIT} "
                "to show those tests ran",
            )
        ]
    try:
        cases = junit_cases(junit)
    except ElementTree.ParseError as error:
        return [(JUNIT, f"not valid XML: {error}")]
    problems = []
    for control_id, resource in user:
        test, account = resource.get("test", ""), resource.get("account_id") or ""
        case = cases.get((test, account))
        where = f"{control_id} {test}"
        if case is None or control_id not in case.controls:
            problems.append((where, f"results.json records it, {JUNIT} shows no such test"))
        elif resource["status"] == "pass" and not case.passed:
            problems.append((where, f"results.json records a pass, {JUNIT} a failure"))
    if selected is not None:
        shown = {
            control
            for (test, _), case in cases.items()
            for control in case.controls
            if test == BUILTIN_TEST.format(control)
        }
        problems += [
            (control, f"selected, but {JUNIT} shows no built-in item of it")
            for control in selected
            if control not in shown
        ]
        problems += [
            (control, f"{JUNIT} shows its built-in item, but the run did not select it")
            for control in sorted(shown - set(selected))
        ]
    return problems
