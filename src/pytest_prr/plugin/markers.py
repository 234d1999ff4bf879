"""The names a test author uses: the control marker and the not-applicable outcome."""

from __future__ import annotations

import re

import pytest

MARKER = "prr_control"
CONTROL_ID_PATTERN = re.compile(r"^[A-Z]{2,4}-[0-9]{2,3}$")


def control(*control_ids: str) -> pytest.MarkDecorator:
    """Mark a test as evidence for one or more readiness controls.

    Validated here, at import time of the test module, so that a typo such as
    ``control("SEC4")`` is reported where it was written; whether the ID exists in the
    catalog is checked at collection, where the configured catalog is known.
    """
    _validate_control_ids(control_ids)
    return getattr(pytest.mark, MARKER)(*control_ids)


def _validate_control_ids(control_ids: tuple[object, ...]) -> None:
    if not control_ids:
        raise TypeError("prr.control() needs at least one control ID, e.g. prr.control('SEC-04')")
    for control_id in control_ids:
        if not isinstance(control_id, str):
            raise TypeError(f"prr.control() takes control IDs as strings, got {control_id!r}")
        if not CONTROL_ID_PATTERN.match(control_id):
            raise ValueError(
                f"prr.control(): {control_id!r} is not a control ID "
                "(expected 2-4 capital letters, a dash and 2-3 digits, e.g. 'SEC-04')"
            )


def control_ids(item: pytest.Item) -> list[str]:
    """The control IDs a test is marked with, in order, without repeats."""
    ids: dict[str, None] = {}
    for mark in item.iter_markers(MARKER):
        ids.update(dict.fromkeys(mark.args))
    return list(ids)


class NotApplicable(pytest.skip.Exception):
    """Raised by :func:`not_applicable`; a skip that the matrix records as not_applicable."""


def not_applicable(reason: str) -> None:
    """End the test here and record its controls as not applicable, with the reason.

    A plain ``pytest.skip`` means "not tested" (a missing dependency is no evidence that
    a control does not apply); this is the explicit, auditable statement that it does not.
    """
    raise NotApplicable(msg=reason, allow_module_level=False)
