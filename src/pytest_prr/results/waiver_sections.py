"""The ``waivers`` sections of runs over different accounts, combined into one.

A run judges its waivers against its own account (:func:`pytest_prr.results.waivers.
report_waivers`); a run over several accounts, and ``prr merge`` over the documents of
separate runs, combine those judgements into the one section of the combined document.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def combine_reports(
    sections: Iterable[Mapping[str, Sequence[Mapping[str, Any]]]],
    controls: Iterable[Mapping[str, Any]],
) -> dict[str, list[dict[str, Any]]]:
    """One ``waivers`` section from those of runs over different accounts, given the
    combined document's ``controls`` (see :class:`CombinedReports`)."""
    combined = CombinedReports()
    for section in sections:
        combined.add(section)
    in_use = (
        resource["waiver"]
        for control in controls
        for resource in control["resources"]
        if resource.get("waiver")
    )
    return combined.section(in_use)


class CombinedReports:
    """The ``waivers`` sections of runs over different accounts, folded one at a time, so
    that ``prr merge`` need not keep each input document.

    Each run judged the waivers against its own account only, so a waiver that accepts a
    risk in one account is stale in every other. Over all of them a waiver is stale only
    when no run used it (no resource entry carries it) and none found it expired; an
    expired waiver lists the resources it would have covered in every account.
    """

    def __init__(self) -> None:
        self._expired: dict[str, dict[str, Any]] = {}
        self._stale: dict[str, dict[str, Any]] = {}

    def add(self, section: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        for waiver in section.get("expired", []):
            key = waiver_identity(waiver)
            if key not in self._expired:
                self._expired[key] = dict(waiver)
            elif "resources_affected" in waiver:
                known = self._expired[key]
                affected = {*known.get("resources_affected", []), *waiver["resources_affected"]}
                known["resources_affected"] = sorted(affected)
        for waiver in section.get("stale", []):
            self._stale.setdefault(waiver_identity(waiver), dict(waiver))

    def section(self, in_use: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        """The combined section, given the waivers the combined results carry."""
        used = {waiver_identity(waiver) for waiver in in_use}
        return {
            "expired": list(self._expired.values()),
            "stale": [
                waiver
                for key, waiver in self._stale.items()
                if key not in self._expired and key not in used
            ],
        }


def waiver_identity(waiver: Mapping[str, Any]) -> str:
    """A waiver's terms, whatever the run added to them (its place in the file, the
    resources it exposed): the same waiver in two accounts' reports is one waiver."""
    terms = {k: v for k, v in waiver.items() if k not in ("entry", "resources_affected")}
    return json.dumps(terms, sort_keys=True)
