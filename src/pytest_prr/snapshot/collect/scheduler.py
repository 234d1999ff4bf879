"""EventBridge Scheduler schedules that invoke functions, for REL-01.

A schedule invokes its target asynchronously, like an EventBridge rule, but through an
execution role rather than the function's resource policy, so nothing on the function shows
it. ``ListSchedules`` names every schedule's target across all schedule groups, a page per
100 schedules: no call per schedule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_prr.snapshot.collect.reader import Reader
from pytest_prr.snapshot.model import is_error


def collect_scheduler(reader: Reader, region: str, section: Mapping[str, Any]) -> dict[str, Any]:
    """``section`` is unused: schedules name the functions they invoke."""
    schedules = reader.pages("scheduler", region, "list_schedules", "Schedules")
    if is_error(schedules):
        return {"targets": schedules}
    return {
        "targets": [
            {
                "ScheduleArn": schedule["Arn"],
                "GroupName": schedule.get("GroupName"),
                "State": schedule.get("State"),
                "FunctionArn": ":".join(target.split(":")[:7]),
            }
            for schedule in schedules
            if ":function:" in (target := (schedule.get("Target") or {}).get("Arn") or "")
            and target.split(":")[2:3] == ["lambda"]
        ]
    }
