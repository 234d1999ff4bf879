"""The state of one readiness run: target, catalog, results; no pytest hooks here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_prr.__about__ import __version__
from pytest_prr.accounts import Account
from pytest_prr.api import NotApplicable
from pytest_prr.catalog import Catalog
from pytest_prr.results import Result, Target, build_document, describe_exception, phase_status


@dataclass
class ReadinessRun:
    """What the plugin knows about the run it is part of, in this process.

    Under pytest-xdist every process has one; only the controller's ``results`` are
    complete, because workers hand theirs over on the test reports.
    """

    account: Account
    catalog: Catalog
    json_path: Path | None = None
    endpoint_url: str | None = None
    results: list[Result] = field(default_factory=list)
    document: dict[str, Any] | None = None

    @property
    def target(self) -> Target:
        return Target(
            account=self.account.name,
            account_id=self.account.account_id,
            regions=self.account.regions,
            mode=self.account.mode,
        )

    def results_for(
        self, control_ids: Iterable[str], test: str, status: str, message: str
    ) -> list[Result]:
        """One result per control a test is evidence for.

        A user's test speaks for the account as a whole, so its resource is the account;
        the test's node id tells two tests of the same control apart.
        """
        return [
            Result(
                control_id=control_id,
                resource_id=self.account.account_id,
                status=status,
                test=test,
                message=message,
                account_id=self.account.account_id,
            )
            for control_id in control_ids
        ]

    def results_for_phase(
        self, control_ids: Iterable[str], test: str, report: Any, excinfo: Any
    ) -> list[Result]:
        """The results one phase (setup, call, teardown) of a test report yields."""
        exception = excinfo.value if excinfo is not None else None
        xfail = hasattr(report, "wasxfail")
        not_applicable = isinstance(exception, NotApplicable)
        status = phase_status(
            report.when, report.outcome, exception, not_applicable=not_applicable, xfail=xfail
        )
        if status is None:
            return []
        if status == "pass":
            message = ""
        elif xfail:
            message = f"expected to fail (xfail): {report.wasxfail}".rstrip(": ")
        elif not_applicable:
            message = exception.msg or "not applicable"
        else:
            message = describe_exception(exception, report.longreprtext)
            if report.when != "call":
                message = f"in {report.when}: {message}"
        return self.results_for(control_ids, test, status, message)

    def add_reported(self, reported: Iterable[Mapping[str, Any]]) -> None:
        """Take the results a (possibly remote) test report carried."""
        self.results.extend(Result.from_dict(data) for data in reported)

    def finish(self) -> dict[str, Any]:
        self.document = build_document(
            self.catalog, [self.target], self.results, tool_version=__version__
        )
        return self.document
