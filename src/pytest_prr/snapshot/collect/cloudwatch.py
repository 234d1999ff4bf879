"""CloudWatch alarms on Lambda metrics (OBS-03/04/05) and the SLO window's totals (OBS-08).

Alarms are listed once per region and kept only when they watch the ``AWS/Lambda``
namespace; the checks match them to functions by the ``FunctionName`` dimension. An alarm on a
metric-math expression has no top-level namespace and is not kept: such an alarm counts as
absent, so OBS-03/04 fail rather than pass on an alarm whose math nobody reviewed.

The SLO totals are summed Errors and Invocations per function over the window, 250
functions (500 queries, the API's limit) per GetMetricData call. The period is the whole
window, a multiple of an hour as CloudWatch requires for data older than 15 days; every
datapoint returned is summed, so a window split across two periods still adds up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pytest_prr.snapshot.collect.reader import Reader
from pytest_prr.snapshot.model import error_marker, is_error

NAMESPACE = "AWS/Lambda"
ALARM_FIELDS = (
    "AlarmName",
    "AlarmArn",
    "MetricName",
    "Dimensions",
    "ActionsEnabled",
    "AlarmActions",
)
SLO_METRICS = ("Errors", "Invocations")
QUERIES_PER_CALL = 500
FUNCTIONS_PER_CALL = QUERIES_PER_CALL // len(SLO_METRICS)
#: Query statuses meaning the numbers are not the account's (PartialData only means "more
#: pages follow", which the paginator fetches).
FAILED_STATUSES = ("InternalError", "Forbidden")


def collect_cloudwatch(
    reader: Reader, region: str, section: Mapping[str, Any], *, window_days: int = 30
) -> dict[str, Any]:
    alarms = reader.pages(
        "cloudwatch",
        region,
        "describe_alarms",
        "MetricAlarms",
        PaginationConfig={"PageSize": 100},  # the largest page; the default is 50
    )
    if not is_error(alarms):
        alarms = [
            {field: alarm.get(field) for field in ALARM_FIELDS}
            for alarm in alarms
            if alarm.get("Namespace") == NAMESPACE
        ]
    functions = section["lambda"]["functions"]
    return {
        "alarms": alarms,
        "metrics": functions
        if is_error(functions)
        else _metrics(reader, region, functions, window_days),
    }


def _metrics(
    reader: Reader, region: str, functions: Mapping[str, Any], window_days: int
) -> dict[str, Any]:
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=window_days)
    arns = sorted(functions)
    batches = [arns[i : i + FUNCTIONS_PER_CALL] for i in range(0, len(arns), FUNCTIONS_PER_CALL)]

    def read(batch: list[str]) -> dict[str, Any]:
        names = [functions[arn]["FunctionName"] for arn in batch]
        return _batch(reader, region, dict(zip(batch, names, strict=True)), start, end, window_days)

    return {arn: value for result in reader.map(read, batches) for arn, value in result.items()}


def _batch(
    reader: Reader,
    region: str,
    names: Mapping[str, str],
    start: datetime,
    end: datetime,
    window_days: int,
) -> dict[str, Any]:
    """Totals for the functions ``names`` (ARN → name) in one call, or its error for all."""
    period = window_days * 86400
    queries = [
        {
            "Id": _query_id(index, metric),
            "MetricStat": {
                "Metric": {
                    "Namespace": NAMESPACE,
                    "MetricName": metric,
                    "Dimensions": [{"Name": "FunctionName", "Value": name}],
                },
                "Period": period,
                "Stat": "Sum",
            },
            "ReturnData": True,
        }
        for index, name in enumerate(names.values())
        for metric in SLO_METRICS
    ]
    results = reader.pages(
        "cloudwatch",
        region,
        "get_metric_data",
        "MetricDataResults",
        MetricDataQueries=queries,
        StartTime=start,
        EndTime=end,
    )
    if is_error(results):
        return dict.fromkeys(names, results)
    totals: dict[str, float] = defaultdict(float)
    failed: dict[str, Any] = {}
    for result in results:
        totals[result["Id"]] += sum(result.get("Values", []))
        if result.get("StatusCode") in FAILED_STATUSES:
            message = "; ".join(m.get("Value", "") for m in result.get("Messages", []))
            failed[result["Id"]] = error_marker(
                "cloudwatch:GetMetricData", result["StatusCode"], message or result["Id"]
            )
    metrics: dict[str, Any] = {}
    for index, arn in enumerate(names):
        ids = {metric: _query_id(index, metric) for metric in SLO_METRICS}
        errors = [failed[i] for i in ids.values() if i in failed] + [
            # A query left unanswered is no evidence of zero invocations.
            error_marker("cloudwatch:GetMetricData", "MissingResult", i)
            for i in ids.values()
            if i not in totals
        ]
        metrics[arn] = (
            errors[0]
            if errors
            else {
                **{metric: totals[i] for metric, i in ids.items()},
                "window_days": window_days,
            }
        )
    return metrics


def _query_id(index: int, metric: str) -> str:
    """GetMetricData ids start with a lower-case letter and are unique within a call."""
    return f"f{index}_{metric.lower()}"
