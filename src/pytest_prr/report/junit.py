"""The JUnit properties a readiness test case carries.

They ride on ``item.user_properties`` (pytest's own mechanism, which survives xdist,
unlike ``record_testsuite_property``), so this module only decides their names and values.
"""

from __future__ import annotations

from collections.abc import Iterable

from pytest_prr.catalog import Catalog


def control_properties(
    control_ids: Iterable[str],
    catalog: Catalog,
    *,
    test: str,
    account: str,
    account_id: str,
    regions: Iterable[str],
) -> list[tuple[str, str]]:
    """``prr_control`` and framework refs per control, then the test the results name
    (``prr_test``, which ``prr verify`` matches them by) and the target of the run."""
    properties: list[tuple[str, str]] = []
    for control_id in control_ids:
        control = catalog[control_id]
        properties.append(("prr_control", control.id))
        properties.append(("prr_severity", control.severity))
        for key, refs in control.frameworks.items():
            properties.extend((f"prr_{key}", ref) for ref in refs)
    properties += [
        ("prr_test", test),
        ("prr_account", account),
        ("prr_account_id", account_id),
        ("prr_regions", ",".join(regions)),
        ("prr_catalog_version", catalog.version),
    ]
    return properties
