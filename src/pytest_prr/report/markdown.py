"""The results document as a production-readiness checklist in GitHub-flavoured Markdown.

It is meant for a pull-request comment or a wiki page, so two things matter beyond
layout. Text from AWS (a message quoting a tag, a resource name) is escaped, so that it
cannot open a link, an image, raw HTML or a mention in someone else's comment. And the
checklist stays under GitHub's comment limit: when the full list of findings is too long,
fewer resources are listed per control (failing ones first), and the text says so.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pytest_prr.report.headline import INFORMATIVE_MAPPING, REQUIREMENT_LABELS, Headline, headline
from pytest_prr.report.view import (
    PROBLEMS,
    SETTLED,
    attention_waivers,
    domain_groups,
    status_label,
    target_mode,
    waiver_fields,
)
from pytest_prr.results.model import STATUSES

#: GitHub refuses a comment (and an issue or PR body) longer than this many characters.
GITHUB_COMMENT_LIMIT = 65_536
#: Resources listed per control, tried in turn until the checklist fits; None is all.
_RESOURCE_LIMITS = (None, 20, 5, 1, 0)
_CHECKED, _UNCHECKED = "☑", "☐"
#: Characters that Markdown would read as syntax in the middle of a line: emphasis, code,
#: links and images, table cells, strike-through and GitHub's math. (``<`` and ``&``
#: become entities; line-start syntax such as ``#`` cannot occur, as escaped text never
#: starts a line.)
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]|~$])")
#: What GitHub turns into a link without any Markdown: ``scheme://`` and ``www.``.
#: Escaping the ``:`` or the ``.`` stops it and leaves the rendered text as it was.
_AUTOLINK = re.compile(r"(?i)(://|\bwww\.)")
#: The resources listed under a control, in the order they are listed.
_LISTED = ("fail", "error", "waived")
_WHITESPACE = re.compile(r"\s+")
#: Waiver fields a waived resource's line leaves out: its control and resource say them.
_SAID_BY_THE_LINE = frozenset({"control", "resources", "tags"})
#: What GitHub turns into a mention (``@team``) or an issue link (``#12``) wherever it is.
_NOTIFYING = re.compile(r"(@|#(?=\d))")


def render_markdown(document: Mapping[str, Any], *, max_chars: int = GITHUB_COMMENT_LIMIT) -> str:
    """The checklist, at most ``max_chars`` characters long.

    Each control gets one line with ☑ (pass, not applicable, waived) or ☐ (fail,
    error, not tested) and its status; under an open or waived control come the
    resources that made it so. The longest version that fits is returned.
    """
    text = ""
    for limit in _RESOURCE_LIMITS:
        text = "\n".join(_lines(document, limit)) + "\n"
        if len(text) <= max_chars:
            return text
    note = "\n\n_Checklist cut here to fit the comment limit; the CSV or HTML report has it all._\n"
    cut = text.rfind("\n", 0, max_chars - len(note))
    return text[: max(cut, 0)] + note


def escape_text(text: Any) -> str:
    """AWS text made inert for Markdown: one line, HTML and Markdown syntax as literals,
    no link, image or e-mail address that GitHub would make clickable.

    ``@`` and a ``#`` before a digit get a zero-width space after them, so a name like
    ``@org/team`` notifies no one and ``#12`` links no issue; a reader sees the same text.
    """
    line = _WHITESPACE.sub(" ", str(text)).strip()
    line = html.escape(line, quote=False)
    line = _MARKDOWN_PUNCTUATION.sub(r"\\\1", line)
    line = _AUTOLINK.sub(_escape_autolink, line)
    return _NOTIFYING.sub(r"\1&#8203;", line)


def _escape_autolink(match: re.Match[str]) -> str:
    """``\\://`` for ``://``, ``www\\.`` for ``www.`` (in the case it was written)."""
    found = match[0]
    return "\\://" if found == "://" else found[:3] + "\\."


def code(text: Any) -> str:
    """Text as an inline code span, where Markdown and HTML are not interpreted at all."""
    line = _WHITESPACE.sub(" ", str(text)).strip()
    fence = "`" * (max((len(run) for run in re.findall("`+", line)), default=0) + 1)
    padding = " " if line.startswith("`") or line.endswith("`") else ""
    return f"{fence}{padding}{line}{padding}{fence}"


