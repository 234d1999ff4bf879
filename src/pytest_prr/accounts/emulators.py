"""Which emulator answers at an endpoint, and what it is known not to show.

Emulators accept fields they silently drop (moto: ``DeadLetterConfig``; LocalStack:
``KMSKeyArn``), lack whole operations and services, and keep some data differently from
AWS. A rule that rests on a field's absence must know whether the target can store the
field at all, so every emulator pytest-prr knows has a fidelity profile per version range
(``catalog/emulators.yaml``), and the target of a run records the emulator it met.
An endpoint pytest-prr does not recognise gets no assumptions: it is read as AWS would be.
"""

from __future__ import annotations

import functools
import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version
from typing import Any

import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

MOTO = "moto"
LOCALSTACK = "localstack"
UNKNOWN = "unknown"
#: The resource name of functions in the emulator profiles (``catalog/emulators.yaml``).
FUNCTION_RESOURCE = "lambda:function"
#: How long detection waits for an endpoint's answer, per probe.
PROBE_TIMEOUT_S = 5.0
#: A moto server's dashboard, which no other endpoint serves.
MOTO_PROBE = "/moto-api/"
#: LocalStack's health endpoint: its version, edition and services.
LOCALSTACK_PROBE = "/_localstack/health"


@dataclass(frozen=True)
class Emulator:
    """The emulator behind a target: ``moto``, ``localstack`` or ``unknown``."""

    name: str
    version: str | None = None
    #: pytest-prr's own moto server, which records what moto drops from write requests.
    embedded: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Emulator | None:
        if not data:
            return None
        return cls(str(data["name"]), data.get("version"), bool(data.get("embedded")))

    def describe(self) -> str:
        if self.name == UNKNOWN:
            return "an unrecognised endpoint (read as AWS would be)"
        label = {MOTO: "moto", LOCALSTACK: "LocalStack"}.get(self.name, self.name)
        version = f" {self.version}" if self.version else " (version unknown)"
        return f"{label}{version}{' (embedded)' if self.embedded else ''}"


@dataclass(frozen=True)
class Gap:
    """One thing an emulator does not show like AWS, with the controls it affects."""

    kind: str  # drops | lacks | represents | limits
    controls: tuple[str, ...]
    why: str
    #: drops: ``lambda:function``; lacks: ``service:Operation`` or ``service:*``;
    #: represents: what (``alias-function-urls``).
    subject: str = ""
    #: drops: the field's name.
    field: str = ""


@dataclass(frozen=True)
class Profile:
    """What one emulator, in a range of versions, drops, lacks and represents differently."""

    emulator: str
    versions: SpecifierSet
    gaps: tuple[Gap, ...] = field(default=())

    def dropped_fields(self, resource: str) -> tuple[str, ...]:
        return tuple(g.field for g in self.gaps if g.kind == "drops" and g.subject == resource)

    def lacks(self, operation: str) -> bool:
        """Whether the emulator does not implement ``service:Operation``."""
        service = operation.split(":", 1)[0]
        lacked = {g.subject for g in self.gaps if g.kind == "lacks"}
        return operation in lacked or f"{service}:*" in lacked

    def represents(self, what: str) -> Gap | None:
        return next((g for g in self.gaps if g.kind == "represents" and g.subject == what), None)

    def gap(self, kind: str, subject: str, name: str = "") -> Gap | None:
        return next(
            (
                g
                for g in self.gaps
                if g.kind == kind and g.subject == subject and (not name or g.field == name)
            ),
            None,
        )

    def by_control(self) -> dict[str, list[str]]:
        """Each affected control's gaps, as sentences for a reader."""
        found: dict[str, list[str]] = {}
        for gap in self.gaps:
            for control in gap.controls:
                found.setdefault(control, []).append(gap.why)
        return found


@functools.cache
def profiles() -> dict[str, tuple[Profile, ...]]:
    """Every emulator's profiles, oldest version range first."""
    text = resources.files("pytest_prr.catalog").joinpath("emulators.yaml").read_text("utf-8")
    data = yaml.safe_load(text)["emulators"]
    return {
        name: tuple(_profile(name, entry) for entry in entries) for name, entries in data.items()
    }


def _profile(name: str, entry: Mapping[str, Any]) -> Profile:
    gaps: list[Gap] = []
    for kind, subject_key in (
        ("drops", "resource"),
        ("lacks", "operation"),
        ("represents", "what"),
        ("limits", None),
    ):
        for item in entry.get(kind) or []:
            gaps.append(
                Gap(
                    kind=kind,
                    controls=tuple(item["controls"]),
                    why=" ".join(str(item["why"]).split()),
                    subject=str(item.get(subject_key, "")) if subject_key else "",
                    field=str(item.get("field", "")),
                )
            )
    return Profile(name, SpecifierSet(entry["versions"]), tuple(gaps))


def profile_for(emulator: Emulator | None) -> Profile | None:
    """The profile of ``emulator``'s version; the newest one when its version is unknown or
    newer than every range (what an emulator dropped, it is assumed to drop still: a field
    it does return is used, so this can only cost an ERROR, never a false verdict). None
    for AWS and for an endpoint that is no emulator pytest-prr knows."""
    if emulator is None or emulator.name not in profiles():
        return None
    known = profiles()[emulator.name]
    try:
        version = Version(emulator.version) if emulator.version else None
    except InvalidVersion:
        version = None
    if version is not None:
        for profile in known:
            if profile.versions.contains(version, prereleases=True):
                return profile
    return known[-1]


def embedded_moto() -> Emulator:
    """pytest-prr's own moto server: the installed moto, in a child process."""
    try:
        version: str | None = installed_version("moto")
    except PackageNotFoundError:  # pragma: no cover - moto is a dependency
        version = None
    return Emulator(MOTO, version, embedded=True)


def detect_emulator(endpoint_url: str, *, timeout: float = PROBE_TIMEOUT_S) -> Emulator:
    """Ask the endpoint what it is: LocalStack names itself (and its version) at
    ``/_localstack/health``; a moto server serves its dashboard at ``/moto-api/`` (and tells
    no version). Anything else is ``unknown``."""
    base = endpoint_url.rstrip("/")
    health = _get(base + LOCALSTACK_PROBE, timeout)
    if health is not None:
        status, headers, body = health
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        if status == 200 and isinstance(document, dict) and "services" in document:
            return Emulator(LOCALSTACK, document.get("version"))
        if any(key.lower() == "x-localstack" for key in headers):
            return Emulator(LOCALSTACK, None)
    dashboard = _get(base + MOTO_PROBE, timeout)
    if dashboard is not None and dashboard[0] == 200 and b"moto" in dashboard[2].lower():
        return Emulator(MOTO, None)
    return Emulator(UNKNOWN, None)


def _get(url: str, timeout: float) -> tuple[int, Iterable[str], bytes] | None:
    """(status, header names, body) of a GET, or None when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, list(response.headers.keys()), response.read(65536)
    except urllib.error.HTTPError as error:
        return error.code, list(error.headers.keys()), error.read(65536)
    except (urllib.error.URLError, OSError, ValueError):
        return None


def gaps_by_control(names: Iterable[str]) -> dict[str, dict[str, list[str]]]:
    """control → emulator → its gaps, for the emulators named (newest profiles)."""
    found: dict[str, dict[str, list[str]]] = {}
    for name in names:
        if name not in profiles():
            continue
        for control, whys in profiles()[name][-1].by_control().items():
            found.setdefault(control, {})[name] = whys
    return found
