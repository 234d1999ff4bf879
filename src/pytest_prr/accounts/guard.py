"""The read-only guard: a boto3 session whose clients refuse every operation that is not a read.

pytest-prr reads production accounts of regulated firms. Read-only credentials are the first
line of defence, but they are the customer's to get right; this guard is ours. Once installed
on a session, every client and resource created from it afterwards raises
:class:`WriteRefused` for a non-read operation while the call is still being prepared: before
its parameters are validated, serialized, signed or sent, so nothing leaves the process.

The guard hooks ``before-parameter-build``, not ``before-call``: it is the first event of every
API call, so a write is refused even when its parameters are invalid, and it is emitted with
``emit`` (every handler runs), whereas a ``before-call`` handler registered earlier (botocore's
``Stubber``, for one) can answer the call and skip the handlers after it. Presigning a URL emits
the same event, so a presigned write URL is refused too.

Clients copy the session's handlers when they are created: install the guard right after
building the session, before any client exists.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3

#: Operation-name prefixes that read. ``Simulate`` is IAM's policy simulation, which evaluates
#: policies and changes nothing.
READ_PREFIXES = (
    "List",
    "Get",
    "Describe",
    "Head",
    "Lookup",
    "Search",
    "Select",
    "Query",
    "Scan",
    "BatchGet",
    "Filter",
    "Simulate",
)

#: Reads whose names do not follow the prefixes. Kept minimal: each entry must change nothing.
#: Not here on purpose: ``logs:StartQuery`` / ``cloudtrail:StartQuery`` (create a query that
#: runs and is billed), ``iam:GenerateCredentialReport`` and ``iam:GenerateServiceLastAccessed
#: Details`` (create report jobs), ``sqs:ReceiveMessage`` (hides the messages from the consumers).
READ_EXCEPTIONS: frozenset[tuple[str, str]] = frozenset(
    {
        # Decodes the encoded reason of an AccessDenied (EC2 returns one) so that an error
        # result can say which permission was missing; it only decodes the message it is given.
        ("sts", "DecodeAuthorizationMessage"),
    }
)

#: Operations named like reads that create or change something, found by reading the botocore
#: models of the services pytest-prr reads (lambda, iam, sts, ec2, logs, cloudwatch, sqs, sns,
#: events, s3, secretsmanager, kms, codedeploy, signer, apigateway, apigatewayv2, wafv2,
#: cloudtrail, config, securityhub, organizations, guardduty), plus the trap of another service
#: that is well known. They take precedence over the prefixes.
WRITE_TRAPS: dict[tuple[str, str], str] = {
    ("ec2", "GetFlowLogsIntegrationTemplate"): (
        "writes the generated CloudFormation template to the S3 bucket it is given"
    ),
    ("ec2", "GetConsoleScreenshot"): (
        "with WakeUp=true sends keystroke input that wakes a sleeping instance"
    ),
    ("sts", "GetDelegatedAccessToken"): "redeems a trade-in token for new credentials",
    ("sts", "GetSessionToken"): "issues new temporary credentials",
    ("sts", "GetFederationToken"): "issues new temporary credentials for a federated user",
    ("sts", "GetScopedCredentials"): "issues new temporary credentials",
    ("sts", "GetWebIdentityToken"): "issues a signed token that authenticates to other parties",
    ("cognito-identity", "GetId"): "creates an identity in the identity pool",
}

#: Calls that are not reads but that botocore itself makes through clients of the guarded
#: session to obtain credentials: a profile's ``role_arn`` (AssumeRole), web identity in CI
#: (AssumeRoleWithWebIdentity), SSO and ``aws login`` token refresh, and the S3 Express session
#: that signs every request to a directory bucket. They change no resource in the account;
#: refusing them would make the guarded session unable to authenticate at all.
CREDENTIAL_CHAIN_OPERATIONS: frozenset[tuple[str, str]] = frozenset(
    {
        ("sts", "AssumeRole"),
        ("sts", "AssumeRoleWithWebIdentity"),
        ("sso-oidc", "CreateToken"),
        ("signin", "CreateOAuth2Token"),
        ("s3", "CreateSession"),
    }
)

#: The writes pytest-prr ever makes, each only when asked and each on a session of its own whose
#: guard admits that one operation and no other write. Sending its own findings to Security Hub
#: (``--prr-securityhub-import``, ``prr export-asff --import``):
FINDINGS_IMPORT = ("securityhub", "BatchImportFindings")
#: Signing an evidence bundle's manifest with a KMS key (``--prr-sign-kms``). It changes no
#: resource, but KMS counts it as a use of the key, and a guard must not let a user's test
#: sign whatever it likes with the account's keys.
EVIDENCE_SIGNATURE = ("kms", "Sign")
#: What a guard may be asked to admit: nothing else, so that no caller can widen the promise
#: above by passing another operation.
ADMISSIBLE_WRITES: frozenset[tuple[str, str]] = frozenset({FINDINGS_IMPORT, EVIDENCE_SIGNATURE})

_GUARD_EVENT = "before-parameter-build"
_GUARD_ID = "pytest-prr-read-only-guard"


class WriteRefused(Exception):
    """A non-read operation was refused by the guard; the request was never sent."""

    def __init__(self, service: str, operation: str) -> None:
        self.service = service
        self.operation = operation
        reason = WRITE_TRAPS.get((service, operation))
        because = f" (despite its name, it {reason})" if reason else ""
        super().__init__(
            f"pytest-prr is read-only: {service}:{operation} was refused before it was "
            f"sent{because} (allow writes only with --prr-allow-writes)"
        )


def is_read_operation(service: str, operation: str) -> bool:
    """Whether ``service:operation`` (botocore names: ``lambda``, ``ListFunctions``) only reads.

    A read prefix makes a read unless the operation is a known trap; a few reads that do not
    follow the naming are listed explicitly. Everything else is a write: an unknown operation
    is refused rather than trusted.
    """
    key = (service, operation)
    if key in WRITE_TRAPS:
        return False
    return key in READ_EXCEPTIONS or operation.startswith(READ_PREFIXES)


def install_read_only_guard(
    session: boto3.Session, *, admit: Collection[tuple[str, str]] = frozenset()
) -> None:
    """Make every client and resource created from ``session`` from now on refuse writes.

    Works for any ``boto3.Session`` (and
    :class:`~pytest_prr.accounts.sessions.TargetSession`), and for clients a user's test
    creates from it. ``admit`` names the writes of
    :data:`ADMISSIBLE_WRITES` this session may make (its one purpose: importing findings,
    signing a manifest); every other write is refused as before.

    Installing twice registers the first guard only: a session guarded without an admission
    keeps refusing that write, which fails closed.
    """
    admitted = frozenset(admit)
    if not admitted <= ADMISSIBLE_WRITES:
        names = ", ".join(sorted(f"{s}:{o}" for s, o in admitted - ADMISSIBLE_WRITES))
        raise ValueError(f"the read-only guard admits no write but those pytest-prr makes: {names}")
    session.events.register(_GUARD_EVENT, _Guard(admitted), unique_id=_GUARD_ID)


class _Guard:
    """The ``before-parameter-build`` handler: refuses a write unless it is admitted."""

    def __init__(self, admitted: frozenset[tuple[str, str]]) -> None:
        self.admitted = admitted

    def __call__(self, model: Any, **kwargs: Any) -> None:
        key = (model.service_model.service_name, model.name)
        if key in self.admitted or key in CREDENTIAL_CHAIN_OPERATIONS or is_read_operation(*key):
            return
        raise WriteRefused(*key)
