"""Load and validate the control catalog: the built-in one and a user's own file.

The catalog is reference data an auditor relies on, so every file is validated in full
(JSON Schema for shape, then IDs, domains, tunables and framework references) and an
error names the file, the entry and what is wrong, before any test runs.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

FRAMEWORK_KEYS = ("iso27001_2022", "soc2_2017", "nist_csf_2")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TUNABLE_TYPES: Mapping[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (float, int),
    "str": (str,),
    "list[str]": (list,),
}


class CatalogError(ValueError):
    """A catalog file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Tunable:
    name: str
    type: str
    default: Any
    description: str


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    domain: str
    scope: str
    severity: str
    automation: str
    fail_when: str
    not_applicable_when: str | None
    rationale: str
    remediation: str
    frameworks: Mapping[str, tuple[str, ...]]
    tunables: tuple[Tunable, ...] = ()
    valid_days: int | None = None
    source: str = "builtin"


@dataclass(frozen=True)
class Requirement:
    ref: str
    title: str


@dataclass(frozen=True)
class Framework:
    key: str
    title: str
    source: str
    requirements: tuple[Requirement, ...]

    @functools.cached_property
    def by_ref(self) -> dict[str, Requirement]:
        return {requirement.ref: requirement for requirement in self.requirements}


@dataclass(frozen=True)
class Catalog:
    """Controls in catalog order, their domains and the frameworks they map to."""

    version: str
    domains: Mapping[str, str]
    controls: Mapping[str, Control]
    frameworks: Mapping[str, Framework]
    sources: tuple[str, ...] = field(default=("builtin",))

    def __contains__(self, control_id: object) -> bool:
        return control_id in self.controls

    def __iter__(self) -> Iterator[Control]:
        return iter(self.controls.values())

    def __len__(self) -> int:
        return len(self.controls)

    def __getitem__(self, control_id: str) -> Control:
        return self.controls[control_id]

    def tunables(self, overrides: Mapping[str, Any], origin: str) -> dict[str, Any]:
        """Every tunable at its default, with ``overrides`` (from ``origin``) validated."""
        declared = {t.name: t for control in self for t in control.tunables}
        values = {name: tunable.default for name, tunable in declared.items()}
        for name, value in overrides.items():
            if name not in declared:
                close = difflib.get_close_matches(name, list(declared), 1)
                hint = f"; did you mean {close[0]}?" if close else ""
                raise CatalogError(f"{origin}: unknown tunable {name!r}{hint}")
            if not value_fits(declared[name].type, value):
                raise CatalogError(
                    f"{origin}: {name} must be of type {declared[name].type}, got {value!r}"
                )
            values[name] = value
        return values

    def suggest(self, unknown_id: str, limit: int = 3) -> list[str]:
        """The catalog IDs closest to a mistyped one, best first.

        Edit distance with transpositions, because the usual typos are a swapped or dropped
        digit (``SEC-40``, ``SEC-4`` for ``SEC-04``); ties keep catalog order.
        """
        wanted = unknown_id.upper()
        distances = {control_id: _edit_distance(wanted, control_id) for control_id in self.controls}
        close = [control_id for control_id, distance in distances.items() if distance <= 2]
        return sorted(close, key=distances.__getitem__)[:limit]

    def with_file(self, path: Path) -> Catalog:
        """This catalog plus the controls of a user's catalog file."""
        data = _read_yaml(path)
        domains = dict(self.domains)
        domains.update(_validate(data, str(path), self.frameworks, dict(self.domains)))
        controls = dict(self.controls)
        for index, control in enumerate(_controls(data, str(path), self.frameworks)):
            if control.id in controls:
                clash = controls[control.id].source
                raise CatalogError(
                    f"{path}: controls[{index}] ({control.id}): the ID is already defined "
                    f"by the {clash} catalog; choose an ID of your own (e.g. a team prefix)"
                )
            controls[control.id] = control
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        return Catalog(
            version=f"{self.version}+{path.stem}.{digest}",
            domains=domains,
            controls=controls,
            frameworks=self.frameworks,
            sources=(*self.sources, str(path)),
        )


