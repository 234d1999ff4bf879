"""Waivers: approved, time-boxed risk acceptances that turn a control's FAIL into ``waived``.

A regulated team cannot always fix a finding at once. A waiver in the YAML file named by the
``prr_waivers`` ini option is the auditable alternative to switching the control off: it
names the control, what it covers, why, who approved it and until when, and every output
keeps the original status beside it. What it covers is either resources the built-in checks
judged (ARN globs or tags) or users' own ``@prr.control`` tests (node-ID globs): a built-in
result is about a resource, a user test's about the whole account, so neither kind can
reach the other's results by accident (an ARN glob ``*`` does not waive a team's test).

Only a FAIL is waivable. An ERROR means the control could not be evaluated, and accepting a
risk nobody could see would be a pass in disguise. A waiver past its ``expires`` date no
longer applies and is reported as expired; one that covers nothing failing in a control the
run tested is reported as stale, so the file does not keep accepting risks that are gone.
"""

from __future__ import annotations

import dataclasses
import datetime
import fnmatch
import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from pytest_prr.results.model import Result
from pytest_prr.snapshot.model import is_error

if TYPE_CHECKING:
    from pytest_prr.catalog import Catalog
    from pytest_prr.snapshot.model import Snapshot

#: ``tags_of(resource_id)``: the resource's tags, or None when it has none to match.
TagLookup = Callable[[str], Mapping[str, str] | None]
#: The only status a waiver changes (fail closed: an ERROR is never accepted).
WAIVABLE = "fail"
#: What a waiver can be found to cover when the report decides whether it is still needed.
_PROBLEMS = ("fail", "error")
#: How the node ids of built-in control items start (``prr::SEC-01``, ``prr::SEC-01[prod]``);
#: a user's test id starts with its file's path, which never does.
BUILTIN_PREFIX = "prr::"


class WaiverError(ValueError):
    """A malformed waivers file; the message names the file and the entry."""


@dataclass(frozen=True)
class Waiver:
    """One risk acceptance, as validated from the waivers file."""

    control: str
    justification: str
    approved_by: str
    #: The last day the waiver applies.
    expires: datetime.date
    resources: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    #: Node-ID globs of users' tests; a waiver names these, or resources, or tags.
    tests: tuple[str, ...] = ()
    id: str | None = None
    ticket: str | None = None
    #: Its position in the file (``waivers[N]``), so a report can point at the entry.
    entry: int = 0

    def active_on(self, day: datetime.date) -> bool:
        return day <= self.expires

    def covers(self, result: Result, tags_of: TagLookup) -> bool:
        """Whether the waiver is about the result's control and names what it is about: the
        user's test that made it, or the resource a built-in check judged."""
        if result.control_id != self.control:
            return False
        if by_user_test(result):
            return any(node_id_matches(glob, result.test) for glob in self.tests)
        if self.resources:
            return any(fnmatch.fnmatchcase(result.resource_id, glob) for glob in self.resources)
        if not self.tags:
            return False
        found = tags_of(result.resource_id)
        return found is not None and all(found.get(key) == value for key, value in self.tags)

    def to_dict(self) -> dict[str, Any]:
        """The waiver as every output records it: plain JSON, safe to send across xdist."""
        data: dict[str, Any] = {"control": self.control}
        if self.resources:
            data["resources"] = self.resources[0] if len(self.resources) == 1 else [*self.resources]
        elif self.tests:
            data["tests"] = self.tests[0] if len(self.tests) == 1 else [*self.tests]
        else:
            data["tags"] = dict(self.tags)
        data["justification"] = self.justification
        data["approved_by"] = self.approved_by
        data["expires"] = self.expires.isoformat()
        if self.id:
            data["id"] = self.id
        if self.ticket:
            data["ticket"] = self.ticket
        return data


