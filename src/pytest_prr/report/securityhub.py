"""Send ASFF findings to AWS Security Hub: one of the two writes pytest-prr ever makes (the
other signs an evidence bundle with a KMS key).

Only when asked (``--prr-securityhub-import``, ``prr export-asff --import``), and only through
a session whose read-only guard admits ``securityhub:BatchImportFindings`` and refuses every
other write (:func:`import_session`, or ``open_session(..., admit={FINDINGS_IMPORT})``).

``BatchImportFindings`` takes at most 100 findings per request and, for findings of the
"default" product, only those of the calling account, in the region of the ProductArn.
So the findings are imported per region in batches of 100, and findings of other accounts
are left for a session of their own (a merged org-wide document holds several accounts).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from pytest_prr.accounts.guard import FINDINGS_IMPORT, WriteRefused
from pytest_prr.accounts.sessions import TargetSession, command_session
from pytest_prr.report.asff import validate_findings

#: The API's limit of findings per ``BatchImportFindings`` request.
BATCH_LIMIT = 100


@dataclass(frozen=True)
class FailedFinding:
    """A finding Security Hub did not accept, with its reason."""

    id: str
    error_code: str
    error_message: str


@dataclass
class ImportOutcome:
    """What one account's import did."""

    account_id: str
    imported: int = 0
    requests: int = 0
    failed: list[FailedFinding] = field(default_factory=list)
    #: Accounts whose findings this session did not import, with their number of findings.
    left_for: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        text = (
            f"imported {self.imported} finding(s) of account {self.account_id} into Security Hub "
            f"in {self.requests} request(s)"
        )
        if self.failed:
            text += f"; {len(self.failed)} rejected: " + "; ".join(
                f"{failure.id}: {failure.error_code} {failure.error_message}"
                for failure in self.failed
            )
        if self.left_for:
            text += "; not imported, import them with each account's own credentials: " + ", ".join(
                f"{count} of account {account}" for account, count in sorted(self.left_for.items())
            )
        return text


class SecurityHubImportError(Exception):
    """An import that failed or was partly rejected; ``outcome`` says what got through."""

    def __init__(self, message: str, outcome: ImportOutcome) -> None:
        super().__init__(message)
        self.outcome = outcome


def import_session(
    *, profile: str | None = None, region: str | None = None, endpoint_url: str | None = None
) -> TargetSession:
    """A session that reads and may import findings, and refuses every other write."""
    return command_session(
        profile=profile, region=region, endpoint_url=endpoint_url, admit={FINDINGS_IMPORT}
    )


def import_findings(session: Any, findings: Sequence[Mapping[str, Any]]) -> ImportOutcome:
    """Import the findings of the session's account; raise unless all were accepted.

    The findings are validated against the ASFF constraints before anything is sent. Every
    batch is attempted even when one is partly rejected, so that one bad finding does not
    hold back the others; :class:`SecurityHubImportError` then lists the rejected ones.
    """
    validate_findings(findings)
    repeated = [key for key, count in Counter(f["Id"] for f in findings).items() if count > 1]
    if repeated:
        raise ValueError(f"findings with the same Id would overwrite each other: {repeated[0]}")
    try:
        account_id = session.client("sts").get_caller_identity()["Account"]
    except (ClientError, BotoCoreError) as error:
        raise SecurityHubImportError(
            f"STS GetCallerIdentity failed, so the account to import into is unknown: {error}",
            ImportOutcome(account_id="unknown"),
        ) from error
    outcome = ImportOutcome(account_id=account_id)
    outcome.left_for = dict(
        Counter(f["AwsAccountId"] for f in findings if f["AwsAccountId"] != account_id)
    )
    by_region: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for finding in findings:
        if finding["AwsAccountId"] == account_id:
            by_region[finding["ProductArn"].split(":")[3]].append(finding)
    for region, batch in sorted(by_region.items()):
        client = session.client("securityhub", region_name=region)
        for start in range(0, len(batch), BATCH_LIMIT):
            _send(client, batch[start : start + BATCH_LIMIT], region, outcome)
    if outcome.failed:
        raise SecurityHubImportError(
            f"Security Hub rejected findings: {outcome.describe()}", outcome
        )
    return outcome


def _send(
    client: Any, batch: Sequence[Mapping[str, Any]], region: str, outcome: ImportOutcome
) -> None:
    try:
        response = client.batch_import_findings(Findings=list(batch))
    except WriteRefused as error:
        raise SecurityHubImportError(
            f"{error}; open the session admitting {':'.join(FINDINGS_IMPORT)} to import findings",
            outcome,
        ) from error
    except (ClientError, BotoCoreError) as error:
        raise SecurityHubImportError(
            f"BatchImportFindings in {region} failed after {outcome.imported} finding(s) were "
            f"imported: {error}",
            outcome,
        ) from error
    outcome.requests += 1
    outcome.imported += response["SuccessCount"]
    outcome.failed.extend(
        FailedFinding(
            id=failure.get("Id", ""),
            error_code=failure.get("ErrorCode", ""),
            error_message=failure.get("ErrorMessage", ""),
        )
        for failure in response.get("FailedFindings", [])
    )
