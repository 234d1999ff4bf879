"""The property that guards the whole class of false PASS: marking anything a rule read as
unreadable (as a failed read or an emulator's dropped field does) never turns that rule's
verdict into PASS or N/A, and into FAIL only when what stays readable proves the violation:
with the read unknown the verdict is ERROR, or a verdict that no value of the read could
have changed (a FAIL the readable data proves; a PASS that a known caller and a known
dead-letter queue make certain whatever another caller's listing held).

Which data a rule reads is not listed by hand: every check runs over the snapshot through
the guarded view (``snapshot.guarded``), and the test records each field and entry it
touched, present or absent. Hypothesis then picks a control, a resource and one of those
reads, and puts an error marker in its place.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from moto import mock_aws

import mixed_account
from pytest_prr.accounts.config import Account
from pytest_prr.catalog import builtin_catalog
from pytest_prr.checks.base import Check, Context, run_check
from pytest_prr.checks.registry import registered_checks
from pytest_prr.results.model import Result
from pytest_prr.snapshot import guarded
from pytest_prr.snapshot.model import DataUnavailable, Snapshot, error_marker
from pytest_prr.snapshot.take import take_snapshot
from snapshots import build_snapshot, function_arn, make_function

CHECKS = registered_checks()
#: A stand-in for whatever made a read fail: a refused call, an emulator's dropped field.
MARKER = error_marker("test:Unreadable", "Injected", "marked unreadable by the property")
Site = tuple[tuple[Any, ...], Any]


@pytest.fixture(scope="module")
def snapshots() -> list[Snapshot]:
    """The mixed moto account (good, bad and bare functions, API stages, guardrails), read
    as AWS would be, and a built account of what moto cannot hold: aliases with their own
    policies and URLs, a destination function, a schedule, subscriptions, keys."""
    return [_mixed_account(), _built_account()]


def _mixed_account() -> Snapshot:
    saved = {v: os.environ.pop(v) for v in ("AWS_PROFILE", "AWS_ENDPOINT_URL") if v in os.environ}
    try:
        with mock_aws(config={"iam": {"load_aws_managed_policies": True}}):
            session = boto3.Session(region_name=mixed_account.REGION)
            mixed_account.seed(session)
            account = Account("moto", mixed_account.ACCOUNT, (mixed_account.REGION,), "moto")
            return take_snapshot(session, account)
    finally:
        os.environ.update(saved)


def _built_account() -> Snapshot:
    queue = "arn:aws:sqs:us-east-1:123456789012:dlq"
    topic = "arn:aws:sns:us-east-1:123456789012:events"
    public = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "any", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction"}
        ],
    }
    aliased = make_function(
        "aliased",
        Environment={"DB_PASSWORD": {"redacted": True, "finding": "secret-name", "length": 9}},
        KMSKeyArn="arn:aws:kms:us-east-1:123456789012:key/static",
        Aliases=[
            {
                "Name": "live",
                "FunctionVersion": "2",
                "Policy": public,
                "FunctionUrl": {"FunctionUrl": "https://x/", "AuthType": "NONE"},
            }
        ],
        EventInvokeConfigs=[
            {
                "FunctionArn": function_arn("aliased") + ":$LATEST",
                "DestinationConfig": {"OnSuccess": {"Destination": function_arn("sink")}},
            }
        ],
        DeadLetterConfig={"TargetArn": queue},
    )
    sink = make_function("sink", Timeout=60, MemorySize=4096)
    return build_snapshot(
        [aliased, sink],
        sqs={"queues": {queue: {"VisibilityTimeout": 30, "KmsMasterKeyId": None}}},
        sns={
            "subscriptions": [
                {
                    "SubscriptionArn": topic + ":1",
                    "TopicArn": topic,
                    "Endpoint": function_arn("sink"),
                    "RedrivePolicy": None,
                }
            ],
            "topics": {topic: {"KmsMasterKeyId": None}},
        },
        kms={
            "keys": {
                "arn:aws:kms:us-east-1:123456789012:key/static": {
                    "KeyManager": "CUSTOMER",
                    "KeyRotationEnabled": False,
                }
            }
        },
        logs={"log_groups": {"/aws/lambda/aliased": {"retentionInDays": 7, "kmsKeyId": None}}},
        scheduler={
            "targets": [
                {
                    "ScheduleArn": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/s",
                    "GroupName": "default",
                    "State": "ENABLED",
                    "FunctionArn": function_arn("sink"),
                }
            ]
        },
    )


# -- generated accounts ------------------------------------------------------------------

QUEUE = "arn:aws:sqs:us-east-1:123456789012:q"
TOPIC = "arn:aws:sns:us-east-1:123456789012:t"
STATIC, ROTATING = (f"arn:aws:kms:us-east-1:123456789012:key/{k}" for k in ("static", "rotating"))


def statement(principal: Any, **condition: Any) -> dict[str, Any]:
    found = {"Sid": "s", "Effect": "Allow", "Principal": principal, "Action": "lambda:*"}
    return {**found, "Condition": condition} if condition else found


POLICIES = [
    None,
    {"Statement": [statement("*")]},
    {"Statement": [statement("*", StringEquals={"aws:SourceAccount": "123456789012"})]},
    {"Statement": [statement({"Service": "s3.amazonaws.com"})]},
    {"Statement": [statement({"Service": "sns.amazonaws.com"}, ArnLike={"AWS:SourceArn": TOPIC})]},
    {"Statement": [statement({"AWS": "arn:aws:iam::444455556666:root"})]},
]
URLS = [None, {"FunctionUrl": "https://u/", "AuthType": "NONE"}, {"AuthType": "AWS_IAM"}]
ENVIRONMENTS = [
    {},
    {"LOG_LEVEL": {"value": "INFO"}, "POWERTOOLS_SERVICE_NAME": {"value": "svc"}},
    {"DB_PASSWORD": {"redacted": True, "finding": "secret-name", "length": 4}},
    {"LOG_LEVEL": {"value": "DEBUG"}},
]


@st.composite
def functions(draw: st.DrawFn, name: str, other: str) -> dict[str, Any]:
    """A function of a generated account: each field one of a few telling values."""
    fields: dict[str, Any] = {
        "Policy": draw(st.sampled_from(POLICIES)),
        "FunctionUrl": draw(st.sampled_from(URLS)),
        "Environment": draw(st.sampled_from(ENVIRONMENTS)),
        "KMSKeyArn": draw(st.sampled_from([None, STATIC, ROTATING])),
        "Timeout": draw(st.sampled_from([3, 60, 900])),
        "MemorySize": draw(st.sampled_from([128, 4096])),
        "Aliases": draw(
            st.sampled_from(
                [
                    [],
                    [{"Name": "live", "FunctionVersion": "2", "Policy": None, "FunctionUrl": None}],
                    [
                        {
                            "Name": "live",
                            "FunctionVersion": "$LATEST",
                            "Policy": {"Statement": [statement("*")]},
                            "FunctionUrl": {"AuthType": "NONE"},
                        }
                    ],
                ]
            )
        ),
        "EventInvokeConfigs": draw(
            st.sampled_from(
                [
                    [],
                    [{"DestinationConfig": {"OnFailure": {"Destination": QUEUE}}}],
                    [{"DestinationConfig": {"OnSuccess": {"Destination": function_arn(other)}}}],
                ]
            )
        ),
    }
    if draw(st.booleans()):
        fields["DeadLetterConfig"] = {"TargetArn": QUEUE}
    if draw(st.booleans()):
        fields["LoggingConfig"] = {"LogGroup": f"/custom/{name}", "LogFormat": "JSON"}
    return make_function(name, **fields)


@st.composite
def generated_accounts(draw: st.DrawFn) -> Snapshot:
    """Two functions and what may be wired to them: queues, topics, keys, log groups,
    subscriptions, schedules and rules, each present or not."""
    one, two = draw(functions("one", "two")), draw(functions("two", "one"))
    groups = {
        f"/aws/lambda/{n}": {
            "retentionInDays": draw(st.sampled_from([None, 7, 400])),
            "kmsKeyId": draw(st.sampled_from([None, STATIC, ROTATING])),
        }
        for n in ("one", "two")
    } | {f"/custom/{n}": {"retentionInDays": 400, "kmsKeyId": None} for n in ("one", "two")}
    subscribed = draw(st.sampled_from([None, "one", "two"]))
    scheduled = draw(st.sampled_from([None, "one", "two"]))
    return build_snapshot(
        [one, two],
        sqs={
            "queues": {
                QUEUE: {
                    "VisibilityTimeout": 30,
                    "KmsMasterKeyId": draw(st.sampled_from([None, STATIC])),
                }
            }
        },
        sns={
            "subscriptions": []
            if subscribed is None
            else [
                {
                    "SubscriptionArn": TOPIC + ":1",
                    "TopicArn": TOPIC,
                    "Endpoint": function_arn(subscribed),
                    "RedrivePolicy": draw(st.sampled_from([None, {"deadLetterTargetArn": QUEUE}])),
                }
            ],
            "topics": {TOPIC: {"KmsMasterKeyId": draw(st.sampled_from([None, STATIC]))}},
        },
        kms={
            "keys": {
                STATIC: {"KeyManager": "CUSTOMER", "KeyRotationEnabled": False},
                ROTATING: {"KeyManager": "CUSTOMER", "KeyRotationEnabled": True},
            }
        },
        logs={"log_groups": groups},
        scheduler={
            "targets": []
            if scheduled is None
            else [
                {
                    "ScheduleArn": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/s",
                    "GroupName": "default",
                    "State": "ENABLED",
                    "FunctionArn": function_arn(scheduled),
                }
            ]
        },
    )


# -- recording what a rule reads ----------------------------------------------------------------


class Reads:
    """The (container, key) pairs the guarded view handed out during one evaluation."""

    def __init__(self) -> None:
        self.sites: list[tuple[Any, Any]] = []

    def __enter__(self) -> Reads:
        self._patch = pytest.MonkeyPatch()
        recorded = self.sites
        mapping, sequence = guarded.GuardedMapping, guarded.GuardedList
        getitem, get, entry = mapping.__getitem__, mapping.get, mapping.entry
        values, items = mapping.values, mapping.items
        list_getitem, list_iter = sequence.__getitem__, sequence.__iter__

        def read_item(self: Any, key: Any) -> Any:
            recorded.append((self._data, key))
            return getitem(self, key)

        def read_get(self: Any, key: Any, default: Any = None) -> Any:
            recorded.append((self._data, key))
            return get(self, key, default)

        def read_entry(self: Any, key: Any, default: Any = None) -> Any:
            recorded.append((self._data, key))
            return entry(self, key, default)

        def read_values(self: Any) -> Any:
            recorded.extend((self._data, key) for key in self._data)
            return values(self)

        def read_items(self: Any) -> Any:
            recorded.extend((self._data, key) for key in self._data)
            return items(self)

        def read_index(self: Any, index: Any) -> Any:
            if isinstance(index, int):
                recorded.append((self._data, index))
            return list_getitem(self, index)

        def read_each(self: Any) -> Any:
            recorded.extend((self._data, index) for index in range(len(self._data)))
            return list_iter(self)

        for cls, name, replacement in (
            (mapping, "__getitem__", read_item),
            (mapping, "get", read_get),
            (mapping, "entry", read_entry),
            (mapping, "values", read_values),
            (mapping, "items", read_items),
            (sequence, "__getitem__", read_index),
            (sequence, "__iter__", read_each),
        ):
            self._patch.setattr(cls, name, replacement)
        return self

    def __exit__(self, *_: Any) -> None:
        self._patch.undo()


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(id of a container, its path from the root) for every dict and list of ``data``."""
    yield id(data), prefix
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for key, value in items:
        if isinstance(value, dict | list):
            yield from paths(value, (*prefix, key))


