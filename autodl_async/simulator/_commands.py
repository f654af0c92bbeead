"""What the simulator reads out of a container's shell command: how long it sleeps, and
whether it ends with a failing `exit N`."""

from __future__ import annotations

import math
import re
from typing import Final

__all__ = ["exit_code", "run_seconds", "sleep_seconds"]

_SLEEP: Final = re.compile(r"(?<![\w.-])sleep\s+([^\s;&|)]+)")
_EXIT: Final = re.compile(r"(?<![\w.-])exit(?:\s+(\d+))?(?![\w.-])")
_ONLY_EXIT: Final = re.compile(r"\s*exit(?:\s+\d+)?\s*;?\s*")
_BACKGROUNDED: Final = re.compile(r"(?<!&)&\s*$")
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


def exit_code(cmd: str) -> int:
    """The code of the first `exit N` in `cmd` (bare `exit` is 0); 0 when there is none.

    A non-zero code makes the container *fail* when its run ends rather than *finish*, which
    is how a test gets `failed_num` to move: `cmd="sleep 30; exit 1"`.
    """
    match = _EXIT.search(cmd)
    if match is None or match.group(1) is None:
        return 0
    return int(match.group(1))


def run_seconds(cmd: str) -> float | None:
    """How long after `running` the container's main process exits; None means never.

    The first `sleep N` sets it; a command that is nothing but `exit N` ends at once, and so
    does one that puts its work in the background (`python serve.py &`): the main process
    returns, which ends the container (docs/api-field-notes.md §5).
    """
    if _BACKGROUNDED.search(cmd):
        return 0.0
    seconds = sleep_seconds(cmd)
    if seconds is None:
        return 0.0 if _ONLY_EXIT.fullmatch(cmd) else None
    if math.isinf(seconds):
        return None
    return seconds
