"""Wall time and peak memory of a child process and everything it starts.

``/usr/bin/time -v`` reports the largest single process; under ``pytest -n 2`` the run is
three processes, so the tree's total is sampled as well, from ``/proc``, every 20 ms.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

SAMPLE_INTERVAL_S = 0.02


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
    """Run ``command`` to completion, measuring it."""
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sampler = _TreeSampler(process.pid)
    sampler.start()
    stdout, stderr, maxrss_kb = _communicate(process)
    wall = time.monotonic() - started
    sampler.stop()
    return Measured(
        returncode=process.returncode,
        wall_s=wall,
        peak_rss_mb=max(sampler.peak_single_kb, maxrss_kb) / 1024,
        peak_tree_rss_mb=sampler.peak_tree_kb / 1024,
        stdout=stdout,
        stderr=stderr,
    )


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def _communicate(process: subprocess.Popen[str]) -> tuple[str, str, int]:
    """Read the output, then reap the child with ``wait4`` for its peak RSS in kB (which
    ``Popen.wait`` would discard)."""
    assert process.stdout is not None and process.stderr is not None
    errors: list[str] = []
    reader = threading.Thread(target=lambda: errors.append(process.stderr.read()))
    reader.start()
    stdout = process.stdout.read()
    reader.join()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return stdout, errors[0], usage.ru_maxrss


class _TreeSampler(threading.Thread):
    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self._root = root
        self._done = threading.Event()
        self.peak_tree_kb = 0
        self.peak_single_kb = 0

    def run(self) -> None:
        while not self._done.wait(SAMPLE_INTERVAL_S):
            sizes = [_rss_kb(pid) for pid in _tree(self._root)]
            self.peak_tree_kb = max(self.peak_tree_kb, sum(sizes))
            self.peak_single_kb = max(self.peak_single_kb, max(sizes, default=0))

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