def sites_read(snapshot: Snapshot, control: str, resource: str) -> list[Site]:
    """Every (container path, key) that evaluating ``control`` for ``resource`` read: its
    own data and the account-wide data the rule consulted (an index included), each once,
    in the order read; the runner's walk over the other resources is not the rule's."""
    where = dict(paths(snapshot.data))
    reads = Reads()
    check = CHECKS[control]

    def evaluate_recorded(*args: Any) -> Any:
        if _resource_of(args) != resource:
            return check.evaluate(*args)
        with reads, pytest.MonkeyPatch.context() as patch:
            patch.setattr(Snapshot, "indexed", lambda self, key, build: build())
            return check.evaluate(*args)

    tunables = builtin_catalog().tunables({}, "property")
    run_check(Check(check.control_id, check.scope, evaluate_recorded), snapshot, tunables)
    seen: dict[Site, None] = {}
    for container, key in reads.sites:
        path = where.get(id(container))
        if path is not None:
            seen[(path, key)] = None
    return list(seen)


def _resource_of(args: tuple[Any, ...]) -> str:
    """The resource ID of one evaluation, as the runner names it."""
    first = args[0]
    if isinstance(first, Context):
        if first.region is None:
            return first.account_id
        return f"{first.account_id}/{first.region}"
    if "FunctionArn" in first:
        return first["FunctionArn"]
    try:
        return str(first.get("stage_arn"))
    except DataUnavailable:
        return ""


