"""Collection in a readiness run: the built-in control items join the user's tests, and
every item with controls is attributed to the account it is about and the test its results
will name, with its control properties for pytest's JUnit XML."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_prr.plugin.items import ControlItem, control_items
from pytest_prr.plugin.markers import control_ids
from pytest_prr.plugin.multiaccount import account_of, recorded_test
from pytest_prr.plugin.state import account_key, test_key
from pytest_prr.report.junit import control_properties

if TYPE_CHECKING:
    from pytest_prr.plugin.state import RunState


class CollectionHooks:
    def __init__(self, config: pytest.Config, runs: RunState) -> None:
        self.config = config
        self.runs = runs

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, items: list[pytest.Item]
    ) -> None:
        """Add the built-in items and note whom each item's results are about: first
        (tryfirst), so that the built-in items are there for ``-k`` and xdist's loadgroup,
        and the node ids are still as collected."""

        if not self.config.option.prr_no_builtin:
            items.extend(control_items(session, self.runs, self.config.option.prr_controls))
        unattributed = []
        for item in items:
            ids = control_ids(item)
            if not ids:
                continue
            try:
                account, test = attribute(item, self.runs)
            except LookupError:
                unattributed.append(item.nodeid)
                continue
            run = self.runs.run_for(account)
            item.user_properties.extend(
                control_properties(
                    ids,
                    self.runs.catalog,
                    test=test,
                    account=run.account.name,
                    account_id=run.account.account_id,
                    regions=run.account.regions,
                )
            )
        if unattributed:
            raise pytest.UsageError(
                f"prr: {', '.join(unattributed)}: marked with controls but not a test function "
                "pytest-prr could run once per account; run one account per session"
            )


def attribute(item: pytest.Item, runs: RunState) -> tuple[str | None, str]:
    """The account an item with controls is about (None: the only one) and the test its
    results name: noted at collection, or now for an item marked since (by a fixture); a
    LookupError when a run over several accounts cannot tell which account."""
    if test_key not in item.stash:
        if isinstance(item, ControlItem):
            account: str | None = item.run.account.name
            test = item.recorded_test
        else:
            account = account_of(item)
            if account is None and runs.several:
                raise LookupError(
                    f"prr: {item.nodeid} did not run once per account, so its results "
                    f"cannot be attributed to one of the {len(runs.runs)} accounts"
                )
            test = recorded_test(item, account)
        item.stash[account_key] = account
        item.stash[test_key] = test
    return item.stash[account_key], item.stash[test_key]
