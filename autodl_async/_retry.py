"""When to try a request again, and how long to wait first.

The decision is a pure function of what is known about the failure, so it can be documented as
a table (``docs/reliability.md``, which a test walks row by row) and tested without a network:

====================================================  =================  ======================
failure of one attempt                                idempotent call    create (not idempotent)
====================================================  =================  ======================
refused, DNS, connect or pool timeout (not sent)     retry              retry
HTTP 429, ``Retry-After`` within the cap or absent    retry after hint   retry after hint
HTTP 429, ``Retry-After`` above the cap               RateLimitError     RateLimitError
timeout, reset or disconnect after sending            retry              OutcomeUnknownError
HTTP status in ``retry_statuses`` (500/502/503/504)   retry              OutcomeUnknownError
any other HTTP 5xx                                    ServerError        OutcomeUnknownError
HTTP 200 whose body cannot be read                    retry              OutcomeUnknownError
business code in ``retry_codes``                      retry              typed error
other business errors, 4xx, other statuses            typed error        typed error
====================================================  =================  ======================

Every retry spends from a client-wide :class:`RetryBudget`, so an API that is down gets a
trickle of probes instead of a retry storm from every task at once.
"""

from __future__ import annotations

import email.utils
import enum
import math
import random
import threading
from dataclasses import dataclass, field
from typing import Final

from ._errors import InvalidParameterError

__all__ = ["FailureKind", "RetryBudget", "RetryPolicy", "parse_retry_after"]

# 2**62 × any sane base is far beyond any cap; a larger exponent would overflow a float.
_MAX_EXPONENT: Final = 62


class FailureKind(enum.Enum):
    """What went wrong with one attempt, as far as retrying is concerned."""

    NOT_SENT = "not_sent"  # the request never left: connect failed
    RATE_LIMITED = "rate_limited"  # HTTP 429: the server says it did not process it
    MAYBE_SENT = "maybe_sent"  # timeout, reset, listed 5xx, unreadable 200: may have acted
    SERVER_ERROR = "server_error"  # a 5xx not in retry_statuses: may have acted, not retried
    RETRYABLE_CODE = "retryable_code"  # business code listed in the policy
    FATAL = "fatal"  # a definite answer that repeating will not change

    @property
    def maybe_acted(self) -> bool:
        """Whether the server may have carried the request out although no success came back.

        For a create this is what makes the outcome unknown: repeating it could start (and
        bill) a second deployment.
        """
        return self in (FailureKind.MAYBE_SENT, FailureKind.SERVER_ERROR)


