"""When to try a request again, and how long to wait first.

The decision is a pure function of what is known about the failure, so it can be documented as a
table and tested without a network:

=============================================  ==================  =======================
failure                                        idempotent call     create (not idempotent)
=============================================  ==================  =======================
connection refused / DNS (never sent)          retry               retry
HTTP 429 (server refused to process)           retry after hint    retry after hint
HTTP 5xx, reset after sending, timeout         retry               OutcomeUnknownError
business code in ``retry_codes``               retry               no retry
other business errors, 4xx, bad body           no retry            no retry
=============================================  ==================  =======================

Every retry spends from a client-wide :class:`RetryBudget`, so an API that is down gets a
trickle of probes instead of a retry storm from every task at once.
"""

from __future__ import annotations

import enum
import random
import threading
from dataclasses import dataclass, field

__all__ = ["FailureKind", "RetryBudget", "RetryPolicy"]


class FailureKind(enum.Enum):
    """What went wrong with one attempt, as far as retrying is concerned."""

    NOT_SENT = "not_sent"  # the request never left: connect failed
    RATE_LIMITED = "rate_limited"  # HTTP 429: the server says it did not process it
    MAYBE_SENT = "maybe_sent"  # timeout, reset or 5xx: the server may have acted
    RETRYABLE_CODE = "retryable_code"  # business code listed in the policy
    FATAL = "fatal"  # a definite answer that repeating will not change


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many attempts, and the backoff between them.

    ``max_attempts`` counts the first try. Backoff is "full jitter": a uniform draw from
    ``[0, min(backoff_cap, backoff_base * 2**retry_index)]``, which spreads a crowd of clients
    best. A ``Retry-After`` hint is honoured as given (plus a little jitter) up to
    ``retry_after_cap``; a longer hint ends the call with a :class:`RateLimitError` carrying it,
    rather than sleeping for minutes inside one call.
    """

    max_attempts: int = 4
    backoff_base: float = 0.25
    backoff_cap: float = 8.0
    retry_after_cap: float = 60.0
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    retry_codes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.backoff_base < 0 or self.backoff_cap < 0 or self.retry_after_cap < 0:
            raise ValueError("backoff and cap values must not be negative")

    @classmethod
    def never(cls) -> RetryPolicy:
        """One attempt only."""
        return cls(max_attempts=1)

    def should_retry(self, kind: FailureKind, *, idempotent: bool, attempt: int) -> bool:
        """Whether attempt number ``attempt`` (1-based) may be followed by another."""
        if attempt >= self.max_attempts:
            return False
        if kind in (FailureKind.NOT_SENT, FailureKind.RATE_LIMITED):
            return True
        if kind is FailureKind.MAYBE_SENT:
            return idempotent
        if kind is FailureKind.RETRYABLE_CODE:
            return idempotent
        return False

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to sleep after failed attempt ``attempt`` (1-based)."""
        ceiling = min(self.backoff_cap, self.backoff_base * (2 ** (attempt - 1)))
        return (rng or random).uniform(0.0, ceiling)

    def wait_for_hint(self, retry_after: float, rng: random.Random | None = None) -> float | None:
        """Seconds to honour a ``Retry-After`` hint, or ``None`` when it exceeds the cap."""
        if retry_after > self.retry_after_cap:
            return None
        return max(0.0, retry_after) + (rng or random).uniform(0.0, min(1.0, self.backoff_base))


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
        with self._lock:
            self._tokens = min(self.capacity, self._tokens + self.refill_per_success)
