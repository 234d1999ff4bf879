"""Wall time and peak memory of a child process and everything it starts.

The largest process's peak RSS comes from ``/usr/bin/time`` (its ``%M``), which reads it
from ``wait4`` after an ``exec`` of its own: a child forked straight from the harness would
report the harness's memory at the fork when that is larger. Under ``pytest -n 2`` the run is
three processes, so their sum is sampled as well, from ``/proc``, every 20 ms.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

SAMPLE_INTERVAL_S = 0.02
TIME = "/usr/bin/time"


@dataclass(frozen=True)
class Measured:
    """One finished child process."""

    returncode: int
    wall_s: float
    #: Peak RSS of the largest single process (what ``/usr/bin/time -v`` reports).
    peak_rss_mb: float
    #: Peak of the summed RSS of the process and all its descendants, sampled.
    peak_tree_rss_mb: float
    stdout: str
    stderr: str


def run(command: Sequence[str], *, cwd: Path | None = None, env: dict | None = None) -> Measured:
    """Run ``command`` to completion under ``/usr/bin/time``, measuring it."""
    with tempfile.NamedTemporaryFile("r", suffix=".maxrss") as maxrss:
        started = time.monotonic()
        process = subprocess.Popen(
            [TIME, "-f", "%M", "-o", maxrss.name, *command],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        sampler = _TreeSampler(process.pid)
        sampler.start()
        stdout, stderr = process.communicate()
        wall = time.monotonic() - started
        sampler.stop()
        largest_kb = int(maxrss.read().split()[-1])
    return Measured(
        returncode=process.returncode,
        wall_s=wall,
        peak_rss_mb=largest_kb / 1024,
        peak_tree_rss_mb=sampler.peak_tree_kb / 1024,
        stdout=stdout,
        stderr=stderr,
    )


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


class _TreeSampler(threading.Thread):
    """The peak of the summed RSS of ``root``'s descendants (``root`` is ``time``)."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self._root = root
        self._done = threading.Event()
        self.peak_tree_kb = 0

    def run(self) -> None:
        while not self._done.wait(SAMPLE_INTERVAL_S):
            descendants = _tree(self._root)[1:]
            self.peak_tree_kb = max(self.peak_tree_kb, sum(map(_rss_kb, descendants)))

    def stop(self) -> None:
        self._done.set()
        self.join()


def _tree(root: int) -> list[int]:
    """``root`` and its descendants; a process may end while it is read."""
    pids, pending = [], [root]
    while pending:
        pid = pending.pop()
        pids.append(pid)
        try:
            tasks = list(Path(f"/proc/{pid}/task").glob("*/children"))
            for task in tasks:
                pending.extend(int(child) for child in task.read_text().split())
        except OSError:
            continue
    return pids


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
