"""The results document as one self-contained HTML file for auditors and risk owners.

The page is data first: :func:`report_view` turns the document into plain values and a
jinja2 template with autoescape renders them, so every string from AWS (a function name,
a tag, a policy) reaches the page as text, never as markup. The file fetches nothing
(inline CSS, a Content-Security-Policy of ``default-src 'none'``) and needs no
JavaScript: the status filter is CSS on checkboxes, so it works with scripts off.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any

import jinja2
from markupsafe import Markup, escape

from pytest_prr import runbooks
from pytest_prr.catalog import Catalog, builtin_catalog
from pytest_prr.report.headline import (
    INFORMATIVE_MAPPING,
    REQUIREMENT_LABELS,
    Headline,
    headline,
    requirement_label,
)
from pytest_prr.report.view import (
    SETTLED,
    STATUS_LABELS,
    applied_waivers,
    attention_waivers,
    control_domain,
    count_statuses,
    domain_groups,
    framework_title,
    status_label,
    target_mode,
    target_names,
    waiver_fields,
)
from pytest_prr.results.model import STATUSES

#: Evidence beyond this many characters is cut in the page; the JSON document has it all.
EVIDENCE_EXCERPT = 600
_CODE_SPAN = re.compile(r"`([^`]+)`")


def render_html(document: Mapping[str, Any], *, catalog: Catalog | None = None) -> str:
    """The HTML report of ``document``.

    Rationale and remediation come from ``catalog`` (the built-in one by default); a
    control it does not know, such as a team's own, is shown without them.
    """
    view = report_view(document, catalog or builtin_catalog())
    return _environment().get_template("report.html.j2").render(report=view)


@functools.cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("pytest_prr.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["code_spans"] = code_spans
    environment.filters["status_label"] = status_label
    environment.filters["requirement_label"] = requirement_label
    return environment


def code_spans(text: str) -> Markup:
    """Catalog prose with its `backticked` names set as code, everything else escaped."""
    escaped = str(escape(text))
    return Markup(_CODE_SPAN.sub(r"<code>\1</code>", escaped))


def report_view(document: Mapping[str, Any], catalog: Catalog) -> dict[str, Any]:
    """Everything the template shows, computed here so the template only lays it out."""
    controls = document["controls"]
    summary = document["summary"]
    lookups = _Lookups(document, catalog)
    head = headline(document, catalog)
    return {
        "generated_at": document["generated_at"],
        "tool": document["tool"],
        "schema": document["schema"],
        "catalog_version": catalog.version,
        "statuses": [(status, STATUS_LABELS[status]) for status in STATUSES],
        "headline": head,
        "informative_mapping": INFORMATIVE_MAPPING,
        "requirement_labels": list(REQUIREMENT_LABELS.values()),
        "summary": {
            "total": summary["controls_total"],
            "tested": summary["controls_tested"],
            "coverage_pct": summary["coverage_pct"],
            "by_status": {status: summary["by_status"].get(status, 0) for status in STATUSES},
        },
        "targets": _targets(document),
        "matrix": _matrix(document),
        "frameworks": _frameworks(document, lookups, controls, head),
        "waivers": {
            "applied": [
                {"fields": waiver_fields(waiver), "covered": covered}
                for waiver, covered in applied_waivers(document)
            ],
            **{
                kind: [waiver_fields(waiver) for waiver in waivers]
                for kind, waivers in attention_waivers(document).items()
            },
        },
        "controls": [_control(control, lookups) for control in controls],
        "runbooks": _runbooks(controls, catalog),
    }


#: The statuses whose controls bring their runbooks into the report: a reader acts on them.
RUNBOOK_STATUSES = ("fail", "error")


def _runbooks(controls: list[Mapping[str, Any]], catalog: Catalog) -> list[dict[str, Any]]:
    """The runbooks the remediation of a failing or erroring control points to, each once
    with the controls that point to it: the report carries them, so no reader is sent to a
    file they cannot open."""

    linked: dict[str, list[str]] = {}
    for control in controls:
        known = catalog.controls.get(control["id"])
        if known is None or control["status"] not in RUNBOOK_STATUSES:
            continue
        for name in runbooks.referenced(known.remediation):
            linked.setdefault(name, []).append(control["id"])
    return [
        {"name": name, "controls": ids, "text": runbooks.text(name)}
        for name, ids in linked.items()
        if name in runbooks.names()
    ]


def _targets(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    resources_of: dict[str, list[Mapping[str, Any]]] = {}
    for control in document["controls"]:
        for resource in control["resources"]:
            resources_of.setdefault(resource.get("account_id", ""), []).append(resource)
    return [
        {
            "account": target["account"],
            "account_id": target["account_id"],
            "regions": target["regions"],
            "mode": target_mode(target),
            "snapshot_taken_at": target.get("snapshot_taken_at"),
            "snapshot_sha256": target.get("snapshot_sha256"),
            "snapshot_unverified": target.get("snapshot_verified") is False,
            "caller_arn": target.get("caller_arn"),
            "resource_counts": count_statuses(resources_of.get(target["account_id"], [])),
        }
        for target in document["targets"]
    ]


def _matrix(document: Mapping[str, Any]) -> dict[str, Any]:
    rows = [
        {"domain": domain, "title": title, **_row(controls)}
        for domain, title, controls in domain_groups(document)
    ]
    return {"rows": rows, "total": _row(document["controls"])}


def _row(controls: list[Mapping[str, Any]]) -> dict[str, Any]:
    counts = count_statuses(controls)
    tested = len(controls) - counts["not_tested"]
    return {
        "controls": [{"id": c["id"], "title": c["title"], "status": c["status"]} for c in controls],
        "counts": counts,
        "total": len(controls),
        "tested": tested,
        "coverage_pct": round(100 * tested / len(controls), 1) if controls else 0.0,
    }


def _frameworks(
    document: Mapping[str, Any],
    lookups: _Lookups,
    controls: list[Mapping[str, Any]],
    head: Headline,
) -> list[dict[str, Any]]:
    control_of = {control["id"]: control for control in controls}
    counts_of = {line.key: line.counts for line in head.frameworks}
    views = []
    for key, requirements in document["frameworks"].items():
        views.append(
            {
                "key": key,
                "title": lookups.framework_title(key),
                "counts": counts_of[key],
                "requirements": [
                    {
                        "ref": requirement["ref"],
                        "title": requirement.get("title", ""),
                        "status": requirement["status"],
                        "controls": [
                            {
                                "id": control_id,
                                "status": control_of[control_id]["status"]
                                if control_id in control_of
                                else "not_tested",
                            }
                            for control_id in requirement["controls"]
                        ],
                    }
                    for requirement in requirements
                ],
            }
        )
    return views


class _Lookups:
    """What a control's drill-down looks up in the rest of the document, indexed once."""

    def __init__(self, document: Mapping[str, Any], catalog: Catalog) -> None:
        self.catalog = catalog
        self.domain_titles: Mapping[str, str] = document.get("domains") or {}
        self.account_names = target_names(document)
        self.requirement_titles = {
            (key, requirement["ref"]): requirement.get("title", "")
            for key, requirements in document["frameworks"].items()
            for requirement in requirements
        }

    def framework_title(self, key: str) -> str:
        return framework_title(key, self.catalog)


