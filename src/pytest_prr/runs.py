"""The accounts of one pytest session together: one :class:`ReadinessRun` per account, and
the results document they make as one; no pytest hooks here.

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

from pytest_prr.__about__ import __version__
from pytest_prr.catalog import Catalog
from pytest_prr.results import Result, build_document
from pytest_prr.run import ReadinessRun
from pytest_prr.waivers import combine_reports

#: ``progress(region, functions_read, functions_total)``, as ``take_snapshot`` reports it.
Progress = Callable[[str, int, int], None]


@dataclass
class ReadinessRuns:
    """The runs of this process, one per ``--prr-account`` in the order given, with the
    catalog they share and, on the controller once the session ends, their document."""

    runs: dict[str, ReadinessRun]
    catalog: Catalog
    json_path: Path | None = None
    document: dict[str, Any] | None = None
    #: When :meth:`finish` built the document; the Security Hub findings carry it too.
    generated_at: datetime | None = field(default=None, repr=False)

    @property
    def several(self) -> bool:
        """Whether tests run once per account (their node ids then name the account)."""
        return len(self.runs) > 1

    @property
    def first(self) -> ReadinessRun:
        return next(iter(self.runs.values()))

    def run_for(self, account: str | None) -> ReadinessRun:
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

    def take_snapshots(self, progress_for: Callable[[ReadinessRun], Progress | None]) -> list[str]:
        """Read every account that is not a stored snapshot, all at once (each account has
        its own quotas, so one account's reads do not slow another's); return their
        one-line summaries in account order."""
        runs = [run for run in self.runs.values() if run.account.mode != "snapshot"]
        if len(runs) <= 1:
            return [run.take_snapshot(progress=progress_for(run)) for run in runs]
        with ThreadPoolExecutor(max_workers=len(runs), thread_name_prefix="prr") as pool:
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

    def account_document(self, run: ReadinessRun) -> dict[str, Any]:
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