def _check_seconds(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidParameterError(name, f"must be a finite number of seconds, got {value!r}")
    if value < 0:
        raise InvalidParameterError(name, f"must not be negative, got {value!r}")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many attempts, which answers are worth another one, and the backoff between them.

    ``max_attempts`` counts the first try. Backoff is "full jitter": a uniform draw from
    ``[0, min(backoff_cap, backoff_base * 2**retry_index)]``, which spreads a crowd of clients
    best. A ``Retry-After`` hint (seconds or an HTTP date) is honoured as given, plus a little
    jitter, up to ``retry_after_cap``; a longer hint ends the call with a
    :class:`~autodl_async.RateLimitError` carrying it, rather than sleeping for minutes inside
    one call. ``retry_statuses`` lists the HTTP statuses worth repeating an idempotent call for;
    ``retry_codes`` the business codes (none by default: AutoDL publishes no transient codes).
    """

    max_attempts: int = 4
    backoff_base: float = 0.25
    backoff_cap: float = 8.0
    retry_after_cap: float = 60.0
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    retry_codes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if (
            isinstance(self.max_attempts, bool)
            or not isinstance(self.max_attempts, int)
            or self.max_attempts < 1
        ):
            raise InvalidParameterError(
                "max_attempts", f"must be an int >= 1, got {self.max_attempts!r}"
            )
        for name in ("backoff_base", "backoff_cap", "retry_after_cap"):
            _check_seconds(name, getattr(self, name))
        for status in self.retry_statuses:
            if isinstance(status, bool) or not isinstance(status, int) or status < 400:
                raise InvalidParameterError(
                    "retry_statuses", f"must hold HTTP error statuses (>= 400), got {status!r}"
                )
        object.__setattr__(self, "retry_statuses", frozenset(self.retry_statuses))
        object.__setattr__(self, "retry_codes", frozenset(self.retry_codes))

    @classmethod
    def never(cls) -> RetryPolicy:
        """One attempt only."""
        return cls(max_attempts=1)

    def classify_status(self, status: int, code: str) -> FailureKind:
        """The kind of an error answer: HTTP ``status`` and the envelope ``code`` (or ``""``)."""
        if status in self.retry_statuses:
            # 429 says "not processed"; any other listed status may hide a completed action.
            return FailureKind.RATE_LIMITED if status == 429 else FailureKind.MAYBE_SENT
        if status >= 500:
            return FailureKind.SERVER_ERROR
        if code and code in self.retry_codes:
            return FailureKind.RETRYABLE_CODE
        return FailureKind.FATAL

    def should_retry(self, kind: FailureKind, *, idempotent: bool, attempt: int) -> bool:
        """Whether attempt number ``attempt`` (1-based) may be followed by another."""
        if attempt >= self.max_attempts:
            return False
        if kind in (FailureKind.NOT_SENT, FailureKind.RATE_LIMITED):
            return True
        if kind in (FailureKind.MAYBE_SENT, FailureKind.RETRYABLE_CODE):
            return idempotent
        return False

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to sleep after failed attempt ``attempt`` (1-based)."""
        exponent = min(max(attempt - 1, 0), _MAX_EXPONENT)
        ceiling = min(self.backoff_cap, self.backoff_base * (2**exponent))
        return (rng or random).uniform(0.0, ceiling)

    def wait_for_hint(self, retry_after: float, rng: random.Random | None = None) -> float | None:
        """Seconds to honour a ``Retry-After`` hint, or ``None`` when it exceeds the cap."""
        if not retry_after <= self.retry_after_cap:  # NaN lands here too
            return None
        return max(0.0, retry_after) + (rng or random).uniform(0.0, min(1.0, self.backoff_base))


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds from ``now`` (Unix time) that a ``Retry-After`` header asks to wait.

    Both RFC 9110 forms are read: delay-seconds (fractions accepted, as some proxies and the
    simulator send them) and an HTTP date. A date in the past means "now" (0). Anything else,
    including negative, infinite or NaN values, is ignored (``None``): a garbled hint must not
    turn into "never retry" or "retry at once forever".
    """
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; an obsolete form may omit the zone
        return None
    return max(0.0, when.timestamp() - now)


@dataclass(slots=True)
class RetryBudget:
    """A token bucket shared by every call of one client.

    Each retry costs one token; each success gives back ``refill_per_success``. When the bucket
    is empty the call fails with its last error instead of retrying, so a failing API sees
    roughly one retry per ``1 / refill_per_success`` successes rather than a storm.
    """

    capacity: float = 50.0
    refill_per_success: float = 0.1
    _tokens: float = field(init=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for name in ("capacity", "refill_per_success"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidParameterError(name, f"must be a number, got {value!r}")
            if not (math.isfinite(value) and value >= 0):
                raise InvalidParameterError(name, f"must be finite and >= 0, got {value!r}")
        self._tokens = self.capacity

    @property
    def tokens(self) -> float:
        """Tokens left now."""
        return self._tokens

    def try_spend(self) -> bool:
        """Take one token for a retry; ``False`` means do not retry."""
        with self._lock:
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False

    def record_success(self) -> None:
        """Give back part of a token."""
        if self._tokens >= self.capacity:
            return  # the usual case, a healthy API: no lock on every success
        with self._lock:
            self._tokens = min(self.capacity, self._tokens + self.refill_per_success)