def _control(control: Mapping[str, Any], lookups: _Lookups) -> dict[str, Any]:
    known = lookups.catalog.controls.get(control["id"])
    domain = control_domain(control)
    return {
        "id": control["id"],
        "title": control["title"],
        "domain": domain,
        "domain_title": lookups.domain_titles.get(domain, ""),
        "severity": control["severity"],
        "scope": control.get("scope", ""),
        "status": control["status"],
        "settled": control["status"] in SETTLED,
        "rationale": known.rationale if known else None,
        "remediation": known.remediation if known else None,
        "frameworks": [
            {
                "title": lookups.framework_title(key),
                "refs": [(ref, lookups.requirement_titles.get((key, ref), "")) for ref in refs],
            }
            for key, refs in control["frameworks"].items()
            if refs
        ],
        "tests": control["tests"],
        "emulator_gaps": [
            (emulator, gap)
            for emulator, gaps in control.get("emulator_gaps", {}).items()
            for gap in gaps
        ],
        "counts": count_statuses(control["resources"]),
        "resources": [
            _resource(resource, lookups.account_names) for resource in control["resources"]
        ],
    }


def _resource(resource: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    account_id = resource.get("account_id", "")
    return {
        "id": resource["id"],
        "account": names.get(account_id, ""),
        "account_id": account_id,
        "region": resource.get("region", ""),
        "status": resource["status"],
        "original_status": resource.get("original_status"),
        "message": resource.get("message", ""),
        "evidence": evidence_excerpt(resource.get("evidence")),
        "waiver": waiver_fields(resource["waiver"]) if resource.get("waiver") else [],
        "test": resource.get("test", ""),
    }


def evidence_excerpt(evidence: Any, limit: int = EVIDENCE_EXCERPT) -> str:
    """Evidence as indented JSON, cut after ``limit`` characters with a note saying so."""
    if evidence is None:
        return ""
    text = json.dumps(evidence, indent=1, ensure_ascii=False, sort_keys=True, default=str)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… ({len(text) - limit} more characters in the JSON document)"
