"""Calls to AWS for the collectors: cached clients, pagination, concurrency, fail-closed.

Every collector reads through one :class:`Reader`, so that clients are made once per
service and region, every call is counted (and paced, when the reader has a
:class:`~pytest_prr.snapshot.collect.pacing.Pacer`), and every failure becomes an error
marker at the place of the data it would have provided instead of an exception or an empty
result.
"""

from __future__ import annotations

import datetime
import functools
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from pytest_prr.snapshot.collect.fidelity import AWS, Fidelity
from pytest_prr.snapshot.collect.pacing import Pacer
from pytest_prr.snapshot.model import UNIMPLEMENTED, error_marker

T = TypeVar("T")
R = TypeVar("R")

#: Calls within a region run on a bounded pool: AWS throttles per account and region. With
#: pacing, most of the pool waits for its turn at a bucket; the pool only has to be large
#: enough to keep every bucket busy while some threads wait on AWS's answers.
DEFAULT_WORKERS = 8


def json_safe(value: Any) -> Any:
    """``value`` with timestamps as ISO 8601 strings and binary payloads dropped, so the
    snapshot in memory is exactly what a saved and reloaded one holds."""
    if isinstance(value, dict):
        return {
            key: json_safe(item)
            for key, item in value.items()
            if not isinstance(item, bytes | bytearray) and key != "ResponseMetadata"
        }
    if isinstance(value, list):
        return [json_safe(item) for item in value]
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return value


class Reader:
    """Read-only access to one account for collectors; thread-safe."""

    def __init__(
        self,
        session: Any,
        *,
        workers: int = DEFAULT_WORKERS,
        progress: Callable[[str, int, int], None] | None = None,
        pacer: Pacer | None = None,
        fidelity: Fidelity = AWS,
    ) -> None:
        self._session = session
        self.fidelity = fidelity
        self._progress = progress
        self._pacer = pacer
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._workers = workers
        self.calls: Counter[str] = Counter()

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                client = self._session.client(service, region_name=region)
                if self._pacer is not None:
                    # before-send fires for every attempt, so botocore's retries are paced too.
                    client.meta.events.register(
                        "before-send", functools.partial(_pace, self._pacer, service, region)
                    )
                self._clients[key] = client
            return self._clients[key]

    def call(
        self, service: str, region: str, method: str, *, absent: Iterable[str] = (), **params: Any
    ) -> Any:
        """One API call: its response, None when its error code is in ``absent`` (the AWS
        way of saying "there is none", e.g. a function without a resource policy), or an
        error marker naming the operation."""
        client = self.client(service, region)
        operation = f"{service}:{client.meta.method_to_api_mapping[method]}"
        self._count(operation)
        try:
            return json_safe(getattr(client, method)(**params))
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "ClientError")
            if code in set(absent):
                return None
            return self._failed(operation, error, code)
        except Exception as error:  # fail closed: whatever broke the call marks its data
            return self._failed(operation, error, type(error).__name__)

    def pages(
        self,
        service: str,
        region: str,
        method: str,
        result_key: str,
        *,
        keep: Callable[[Any], Any] | None = None,
        **params: Any,
    ) -> Any:
        """All items of a paginated list operation, or an error marker if any page failed:
        half a list would let a missing resource pass. ``keep`` maps each item to what is
        kept of it as the pages arrive, so a long listing is never held whole."""
        client = self.client(service, region)
        operation = f"{service}:{client.meta.method_to_api_mapping[method]}"
        items: list[Any] = []
        try:
            for page in client.get_paginator(method).paginate(**params):
                self._count(operation)
                found = json_safe(page.get(result_key, []))
                items.extend(found if keep is None else map(keep, found))
        except ClientError as error:
            self._count(operation)
            code = error.response.get("Error", {}).get("Code", "ClientError")
            return self._failed(operation, error, code)
        except Exception as error:
            # Besides BotoCoreError: moto's in-process mock raises NotImplementedError (and
            # the odd KeyError) where its server would answer 500. Fail closed either way.
            self._count(operation)
            return self._failed(operation, error, type(error).__name__)
        return items

    def _failed(self, operation: str, error: Exception, code: str) -> dict[str, Any]:
        """The marker of a failed call; one the endpoint does not implement says so."""
        response = getattr(error, "response", None) or {}
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        unimplemented = self.fidelity.unimplemented(operation, status, code)
        return error_marker(
            operation, code, str(error), kind=UNIMPLEMENTED if unimplemented else None
        )

    def map(self, function: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """``function`` over ``items`` on a bounded pool, results in input order."""
        items = list(items)
        if len(items) <= 1:
            return [function(item) for item in items]
        with ThreadPoolExecutor(min(self._workers, len(items))) as pool:
            return list(pool.map(function, items))

    def report(self, region: str, done: int, total: int) -> None:
        """Tell the progress display how many of a region's functions have been read."""
        if self._progress is not None:
            self._progress(region, done, total)

    def _count(self, operation: str) -> None:
        with self._lock:
            self.calls[operation] += 1


def _pace(pacer: Pacer, service: str, region: str, event_name: str, **_: Any) -> None:
    """botocore's ``before-send.<service-id>.<Operation>`` handler: wait for the bucket."""
    pacer.wait(service, region, event_name.rsplit(".", 1)[-1])
