"""Warnings: one ``autodl-async: warning: ...`` line each on stderr, never on stdout.

Two sources. The CLI's own: a ``--status`` that is not a known container status is still
sent (the API may add statuses), but a typo would otherwise match nothing and look like "no
containers", so it is said, with the likely intended status. And the SDK's log warnings
(logger ``autodl_async``), which without a handler would reach stderr through logging's
last-resort handler in their raw form; here they get the same one-line shape. The SDK's own
unknown-status warning is left out, as the CLI has already said it, naming ``--status``.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
from collections.abc import Iterable, Iterator
from typing import Final

import click

from ..types import ContainerStatus
from ._common import PROG

__all__ = ["sdk_warnings_to_stderr", "warn", "warn_unknown_statuses"]

_SDK_LOGGER: Final = "autodl_async"
#: Part of the SDK's message for a status it does not know (see ``warn_unknown_statuses``).
_SDK_UNKNOWN_STATUS: Final = "unknown container status"


def warn(message: str) -> None:
    click.echo(f"{PROG}: warning: {' '.join(message.split())}", err=True)


def warn_unknown_statuses(statuses: Iterable[str]) -> None:
    """One line per ``--status`` value that is not a :class:`~autodl_async.ContainerStatus`."""
    known = [status.value for status in ContainerStatus]
    for status in dict.fromkeys(statuses):
        if status in known:
            continue
        close = difflib.get_close_matches(status, known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
        warn(f"{status!r} is not a known container status ({hint}); sending it as given")


class _SdkWarnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if _SDK_UNKNOWN_STATUS not in message:
                warn(message)
        except Exception:  # a warning that cannot be shown must not end the command
            self.handleError(record)


@contextlib.contextmanager
def sdk_warnings_to_stderr() -> Iterator[None]:
    """While the block runs, show the SDK's warnings as ``autodl-async: warning:`` lines."""
    logger = logging.getLogger(_SDK_LOGGER)
    handler = _SdkWarnings()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
