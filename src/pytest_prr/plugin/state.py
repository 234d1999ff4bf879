"""The plugin's state: the accounts of one pytest session (one :class:`AccountRun` each)
and the results document they make as one, what the controller counted of the test
reports, and the keys under which pytest's stashes hold them. No hooks here.

A run over several accounts must write the document that ``prr merge`` makes of one run per
account, so everything here is built by the same functions a single run uses, per account
where a single run would judge (waivers) and over all results where it would roll up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pytest_prr.__about__ import __version__
from pytest_prr.catalog import Catalog
from pytest_prr.results.model import Result, build_document
from pytest_prr.results.run import AccountRun
from pytest_prr.results.waiver_sections import combine_reports

#: ``progress(region, functions_read, functions_total)``, as ``take_snapshot`` reports it.
Progress = Callable[[str, int, int], None]

#: What a test report carries across xdist: its results, and the account they are about.
REPORT_KEY = "prr_results"
REPORT_ACCOUNT_KEY = "prr_account"
#: On a built-in item's report: its control, evaluated (with or without results).
REPORT_EVALUATED_KEY = "prr_evaluated"
#: ``workerinput`` entry: per account name, its moto endpoint and snapshot reference.
WORKER_RUNS_KEY = "prr_runs"

#: config.stash: the run's state (None: no account selected), the catalog, a stored
#: snapshot loaded at configure time, the embedded moto server, the dummy-credential
#: environment of a moto run.
runs_key = pytest.StashKey["RunState | None"]()
catalog_key = pytest.StashKey[Catalog]()
stored_key = pytest.StashKey[tuple[Any, str, bool]]()
server_key = pytest.StashKey[Any]()
environment_key = pytest.StashKey[pytest.MonkeyPatch]()
#: item.stash, per item with controls: the account it runs for (None: the only one) and the
#: test its results name, fixed at collection, before xdist's loadgroup appends ``@group``
#: to node ids; and every result its phases made so far, for its ``prr_status``.
account_key = pytest.StashKey["str | None"]()
test_key = pytest.StashKey[str]()
item_results_key = pytest.StashKey[list[Result]]()


def active_runs(config: pytest.Config) -> RunState | None:
    """The readiness runs of this process (one per account), or None when no account was
    selected."""
    return config.stash.get(runs_key, None)


@dataclass
class ReportTally:
    """What the controller counted of the test reports, for the exit status and the
    terminal: tests that failed without being readiness evidence, and the problems
    (account ID, test, resource) of failed reports, which pytest has printed already."""

    other_failures: int = 0
    shown: set[tuple[str | None, str, str]] = field(default_factory=set)


@dataclass
class RunState:
    """The runs of this process, one per ``--prr-account`` in the order given, with the
    catalog they share and, on the controller once the session ends, their document."""

    runs: dict[str, AccountRun]
    catalog: Catalog
    json_path: Path | None = None
    #: How many accounts are read at once (``--prr-max-accounts``).
    max_reading: int = 8
    document: dict[str, Any] | None = None
    #: When :meth:`finish` built the document; the Security Hub findings carry it too.
    generated_at: datetime | None = field(default=None, repr=False)
    tally: ReportTally = field(default_factory=ReportTally)

    @property
    def several(self) -> bool:
        """Whether tests run once per account (their node ids then name the account)."""
        return len(self.runs) > 1

    @property
    def first(self) -> AccountRun:
        return next(iter(self.runs.values()))

    def run_for(self, account: str | None) -> AccountRun:
        """The run of the account named ``account``; None names the only account of a run
        over one, the one a test of such a run is about."""
        if account is not None:
            return self.runs[account]
        if self.several:
            raise LookupError(
                f"prr: a test without an account parameter in a run over {len(self.runs)} "
                "accounts; its results cannot be attributed to one of them"
            )
        return self.first

    @property
    def results(self) -> list[Result]:
        return [result for run in self.runs.values() for result in run.results]

    def add_reported(self, account: str | None, reported: Iterable[Mapping[str, Any]]) -> None:
        """Take the results a (possibly remote) test report carried for ``account``."""
        reported = list(reported)
        if reported:
            self.run_for(account).add_reported(reported)

    def take_snapshots(self, progress_for: Callable[[AccountRun], Progress | None]) -> list[str]:
        """Read every account that is not a stored snapshot (nor known to be unreadable),
        up to :attr:`max_reading` at once: each account has its own quotas, so one
        account's reads do not slow another's, but every account read at once holds its
        threads, connections and snapshot in this process. Return their one-line summaries
        in account order."""
        runs = [
            run
            for run in self.runs.values()
            if run.account.mode != "snapshot" and run.unreadable is None
        ]
        if len(runs) <= 1:
            return [run.take_snapshot(progress=progress_for(run)) for run in runs]
        at_once = min(len(runs), self.max_reading)
        with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="prr") as pool:
            futures = [pool.submit(run.take_snapshot, progress_for(run)) for run in runs]
            return [future.result() for future in futures]

    def finish(self) -> dict[str, Any]:
        """The document of every account's results: targets in account order; a waivers
        section combined from each account's, as ``prr merge`` combines one run per account."""
        self.generated_at = datetime.now(UTC)
        runs = list(self.runs.values())
        self.document = build_document(
            self.catalog,
            [run.target for run in runs],
            self.results,
            tool_version=__version__,
            generated_at=self.generated_at,
        )
        reports = [report for run in runs if (report := run.waiver_report()) is not None]
        if reports:
            self.document["waivers"] = combine_reports(
                [report.to_dict() for report in reports], self.document["controls"]
            )
        return self.document

    def account_document(self, run: AccountRun) -> dict[str, Any]:
        """The document of one account's results alone, dated like the run's: what a run
        over that account would have written (the Security Hub import sends it)."""
        return build_document(
            self.catalog,
            [run.target],
            run.results,
            tool_version=__version__,
            generated_at=self.generated_at,
        )

    def close(self) -> None:
        for run in self.runs.values():
            run.close()
