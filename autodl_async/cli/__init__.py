"""The ``autodl-async`` command line.

click and rich live in the optional ``cli`` extra, so this module imports nothing beyond the
standard library until it has checked they are there: a user who installed only the SDK gets
one line saying what to install, not an ``ImportError`` traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Final

__all__ = ["MISSING_EXTRA", "main"]

MISSING_EXTRA: Final = (
    "autodl-async: the command-line tool needs the 'cli' extra: pip install 'autodl-async[cli]'"
)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point (``autodl-async``); ``argv`` defaults to ``sys.argv[1:]``."""
    try:
        import click  # noqa: F401
        import rich  # noqa: F401
    except ImportError:
        print(MISSING_EXTRA, file=sys.stderr)
        raise SystemExit(1) from None
    from ._app import cli

    cli.main(args=list(argv) if argv is not None else None, prog_name="autodl-async")