def load_waivers(path: Path, catalog: Catalog) -> list[Waiver]:
    """The waivers of ``path``, every entry checked against the schema and the catalog."""
    data = _read(path)
    errors = sorted(_validator().iter_errors(data), key=lambda error: _order(error.absolute_path))
    if errors:
        error = errors[0]
        steps = list(error.absolute_path)
        raise WaiverError(f"{path}: {_where(data, steps)}: {_message(error, steps)}")
    waivers = []
    seen_ids: dict[str, int] = {}
    for index, entry in enumerate(data["waivers"]):
        where = f"{path}: waivers[{index}] ({entry['control']})"
        if entry["control"] not in catalog:
            close = catalog.suggest(entry["control"])
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise WaiverError(
                f"{where}: unknown control {entry['control']!r}{hint} (`prr catalog` lists them)"
            )
        if "id" in entry:
            if entry["id"] in seen_ids:
                first = seen_ids[entry["id"]]
                raise WaiverError(
                    f"{where}: id {entry['id']!r} is already used by waivers[{first}]"
                )
            seen_ids[entry["id"]] = index
        tests = _globs(entry.get("tests", ()))
        builtin = [glob for glob in tests if glob.startswith(BUILTIN_PREFIX)]
        if builtin:
            raise WaiverError(
                f"{where}.tests: {builtin[0]!r} names a built-in control's item; waive its "
                "results with 'resources' (ARN globs) or 'tags'"
            )
        waivers.append(
            Waiver(
                control=entry["control"],
                justification=entry["justification"].strip(),
                approved_by=entry["approved_by"].strip(),
                expires=datetime.date.fromisoformat(entry["expires"]),
                resources=_globs(entry.get("resources", ())),
                tags=tuple(sorted(entry.get("tags", {}).items())),
                tests=tests,
                id=entry.get("id"),
                ticket=entry.get("ticket"),
                entry=index,
            )
        )
    return waivers


def _globs(value: str | list[str] | tuple[()]) -> tuple[str, ...]:
    """One glob or a list of them, as the schema allows either."""
    return (value,) if isinstance(value, str) else tuple(value)


def by_user_test(result: Result) -> bool:
    """Whether ``result`` comes from a user's test rather than a built-in control's item."""
    return not result.test.startswith(BUILTIN_PREFIX)


def node_id_matches(glob: str, nodeid: str) -> bool:
    """Whether a test node id matches a waiver's glob, case-sensitively, as a whole.

    Only ``*`` (any run of characters, ``/`` and ``::`` included) and ``?`` (one character)
    are wildcards: brackets are literal, so a parametrized id is written as pytest shows it
    (``test_x[eu-west-1]``) rather than read as a character class, as ``fnmatch`` would.
    """
    return _test_pattern(glob).fullmatch(nodeid) is not None


@functools.lru_cache(maxsize=256)
def _test_pattern(glob: str) -> re.Pattern[str]:
    parts = {"*": ".*", "?": "."}
    return re.compile("".join(parts.get(char, re.escape(char)) for char in glob), re.DOTALL)


class _DatesAsWrittenLoader(yaml.SafeLoader):
    """A safe loader that keeps ``2026-12-31`` a string, so that the schema (format: date)
    judges dates, and ``2026-12-31 10:00`` is an error rather than a silent datetime."""


_DatesAsWrittenLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise WaiverError(f"{path}: cannot read the waivers file: {error.strerror}") from error
    try:
        data = yaml.load(text, _DatesAsWrittenLoader)
    except yaml.YAMLError as error:
        raise WaiverError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise WaiverError(f"{path}: expected a mapping with a 'waivers' list at the top")
    return data


@functools.cache
def _validator() -> Any:
    # the validator loads only when a file is validated
    import jsonschema

    schema = json.loads(resources.files(__package__).joinpath("waivers.schema.json").read_text())
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def _order(path: Iterable[Any]) -> list[tuple[bool, Any]]:
    """Sort errors by where they are, entries in file order (steps are ints or strings)."""
    return [(isinstance(step, str), step) for step in path]


def _where(data: Any, steps: list[Any]) -> str:
    """``waivers[3] (SEC-04).expires`` for an error message; ``top level`` for the file."""
    if len(steps) < 2:
        return "top level" if not steps else str(steps[0])
    entry = data["waivers"][steps[1]]
    control = entry.get("control") if isinstance(entry, dict) else None
    rendered = f"waivers[{steps[1]}]" + (f" ({control})" if isinstance(control, str) else "")
    for step in steps[2:]:
        rendered += f"[{step}]" if isinstance(step, int) else f".{step}"
    return rendered


