"""What the simulator reads out of a container's shell command: only how long it sleeps."""

from __future__ import annotations

import math
import re
from typing import Final

__all__ = ["run_seconds", "sleep_seconds"]

_SLEEP: Final = re.compile(r"(?<![\w.-])sleep\s+([^\s;&|)]+)")
_DURATION: Final = re.compile(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)")
_UNIT: Final = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def sleep_seconds(cmd: str) -> float | None:
    """Seconds of the first `sleep N` in `cmd` (GNU suffixes s/m/h/d allowed).

    None when there is no numeric sleep; `sleep infinity` is `math.inf`.
    """
    match = _SLEEP.search(cmd)
    if match is None:
        return None
    token = match.group(1)
    if token in {"infinity", "inf"}:
        return math.inf
    duration = _DURATION.fullmatch(token)
    if duration is None:
        return None
    return float(duration.group(1)) * _UNIT[duration.group(2)]


def run_seconds(cmd: str) -> float | None:
    """How long after `running` the container's main process exits; None means never."""
    seconds = sleep_seconds(cmd)
    if seconds is None or math.isinf(seconds):
        return None
    return seconds