def verdict(snapshot: Snapshot, control: str, resource: str) -> Result | None:
    tunables = builtin_catalog().tunables({}, "property")
    found = run_check(CHECKS[control], snapshot, tunables)
    return next((f for f in found if f.resource_id == resource), None)


def container(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


def replaced(snapshot: Snapshot, site: Site, value: Any, *, remove: bool = False) -> Snapshot:
    """A snapshot whose data differs at ``site`` only: the containers on the way are copied,
    everything else is shared (checks never write to a snapshot)."""
    path, key = site
    root = copy.copy(snapshot.data)
    holder = root
    for step in path:
        holder[step] = copy.copy(holder[step])
        holder = holder[step]
    if remove and isinstance(holder, dict):
        holder.pop(key, None)
    else:
        holder[key] = value
    return Snapshot(root)


def alternatives(snapshot: Snapshot, site: Site) -> Iterator[Snapshot]:
    """The snapshot with the marked read given other values it could hold: absent, empty,
    and the value that same field holds on each sibling resource (the good function's policy
    in place of the bad one's, say)."""
    path, key = site
    holder = container(snapshot.data, path)
    original = holder.get(key) if isinstance(holder, dict) else holder[key]
    if isinstance(holder, dict):
        yield replaced(snapshot, site, None, remove=True)
    # Values of the read's own type: a rule may assume an integer field holds an integer.
    empty = {dict: {}, list: [], str: "", int: 0, float: 0.0, bool: not original}
    if type(original) in empty:
        yield replaced(snapshot, site, empty[type(original)])
    elif original is not None:
        yield replaced(snapshot, site, None)
    if path:
        parent = container(snapshot.data, path[:-1])
        for sibling in parent.values() if isinstance(parent, dict) else parent:
            if (
                isinstance(sibling, dict)
                and sibling is not holder
                and key in sibling
                and (original is None or type(sibling[key]) is type(original))
            ):
                yield replaced(snapshot, site, sibling[key])


# -- the property -------------------------------------------------------------------------------


@st.composite
def markings(draw: st.DrawFn, snapshots: list[Snapshot]) -> tuple[Snapshot, str, str, Site]:
    """A snapshot, a control, one of its resources, and one read the evaluation made."""
    snapshot = draw(st.one_of(st.sampled_from(snapshots), generated_accounts()))
    control = draw(st.sampled_from(sorted(CHECKS)))
    resources = [f.resource_id for f in evaluate(snapshot, control)]
    assume(resources)
    resource = draw(st.sampled_from(resources))
    sites = sites_read(snapshot, control, resource)
    assume(sites)
    return snapshot, control, resource, draw(st.sampled_from(sites))


def evaluate(snapshot: Snapshot, control: str) -> list[Result]:
    return run_check(CHECKS[control], snapshot, builtin_catalog().tunables({}, "property"))


def violation(snapshot: Snapshot, control: str, resource: str, site: Site) -> str | None:
    """What is wrong with ``control``'s verdict on ``resource`` once ``site`` is unreadable;
    None when it is ERROR or a verdict no value of the read could have changed (a FAIL the
    readable data proves, say)."""
    label = f"{control} on {resource} with {site} unreadable"
    before = verdict(snapshot, control, resource)
    assert before is not None
    unreadable = replaced(snapshot, site, copy.deepcopy(MARKER))
    marked = verdict(unreadable, control, resource)
    if marked is None:
        # The resource itself is no longer known (its listing was marked): the control must
        # say so with an ERROR, never by judging fewer resources in silence.
        if any(f.status == "error" for f in evaluate(unreadable, control)):
            return None
        return f"{label}: the resource vanished without an ERROR"
    if marked.status == "error":
        return None
    if marked.status != before.status:
        return f"{label}: {before.status} -> {marked.status}"
    for other in alternatives(snapshot, site):
        again = verdict(other, control, resource)
        if again is not None and again.status not in (marked.status, "error"):
            return (
                f"{label}: {marked.status} while unknown, yet {again.status} for a value it "
                "could hold"
            )
    return None


def test_marking_a_read_never_makes_a_pass_and_fails_only_when_certain(
    snapshots: list[Snapshot],
) -> None:
    @settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
    @given(markings(snapshots))
    def check(marking: tuple[Snapshot, str, str, Site]) -> None:
        assert violation(*marking) is None

    check()


@pytest.mark.parametrize("control", sorted(CHECKS))
def test_every_read_of_every_rule_marked_in_turn(snapshots: list[Snapshot], control: str) -> None:
    """The same property, exhaustively: each read each resource's evaluation made."""
    found = [
        problem
        for snapshot in snapshots
        for finding in evaluate(snapshot, control)
        for site in sites_read(snapshot, control, finding.resource_id)
        if (problem := violation(snapshot, control, finding.resource_id, site))
    ]
    assert found == []
