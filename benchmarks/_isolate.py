"""Running one benchmark: in this process, or in a fresh child that may be killed.

A child per benchmark, so one benchmark's heap, GC state, leftover tasks or crash cannot touch
the next, and a hang is cut off instead of eating the ten-minute budget. The child's target lives
here rather than in ``__main__``, because a spawned child cannot import a package's
``__main__`` module again.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import traceback
from multiprocessing.connection import Connection
from typing import Any, Final

from ._result import Result

__all__ = ["TIMEOUT", "run_in_process", "run_isolated", "short_error", "validate"]

TIMEOUT: Final = 420.0  # one benchmark; the whole run must stay within ten minutes
_KEYS: Final = ("benchmark", "workload", "repeats", "versions", "rows", "notes")
_ROW_KEYS: Final = ("label", "metric", "value", "unit", "ratio", "ratio_to", "aim", "met")


def validate(result: Any) -> Result:
    """The result if it follows the convention; ``TypeError``/``ValueError`` says what is not."""
    if not isinstance(result, dict):
        raise TypeError(f"run() returned {type(result).__name__}, not a dict")
    missing = [k for k in _KEYS if k not in result]
    if missing:
        raise ValueError(f"run() result lacks {', '.join(missing)}")
    for index, row in enumerate(result["rows"]):
        lacking = [k for k in _ROW_KEYS if k not in row]
        if lacking:
            raise ValueError(f"row {index} lacks {', '.join(lacking)}")
    checked: Result = result  # type: ignore[assignment]
    return checked


def short_error(error: BaseException) -> str:
    """One line naming the error; for a task group's error, the first error inside it."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    text = f"{type(error).__name__}: {error}".strip()
    return text.splitlines()[0][:300] if text else type(error).__name__


def run_in_process(name: str, quick: bool) -> Result:
    """Import ``benchmarks.<name>`` here and call its ``run()``."""
    module = importlib.import_module(f"benchmarks.{name}")
    run = getattr(module, "run", None)
    if not callable(run):
        raise TypeError(f"{name} has no run()")
    return validate(run(quick=quick))


def _child(name: str, quick: bool, conn: Connection) -> None:
    try:
        conn.send(("ok", run_in_process(name, quick)))
    except BaseException as error:
        conn.send(("error", short_error(error)))
        if os.environ.get("BENCH_TRACEBACK"):
            traceback.print_exc()


def run_isolated(name: str, quick: bool, *, timeout: float = TIMEOUT) -> Result:
    """``run_in_process`` in a fresh child process, so one benchmark's heap, GC state, leftover
    tasks or crash cannot touch the next; killed after ``timeout`` seconds."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(name, quick, child))
    process.start()
    child.close()
    try:
        if not parent.poll(timeout):
            raise TimeoutError(f"no result within {timeout:.0f} s; stopped")
        status, payload = parent.recv()
    except EOFError:
        process.join(5)
        raise RuntimeError(f"the benchmark process died (exit code {process.exitcode})") from None
    finally:
        if process.is_alive():
            process.join(5)
        if process.is_alive():
            process.terminate()
            process.join(5)
    if status != "ok":
        raise RuntimeError(payload)
    return validate(payload)
