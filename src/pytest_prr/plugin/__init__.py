"""pytest-prr's pytest plugin (the ``pytest11`` entry point): thin hooks over plain modules.

Without ``--prr-account`` (or ``--prr-snapshot``, ``--prr-template``) the plugin stays out of
the way: it only checks the control IDs of tests that use its marker. The rest of the
package, the engine, knows nothing of pytest; see docs/architecture.md.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_prr.plugin import hookspecs
from pytest_prr.plugin.fixtures import (
    _prr_target,
    prr_account,
    prr_client,
    prr_session,
    prr_snapshot,
)
from pytest_prr.plugin.markers import control_ids
from pytest_prr.plugin.options import add_options

__all__ = ["_prr_target", "prr_account", "prr_client", "prr_session", "prr_snapshot"]


def pytest_addoption(parser: pytest.Parser) -> None:

    add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:

    pluginmanager.add_hookspecs(hookspecs)


@pytest.hookimpl(tryfirst=True)  # before junitxml's, which reads the JUnit path it may set
def pytest_configure(config: pytest.Config) -> None:
    # pytest loads this plugin in every run; the engine loads only once configured
    from pytest_prr.plugin.configure import configure

    configure(config)


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Any:
    """Turn a test that names an unknown control into a collection error for its file."""
    report = yield
    if report.passed:
        # pytest loads this plugin in every run; the engine loads only once configured
        from pytest_prr.plugin.configure import catalog_of

        unknown = [
            (item.nodeid, control_id)
            for item in report.result
            if isinstance(item, pytest.Item)
            for control_id in control_ids(item)
            if control_id not in catalog_of(collector.config)
        ]
        if unknown:
            catalog = catalog_of(collector.config)
            report.outcome = "failed"
            report.longrepr = "\n".join(
                f"prr: {nodeid} names unknown control {control_id!r}; "
                f"did you mean {', '.join(catalog.suggest(control_id)) or 'none close'}? "
                "(`prr catalog` lists every control)"
                for nodeid, control_id in unknown
            )
            report.result = []
    return report
