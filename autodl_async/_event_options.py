"""What a caller may ask of an event stream, checked before anything is sent.

One frozen value shared by ``events.stream()`` and ``events.watch_many()``, so both reject
the same bad input with the same :class:`InvalidParameterError` naming the parameter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, TypeAlias, TypedDict

from ._config import NOT_GIVEN, NotGiven, Seconds
from ._errors import InvalidParameterError
from ._event_cursor import EventCursor
from ._event_policy import PollPolicy
from ._event_rows import Order
from .types.containers import warn_unknown_statuses

__all__ = ["OrderChoice", "Start", "StreamKwargs", "StreamOptions"]

Start: TypeAlias = Literal["beginning", "now"]
OrderChoice: TypeAlias = Literal["auto", "newest_first", "oldest_first"]

_MAX_PAGE_SIZE = 1000


def _seconds(param: str, value: object, *, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidParameterError(param, f"must be a number of seconds, got {value!r}")
    if not value > minimum:
        raise InvalidParameterError(param, f"must be > {minimum:g}, got {value!r}")
    return float(value)


def _uuid(param: str, value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise InvalidParameterError(param, f"must be a non-empty string or None, got {value!r}")


class StreamKwargs(TypedDict, total=False):
    """The keyword options of ``events.stream()``, also taken by ``events.watch_many()``."""

    container_uuid: str | None
    start: Start
    order: OrderChoice
    page_size: int
    min_interval: float
    max_interval: float
    jitter: float
    until_stopped: bool
    until_status: str | None
    until_container: str | None
    until_caught_up: bool
    timeout: Seconds | NotGiven


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamOptions:
    """Every option of ``events.stream()`` but the deployment and the cursor."""

    container_uuid: str | None = None
    start: Start = "beginning"
    order: OrderChoice = "auto"
    page_size: int = 100
    min_interval: float = 1.0
    max_interval: float = 10.0
    jitter: float = 0.1
    until_stopped: bool = False
    until_status: str | None = None
    until_container: str | None = None
    until_caught_up: bool = False
    #: Seconds from the first ``__anext__``; left out or ``None``, a stream runs until stopped.
    timeout: Seconds | NotGiven = NOT_GIVEN

    def __post_init__(self) -> None:
        _uuid("container_uuid", self.container_uuid)
        _uuid("until_container", self.until_container)
        _uuid("until_status", self.until_status)
        if self.until_status is not None:
            warn_unknown_statuses("until_status", [self.until_status])
        if self.start not in ("beginning", "now"):
            raise InvalidParameterError(
                "start", f"must be 'beginning' or 'now', got {self.start!r}"
            )
        if self.order not in ("auto", "newest_first", "oldest_first"):
            raise InvalidParameterError(
                "order", f"must be 'auto', 'newest_first' or 'oldest_first', got {self.order!r}"
            )
        size = self.page_size
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= _MAX_PAGE_SIZE:
            raise InvalidParameterError(
                "page_size", f"must be an integer within 1..{_MAX_PAGE_SIZE}, got {size!r}"
            )
        low = _seconds("min_interval", self.min_interval)
        high = _seconds("max_interval", self.max_interval)
        if high < low:
            raise InvalidParameterError(
                "max_interval", f"must be >= min_interval ({low:g}), got {high:g}"
            )
        jitter = self.jitter
        if isinstance(jitter, bool) or not isinstance(jitter, int | float) or not 0 <= jitter < 1:
            raise InvalidParameterError("jitter", f"must be within [0, 1), got {jitter!r}")
        for flag in ("until_stopped", "until_caught_up"):
            if not isinstance(getattr(self, flag), bool):
                raise InvalidParameterError(
                    flag, f"must be True or False, got {getattr(self, flag)!r}"
                )
        if self.until_container is not None and self.until_status is None:
            raise InvalidParameterError("until_container", "needs until_status")
        if self.timeout is not None and not isinstance(self.timeout, NotGiven):
            _seconds("timeout", self.timeout)

    @property
    def time_limit(self) -> float | None:
        """The wall-clock limit in seconds, ``None`` for none."""
        return None if isinstance(self.timeout, NotGiven) else self.timeout

    @property
    def explicit_order(self) -> Order | None:
        return None if self.order == "auto" else self.order

    @property
    def policy(self) -> PollPolicy:
        return PollPolicy(float(self.min_interval), float(self.max_interval), float(self.jitter))

    @property
    def watched_container(self) -> str | None:
        """Whose status ends the stream: ``until_container``, else the stream's filter."""
        return self.until_container or self.container_uuid

    def check_cursor(self, deployment_uuid: str, cursor: EventCursor) -> None:
        """A cursor only resumes the stream it was taken from."""
        if self.start != "beginning":
            raise InvalidParameterError("start", "give a cursor or start='now', not both")
        if cursor.deployment_uuid != deployment_uuid:
            raise InvalidParameterError(
                "cursor",
                f"belongs to deployment {cursor.deployment_uuid!r}, not {deployment_uuid!r}",
            )
        if cursor.container_uuid != self.container_uuid:
            raise InvalidParameterError(
                "cursor",
                f"was taken with container_uuid={cursor.container_uuid!r}, "
                f"not {self.container_uuid!r}",
            )
        explicit = self.explicit_order
        if explicit is not None and cursor.order is not None and cursor.order != explicit:
            raise InvalidParameterError(
                "order", f"the cursor says the server lists {cursor.order}, not {explicit}"
            )
