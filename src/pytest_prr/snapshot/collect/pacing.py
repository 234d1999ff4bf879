"""Client-side pacing: keep each AWS rate bucket at its quota instead of overrunning it.

On an account with thousands of functions the snapshot's cost is not CPU but AWS's request
quotas. A pool of threads sending as fast as they can overruns them: AWS answers "throttled",
botocore backs off exponentially, and every retry spends the client's retry quota, which, once
drained, turns the next throttle into a failed read (an ERROR in the report). Pacing each
bucket at its documented rate keeps it busy without overrunning it: the snapshot takes about
as long as the quotas allow, and the retry quota is left for the throttles that other
callers of the same account cause.

A rate is keyed ``service:Operation`` for an operation with a bucket of its own,
``service:*`` for the budget the rest of the service's operations share, or ``*`` for the
budget of each service not named. Quotas apply per account and Region, except for the global
services, which have one bucket per account.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping

#: The rates a snapshot of a live account keeps to. Lambda's are its control-plane quotas
#: per account and Region, from "Lambda quotas" (https://docs.aws.amazon.com/lambda/latest/
#: dg/gettingstarted-limits.html, "API requests"): GetFunction 100 and GetPolicy 15 requests
#: per second, and 15 shared by the remainder of the control plane (all but invocation,
#: GetFunction and GetPolicy); none can be increased. IAM publishes no request-rate quota and
#: the other services none for most of the reads made here, so each gets a conservative 10
#: per second: a snapshot asks them for far fewer calls than Lambda (seconds, where Lambda's
#: shared budget costs minutes), and they are read side by side.
AWS_RATES: Mapping[str, float] = {
    "lambda:GetFunction": 100.0,
    "lambda:GetPolicy": 15.0,
    "lambda:*": 15.0,
    "*": 10.0,
}

#: Services whose quotas are per account rather than per Region.
GLOBAL_SERVICES = frozenset({"iam", "organizations"})


class TokenBucket:
    """``rate`` requests per second with bursts of up to ``burst``; thread-safe.

    A caller takes a token even when none is left, and sleeps until the bucket would have
    refilled it: callers are served in the order they arrive, and none is starved.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"a bucket needs a positive rate and a burst of at least 1: {rate}")
        self.rate = rate
        self._burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = burst
        self._stamp = clock()
        self._lock = threading.Lock()

    def take(self) -> float:
        """Take one token, sleeping until it is due; return the seconds slept."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait:
            self._sleep(wait)
        return wait


class Pacer:
    """One :class:`TokenBucket` per rate and Region, shared by every thread of a snapshot."""

    def __init__(
        self,
        rates: Mapping[str, float],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._rates = dict(rates)
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()
        #: Seconds spent waiting for each rate key, for benchmarks and progress.
        self.waited: Counter[str] = Counter()

    def bucket_of(self, service: str, operation: str) -> str | None:
        """The rate key that ``service:operation`` draws from, or None if it is not paced."""
        for key in (f"{service}:{operation}", f"{service}:*", "*"):
            if key in self._rates:
                return key
        return None

    def wait(self, service: str, region: str, operation: str) -> float:
        """Block until ``service:operation`` may be sent in ``region``; return the wait."""
        key = self.bucket_of(service, operation)
        if key is None:
            return 0.0
        # "*" is a budget per service, not one shared by every service.
        name = f"{service}:*" if key == "*" else key
        scope = "global" if service in GLOBAL_SERVICES else region
        with self._lock:
            bucket = self._buckets.get((name, scope))
            if bucket is None:
                bucket = TokenBucket(self._rates[key], clock=self._clock, sleep=self._sleep)
                self._buckets[(name, scope)] = bucket
        waited = bucket.take()
        if waited:
            with self._lock:
                self.waited[name] += waited
        return waited
