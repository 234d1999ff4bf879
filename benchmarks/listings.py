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

Code signing configs moto does not implement either: it keeps only the
``CodeSigningConfigArn`` each function was created with. :class:`CodeSigningConfigs` serves
the configs the seeder made (``ListCodeSigningConfigs``, up to 10,000 a page as AWS
documents) and, for each, the functions moto says use it (``ListFunctionsByCodeSigningConfig``,
read from moto's ``GetFunctionCodeSigningConfig`` of every function once, until a write).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

#: Operation -> (result key, AWS's largest page).
PAGED = {
    "lambda:ListFunctions": ("Functions", 50),
    "lambda:ListEventSourceMappings": ("EventSourceMappings", 100),
}
#: Operation -> (result key, largest page). AWS documents 10,000 configs a page, and no page
#: size for the functions of a config: 50, as ListFunctions, can only overstate its calls.
CODE_SIGNING = {
    "lambda:ListCodeSigningConfigs": ("CodeSigningConfigs", 10_000),
    "lambda:ListFunctionsByCodeSigningConfig": ("FunctionArns", 50),
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
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query))
        marker, max_items = query.pop("Marker", None), query.pop("MaxItems", None)
        key = (operation, region, parts.path, *sorted(f"{k}={v}" for k, v in query.items()))
        with self._lock:
            if key not in self._cache:
                listing = self._read(operation, parts.path, query, headers)
                if isinstance(listing, tuple):
                    return listing
                self._cache[key] = listing
            items = self._cache[key]
        return page_of(items, PAGED[operation], marker, max_items)

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


def page_of(
    items: list[Any], paging: tuple[str, int], marker: str | None, max_items: str | None
) -> Answer:
    """The page of ``items`` after ``marker`` (an index), of at most ``max_items`` and the
    operation's largest page, as AWS answers it: ``NextMarker`` while more are left."""
    result_key, page_size = paging
    start = int(marker or 0)
    size = min(int(max_items or page_size), page_size)
    document: dict[str, Any] = {result_key: items[start : start + size]}
    if start + size < len(items):
        document["NextMarker"] = str(start + size)
    return 200, [("Content-Type", "application/json")], json.dumps(document).encode()


class CodeSigningConfigs:
    """The account's code signing configs, and the functions moto says use each."""

    def __init__(self, configs: list[dict[str, Any]], forward: Forward) -> None:
        self._configs = {config["CodeSigningConfigArn"]: config for config in configs}
        self._forward = forward
        self._lock = threading.Lock()
        self._functions: dict[str, dict[str, list[str]]] = {}

    def invalidate(self) -> None:
        with self._lock:
            self._functions.clear()

    def answer(
        self, operation: str, region: str, target: str, headers: Mapping[str, str]
    ) -> Answer:
        """One page of ``operation`` (a key of :data:`CODE_SIGNING`), as AWS answers it."""
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query))
        paging = CODE_SIGNING[operation], query.get("Marker"), query.get("MaxItems")
        if operation == "lambda:ListCodeSigningConfigs":
            configs = [c for arn, c in self._configs.items() if arn.split(":")[3] == region]
            return page_of(configs, *paging)
        arn = unquote(parts.path).split("/code-signing-configs/", 1)[1].removesuffix("/functions")
        if arn not in self._configs:
            body = {"Type": "User", "message": f"The code signing config {arn} is not found."}
            error = [("Content-Type", "application/json")]
            error.append(("x-amzn-ErrorType", "ResourceNotFoundException"))
            return 404, error, json.dumps(body).encode()
        with self._lock:
            if region not in self._functions:
                using = self._read(headers)
                if isinstance(using, tuple):
                    return using
                self._functions[region] = using
            functions = self._functions[region].get(arn, [])
        return page_of(functions, *paging)

    def _read(self, headers: Mapping[str, str]) -> dict[str, list[str]] | Answer:
        """Function ARNs by the config each was created with, from moto (the Region is the
        request's, in its credential scope)."""
        status, reply_headers, reply = self._forward("GET", "/2015-03-31/functions/", headers, b"")
        if status != 200:
            return status, reply_headers, reply
        using: dict[str, list[str]] = {}
        for function in json.loads(reply)["Functions"]:
            name = quote(function["FunctionName"], safe="")
            target = f"/2020-06-30/functions/{name}/code-signing-config"
            status, reply_headers, reply = self._forward("GET", target, headers, b"")
            if status != 200:
                return status, reply_headers, reply
            arn = json.loads(reply).get("CodeSigningConfigArn")
            if arn:
                using.setdefault(arn, []).append(function["FunctionArn"])
        return using


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
