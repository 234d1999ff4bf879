"""The hooks of ``--prr-evidence``: the bundle of a run over one account, signed when asked.

Registered by :func:`pytest_prr.plugin.session.register_run_hooks` on the controller only. The
signing key is readied when the session starts, so that a key that cannot sign stops the run
before its tests; the bundle is written when it ends, and the ``--prr-json`` document after
it, since that document names the SHA-256 of the manifest that covers the results.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_prr.accounts.guard import EVIDENCE_SIGNATURE
from pytest_prr.checks.evaluation import builtin_controls
from pytest_prr.evidence import EvidenceError, write_bundle
from pytest_prr.evidence.bundle import MANIFEST, sha256sum_line
from pytest_prr.evidence.signing import PASSPHRASE_ENV, SigningError, pem_signer

if TYPE_CHECKING:
    from pytest_prr.evidence.signing import Signer
    from pytest_prr.plugin.state import RunState
    from pytest_prr.results.run import AccountRun


class EvidenceHooks:
    """Registered on the controller with ``--prr-evidence`` (a run over one account): readies
    the signing key before any test runs, and writes the bundle once pytest's junitxml has
    written its file (trylast), before the run's scratch snapshot is removed; then the
    ``--prr-json`` document, whose target names the manifest's SHA-256."""

    def __init__(
        self,
        config: pytest.Config,
        runs: RunState,
        write_results: Callable[[dict[str, Any]], bool],
    ) -> None:
        self.config = config
        self.runs = runs
        self.run: AccountRun = runs.first
        #: Writes the ``--prr-json`` document (the run's other hooks report how it went).
        self.write_results = write_results
        self.signer: Signer | None = None
        #: What to say in the terminal summary, with its markup (red for a failure).
        self.lines: list[tuple[str, dict[str, bool]]] = []

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """After the account is ready (moto seeded, snapshot taken): a key that cannot sign
        stops the run now rather than once every test has run."""

        try:
            self.signer = self._signer()
        except SigningError as error:
            pytest.exit(
                f"prr: cannot sign the evidence bundle with {error}; nothing was run",
                returncode=pytest.ExitCode.INTERNAL_ERROR,
            )

    def _signer(self) -> Signer | None:
        option = self.config.option
        if option.prr_sign_key:
            path = self.config.invocation_params.dir / option.prr_sign_key
            return pem_signer(path, os.environ.get(PASSPHRASE_ENV))
        if option.prr_sign_kms:
            # boto3 (and moto) load only for a run that reads AWS or an emulator
            from pytest_prr.accounts.sessions import open_session
            from pytest_prr.evidence.kms import kms_signer

            session = open_session(
                self.run.account, self.run.endpoint_url, admit={EVIDENCE_SIGNATURE}
            )
            return kms_signer(session, option.prr_sign_kms)
        return None

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        document = self.runs.document
        if document is None:
            return
        written = self._write_bundle(session, document) if self.run.snapshot_path else None
        if written is not None:
            target = {**document["targets"][0], "evidence_manifest_sha256": written}
            document = {**document, "targets": [target, *document["targets"][1:]]}
        if not self.write_results(document):
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR

    def _write_bundle(self, session: pytest.Session, document: dict[str, Any]) -> str | None:
        """Write (and sign) the bundle, say so with the manifest's SHA-256 as ``sha256sum``
        prints it; return that digest, or None when the bundle could not be written."""

        config = self.config
        here = config.invocation_params.dir
        junit = config.option.xmlpath
        waivers = config.getini("prr_waivers")
        directory = here / config.option.prr_evidence
        try:
            bundle = write_bundle(
                directory,
                document=document,
                snapshot_path=self.run.snapshot_path,
                junit_path=here / junit if junit else None,
                command_line=["pytest", *config.invocation_params.args],
                tunables=self.run.tunables,
                waivers_file=Path(waivers[0]) if waivers else None,
                waivers_judged_on=self.run.judged_on if waivers else None,
                catalog_files=[Path(p) for p in config.getini("prr_catalog")],
                attestation_files=[Path(p) for p in config.getini("prr_attestations")],
                selected_controls=[
                    control
                    for control in builtin_controls(self.runs.catalog)
                    if control in self.run.evaluated
                ],
                workload=self.run.workload,
                signer=self.signer,
            )
        except SigningError as error:
            failure = f"prr: cannot sign the evidence bundle with {error}; no bundle written"
        except (EvidenceError, OSError) as error:
            failure = f"prr: cannot write the evidence bundle: {error}"
        else:
            signed = f"signed with {bundle.signed_with}" if bundle.signed_with else "not signed"
            manifest = os.path.join(config.option.prr_evidence, MANIFEST)
            written = f"prr: evidence bundle written to {directory}, {signed}"
            self.lines += [
                (f"{written}; its manifest's SHA-256:", {}),
                (sha256sum_line(bundle.manifest_sha256, manifest), {}),
            ]
            return bundle.manifest_sha256
        self.lines.append((failure, {"red": True}))
        session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
        return None

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """After the matrix and the other outputs: the digest line is the one to keep."""
        for line, markup in self.lines:
            terminalreporter.write_line(line, **markup)
