"""The results document as one CSV row per control and resource, for spreadsheets.

Auditors sample, filter and pivot evidence in a spreadsheet, so every row stands alone:
it repeats the control, its framework requirements, the account and the snapshot hash
that the finding came from. A control with no result still gets a row, so an untested
control cannot drop out of a pivot table unnoticed.

Text from AWS (a tag value, a function name) could start a formula; a spreadsheet would
run it when the file is opened (CSV injection), so such cells are prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from typing import Any

from pytest_prr.catalog import FRAMEWORK_KEYS
from pytest_prr.report.view import control_domain

#: Characters that make a spreadsheet read a cell as a formula (OWASP's list).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: The most characters a spreadsheet cell holds (Excel); longer evidence is cut to fit.
CELL_LIMIT = 32_767
_COLUMNS = (
    "account",
    "account_id",
    "region",
    "domain",
    "control_id",
    "control_title",
    "severity",
    "control_status",
    "resource_id",
    "resource_status",
    "original_status",
    "message",
    "evidence",
    "test",
    "waiver_resources",
    "waiver_justification",
    "waiver_approved_by",
    "waiver_expires",
    "snapshot_sha256",
)


def render_csv(document: Mapping[str, Any]) -> str:
    """The CSV text, header first; a column per framework the document maps to."""
    frameworks = framework_keys(document)
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow([*_COLUMNS, *frameworks])
    for row in _rows(document, frameworks):
        writer.writerow([safe_cell(value) for value in row])
    return output.getvalue()


def framework_keys(document: Mapping[str, Any]) -> list[str]:
    """The built-in frameworks first, in catalog order, then any others the document has."""
    present = set(document["frameworks"])
    for control in document["controls"]:
        present.update(control["frameworks"])
    return [key for key in FRAMEWORK_KEYS if key in present] + sorted(present - set(FRAMEWORK_KEYS))


def safe_cell(value: Any) -> str:
    """The cell as text, defused when a spreadsheet would take it for a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _rows(document: Mapping[str, Any], frameworks: list[str]) -> Iterator[list[Any]]:
    targets = {target["account_id"]: target for target in document["targets"]}
    only_target = document["targets"][0] if len(document["targets"]) == 1 else None
    for control in document["controls"]:
        control_cells = [
            control_domain(control),
            control["id"],
            control["title"],
            control["severity"],
            control["status"],
        ]
        refs = ["; ".join(control["frameworks"].get(key, ())) for key in frameworks]
        for resource in control["resources"] or [None]:
            resource = resource or {}
            target = targets.get(resource.get("account_id", ""), only_target) or {}
            waiver = resource.get("waiver") or {}
            yield [
                target.get("account", ""),
                resource.get("account_id", target.get("account_id", "")),
                resource.get("region", ""),
                *control_cells,
                resource.get("id", ""),
                resource.get("status", ""),
                resource.get("original_status", ""),
                resource.get("message", ""),
                _evidence(resource.get("evidence")),
                resource.get("test", ""),
                _waiver_resources(waiver),
                waiver.get("justification", ""),
                waiver.get("approved_by", ""),
                waiver.get("expires", ""),
                target.get("snapshot_sha256", ""),
                *refs,
            ]


def _evidence(evidence: Any) -> str:
    if evidence is None:
        return ""
    text = json.dumps(evidence, ensure_ascii=False, sort_keys=True, default=str)
    if len(text) <= CELL_LIMIT:
        return text
    note = " … (cut to fit a spreadsheet cell; the JSON document has it all)"
    return text[: CELL_LIMIT - len(note)] + note


def _waiver_resources(waiver: Mapping[str, Any]) -> str:
    """What the waiver covers: its ARN glob(s), the tags it matches, or the tests it names."""
    resources = waiver.get("resources")
    if isinstance(resources, list | tuple):
        return "; ".join(map(str, resources))
    if resources:
        return str(resources)
    tests = waiver.get("tests")
    if tests:
        return "; ".join(f"test {glob}" for glob in ([tests] if isinstance(tests, str) else tests))
    tags = waiver.get("tags") or {}
    return "; ".join(f"tag {key}={value}" for key, value in tags.items())
