"""The Lambda collector reads code signing configs in bulk, and never guesses where it cannot.

``ListCodeSigningConfigs`` and each config's ``ListFunctionsByCodeSigningConfig`` place the
functions of a region; ``GetFunctionCodeSigningConfig`` per function is read only where the
listings are not implemented (moto) or refused. A fake Lambda (``FakeLambda``, behind the
read-only guard) gives every answer AWS can give; moto, in process and as a server, is the
emulator without the listings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from moto_seed import ACCOUNT, REGION, function, mocked_account
from pytest_prr.accounts.config import Account
from pytest_prr.accounts.motoserver import MotoServer
from pytest_prr.accounts.sessions import EMULATOR_CREDENTIALS, TargetSession, open_session
from pytest_prr.catalog import builtin_catalog
from pytest_prr.checks import security  # noqa: F401 (registration)
from pytest_prr.checks.base import REGISTRY, run_check
from pytest_prr.snapshot.collect.lambda_ import collect_lambda
from pytest_prr.snapshot.collect.reader import Reader
from pytest_prr.snapshot.model import ERROR_KEY, UNIMPLEMENTED
from snapshots import build_snapshot
from test_collect_lambda_aliases import (
    NOT_IMPLEMENTED,
    FakeLambda,
    Replies,
    Reply,
    answers,
    aws_error,
    ok,
    operation_of,
)

FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"
CONFIG = f"arn:aws:lambda:{REGION}:{ACCOUNT}:code-signing-config:csc-"
ENFORCE, WARN = f"{CONFIG}enforce", f"{CONFIG}warn"
NAMES = ("app", "other", "warned", "plain")
TUNABLES = {t.name: t.default for c in builtin_catalog() for t in c.tunables}
DENIED = aws_error(403, "AccessDeniedException")


def config(arn: str, policy: str) -> dict[str, Any]:
    return {
        "CodeSigningConfigId": arn.rsplit(":", 1)[1],
        "CodeSigningConfigArn": arn,
        "AllowedPublishers": {"SigningProfileVersionArns": []},
        "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": policy},
        "LastModified": "2026-01-01T00:00:00.000+0000",
    }


CONFIGS = ok({"CodeSigningConfigs": [config(ENFORCE, "Enforce"), config(WARN, "Warn")]})


def configuration(name: str) -> dict[str, Any]:
    return {
        "FunctionName": name,
        "FunctionArn": f"{FUNCTION}{name}:$LATEST",
        "Version": "$LATEST",
        "Runtime": "python3.12",
        "Role": f"arn:aws:iam::{ACCOUNT}:role/fn",
        "Handler": "app.handler",
        "PackageType": "Zip",
    }


def by_config(replies: dict[str, Reply]) -> Replies:
    """``ListFunctionsByCodeSigningConfig`` answered by the config ARN in the request's path."""
    return lambda path: replies[path.split("/code-signing-configs/")[1].removesuffix("/functions")]


def by_function(configs: dict[str, str | None]) -> Replies:
    """``GetFunctionCodeSigningConfig`` answered for the function named in the path."""

    def reply(path: str) -> Reply:
        name = path.split("/functions/")[1].split("/")[0]
        found = configs[name]
        return ok({"FunctionName": name, **({"CodeSigningConfigArn": found} if found else {})})

    return reply


def functions_of(*names: str) -> Reply:
    return ok({"FunctionArns": [name if ":" in name else f"{FUNCTION}{name}" for name in names]})


def region(**overrides: Replies) -> dict[str, Replies]:
    """Four functions; ``enforce`` lists app (and other, on a second page, by a qualified
    ARN), ``warn`` lists warned, no config lists plain."""
    listed = {
        ENFORCE: ok({"FunctionArns": [f"{FUNCTION}app"], "NextMarker": "page-2"}),
        WARN: functions_of("warned"),
    }
    replies: dict[str, Replies] = {
        "ListFunctions?FunctionVersion=ALL": ok(
            {"Functions": [configuration(name) for name in NAMES]}
        ),
        "ListCodeSigningConfigs": CONFIGS,
        "ListFunctionsByCodeSigningConfig": by_config(listed),
        "ListFunctionsByCodeSigningConfig?Marker=page-2": functions_of(f"{FUNCTION}other:live"),
        "ListAliases": ok({"Aliases": []}),
    }
    return answers(**{**replies, **overrides})


def collect(replies: dict[str, Replies]) -> tuple[dict[str, Any], dict[str, int]]:
    """The region's Lambda section, and the calls the reader counted."""
    reader = Reader(FakeLambda(replies, guarded=True))
    return collect_lambda(reader, REGION), dict(reader.calls)


def signing(section: dict[str, Any]) -> dict[str, Any]:
    """Each function's ``CodeSigningConfigArn``, by name."""
    return {
        arn.rsplit(":", 1)[1]: found["CodeSigningConfigArn"]
        for arn, found in section["functions"].items()
    }


