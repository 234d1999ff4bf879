"""One account's readiness run: its target, snapshot, results, waivers and attestations.

The engine's side of a run, which knows nothing of pytest: the plugin keeps one per account
(:class:`pytest_prr.plugin.state.RunState`) and turns test reports into its results
(:mod:`pytest_prr.plugin.running`).
"""

from __future__ import annotations

import datetime
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_prr.accounts.config import Account
from pytest_prr.accounts.emulators import detect_emulator, embedded_moto
from pytest_prr.catalog import Catalog
from pytest_prr.results.model import Result, Target
from pytest_prr.results.waivers import apply_waivers, function_tags, report_waivers
from pytest_prr.snapshot.collect.fidelity import AWS, Fidelity
from pytest_prr.snapshot.model import EMULATOR_GAP, ERROR_KEY, is_error
from pytest_prr.snapshot.store import load_snapshot, save_snapshot

if TYPE_CHECKING:
    from pytest_prr.results.attestations import Attestation
    from pytest_prr.results.waivers import TagLookup, Waiver, WaiverReport
    from pytest_prr.snapshot.collect.fidelity import Fidelity
    from pytest_prr.snapshot.model import Snapshot


#: Error codes of a read refused to the caller, rather than failed.
REFUSED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
    }
)


@dataclass
class AccountRun:
    """One account of a run, as this process knows it.

    Under pytest-xdist every process has one per account; only the controller's ``results``
    are complete, because workers hand theirs over on the test reports. The document of the
    whole run (every account) is :class:`pytest_prr.plugin.state.RunState`'s.
    """

    account: Account
    catalog: Catalog
    snapshot_out: Path | None = None
    allow_writes: bool = False
    tunables: Mapping[str, Any] = field(default_factory=dict)
    attestations: list[Attestation] = field(default_factory=list)
    #: ``prr_workload``: the only scope whose attestations count; None counts every scope.
    workload: str | None = None
    #: The ``prr_waivers`` entries; None without a waivers file (no waivers section then).
    waivers: list[Waiver] | None = None
    endpoint_url: str | None = None
    #: The STS caller ARN that verified a live or endpoint account (on the controller, which
    #: verifies before anything runs and is the one process that builds the document).
    caller_arn: str | None = None
    #: Templates to deploy into the moto account (``--prr-template``), prepared; on the
    #: controller only.
    templates: tuple[Any, ...] = ()
    results: list[Result] = field(default_factory=list)
    #: The built-in controls whose items ran (on the controller: reported by every worker),
    #: whether or not they had resources to judge; an evidence bundle records them.
    evaluated: set[str] = field(default_factory=set)
    snapshot_path: Path | None = None
    snapshot_sha256: str | None = None
    snapshot_taken_at: str | None = None
    #: A replay's: whether ``PATH.sha256`` showed the stored snapshot unaltered.
    snapshot_verified: bool | None = None
    #: Why an organization's member could not be read at all (its role refused, every
    #: listing denied): each of its built-in controls is then one ERROR saying this.
    unreadable: str | None = None
    _snapshot: Snapshot | None = None
    _scratch: Path | None = None
    _tags: TagLookup | None = None

    @property
    def target(self) -> Target:
        deployed = self.snapshot.data.get("deployments", ()) if self.snapshot is not None else ()
        return Target(
            account=self.account.name,
            account_id=self.account.account_id,
            regions=self.account.regions,
            mode="template" if self.templates else self.account.mode,
            templates=tuple(deployed) if self.templates else (),
            snapshot_taken_at=self.snapshot_taken_at,
            snapshot_sha256=self.snapshot_sha256,
            snapshot_mode=self.snapshot.data["account"]["mode"]
            if self.account.mode == "snapshot" and self.snapshot is not None
            else None,
            emulator=self.snapshot.data["account"].get("emulator")
            if self.snapshot is not None
            else None,
            caller_arn=self.caller_arn,
            snapshot_verified=self.snapshot_verified,
            organization=None
            if self.account.organization is None
            else self.account.organization.record(),
            unreadable=self.unreadable,
        )

    def open_session(self) -> Any:
        """A boto3 session on the target; read-only in live and endpoint modes."""
        # boto3 (and moto) load only for a run that reads AWS or an emulator
        from pytest_prr.accounts.sessions import open_session

        return open_session(
            self.account, endpoint_url=self.endpoint_url, read_only=not self.allow_writes
        )

    def take_snapshot(self, progress: Callable[[str, int, int], None] | None = None) -> str:
        """Read the account once and store the snapshot where every process can load it;
        return a one-line summary for the terminal."""
        # boto3 (and moto) load only for a run that reads AWS or an emulator
        from pytest_prr.snapshot.take import take_snapshot

        started = time.monotonic()
        session = self.open_session()
        if self.account.organization is not None and not self._reach_member(session):
            return (
                f"prr: {self.account.name} ({self.account.account_id}) NOT READ: "
                f"{self.unreadable}; every built-in control of it is ERROR"
            )
        fidelity = self.fidelity()
        snapshot = take_snapshot(
            session,
            self.account,
            progress=progress,
            slo_window_days=self.tunables.get("prr_slo_window_days", 30),
            fidelity=fidelity,
        )
        path = self.snapshot_out
        if path is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="prr-snapshot-"))
            path = self._scratch / "snapshot.json"
        self.snapshot_sha256 = save_snapshot(snapshot, path)
        self.snapshot_path = path
        self.snapshot_taken_at = snapshot.taken_at
        self._snapshot = snapshot
        errors = snapshot.errors()
        calls = sum(snapshot.data["calls"].values())
        functions = sum(1 for _ in _functions_or_none(snapshot))
        summary = (
            f"prr: snapshot of {self.account.name}: {functions} function(s) in "
            f"{len(self.account.regions)} region(s), {calls} API calls, "
            f"{time.monotonic() - started:.1f} s"
        )
        if fidelity.emulator is not None:
            summary += f", on {fidelity.describe()}"
        gaps = [path for path, error in errors if error.get("kind") == EMULATOR_GAP]
        failed = [error for _, error in errors if error.get("kind") != EMULATOR_GAP]
        if failed:
            operations = sorted({error["operation"] for error in failed})
            summary += (
                f"; {len(failed)} read(s) failed ({', '.join(operations)}): "
                "the controls that need them will be ERROR"
            )
        if gaps:
            fields = sorted({path.rsplit(".", 1)[-1] for path in gaps})
            summary += (
                f"; {len(gaps)} field(s) the emulator does not return ({', '.join(fields)}): "
                "the controls resting on them will be ERROR"
            )
        if self.snapshot_out is not None:
            summary += f"; saved to {path}"
        if self.account.organization is not None:
            self.unreadable = refused_everywhere(snapshot)
        if self.unreadable is not None:
            summary += f"; NOT READ: {self.unreadable}; every built-in control of it is ERROR"
        return summary

    def _reach_member(self, session: Any) -> bool:
        """Assume an organization member's role and settle its Regions; False (with the
        cause in :attr:`unreadable`) when it cannot be reached: the other members go on."""
        # boto3 loads only for a run that reads AWS or an emulator
        from pytest_prr.accounts.organizations import MemberUnreachable, reach_member

        try:
            self.caller_arn, self.account = reach_member(session, self.account)
        except MemberUnreachable as error:
            self.unreadable = str(error)
            return False
        return True

    def fidelity(self) -> Fidelity:
        """What is known of the target's emulator: pytest-prr's own moto server, with the
        fields it recorded from Lambda's write requests; the emulator behind an endpoint, as
        it names itself; nothing for AWS."""

        if self.account.mode == "moto" and self.endpoint_url is not None:
            # boto3 (and moto) load only for a run that reads AWS or an emulator
            from pytest_prr.accounts.motoserver import deployments, recorded

            url = self.endpoint_url
            return Fidelity.of(embedded_moto(), recorded(url), tuple(deployments(url)))
        if self.account.mode == "endpoint" and self.account.endpoint_url is not None:
            return Fidelity.of(detect_emulator(self.account.endpoint_url))
        return AWS

    def use_stored_snapshot(
        self, path: Path | None, snapshot: Snapshot, digest: str, verified: bool | None = None
    ) -> None:
        """Evaluate a stored snapshot; ``verified`` says whether its digest file was there
        to show it unaltered (None: not known, and not recorded)."""
        self.snapshot_path = path
        self.snapshot_sha256 = digest
        self.snapshot_verified = verified
        self.snapshot_taken_at = snapshot.taken_at
        self._snapshot = snapshot

    def snapshot_reference(self) -> dict[str, str] | None:
        """What a worker needs to load the controller's snapshot: never AWS."""
        if self.snapshot_path is None:
            return None
        return {
            "path": str(self.snapshot_path),
            "sha256": self.snapshot_sha256 or "",
            "taken_at": self.snapshot_taken_at or "",
        }

    def receive_snapshot(self, reference: Mapping[str, str] | None) -> None:
        if reference:
            self.snapshot_path = Path(reference["path"])
            self.snapshot_sha256 = reference["sha256"]
            self.snapshot_taken_at = reference["taken_at"]

    @property
    def snapshot(self) -> Snapshot | None:
        """The run's snapshot, loaded (and its SHA-256 verified) on first use."""
        if self._snapshot is None and self.snapshot_path is not None:
            self._snapshot, _ = load_snapshot(self.snapshot_path)
        return self._snapshot

    def close(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

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

    @property
    def judged_on(self) -> datetime.date:
        """The day attestations and waivers are judged on: the snapshot's, so that a replay
        of a stored snapshot gives the same verdicts, and every xdist worker the same day."""
        assert self.snapshot_taken_at is not None
        return datetime.date.fromisoformat(self.snapshot_taken_at[:10])

    def waive(self, results: list[Result]) -> list[Result]:
        """``results`` with the FAILs a waiver covers turned into ``waived``."""
        if not self.waivers or self.snapshot is None or not results:
            return results

        return apply_waivers(results, self.waivers, today=self.judged_on, tags_of=self._tags_of)

    def _tags_of(self, resource_id: str) -> Mapping[str, str] | None:
        """The snapshot's function tags, read once per process and only when a tag waiver
        asks: a run's user tests and built-in items all consult them."""
        if self._tags is None:
            assert self.snapshot is not None
            self._tags = function_tags(self.snapshot)
        return self._tags(resource_id)

    def add_reported(self, reported: Iterable[Mapping[str, Any]]) -> None:
        """Take the results a (possibly remote) test report carried."""
        self.results.extend(Result.from_dict(data) for data in reported)

    def waiver_report(self) -> WaiverReport | None:
        """The waivers this account's results show need attention; None without a
        waivers file (or a snapshot to judge tags and the day on)."""
        if self.waivers is None or self.snapshot is None:
            return None

        return report_waivers(
            self.waivers, self.results, today=self.judged_on, tags_of=self._tags_of
        )


def refused_everywhere(snapshot: Snapshot) -> str | None:
    """The cause, when the account refused to list its functions in every Region read (the
    role lacks the permissions, an SCP denies them): nothing of it could be judged.
    ``AccessDeniedException on lambda:ListFunctions in eu-west-1, us-east-1``."""
    causes = []
    for region, section in snapshot.data["regions"].items():
        listing = section["lambda"]["functions"]
        if not is_error(listing) or listing[ERROR_KEY]["code"] not in REFUSED_CODES:
            return None
        causes.append((region, listing[ERROR_KEY]))
    if not causes:
        return None
    error = causes[0][1]
    return f"{error['code']} on {error['operation']} in {', '.join(r for r, _ in causes)}"


def _functions_or_none(snapshot: Snapshot) -> Iterable[Any]:
    """Functions of the regions whose listing succeeded (for a summary, not a verdict)."""

    for section in snapshot.data["regions"].values():
        functions = section["lambda"]["functions"]
        if not is_error(functions):
            yield from functions.values()
