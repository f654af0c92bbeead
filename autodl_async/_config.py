"""Defaults and the sentinel that tells "use the client default" apart from ``None``.

``None`` for a time limit means "no limit" and must be asked for explicitly; leaving an argument
out means "the client's default". Mixing the two is how SDKs end up waiting forever.
"""

from __future__ import annotations

import enum
from typing import Final, Literal, TypeAlias, TypeVar

__all__ = [
    "DEFAULT_ATTEMPT_TIMEOUT",
    "DEFAULT_BASE_URL",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_CONNECTIONS",
    "NOT_GIVEN",
    "NotGiven",
]

DEFAULT_BASE_URL: Final = "https://api.autodl.com"
#: Seconds one HTTP attempt may take, connect included.
DEFAULT_ATTEMPT_TIMEOUT: Final = 30.0
#: Seconds to establish a connection within an attempt.
DEFAULT_CONNECT_TIMEOUT: Final = 10.0
#: Seconds one call may take across all its attempts and backoff sleeps.
DEFAULT_DEADLINE: Final = 120.0
#: Connections kept by the client's pool; the SDK's own limiters queue work before this.
DEFAULT_MAX_CONNECTIONS: Final = 100


class NotGiven(enum.Enum):
    """The type of :data:`NOT_GIVEN`."""

    NOT_GIVEN = enum.auto()

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> Literal[False]:
        return False


#: Pass (or leave out) to mean "the client's default"; ``None`` means "no limit".
NOT_GIVEN: Final = NotGiven.NOT_GIVEN

_T = TypeVar("_T")
Seconds: TypeAlias = float | None


def resolve(value: _T | NotGiven, default: _T) -> _T:
    """Pick the per-call value unless the caller left it out."""
    return default if isinstance(value, NotGiven) else value
