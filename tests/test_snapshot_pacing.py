"""How a snapshot keeps to AWS's rate limits: pacing per bucket, and fewer metered calls."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from moto_seed import TRUST, lambda_zip
from pytest_prr.accounts.config import Account
from pytest_prr.accounts.sessions import TargetSession
from pytest_prr.snapshot.collect import pacing
from pytest_prr.snapshot.collect.pacing import AWS_RATES, Pacer, TokenBucket
from pytest_prr.snapshot.collect.reader import Reader
from pytest_prr.snapshot.take import take_snapshot

REGION = "us-east-1"


class FakeTime:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


class RecordingPacer(Pacer):
    """A pacer that never waits and remembers what it was asked to pace."""

    def __init__(self) -> None:
        super().__init__({})
        self.asked: list[tuple[str, str, str]] = []

    def wait(self, service: str, region: str, operation: str) -> float:
        self.asked.append((service, region, operation))
        return 0.0


@pytest.fixture
def session() -> Iterator[boto3.Session]:
    with mock_aws():
        yield TargetSession(region_name=REGION)


def create_functions(session: boto3.Session, names: tuple[str, ...]) -> None:
    role = session.client("iam").create_role(
        RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST)
    )["Role"]["Arn"]
    lam = session.client("lambda")
    for name in names:
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": lambda_zip()},
        )


def test_a_bucket_spaces_requests_at_its_rate_after_its_burst() -> None:
    fake = FakeTime()
    bucket = TokenBucket(10.0, burst=3, clock=fake.clock, sleep=fake.sleep)
    waits = [bucket.take() for _ in range(6)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3:] == pytest.approx([0.1, 0.1, 0.1])
    assert fake.now == pytest.approx(0.3)


def test_a_bucket_refills_while_idle_but_never_beyond_its_burst() -> None:
    fake = FakeTime()
    bucket = TokenBucket(2.0, burst=2, clock=fake.clock, sleep=fake.sleep)
    bucket.take(), bucket.take()
    fake.now += 60.0
    assert [bucket.take() for _ in range(3)] == pytest.approx([0.0, 0.0, 0.5])


def test_threads_sharing_a_bucket_never_exceed_its_rate() -> None:
    bucket = TokenBucket(200.0)
    sent: list[float] = []
    lock = threading.Lock()

    def send() -> None:
        for _ in range(10):
            bucket.take()
            with lock:
                sent.append(time.monotonic())

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent.sort()
    # 40 requests at 200 per second with a burst of one: at least 39 intervals of 5 ms.
    assert sent[-1] - sent[0] >= 39 / 200 * 0.95


@pytest.mark.parametrize("rate", [0.0, -1.0])
def test_a_bucket_needs_a_positive_rate(rate: float) -> None:
    with pytest.raises(ValueError, match="positive rate"):
        TokenBucket(rate)


def test_operations_draw_from_their_own_bucket_then_the_shared_ones() -> None:
    pacer = Pacer(AWS_RATES)
    assert pacer.bucket_of("lambda", "GetFunction") == "lambda:GetFunction"
    assert pacer.bucket_of("lambda", "ListAliases") == "lambda:*"
    assert pacer.bucket_of("sqs", "GetQueueUrl") == "*"
    assert Pacer({"lambda:*": 15.0}).bucket_of("sqs", "GetQueueUrl") is None


def test_buckets_are_per_region_except_for_global_services() -> None:
    fake = FakeTime()
    pacer = Pacer({"lambda:*": 1.0, "*": 1.0}, clock=fake.clock, sleep=fake.sleep)
    assert pacer.wait("lambda", "us-east-1", "ListAliases") == 0.0
    assert pacer.wait("lambda", "eu-west-1", "ListAliases") == 0.0
    assert pacer.wait("lambda", "us-east-1", "GetFunctionUrlConfig") == 1.0
    assert pacer.wait("iam", "us-east-1", "GetPolicy") == 0.0
    assert pacer.wait("iam", "eu-west-1", "GetPolicyVersion") == 1.0
    # "*" is a budget per service: SQS does not wait for IAM's.
    assert pacer.wait("sqs", "us-east-1", "GetQueueUrl") == 0.0
    assert pacer.waited == {"lambda:*": 1.0, "iam:*": 1.0}


def test_the_reader_paces_every_attempt_including_retries(session) -> None:
    create_functions(session, ("orders",))
    attempts = []

    def throttle_first_attempt(**_: Any) -> AWSResponse | None:
        attempts.append(1)
        if len(attempts) == 1:
            body = b'{"message": "Rate exceeded", "Type": "User"}'
            headers = {"x-amzn-ErrorType": "TooManyRequestsException"}
            return AWSResponse("https://lambda.invalid", 429, headers, _Raw(body))
        return None

    pacer = RecordingPacer()
    reader = Reader(session, pacer=pacer)
    reader.client("lambda", REGION).meta.events.register_first(
        "before-send.lambda.GetPolicy", throttle_first_attempt
    )
    reader.call(
        "lambda", REGION, "get_policy", absent=("ResourceNotFoundException",), FunctionName="orders"
    )
    assert len(attempts) == 2
    assert pacer.asked == [("lambda", REGION, "GetPolicy")] * 2
    assert reader.calls == {"lambda:GetPolicy": 1}


def test_a_live_snapshot_is_paced_at_aws_quotas_and_an_emulator_one_is_not(
    session, monkeypatch
) -> None:
    made: list[dict[str, float]] = []

    class Spy(RecordingPacer):
        def __init__(self, rates: dict[str, float]) -> None:
            super().__init__()
            made.append(dict(rates))

    monkeypatch.setattr("pytest_prr.snapshot.take.Pacer", Spy)
    for mode in ("live", "moto", "endpoint"):
        take_snapshot(session, Account("a", "123456789012", (REGION,), mode))
    take_snapshot(session, Account("a", "123456789012", (REGION,), "live"), rates={})
    assert made == [dict(pacing.AWS_RATES)]


def test_published_versions_come_from_one_listing_not_a_call_per_function(session) -> None:
    create_functions(session, ("a", "b", "c"))
    lam = session.client("lambda")
    for release in ("2", "3"):
        lam.update_function_configuration(FunctionName="b", Description=release)
        lam.publish_version(FunctionName="b")
    snapshot = take_snapshot(session, Account("a", "123456789012", (REGION,), "moto"))
    functions = snapshot.region(REGION)["lambda"]["functions"]
    assert sorted(functions) == [
        f"arn:aws:lambda:{REGION}:123456789012:function:{name}" for name in ("a", "b", "c")
    ]
    assert {arn.rsplit(":", 1)[1]: f["Versions"] for arn, f in functions.items()} == {
        "a": [],
        "b": ["1", "2"],
        "c": [],
    }
    assert all(f["FunctionArn"] == arn for arn, f in functions.items())
    calls = snapshot.data["calls"]
    assert calls["lambda:ListFunctions"] == 1
    assert "lambda:ListVersionsByFunction" not in calls


class _Raw:
    """Just enough of a urllib3 response for botocore to read an error body."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body
