"""Which controls make a readiness run fail: ``--prr-fail-on``.

pytest decides a run's exit status from its tests, but a readiness run is decided by its
matrix: an ``xfail`` control test is a FAIL in the matrix while pytest calls it expected, and a
waived failure is no failure. So the exit status follows the matrix, by a policy a pipeline
chooses: which control statuses fail the run, from which severity up, or none at all for a
report-only run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: The statuses that can fail a run, and the severities a rule may start from.
STATUSES = ("fail", "error", "not_tested")
SEVERITIES = ("low", "medium", "high", "critical")
DEFAULT = "fail,error"
NONE = "none"


class FailOnError(ValueError):
    """A ``--prr-fail-on`` that cannot be read; the message says how to write one."""


@dataclass(frozen=True)
class FailOn:
    """``(status, lowest severity)`` rules: a control fails the run when one matches it."""

    rules: tuple[tuple[str, str], ...]
    text: str

    def failing(self, controls: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The controls of a results document that fail the run under this policy."""
        return [control for control in controls if self.matches(control)]

    def matches(self, control: Mapping[str, Any]) -> bool:
        severity = SEVERITIES.index(control.get("severity") or "critical")
        return any(
            control["status"] == status and severity >= SEVERITIES.index(lowest)
            for status, lowest in self.rules
        )


def parse_fail_on(text: str | None) -> FailOn:
    """``fail,error`` (the default), ``fail:high,error``, ``none``..."""
    text = DEFAULT if text is None else text.strip()
    if text == NONE:
        return FailOn((), NONE)
    rules = []
    for part in (piece.strip() for piece in text.split(",")):
        status, _, severity = part.partition(":")
        if status not in STATUSES or (severity and severity not in SEVERITIES):
            raise FailOnError(
                f"--prr-fail-on: {part!r} is not STATUS[:SEVERITY] with STATUS one of "
                f"{', '.join(STATUSES)} and SEVERITY one of {', '.join(SEVERITIES)} (or give "
                f"{NONE!r}: report only)"
            )
        rules.append((status, severity or SEVERITIES[0]))
    return FailOn(tuple(rules), text)
