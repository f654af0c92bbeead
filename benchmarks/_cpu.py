"""CPU pinning and CPU-time readings, so client and server do not fight over one core.

On a 2-core VM a server and a client that float between cores measure the scheduler as much as
themselves; pinning the server to CPU 0 and the client to CPU 1 (as docs/perf-limits.md did) makes
"client CPU per call" a property of the client. Everything degrades to a no-op where Linux's
affinity calls or ``/proc`` are missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = [
    "CLIENT_CPU",
    "SERVER_CPU",
    "can_pin",
    "pin",
    "pinned",
    "process_cpu_seconds",
]

SERVER_CPU = 0
CLIENT_CPU = 1


def can_pin() -> bool:
    """Two or more CPUs this process may use, and an OS that lets us choose."""
    if not hasattr(os, "sched_setaffinity"):
        return False
    return len(os.sched_getaffinity(0)) >= 2


def pin(cpu: int | None, pid: int = 0) -> None:
    """Pin ``pid`` (0: this process) to one CPU; ``None`` leaves it alone."""
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(pid, {cpu})


@contextmanager
def pinned(cpu: int | None) -> Iterator[None]:
    """Pin this process for a block, then give back the CPUs it had."""
    if cpu is None or not hasattr(os, "sched_setaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of another process (Linux ``/proc``), 0.0 where unavailable."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0
