"""Lambda's list operations as AWS pages them, served from one read of the moto server.

moto answers ``ListFunctions`` and ``ListEventSourceMappings`` in a single page, where AWS
returns 50 and 100 items a page; and its ``ListFunctions`` with ``FunctionVersion=ALL``
deep-copies every function, which takes minutes at a few thousand functions (AWS answers
it as fast as any other page). So the simulator reads a listing from moto once, through
the public API (``FunctionVersion=ALL`` is built from ``ListFunctions`` and
``ListVersionsByFunction``), keeps it until Lambda is written to, and serves it page by
page: the client sees AWS's paging and AWS's latency, not moto's CPU.

``ListFunctionUrlConfigs`` moto does not implement at all; :func:`function_url_configs`
answers it from moto's ``GetFunctionUrlConfig``, as AWS would for what moto holds.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

#: Operation -> (result key, AWS's largest page).
PAGED = {
    "lambda:ListFunctions": ("Functions", 50),
    "lambda:ListEventSourceMappings": ("EventSourceMappings", 100),
}
LATEST = "$LATEST"
#: How moto's Lambda answers for a function it does not have, as opposed to a function
#: without the thing asked for (both are ``ResourceNotFoundException``).
UNKNOWN_FUNCTION = "Function not found"
Answer = tuple[int, list[tuple[str, str]], bytes]
Forward = Callable[[str, str, Mapping[str, str], bytes], Answer]


class Listings:
    """Listings read from moto, kept by operation, Region and query until a write."""

    def __init__(self, forward: Forward) -> None:
        self._forward = forward
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, ...], list[Any]] = {}

    def invalidate(self) -> None:
        with self._lock:
            self._cache.clear()

    def page(self, operation: str, region: str, target: str, headers: Mapping[str, str]) -> Answer:
        """One page of ``operation`` (a key of :data:`PAGED`), as AWS would answer it."""
        result_key, page_size = PAGED[operation]
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query))
        start = int(query.pop("Marker", None) or 0)
        size = min(int(query.pop("MaxItems", None) or page_size), page_size)
        key = (operation, region, parts.path, *sorted(f"{k}={v}" for k, v in query.items()))
        with self._lock:
            if key not in self._cache:
                listing = self._read(operation, parts.path, query, headers)
                if isinstance(listing, tuple):
                    return listing
                self._cache[key] = listing
            items = self._cache[key]
        document: dict[str, Any] = {result_key: items[start : start + size]}
        if start + size < len(items):
            document["NextMarker"] = str(start + size)
        return 200, [("Content-Type", "application/json")], json.dumps(document).encode()

    def _read(
        self, operation: str, path: str, query: dict[str, str], headers: Mapping[str, str]
    ) -> list[Any] | Answer:
        """The whole listing, or moto's answer if it was not a success."""
        if operation == "lambda:ListFunctions" and query.get("FunctionVersion") == "ALL":
            return self._all_versions(path, headers)
        target = path + (f"?{urlencode(query)}" if query else "")
        return self._items(target, headers, PAGED[operation][0])

    def _all_versions(self, path: str, headers: Mapping[str, str]) -> list[Any] | Answer:
        functions = self._items(path, headers, "Functions")
        if isinstance(functions, tuple):
            return functions
        listing: list[Any] = []
        for function in functions:
            name = quote(function["FunctionName"], safe="")
            versions = self._items(f"{path.rstrip('/')}/{name}/versions", headers, "Versions")
            if isinstance(versions, tuple):
                return versions
            for version in versions:
                if version["Version"] == LATEST:
                    version = {**function, "FunctionArn": f"{function['FunctionArn']}:{LATEST}"}
                listing.append(version)
        return listing

    def _items(self, target: str, headers: Mapping[str, str], key: str) -> list[Any] | Answer:
        status, reply_headers, reply = self._forward("GET", target, headers, b"")
        if status != 200:
            return status, reply_headers, reply
        return json.loads(reply)[key]


def function_url_configs(forward: Forward, target: str, headers: Mapping[str, str]) -> Answer:
    """``ListFunctionUrlConfigs`` of one function, as AWS answers it: one page.

    moto keeps at most one URL per function, the function's own (its URL calls ignore the
    alias qualifier), so the page lists that URL or none; moto's answer is passed on when the
    function does not exist or moto fails.
    """
    path = urlsplit(target).path.rstrip("/")
    status, reply_headers, reply = forward("GET", path.removesuffix("s"), headers, b"")
    if 200 <= status < 300:  # moto answers GetFunctionUrlConfig with 201
        configs = [json.loads(reply)]
    elif status == 404 and not json.loads(reply).get("message", "").startswith(UNKNOWN_FUNCTION):
        configs = []
    else:
        return status, reply_headers, reply
    document = {"FunctionUrlConfigs": configs}
    return 200, [("Content-Type", "application/json")], json.dumps(document).encode()
