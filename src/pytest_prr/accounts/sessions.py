"""boto3 sessions that reach a target account, the STS identity guard, the moto server.

Imported only when a run targets an account, so that a plain pytest run never pays for
importing boto3.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Collection
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ProfileNotFound,
    SSOError,
    SSOTokenLoadError,
    UnauthorizedSSOTokenError,
)

from pytest_prr.accounts.config import ROLE_SESSION_NAME, Account, AccountError
from pytest_prr.accounts.guard import install_read_only_guard

logger = logging.getLogger("pytest_prr")

#: Credentials for emulators; moto and LocalStack accept any.
EMULATOR_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
CLIENT_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 10})
#: An emulator answers at once and does not throttle; an operation it does not implement
#: answers 500, which must not be retried ten times with backoff.
EMULATOR_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 1})
#: The identity check answers a person at a terminal: an unreachable endpoint or a refused
#: token is said within seconds, not after the snapshot's patient backoff.
IDENTITY_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 2}, connect_timeout=5, read_timeout=15
)


class TargetSession(boto3.Session):
    """A boto3 Session whose clients and resources default to the target's endpoint.

    boto3 has no session-wide endpoint; injecting it here means a user's test written
    against ``prr_session`` runs unchanged against AWS, a moto server or LocalStack.
    """

    def __init__(self, *, endpoint_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.prr_endpoint_url = endpoint_url
        self.prr_config = CLIENT_CONFIG if endpoint_url is None else EMULATOR_CLIENT_CONFIG

    def _setup_loader(self) -> None:
        """boto3's, except that its data path joins the loader's search path once: the
        sessions of an organization's members share one loader (:func:`_shared_loader`),
        whose search path boto3 would otherwise lengthen by one entry per member."""
        self._loader = self._session.get_component("data_loader")
        data = os.path.join(os.path.dirname(boto3.__file__), "data")
        if data not in self._loader.search_paths:
            self._loader.search_paths.append(data)

    def client(self, *args: Any, **kwargs: Any) -> Any:
        return super().client(*args, **self._target_defaults(kwargs))

    def resource(self, *args: Any, **kwargs: Any) -> Any:
        return super().resource(*args, **self._target_defaults(kwargs))

    def _target_defaults(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.prr_endpoint_url is not None:
            kwargs.setdefault("endpoint_url", self.prr_endpoint_url)
        kwargs.setdefault("config", self.prr_config)
        return kwargs


def open_session(
    account: Account,
    endpoint_url: str | None = None,
    *,
    read_only: bool = True,
    admit: Collection[tuple[str, str]] = frozenset(),
) -> TargetSession:
    """A session for ``account``; ``endpoint_url`` is where the moto server listens.

    In live and endpoint modes the session refuses every non-read operation before it is
    sent, unless ``read_only`` is False (``--prr-allow-writes``, which is logged). ``admit``
    names the writes of ``guard.ADMISSIBLE_WRITES`` it may make all the same: the session of
    ``--prr-securityhub-import`` admits ``securityhub:BatchImportFindings``, the one of
    ``--prr-sign-kms`` ``kms:Sign``, and neither anything else.
    """
    session = _session(account, endpoint_url)
    if account.mode in ("live", "endpoint"):
        if read_only:
            install_read_only_guard(session, admit=admit)
        else:
            logger.warning(
                "pytest-prr: write calls allowed on account %s (--prr-allow-writes)",
                account.describe(),
            )
    return session


def command_session(
    *,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    admit: Collection[tuple[str, str]] = frozenset(),
) -> TargetSession:
    """A read-only session for a ``prr`` command (``export-asff --import``, ``verify
    --kms-key``): a profile's credentials, or dummy ones for an emulator at ``endpoint_url``
    (a moto server, LocalStack), as the endpoint accounts of a run have; ``admit`` as for
    :func:`open_session`."""

    if endpoint_url is not None:
        session = TargetSession(
            endpoint_url=endpoint_url, region_name=region, **EMULATOR_CREDENTIALS
        )
    else:
        session = TargetSession(profile_name=profile, region_name=region)
    install_read_only_guard(session, admit=admit)
    return session


def _session(account: Account, endpoint_url: str | None) -> TargetSession:
    try:
        return _open(account, endpoint_url)
    except ProfileNotFound as error:
        raise AccountError(
            f"account {account.name!r}: AWS profile {account.profile!r} is not configured on "
            "this machine; create it (aws configure --profile NAME, or aws configure sso) or "
            'name another, or use credentials = "default" for the environment\'s credentials'
        ) from error


def _open(account: Account, endpoint_url: str | None) -> TargetSession:
    if account.via is not None:  # an organization's member, reached through its management
        return _assume_role_session(account)
    if account.mode == "moto":
        if endpoint_url is None:
            raise AccountError("the moto account needs its server's endpoint URL")
        return TargetSession(
            endpoint_url=endpoint_url, region_name=account.region, **EMULATOR_CREDENTIALS
        )
    if account.mode == "endpoint":
        # LocalStack serves the account whose twelve-digit ID is the access key (and its
        # default 000000000000 for any other key); moto serves its own account whatever the
        # key. Either way the configured account is the one read, and STS confirms it.
        return TargetSession(
            endpoint_url=account.endpoint_url,
            region_name=account.region,
            **{**EMULATOR_CREDENTIALS, "aws_access_key_id": account.account_id},
        )
    if account.profile is not None:
        return TargetSession(profile_name=account.profile, region_name=account.region)
    if account.role_arn is None:  # credentials = "default": the default credential chain
        return TargetSession(region_name=account.region)
    return _assume_role_session(account)


def _assume_role_session(account: Account) -> TargetSession:
    """Assume ``role_arn`` with the credentials of the account it is reached through (the
    default credential chain when none), refreshed before expiry."""
    source = botocore.session.Session()
    if account.via is not None:
        source.register_component("data_loader", _shared_loader())
        source_credentials = _credentials_of(account.via)
    else:
        source_credentials = source.get_credentials()
    if source_credentials is None:
        raise AccountError(
            f"account {account.name!r}: assuming {account.role_arn} needs credentials to assume "
            "it with, and the default chain found none (no AWS_* variables, profile, web "
            "identity or instance role); in CI, run the step that provides them (OIDC: "
            "aws-actions/configure-aws-credentials) before pytest"
        )
    extra_args: dict[str, str] = {"RoleSessionName": ROLE_SESSION_NAME}
    if account.external_id:
        extra_args["ExternalId"] = account.external_id
    fetcher = AssumeRoleCredentialFetcher(
        # In the account's region: a CI runner often sets none, and STS then cannot be asked.
        client_creator=functools.partial(
            source.create_client, region_name=account.region, endpoint_url=account.endpoint_url
        ),
        source_credentials=source_credentials,
        role_arn=account.role_arn,
        extra_args=extra_args,
    )
    assumed = botocore.session.Session()
    assumed.register_component("data_loader", _shared_loader())
    assumed._credentials = DeferredRefreshableCredentials(  # botocore's documented pattern
        method="assume-role", refresh_using=fetcher.fetch_credentials
    )
    return TargetSession(
        endpoint_url=account.endpoint_url, botocore_session=assumed, region_name=account.region
    )


@functools.lru_cache(maxsize=1)
def _shared_loader() -> Any:
    """One botocore loader (service models, endpoints) for every assumed-role session of
    the process: each fresh session would parse the models of the ~20 services a snapshot
    reads again, 0.5 s of CPU per account, which a run over an organization's 200 members
    pays 200 times."""
    return botocore.loaders.create_loader()


@functools.lru_cache(maxsize=8)
def _credentials_of(account: Account) -> Any:
    """The credentials of the account an organization's members are reached through, made
    once per process: a run over 200 members assumes the management role once, not 200
    times, and botocore refreshes them (thread-safely) for every member that uses them."""
    credentials = _session(account, None).get_credentials()
    if credentials is None:
        raise AccountError(
            f"{account.name}: no credentials were found to assume the member roles with; "
            "configure its profile, role_arn or the environment"
        )
    return credentials


def verify_identity(session: boto3.Session, account: Account) -> str:
    """Prove the credentials belong to ``account`` before anything reads it.

    Returns the caller ARN. Raises :class:`AccountError` on a mismatch or when STS cannot
    be asked: running controls against the wrong account is worse than not running them.
    """
    try:
        identity = session.client("sts", config=IDENTITY_CLIENT_CONFIG).get_caller_identity()
    except (ClientError, BotoCoreError) as error:
        raise AccountError(
            f"account {account.name!r}: {credential_problem(account, error)}; nothing was run"
        ) from error
    if identity["Account"] != account.account_id:
        raise AccountError(
            f"account {account.name!r} is configured as {account.account_id}, but its "
            f"credentials belong to account {identity['Account']} ({identity['Arn']}); "
            "aborting before any test runs"
        )
    return identity["Arn"]


#: Error codes of credentials that were valid once and are no more.
_EXPIRED = ("ExpiredToken", "ExpiredTokenException", "RequestExpired")


def credential_problem(account: Account, error: Exception) -> str:
    """What went wrong with an account's credentials, and what fixes it, in one sentence."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        text = error.response.get("Error", {}).get("Message", "")
        if error.operation_name == "AssumeRole":
            return (
                f"cannot assume {account.role_arn} ({code}: {text}); the role's trust policy "
                "must allow the caller (and external_id must match)"
            )
        if code in _EXPIRED:
            return (
                f"the credentials have expired ({code}); refresh them (aws sso login, a new "
                "session token, or re-run the CI step that provides them)"
            )
        return f"STS GetCallerIdentity was refused ({code}: {text}); check the credentials"
    if isinstance(error, SSOError | SSOTokenLoadError | UnauthorizedSSOTokenError):
        profile = f" --profile {account.profile}" if account.profile else ""
        return f"the AWS SSO session has expired or was never started; run aws sso login{profile}"
    if isinstance(error, NoCredentialsError):
        return "no credentials were found for it; configure a profile, a role or the environment"
    if isinstance(error, EndpointConnectionError | ConnectTimeoutError):
        return f"the STS endpoint cannot be reached ({error}); check the network or endpoint_url"
    return f"STS GetCallerIdentity failed ({type(error).__name__}: {error})"


def emulator_environment(region: str) -> dict[str, str]:
    """Environment that gives every boto3 client of a moto-mode run dummy credentials.

    A user's test may create clients without ``prr_session``; whatever credentials the
    machine holds, such a client must not be able to touch a real account. The endpoint is
    not set here: ``mock_aws`` in users' unit tests only intercepts AWS's own endpoints.
    """
    return {
        "AWS_ACCESS_KEY_ID": EMULATOR_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": EMULATOR_CREDENTIALS["aws_secret_access_key"],
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }
