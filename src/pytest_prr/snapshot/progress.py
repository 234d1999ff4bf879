"""Progress of a snapshot on the terminal: functions read per region, for long reads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class SnapshotProgress:
    """Collects ``(region, done, total)`` reports from collector threads and writes a
    line at most every ``interval`` seconds, once the read has taken ``delay`` seconds:
    a small account stays silent, a large one shows it is moving."""

    def __init__(
        self,
        write: Callable[[str], None],
        *,
        delay: float = 2.0,
        interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._write = write
        self._delay = delay
        self._interval = interval
        self._clock = clock
        self._started = clock()
        self._last: float | None = None
        self._lock = threading.Lock()
        self.regions: dict[str, tuple[int, int]] = {}

    def __call__(self, region: str, done: int, total: int) -> None:
        with self._lock:
            self.regions[region] = (done, total)
            now = self._clock()
            if now - self._started < self._delay:
                return
            if self._last is not None and now - self._last < self._interval:
                return
            self._last = now
            self._write(self.line())

    def line(self) -> str:
        parts = ", ".join(
            f"{region} {done}/{total}" for region, (done, total) in sorted(self.regions.items())
        )
        return f"prr: reading functions: {parts}"