def _lines(document: Mapping[str, Any], limit: int | None) -> list[str]:
    head = headline(document)
    by_status = document["summary"]["by_status"]
    lines = [
        "## Production readiness checklist",
        "",
        f"**{escape_text(head.verdict)}**",
        "",
        *(f"- ✖ **{escape_text(line)}**" for line in head.unreadable),
        *([""] if head.unreadable else []),
        *(f"- ⚠ **{escape_text(line)}**" for line in head.provenance),
        *([""] if head.provenance else []),
        *_frameworks(head),
        f"{escape_text(head.coverage)}: "
        + ", ".join(
            f"{by_status.get(status, 0)} {status_label(status)}"
            for status in STATUSES
            if by_status.get(status)
        )
        + ".",
        "",
        *_targets(document["targets"]),
        "",
        *_attention(document),
        f"{_CHECKED} nothing left to do (pass, not applicable, waived) · "
        f"{_UNCHECKED} open (fail, error, not tested)",
    ]
    if limit is not None:
        lines += [
            "",
            f"_The full list is too long for one comment: at most {limit} resource(s) per "
            "control are listed, failing ones first; the CSV or HTML report has them all._",
        ]
    for domain, title, controls in domain_groups(document):
        settled = sum(1 for control in controls if control["status"] in SETTLED)
        heading = f"{escape_text(domain)} · {escape_text(title)}" if title else escape_text(domain)
        lines += ["", f"### {heading} ({settled}/{len(controls)} {_CHECKED})", ""]
        for control in controls:
            lines += _control_lines(control, limit)
    tool = document["tool"]
    lines += [
        "",
        f"<sub>pytest-prr {escape_text(tool['version'])}, catalog "
        f"{escape_text(tool['catalog_version'])}, generated {escape_text(document['generated_at'])}"
        "</sub>",
    ]
    return lines


def _targets(targets: Iterable[Mapping[str, Any]]) -> list[str]:
    lines = [
        "| Account | Account ID | Regions | Mode | Read by (STS caller) | Snapshot taken "
        "| Snapshot SHA-256 |"
    ]
    lines.append("|---|---|---|---|---|---|---|")
    for target in targets:
        sha = target.get("snapshot_sha256")
        caller = target.get("caller_arn")
        lines.append(
            "| "
            + " | ".join(
                [
                    escape_text(target["account"]),
                    escape_text(target["account_id"]),
                    escape_text(", ".join(target["regions"])),
                    escape_text(target_mode(target)),
                    code(caller) if caller else "not recorded",
                    escape_text(target.get("snapshot_taken_at", "not recorded")),
                    (code(sha) if sha else "not recorded")
                    + (" (not verified)" if target.get("snapshot_verified") is False else ""),
                ]
            )
            + " |"
        )
    return lines


def _frameworks(head: Headline) -> list[str]:
    """Each framework's requirements by status, every status its own column."""
    if not head.frameworks:
        return []
    labels = list(REQUIREMENT_LABELS.values())
    lines = [
        "| Framework | Requirements | " + " | ".join(labels) + " |",
        "|---|" + "---:|" * (len(labels) + 1),
    ]
    for framework in head.frameworks:
        counts = " | ".join(str(count) for _, _, count in framework.counts)
        lines.append(f"| {escape_text(framework.title)} | {framework.total} | {counts} |")
    return [*lines, "", f"_{escape_text(INFORMATIVE_MAPPING)}_", ""]


def _attention(document: Mapping[str, Any]) -> list[str]:
    lines = []
    for kind, waivers in attention_waivers(document).items():
        for waiver in waivers:
            lines.append(f"- ⚠ **{kind} waiver**: {_waiver_text(waiver)}")
    return [*lines, ""] if lines else []


def _control_lines(control: Mapping[str, Any], limit: int | None) -> list[str]:
    status = control["status"]
    box = _CHECKED if status in SETTLED else _UNCHECKED
    label = status_label(status)
    shown = f"**{label.upper()}**" if status in PROBLEMS else label
    lines = [
        f"- {box} **{escape_text(control['id'])}** {escape_text(control['title'])} — "
        f"{shown} · {escape_text(control['severity'])}"
    ]
    listed = [r for r in control["resources"] if r["status"] in _LISTED]
    listed.sort(key=lambda resource: _LISTED.index(resource["status"]))
    kept = listed if limit is None else listed[:limit]
    lines += [f"  - {_resource_text(resource)}" for resource in kept]
    if len(kept) < len(listed):
        rest = listed[len(kept) :]
        counts = ", ".join(
            f"{sum(1 for r in rest if r['status'] == s)} {status_label(s)}"
            for s in _LISTED
            if any(r["status"] == s for r in rest)
        )
        lines.append(f"  - … and {len(rest)} more ({counts})")
    return lines


def _resource_text(resource: Mapping[str, Any]) -> str:
    status = status_label(resource["status"])
    if resource.get("original_status"):
        status += f" (was {status_label(resource['original_status'])})"
    where = code(resource["id"])
    if resource.get("region") and resource["region"] not in resource["id"]:
        where += f" in {escape_text(resource['region'])}"
    text = f"{status}: {where}"
    if resource.get("message"):
        text += f" — {escape_text(resource['message'])}"
    if resource.get("waiver"):
        said = {k: v for k, v in resource["waiver"].items() if k not in _SAID_BY_THE_LINE}
        text += f" · waiver: {_waiver_text(said)}"
    return text


def _waiver_text(waiver: Mapping[str, Any]) -> str:
    return "; ".join(f"{label} {escape_text(text)}" for label, text in waiver_fields(waiver))