def _message(error: Any, steps: list[Any]) -> str:
    if error.validator == "oneOf" and len(steps) == 2:
        return (
            "give exactly one of 'resources' (ARN globs), 'tags' (a mapping) or 'tests' "
            "(test node-ID globs)"
        )
    if error.validator == "format":
        return f"{error.instance!r} is not a date (YYYY-MM-DD)"
    if error.validator == "pattern" and isinstance(error.instance, str):
        return "must not be blank" if not error.instance.strip() else error.message
    return error.message


def find_waiver(
    result: Result, waivers: Sequence[Waiver], *, today: datetime.date, tags_of: TagLookup
) -> Waiver | None:
    """The first waiver, in file order, that turns ``result`` into ``waived`` on ``today``."""
    if result.status != WAIVABLE:
        return None
    return next(
        (
            waiver
            for waiver in waivers
            if waiver.active_on(today) and waiver.covers(result, tags_of)
        ),
        None,
    )


def apply_waivers(
    results: Iterable[Result],
    waivers: Sequence[Waiver],
    *,
    today: datetime.date,
    tags_of: TagLookup,
) -> list[Result]:
    """``results`` with every FAIL a waiver covers on ``today`` turned ``waived``; the
    original status and the waiver stay on the result. Pure, so a worker can call it."""
    applied = []
    for result in results:
        waiver = find_waiver(result, waivers, today=today, tags_of=tags_of)
        if waiver is not None:
            result = dataclasses.replace(
                result, status="waived", original_status=result.status, waiver=waiver.to_dict()
            )
        applied.append(result)
    return applied


@dataclass(frozen=True)
class WaiverReport:
    """The waivers a run's results show need attention: expired ones (with the resources
    they would have covered) and stale ones."""

    expired: tuple[tuple[Waiver, tuple[str, ...]], ...] = ()
    stale: tuple[Waiver, ...] = ()

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        """The results document's top-level ``waivers`` section."""
        return {
            "expired": [
                {**waiver.to_dict(), "entry": waiver.entry, "resources_affected": [*affected]}
                for waiver, affected in self.expired
            ],
            "stale": [{**waiver.to_dict(), "entry": waiver.entry} for waiver in self.stale],
        }


def report_waivers(
    waivers: Sequence[Waiver],
    results: Iterable[Result],
    *,
    today: datetime.date,
    tags_of: TagLookup,
) -> WaiverReport:
    """Judge every waiver against the whole run's results (before or after waiving).

    A waiver is *stale* when its control was tested and none of the results it covers (of
    resources or of users' tests) failed or errored; *expired* when it is past its date and
    still covers such a result. A waiver of a control the run did not test is neither: the
    run cannot tell.
    """
    found = list(results)
    tested = {result.control_id for result in found}
    expired = []
    stale = []
    for waiver in waivers:
        if waiver.control not in tested:
            continue
        exposed = sorted(
            {
                result.resource_id
                for result in found
                if (result.original_status or result.status) in _PROBLEMS
                and waiver.covers(result, tags_of)
            }
        )
        if not exposed:
            stale.append(waiver)
        elif not waiver.active_on(today):
            expired.append((waiver, tuple(exposed)))
    return WaiverReport(expired=tuple(expired), stale=tuple(stale))


def function_tags(snapshot: Snapshot) -> TagLookup:
    """``tags_of`` backed by the snapshot's Lambda function tags, keyed by function ARN.

    A function whose tags could not be read has none to match, so a tag waiver cannot
    cover it: the FAIL stands (fail closed).
    """
    tags: dict[str, dict[str, str]] = {}
    for section in snapshot.data["regions"].values():
        functions = section.get("lambda", {}).get("functions", {})
        if is_error(functions):
            continue
        for arn, function in functions.items():
            found = function.get("Tags")
            if isinstance(found, Mapping) and not is_error(found):
                tags[arn] = dict(found)
    return tags.get
