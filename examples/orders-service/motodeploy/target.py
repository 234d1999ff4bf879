"""Where a fallback creates its resource, and the guard every fallback starts with."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3

from motodeploy.intrinsics import Resolved


@dataclass(frozen=True)
class Target:
    """Where the stack goes: the session on the moto server, its region, the stack name."""

    session: boto3.Session
    region: str
    stack_name: str

    def client(self, service: str) -> Any:
        return self.session.client(service, region_name=self.region)


#: Creates one resource from its resolved properties: (target, logical id, properties).
Fallback = Callable[[Target, str, dict[str, Any]], Resolved]


def check_known(logical_id: str, properties: Mapping[str, Any], known: Iterable[str]) -> None:
    """Refuse properties the fallback would not apply: a template setting is never lost."""
    unknown = sorted(set(properties) - set(known))
    if unknown:
        raise NotImplementedError(
            f"{logical_id}: the moto fallback does not apply the properties {unknown}"
        )
