"""SNS subscriptions delivering to functions and the topics wired to them (DAT-03, REL-01, REL-10).

Subscriptions come from one account-wide listing (a few pages) instead of a listing per
topic. Without that listing nobody can tell which topics feed a function, so the topic map
then carries the same marker: a partial map would let DAT-03 pass on a topic never read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pytest_prr.snapshot.collect.reader import Reader
from pytest_prr.snapshot.collect.sqs import wired_arns
from pytest_prr.snapshot.model import is_error

#: What ListSubscriptions shows for a subscription not yet confirmed: it delivers nothing.
PENDING = "PendingConfirmation"


def collect_sns(reader: Reader, region: str, section: Mapping[str, Any]) -> dict[str, Any]:
    functions = section["lambda"]["functions"]
    if is_error(functions):
        return {"subscriptions": functions, "topics": functions}
    listed = reader.pages("sns", region, "list_subscriptions", "Subscriptions")
    if is_error(listed):
        return {"subscriptions": listed, "topics": listed}
    delivering = [
        subscription
        for subscription in listed
        if subscription["Protocol"] == "lambda" and subscription["SubscriptionArn"] != PENDING
    ]
    subscriptions = reader.map(lambda s: _subscription(reader, region, s), delivering)
    topic_arns = sorted(wired_arns(functions, "sns") | {s["TopicArn"] for s in subscriptions})
    topics = reader.map(lambda arn: _topic(reader, arn), topic_arns)
    return {"subscriptions": subscriptions, "topics": dict(zip(topic_arns, topics, strict=True))}


def _subscription(reader: Reader, region: str, listed: Mapping[str, Any]) -> dict[str, Any]:
    response = reader.call(
        "sns",
        region,
        "get_subscription_attributes",
        SubscriptionArn=listed["SubscriptionArn"],
    )
    if is_error(response):
        redrive = response
    else:
        text = response.get("Attributes", {}).get("RedrivePolicy")
        redrive = json.loads(text) if text else None
    return {
        "SubscriptionArn": listed["SubscriptionArn"],
        "TopicArn": listed["TopicArn"],
        "Endpoint": ":".join(listed["Endpoint"].split(":")[:7]),
        "RedrivePolicy": redrive,
    }


def _topic(reader: Reader, arn: str) -> Any:
    response = reader.call("sns", arn.split(":")[3], "get_topic_attributes", TopicArn=arn)
    if is_error(response):
        return response
    return {"KmsMasterKeyId": response.get("Attributes", {}).get("KmsMasterKeyId")}
