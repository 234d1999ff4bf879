"""A proxy in front of a moto server that answers like AWS does under load.

moto answers at once and never throttles, so a snapshot timed against it measures moto's CPU,
not what a pipeline waits for on a real account. This proxy adds what is missing:

* latency: every answer takes at least ``--latency-ms`` (default 40 ms);
* rate limits: a token bucket per rate key and Region (one per account for IAM), refilled
  at the key's requests per second and holding one second's worth; a request that finds the
  bucket empty is answered as AWS answers it (Lambda: HTTP 429 ``TooManyRequestsException``;
  IAM and the other query services: ``Throttling``; JSON services: ``ThrottlingException``);
* pagination where moto returns everything at once: ``ListFunctions`` (50 to a page) and
  ``ListEventSourceMappings`` (100), as AWS documents them (see ``listings.py``);
* ``ListFunctionUrlConfigs``, which moto lacks, answered from moto's
  ``GetFunctionUrlConfig`` (one request to the client, in the ``lambda:*`` bucket);
* ``ListCodeSigningConfigs`` and ``ListFunctionsByCodeSigningConfig``, which moto lacks:
  the configs the seeder made (``--code-signing-configs``), and the functions moto says were
  created with each (requests of the client's, in the ``lambda:*`` bucket);
* counters: requests per operation, throttled requests, and retries, read from the
  ``amz-sdk-request: attempt=N; max=M`` header every botocore request carries;
* moto's crashes on operations it does not implement (an HTML 500 page) are answered 501,
  so that the client fails the read at once instead of retrying what AWS would answer.

Operations are identified the way AWS routes them: the service and Region from the SigV4
credential scope, the operation from ``X-Amz-Target``, the ``Action`` form field, the Smithy
RPC path, or the botocore model's HTTP route. Run it as a child process (it prints its port,
and exits when its standard input closes); ``GET /__simulator__/stats`` returns the counters
and ``POST /__simulator__/reset`` zeroes them and refills the buckets.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from aws_routes import Route, Router
from listings import CODE_SIGNING, PAGED, CodeSigningConfigs, Listings, function_url_configs

#: Requests per second per rate key, per account and Region. Lambda's are its documented
#: control-plane quotas ("Lambda quotas", https://docs.aws.amazon.com/lambda/latest/dg/
#: gettingstarted-limits.html, "API requests"): GetFunction 100, GetPolicy 15, and 15 shared
#: by the remainder of the control plane. IAM documents no request rate and the other
#: services none for most of the reads a snapshot makes: 10 per second each is a
#: conservative stand-in (for IAM, per account, since IAM is global).
DEFAULT_LIMITS: Mapping[str, float] = {
    "lambda:GetFunction": 100.0,
    "lambda:GetPolicy": 15.0,
    "lambda:*": 15.0,
    "*": 10.0,
}
GLOBAL_SERVICES = frozenset({"iam", "organizations"})
CONTROL = "/__simulator__/"
#: Upstream headers not passed on: hop-by-hop ones, and those the handler writes itself.
NOT_FORWARDED = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "server",
    "date",
}
_ATTEMPT = re.compile(r"attempt=(\d+)")
_MAX_ATTEMPTS = re.compile(r"max=(\d+)")


class Bucket:
    """A server-side token bucket: a request either finds a token or is throttled."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self._tokens = self.capacity
        self._stamp = time.monotonic()

    def admit(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class Simulation:
    """The state the request handlers share: limits, buckets and counters."""

    def __init__(
        self,
        upstream: str,
        latency: float,
        limits: Mapping[str, float],
        code_signing_configs: list[dict[str, Any]] | None = None,
    ) -> None:
        self.upstream = urlsplit(upstream)
        self.latency = latency
        self.limits = dict(limits)
        self.router = Router()
        self.listings = Listings(self.forward)
        self.code_signing = CodeSigningConfigs(code_signing_configs or [], self.forward)
        self._local = threading.local()
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._buckets: dict[tuple[str, str], Bucket] = {}
            self.requests: Counter[str] = Counter()
            self.throttled: Counter[str] = Counter()
            self.retried: Counter[str] = Counter()
            self.accepted: Counter[str] = Counter()
            self.moto_gaps: Counter[str] = Counter()
            self.max_attempt = 0
            self.attempt_budget = 0

    def rate_key(self, service: str, operation: str) -> str | None:
        for key in (f"{service}:{operation}", f"{service}:*", "*"):
            if key in self.limits:
                return f"{service}:*" if key == "*" else key
        return None

    def admit(self, route: Route, region: str, headers: Mapping[str, str]) -> bool:
        """Count the request and take a token for it; False when it is throttled."""
        sdk_request = headers.get("amz-sdk-request", "")
        attempt = int(match.group(1)) if (match := _ATTEMPT.search(sdk_request)) else 1
        budget = int(match.group(1)) if (match := _MAX_ATTEMPTS.search(sdk_request)) else 0
        key = self.rate_key(route.service, route.operation)
        scope = "global" if route.service in GLOBAL_SERVICES else region
        with self._lock:
            self.requests[route.name] += 1
            self.max_attempt = max(self.max_attempt, attempt)
            self.attempt_budget = max(self.attempt_budget, budget)
            if attempt > 1:
                self.retried[route.name] += 1
            if key is not None:
                rate = self.limits.get(key, self.limits.get("*", 0.0))
                bucket = self._buckets.get((key, scope))
                if bucket is None:
                    bucket = self._buckets[(key, scope)] = Bucket(rate)
                if not bucket.admit():
                    self.throttled[route.name] += 1
                    return False
            self.accepted[route.name] += 1
        return True

    def count_gap(self, route: Route) -> None:
        with self._lock:
            self.moto_gaps[route.name] += 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            buckets: Counter[str] = Counter()
            for name, count in self.accepted.items():
                service, operation = name.split(":", 1)
                key = self.rate_key(service, operation)
                if key is not None:
                    buckets[key] += count
            return {
                "latency_s": self.latency,
                "limits": self.limits,
                "requests": dict(self.requests),
                "accepted": dict(self.accepted),
                "throttled": dict(self.throttled),
                "retried": dict(self.retried),
                "moto_gaps": dict(self.moto_gaps),
                "max_attempt": self.max_attempt,
                "attempt_budget": self.attempt_budget,
                "bucket_calls": {
                    key: {"calls": count, "rate": self._rate_of(key)}
                    for key, count in buckets.items()
                },
            }

    def _rate_of(self, key: str) -> float:
        return self.limits.get(key, self.limits.get("*", 0.0))

    def forward(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """One exchange with moto, on this thread's kept-alive connection."""
        for attempt in (1, 2):
            connection = getattr(self._local, "connection", None)
            if connection is None:
                connection = HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=300)
                self._local.connection = connection
            try:
                connection.request(method, target, body=body, headers=dict(headers))
                response = connection.getresponse()
                return response.status, response.getheaders(), response.read()
            except (ConnectionError, OSError):
                connection.close()
                self._local.connection = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SimulatorServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: one line per request would drown the benchmark's output."""

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

    def _handle(self) -> None:
        simulation = self.server.simulation
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith(CONTROL):
            self._control(simulation)
            return
        started = time.monotonic()
        headers = {key.lower(): value for key, value in self.headers.items()}
        route, region = simulation.router.identify(self.command, self.path, headers, body)
        if not simulation.admit(route, region, headers):
            status, reply_headers, reply = throttle_answer(route)
        else:
            status, reply_headers, reply = self._forward(simulation, route, region, headers, body)
            if status == 500 and reply.lstrip().lower().startswith(b"<!doctype html>"):
                status, reply_headers, reply = moto_gap(simulation, route)
        time.sleep(max(0.0, started + simulation.latency - time.monotonic()))
        self.send_response(status)
        for key, value in reply_headers:
            if key.lower() not in NOT_FORWARDED:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply)

    def _forward(
        self,
        simulation: Simulation,
        route: Route,
        region: str,
        headers: dict[str, str],
        body: bytes,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        if route.name in PAGED:
            return simulation.listings.page(route.name, region, self.path, headers)
        if route.name == "lambda:ListFunctionUrlConfigs":
            return function_url_configs(simulation.forward, self.path, headers)
        if route.name in CODE_SIGNING:
            return simulation.code_signing.answer(route.name, region, self.path, headers)
        if route.service == "lambda" and self.command != "GET":
            simulation.listings.invalidate()
            simulation.code_signing.invalidate()
        return simulation.forward(self.command, self.path, headers, body)

    def _control(self, simulation: Simulation) -> None:
        if self.command == "POST" and self.path == CONTROL + "reset":
            simulation.reset()
        reply = json.dumps(simulation.stats()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, simulation: Simulation, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.simulation = simulation


def moto_gap(simulation: Simulation, route: Route) -> tuple[int, list[tuple[str, str]], bytes]:
    """moto crashed on an operation it does not implement: werkzeug's HTML page, where AWS
    would have answered. A 500 would have the client retry it with backoff, which AWS would
    never have caused; 501 fails the read at once (the snapshot marks it, as in moto mode)."""
    simulation.count_gap(route)
    body = json.dumps({"message": f"moto does not implement {route.name}"}).encode()
    return 501, [("Content-Type", "application/json")], body


def throttle_answer(route: Route) -> tuple[int, list[tuple[str, str]], bytes]:
    """What AWS answers a request over its rate, in the route's protocol."""
    message = "Rate exceeded"
    if route.protocol == "rest-json":
        body = {"message": message, "Type": "User"}
        if route.service == "lambda":
            body["Reason"] = "CallerRateLimitExceeded"
        headers = [("Content-Type", "application/json")]
        headers.append(("x-amzn-ErrorType", "TooManyRequestsException"))
        return 429, headers, json.dumps(body).encode()
    if route.protocol == "json":
        body = {"__type": "ThrottlingException", "message": message}
        return 400, [("Content-Type", "application/x-amz-json-1.1")], json.dumps(body).encode()
    if route.protocol == "smithy-rpc-v2-cbor":
        headers = [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
        return 400, headers, cbor_map({"__type": "Throttling", "message": message})
    if route.protocol == "ec2":
        xml = (
            "<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
            f"<Message>{message}</Message></Error></Errors><RequestID>sim</RequestID></Response>"
        )
        return 503, [("Content-Type", "text/xml")], xml.encode()
    if route.protocol == "rest-xml":
        xml = f"<Error><Code>SlowDown</Code><Message>{message}</Message></Error>"
        return 503, [("Content-Type", "application/xml")], xml.encode()
    xml = (
        "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
        f"<Message>{message}</Message></Error><RequestId>sim</RequestId></ErrorResponse>"
    )
    return 400, [("Content-Type", "text/xml")], xml.encode()


def cbor_map(fields: Mapping[str, str]) -> bytes:
    """A CBOR map of short text strings (RFC 8949), enough for a Smithy RPC v2 error."""

    def text(value: str) -> bytes:
        data = value.encode()
        if len(data) < 24:
            return bytes([0x60 + len(data)]) + data
        return bytes([0x78, len(data)]) + data

    return bytes([0xA0 + len(fields)]) + b"".join(text(k) + text(v) for k, v in fields.items())


def parse_limits(values: list[str]) -> dict[str, float]:
    """``KEY=RPS`` options over the defaults; ``KEY=0`` removes a limit."""
    limits = dict(DEFAULT_LIMITS)
    for value in values:
        key, _, rate = value.partition("=")
        if float(rate) > 0:
            limits[key] = float(rate)
        else:
            limits.pop(key, None)
    return limits


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--upstream", required=True, help="the moto server's URL")
    parser.add_argument("--latency-ms", type=float, default=40.0)
    parser.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="KEY=RPS",
        help="override a rate limit (lambda:*=15, iam:*=10, *=10); RPS 0 removes it",
    )
    parser.add_argument("--no-limits", action="store_true", help="latency only")
    parser.add_argument(
        "--code-signing-configs",
        type=argparse.FileType(),
        help="JSON list of the account's code signing configs (moto cannot hold them)",
    )
    parser.add_argument("--port", type=int, default=0)
    options = parser.parse_args(argv)
    limits = {} if options.no_limits else parse_limits(options.limit)
    configs = json.load(options.code_signing_configs) if options.code_signing_configs else []
    simulation = Simulation(options.upstream, options.latency_ms / 1000, limits, configs)
    server = SimulatorServer(simulation, options.port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
