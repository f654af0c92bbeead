"""A reader that goes away (``| head -1``) ends the command quietly, with exit code 0.

Python ignores SIGPIPE, so writing to a closed pipe raises :class:`BrokenPipeError` wherever
the write happens: in ``click.echo``, inside rich (which turns it into ``SystemExit(1)``),
inside a task group (wrapped in an exception group), or at interpreter exit when stdout is
flushed ("Exception ignored ... BrokenPipeError"). Standard Unix tools simply stop; so does
this one: :class:`QuietPipeGroup` is the one place that catches it, for every command, and
points stdout at ``/dev/null`` so nothing is written, or complained about, afterwards.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Iterator
from typing import Any

import click
from rich.console import Console

__all__ = ["PipeSafeConsole", "QuietPipeGroup", "is_closed_pipe", "silence_stdout", "tolerate"]


def is_closed_pipe(exc: BaseException) -> bool:
    """Whether ``exc`` is (or, for an exception group, only holds) a write to a closed pipe."""
    if isinstance(exc, BaseExceptionGroup):
        return all(is_closed_pipe(inner) for inner in exc.exceptions)
    return isinstance(exc, BrokenPipeError) or (
        isinstance(exc, OSError) and exc.errno == errno.EPIPE
    )


def silence_stdout() -> None:
    """Send whatever is still written to stdout (and the flush at exit) to ``/dev/null``."""
    with contextlib.suppress(OSError, ValueError):  # no real file descriptor (tests)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)


@contextlib.contextmanager
def tolerate() -> Iterator[None]:
    """Swallow a closed stdout pipe inside the block, so the command can still finish (a bulk
    run whose report nobody reads must still exit 1 if items failed)."""
    try:
        yield
    except (OSError, BaseExceptionGroup) as exc:
        if not is_closed_pipe(exc):
            raise
        silence_stdout()


class PipeSafeConsole(Console):
    """A rich console that reports a closed pipe as :class:`BrokenPipeError`, like every other
    write, instead of exiting 1 on its own."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError(errno.EPIPE, "stdout was closed")


class QuietPipeGroup(click.Group):
    """The top-level group: a command whose stdout reader went away exits 0, silently."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (OSError, BaseExceptionGroup) as exc:
            if not is_closed_pipe(exc):
                raise
            silence_stdout()
            ctx.exit(0)