def sec04(section: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """SEC-04's (status, message) by function name, over the collected section."""
    snapshot = build_snapshot(functions=[], **{"lambda": section})
    return {
        result.resource_id.rsplit(":", 1)[1]: (result.status, result.message)
        for result in run_check(REGISTRY["SEC-04"], snapshot, TUNABLES)
    }


def test_the_listings_place_every_function_and_nothing_is_read_per_function() -> None:
    section, calls = collect(region())
    assert signing(section) == {"app": ENFORCE, "other": ENFORCE, "warned": WARN, "plain": None}
    assert section["code_signing_read"] == {"path": "bulk", "reason": None}
    assert calls["lambda:ListCodeSigningConfigs"] == 1
    assert calls["lambda:ListFunctionsByCodeSigningConfig"] == 3  # two pages, one page
    assert "lambda:GetFunctionCodeSigningConfig" not in calls
    verdicts = sec04(section)
    assert {name: status for name, (status, _) in verdicts.items()} == {
        "app": "pass",
        "other": "pass",
        "warned": "fail",
        "plain": "fail",
    }
    assert "has no code signing config" in verdicts["plain"][1]
    assert "'Warn'" in verdicts["warned"][1]


def test_a_region_without_configs_costs_one_call() -> None:
    section, calls = collect(region(ListCodeSigningConfigs=ok({"CodeSigningConfigs": []})))
    assert set(signing(section).values()) == {None}
    assert section["code_signing_read"]["path"] == "bulk"
    assert calls["lambda:ListCodeSigningConfigs"] == 1
    assert "lambda:ListFunctionsByCodeSigningConfig" not in calls
    assert "lambda:GetFunctionCodeSigningConfig" not in calls


ATTACHED = {"app": ENFORCE, "other": ENFORCE, "warned": WARN, "plain": None}


@pytest.mark.parametrize("endpoint", sorted(NOT_IMPLEMENTED))
@pytest.mark.parametrize("lacking", ["ListCodeSigningConfigs", "ListFunctionsByCodeSigningConfig"])
def test_an_endpoint_without_a_listing_is_read_per_function(endpoint: str, lacking: str) -> None:
    section, calls = collect(
        region(
            **{lacking: NOT_IMPLEMENTED[endpoint]},
            GetFunctionCodeSigningConfig=by_function(ATTACHED),
        )
    )
    assert signing(section) == ATTACHED
    read = section["code_signing_read"]
    assert read["path"] == "per-function"
    assert read["reason"].startswith(f"the endpoint does not implement lambda:{lacking}")
    assert calls["lambda:GetFunctionCodeSigningConfig"] == len(NAMES)


def test_a_refused_listing_is_read_per_function() -> None:
    section, calls = collect(
        region(ListCodeSigningConfigs=DENIED, GetFunctionCodeSigningConfig=by_function(ATTACHED))
    )
    assert signing(section) == ATTACHED
    assert section["code_signing_read"] == {
        "path": "per-function",
        "reason": "lambda:ListCodeSigningConfigs was refused (AccessDeniedException)",
    }
    assert calls["lambda:GetFunctionCodeSigningConfig"] == len(NAMES)
    # The configs could not be listed: a function with one cannot show it enforces (ERROR);
    # one without fails on what GetFunctionCodeSigningConfig said of it.
    verdicts = sec04(section)
    assert verdicts["plain"][0] == "fail"
    assert verdicts["app"][0] == "error" and "lambda:ListCodeSigningConfigs" in verdicts["app"][1]


def test_one_refused_config_listing_reads_only_the_functions_left_unplaced() -> None:
    listed = {ENFORCE: functions_of("app", "other"), WARN: DENIED}
    section, calls = collect(
        region(
            ListFunctionsByCodeSigningConfig=by_config(listed),
            GetFunctionCodeSigningConfig=by_function(ATTACHED),
        )
    )
    assert signing(section) == ATTACHED
    assert section["code_signing_read"]["path"] == "per-function"
    assert calls["lambda:GetFunctionCodeSigningConfig"] == 2  # warned and plain


def test_when_neither_can_be_read_each_function_is_an_error_naming_both() -> None:
    section, _ = collect(region(ListCodeSigningConfigs=DENIED, GetFunctionCodeSigningConfig=DENIED))
    for name, found in signing(section).items():
        assert operation_of(found) == "lambda:GetFunctionCodeSigningConfig", name
        assert "lambda:ListCodeSigningConfigs was refused" in found[ERROR_KEY]["message"]
    for status, message in sec04(section).values():
        assert status == "error"
        assert "lambda:GetFunctionCodeSigningConfig failed (AccessDeniedException)" in message


@pytest.mark.parametrize(
    ("status", "code"), [(429, "TooManyRequestsException"), (500, "ServiceException")]
)
def test_a_failed_config_listing_leaves_every_function_it_could_hold_unknown(
    status: int, code: str
) -> None:
    """``warn``'s functions could be any not listed by ``enforce``: warned and plain are
    ERROR, never unsigned, and no call per function is spent on a budget that just failed."""
    listed = {ENFORCE: functions_of("app", "other"), WARN: aws_error(status, code)}
    section, calls = collect(region(ListFunctionsByCodeSigningConfig=by_config(listed)))
    found = signing(section)
    assert found["app"] == found["other"] == ENFORCE
    for name in ("warned", "plain"):
        assert operation_of(found[name]) == "lambda:ListFunctionsByCodeSigningConfig"
        assert found[name][ERROR_KEY]["code"] == code
        assert WARN in found[name][ERROR_KEY]["message"]
    assert section["code_signing_read"] == {
        "path": "unread",
        "reason": f"lambda:ListFunctionsByCodeSigningConfig failed ({code})",
    }
    assert "lambda:GetFunctionCodeSigningConfig" not in calls
    verdicts = sec04(section)
    assert verdicts["app"][0] == "pass"
    assert verdicts["warned"][0] == verdicts["plain"][0] == "error"
    assert "lambda:ListFunctionsByCodeSigningConfig" in verdicts["plain"][1]


def test_a_failure_no_read_can_replace_outweighs_a_refusal() -> None:
    throttled = aws_error(429, "TooManyRequestsException")
    listed = {ENFORCE: DENIED, WARN: throttled}
    section, calls = collect(region(ListFunctionsByCodeSigningConfig=by_config(listed)))
    assert section["code_signing_read"]["path"] == "unread"
    assert {found[ERROR_KEY]["code"] for found in signing(section).values()} == {
        "TooManyRequestsException"
    }
    assert "lambda:GetFunctionCodeSigningConfig" not in calls


def test_a_failed_config_listing_is_unread_for_every_function() -> None:
    section, calls = collect(region(ListCodeSigningConfigs=aws_error(500, "ServiceException")))
    for found in signing(section).values():
        assert operation_of(found) == "lambda:ListCodeSigningConfigs"
    assert operation_of(section["code_signing_configs"]) == "lambda:ListCodeSigningConfigs"
    assert "lambda:ListFunctionsByCodeSigningConfig" not in calls
    assert "lambda:GetFunctionCodeSigningConfig" not in calls


def test_a_function_two_configs_list_is_an_error() -> None:
    listed = {ENFORCE: functions_of("app"), WARN: functions_of("app", "warned")}
    section, _ = collect(region(ListFunctionsByCodeSigningConfig=by_config(listed)))
    found = signing(section)
    assert found["app"][ERROR_KEY]["code"] == "InconsistentListing"
    assert ENFORCE in found["app"][ERROR_KEY]["message"]
    assert found["warned"] == WARN and found["plain"] is None
    assert sec04(section)["app"][0] == "error"


# --- moto: no listings, GetFunctionCodeSigningConfig answers -------------------------------


def seed(session: boto3.Session) -> None:
    """moto keeps the ARN CreateFunction names (it has no configs to check it against)."""
    function(session, "signed", CodeSigningConfigArn=ENFORCE)
    function(session, "unsigned")


@pytest.fixture
def in_process() -> Iterator[boto3.Session]:
    with mocked_account() as session:
        seed(session)
        yield session


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    server = MotoServer()
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def through_server(moto_server: str) -> boto3.Session:
    """Seeded through a writable session, read through the guarded one of an endpoint."""
    writer = TargetSession(endpoint_url=moto_server, region_name=REGION, **EMULATOR_CREDENTIALS)
    writer.client("iam").create_role(
        RoleName="fn", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
    )
    seed(writer)
    account = Account("server", ACCOUNT, (REGION,), "endpoint", endpoint_url=moto_server)
    return open_session(account)


@pytest.mark.parametrize("target", ["in_process", "through_server"])
def test_on_moto_each_function_is_read_on_its_own(
    target: str, request: pytest.FixtureRequest
) -> None:
    reader = Reader(request.getfixturevalue(target))
    section = collect_lambda(reader, REGION)
    assert signing(section) == {"signed": ENFORCE, "unsigned": None}
    assert section["code_signing_configs"][ERROR_KEY]["kind"] == UNIMPLEMENTED
    assert section["code_signing_read"] == {
        "path": "per-function",
        "reason": "the endpoint does not implement lambda:ListCodeSigningConfigs (404)",
    }
    assert reader.calls["lambda:GetFunctionCodeSigningConfig"] == 2
    assert "lambda:ListFunctionsByCodeSigningConfig" not in reader.calls
    verdicts = sec04(section)
    assert verdicts["unsigned"][0] == "fail"
    # The config moto names cannot be read: whether it enforces is unknown on moto.
    assert verdicts["signed"][0] == "error"
    assert "does not implement lambda:ListCodeSigningConfigs" in verdicts["signed"][1]
