"""S3 event notifications that invoke functions, for REL-01.

Buckets are global in name but notify only functions of their own region, so each region
reads its own buckets. ``ListBuckets`` filters by region on the server (``BucketRegion``),
which spares a ``GetBucketLocation`` per bucket and per region; what is left is one
notification read per bucket, for which S3 has no bulk form.

A bucket whose notification configuration could not be read stays in the list with an error
marker as its ``FunctionArn``: it may notify any function of the region, so the checks
looking for a function's notifications meet the marker and fail closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_prr.snapshot.collect.reader import Reader
from pytest_prr.snapshot.model import is_error


def collect_s3(reader: Reader, region: str, section: Mapping[str, Any]) -> dict[str, Any]:
    functions = section["lambda"]["functions"]
    if is_error(functions):
        return {"notifications": functions}
    buckets = reader.pages("s3", region, "list_buckets", "Buckets", BucketRegion=region)
    if is_error(buckets):
        return {"notifications": buckets}
    # An endpoint that ignores the filter but names each bucket's region is still obeyed.
    names = [bucket["Name"] for bucket in buckets if bucket.get("BucketRegion", region) == region]
    notifications: list[dict[str, Any]] = []
    for found in reader.map(lambda name: _notifications(reader, region, name), names):
        notifications.extend(found)
    return {"notifications": notifications}


def _notifications(reader: Reader, region: str, bucket: str) -> list[dict[str, Any]]:
    response = reader.call("s3", region, "get_bucket_notification_configuration", Bucket=bucket)
    if is_error(response):
        return [{"Bucket": bucket, "FunctionArn": response}]
    return [
        {
            "Bucket": bucket,
            "FunctionArn": ":".join(config["LambdaFunctionArn"].split(":")[:7]),
            "Events": config.get("Events", []),
        }
        for config in response.get("LambdaFunctionConfigurations", [])
    ]