def _edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, swaps."""
    previous_row: list[int] = []
    row = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        before, previous_row, row = previous_row, row, [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            row[j] = min(
                previous_row[j] + 1,
                row[j - 1] + 1,
                previous_row[j - 1] + (char_a != char_b),
            )
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                row[j] = min(row[j], before[j - 2] + 1)
    return row[len(b)]


def load_catalog(user_file: Path | None = None) -> Catalog:
    """The built-in catalog, extended by ``user_file`` when one is configured."""
    catalog = builtin_catalog()
    return catalog.with_file(user_file) if user_file is not None else catalog


@functools.cache
def builtin_catalog() -> Catalog:
    package = resources.files(__package__)
    frameworks = {
        key: _load_framework(package / "frameworks" / f"{key}.yaml") for key in FRAMEWORK_KEYS
    }
    origin = "built-in catalog (controls.yaml)"
    data = yaml.load(package.joinpath("controls.yaml").read_text("utf-8"), _YAML_LOADER)
    domains = _validate(data, origin, frameworks, {})
    controls = {control.id: control for control in _controls(data, origin, frameworks)}
    return Catalog(
        version=data["catalog_version"], domains=domains, controls=controls, frameworks=frameworks
    )


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CatalogError(f"{path}: cannot read the catalog file: {error.strerror}") from error
    try:
        return yaml.load(text, _YAML_LOADER)
    except yaml.YAMLError as error:
        raise CatalogError(f"{path}: not valid YAML: {error}") from error


@functools.cache
def _schema_validator() -> Any:
    # the validator loads only when a file is validated
    import jsonschema

    schema = json.loads(resources.files(__package__).joinpath("catalog.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


def _validate(
    data: Any, origin: str, frameworks: Mapping[str, Framework], known_domains: dict[str, str]
) -> dict[str, str]:
    """Check a catalog document; return the domains it declares."""
    if not isinstance(data, dict):
        raise CatalogError(f"{origin}: expected a mapping with a 'controls' list at the top")
    errors = sorted(_schema_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        raise CatalogError(f"{origin}: {_where(data, list(error.absolute_path))}: {error.message}")
    domains = {domain["id"]: domain["title"] for domain in data.get("domains", [])}
    seen: set[str] = set()
    for index, entry in enumerate(data["controls"]):
        where = f"{origin}: controls[{index}] ({entry['id']})"
        if entry["id"] in seen:
            raise CatalogError(f"{where}: duplicate control ID")
        seen.add(entry["id"])
        if entry["domain"] not in domains and entry["domain"] not in known_domains:
            raise CatalogError(
                f"{where}: domain {entry['domain']!r} is not declared; add it under 'domains' "
                f"(known: {', '.join(sorted({*known_domains, *domains}))})"
            )
        if not entry["id"].startswith(entry["domain"] + "-"):
            raise CatalogError(f"{where}: the ID must start with its domain {entry['domain']!r}")
        for key, refs in entry["frameworks"].items():
            unknown = [ref for ref in refs if ref not in frameworks[key].by_ref]
            if unknown:
                raise CatalogError(
                    f"{where}: frameworks.{key}: {', '.join(map(repr, unknown))} "
                    f"not in {frameworks[key].title}"
                )
        for tunable in entry.get("tunables", []):
            if not _tunable_default_fits(tunable):
                raise CatalogError(
                    f"{where}: tunable {tunable['name']}: default {tunable['default']!r} "
                    f"is not of type {tunable['type']}"
                )
    return domains


def _tunable_default_fits(tunable: Mapping[str, Any]) -> bool:
    return value_fits(tunable["type"], tunable["default"])


def value_fits(kind: str, value: Any) -> bool:
    """Whether ``value`` is of the tunable type ``kind`` (``int``, ``list[str]``, ...)."""
    if isinstance(value, bool) or not isinstance(value, _TUNABLE_TYPES[kind]):
        return False
    return kind != "list[str]" or all(isinstance(item, str) for item in value)


def _where(data: Any, path: list[Any]) -> str:
    """Render a JSON path like ``controls[3] (ORD-01).severity`` for an error message."""
    if not path:
        return "top level"
    rendered = ""
    node = data
    for step in path:
        if isinstance(step, int):
            rendered += f"[{step}]"
            node = node[step] if isinstance(node, list) and step < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                rendered += f" ({node['id']})"
        else:
            rendered += f".{step}" if rendered else str(step)
            node = node.get(step) if isinstance(node, dict) else None
    return rendered


def _controls(
    data: Mapping[str, Any], origin: str, frameworks: Mapping[str, Framework]
) -> Iterator[Control]:
    source = "builtin" if origin.startswith("built-in") else origin
    for entry in data["controls"]:
        yield Control(
            id=entry["id"],
            title=entry["title"].strip(),
            domain=entry["domain"],
            scope=entry["scope"],
            severity=entry["severity"],
            automation=entry["automation"],
            fail_when=entry["rule"]["fail_when"].strip(),
            not_applicable_when=(entry["rule"].get("not_applicable_when") or "").strip() or None,
            rationale=entry["rationale"].strip(),
            remediation=entry["remediation"].strip(),
            frameworks={key: tuple(entry["frameworks"].get(key, ())) for key in frameworks},
            tunables=tuple(Tunable(**tunable) for tunable in entry.get("tunables", [])),
            valid_days=entry.get("valid_days"),
            source=source,
        )


def _load_framework(resource: Any) -> Framework:
    data = yaml.load(resource.read_text(encoding="utf-8"), _YAML_LOADER)
    return Framework(
        key=data["key"],
        title=data["title"],
        source=data["source"],
        requirements=tuple(
            Requirement(ref=item["ref"], title=item["title"]) for item in data["requirements"]
        ),
    )
