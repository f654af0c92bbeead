"""One place for HTTP: session, auth, time limits, retries, and answers turned into errors.

Resources describe a call (method, path, body, response type, whether it is safe to repeat) and
hand it to :meth:`Transport.request`; nothing else in the SDK touches aiohttp.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import aiohttp
import anyio
import msgspec
import yarl

from ._config import NotGiven, Seconds, resolve
from ._decoding import EnvelopeDecoder, ResponseShapeError
from ._errormap import error_class_for
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AutoDLError,
    InvalidParameterError,
    MalformedResponseError,
    OutcomeUnknownError,
    RateLimitError,
)
from ._retry import FailureKind, RetryBudget, RetryPolicy, parse_retry_after
from ._secret import Secret, redact
from ._throttle import Throttle
from .types.common import Envelope

__all__ = ["CallStats", "Transport"]

T = TypeVar("T")

logger: Final = logging.getLogger("autodl_async")

_USER_AGENT: Final = "autodl-async/0.1.0"
_EXCERPT: Final = 200

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
_CachedTimeout = tuple[tuple[float | None, Seconds], aiohttp.ClientTimeout]


@dataclass(slots=True)
class CallStats:
    """Counters a client exposes for monitoring."""

    requests: int = 0
    retries: int = 0
    failures: int = 0


#: Whether the current task's attempt has a connection (so its request may have been sent).
_HAS_CONNECTION: ContextVar[bool] = ContextVar("autodl_async_has_connection", default=True)


class _TrackingConnector(aiohttp.TCPConnector):
    """A connector that notes when it hands out a connection.

    A timeout while still waiting for the pool or for the TCP connect means the request was
    never sent (safe to retry, even for a create); aiohttp reports both as the same
    ``TimeoutError`` as a timeout while waiting for the answer.
    """

    async def connect(
        self,
        req: aiohttp.ClientRequest,
        traces: list[aiohttp.tracing.Trace],
        timeout: aiohttp.ClientTimeout,
    ) -> aiohttp.connector.Connection:
        connection = await super().connect(req, traces, timeout)
        _HAS_CONNECTION.set(True)
        return connection


class _AuthHeaders:
    """The request headers, built once (aiohttp copies them into each request and never
    changes them); they hold the token in clear, so they have no ``__dict__`` and a masked
    repr, keeping it out of ``vars(transport)``, debuggers' dumps and logs."""

    __slots__ = ("json", "plain")

    def __init__(self, token: Secret) -> None:
        self.plain = {"Authorization": token.reveal()}
        self.json = {**self.plain, "Content-Type": "application/json"}

    def __repr__(self) -> str:
        return "_AuthHeaders(Authorization=**********)"


class _Failure(Exception):
    """One failed attempt, classified; becomes the public error if the call gives up."""

    def __init__(
        self, kind: FailureKind, error: AutoDLError, retry_after: float | None = None
    ) -> None:
        super().__init__(str(error))
        self.kind = kind
        self.error = error
        self.retry_after = retry_after


def _excerpt(body: bytes) -> str:
    return body[:_EXCERPT].decode("utf-8", errors="replace")


def _redact(text: str, token: Secret) -> str:
    """Remove the token and any password from text the server sent back.

    An echoing proxy must not leak the token, and a cut container list kept as a body excerpt
    must not leak a root password.
    """
    return redact(text, token)


def check_limit(param: str, value: object) -> None:
    """A time limit is seconds > 0 or ``None`` (no limit); anything else is the caller's bug."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise InvalidParameterError(param, f"must be seconds > 0, None or left out, got {value!r}")


class Transport:
    """Sends one logical call, retrying attempts as the policy allows."""

    def __init__(
        self,
        *,
        token: Secret,
        base_url: str,
        attempt_timeout: Seconds,
        connect_timeout: Seconds,
        deadline: Seconds,
        retry: RetryPolicy,
        budget: RetryBudget,
        max_connections: int,
        session: aiohttp.ClientSession | None = None,
        sleep: Sleep = anyio.sleep,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
        throttle: Throttle | None = None,
    ) -> None:
        for param, value in (
            ("timeout", attempt_timeout),
            ("connect_timeout", connect_timeout),
            ("deadline", deadline),
        ):
            check_limit(param, value)
        self._token = token
        self._base_url = base_url.rstrip("/")
        self.attempt_timeout = attempt_timeout
        self.connect_timeout = connect_timeout
        self.deadline = deadline
        self.retry = retry
        self.budget = budget
        self._max_connections = max_connections
        self._session = session
        self._owns_session = session is None
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self.throttle = throttle or Throttle(sleep=sleep, clock=clock)
        self.stats = CallStats()
        self._closed = False
        # Hot-path savings (benchmarks/bench_overhead.py): the limits checked above need no
        # re-check per call, and the last ClientTimeout is reused while the limit repeats.
        self._checked_limits = (attempt_timeout, deadline)
        self._last_timeout: _CachedTimeout | None = None
        # Parsed once per path: aiohttp would otherwise parse the URL string on every request.
        self._urls: dict[str, yarl.URL] = {}
        self._auth = _AuthHeaders(token)

    @property
    def base_url(self) -> str:
        """Where requests go, without a trailing slash."""
        return self._base_url

    def __repr__(self) -> str:
        return f"Transport(base_url={self._base_url!r}, token={self._token})"

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` has run."""
        return self._closed

    @property
    def max_connections(self) -> int:
        """Connections the pool may hold (grown by :meth:`resize_pool` before first use)."""
        return self._max_connections

    @property
    def sleep(self) -> Sleep:
        """The (injectable) sleep every wait of this client uses."""
        return self._sleep

    @property
    def clock(self) -> Clock:
        """The (injectable) monotonic clock deadlines are measured on."""
        return self._clock

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise APIConnectionError("the client is closed; create a new one")
        if self._session is None or self._session.closed:
            connector = _TrackingConnector(
                limit=self._max_connections, limit_per_host=0, ttl_dns_cache=300
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": _USER_AGENT},
                # Per-call limits are passed on every request; this only guards strays.
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.connect_timeout),
                raise_for_status=False,
            )
            # aiohttp silently re-sends a GET/PUT/DELETE once when a connection drops. Retries
            # belong to the policy: counted, budgeted and visible in ``stats``.
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False
            self._owns_session = True
        return self._session

    def resize_pool(self, max_connections: int) -> None:
        """Grow the connection pool before the session exists (no-op afterwards)."""
        if self._session is None:
            self._max_connections = max(self._max_connections, max_connections)

    async def aclose(self) -> None:
        """Close the session if this transport created it."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._owns_session and not session.closed:
            with anyio.CancelScope(shield=True):
                await session.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        decoder: EnvelopeDecoder[T],
        body: Any = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool,
        timeout: Seconds | NotGiven,
        deadline: Seconds | NotGiven,
        reconcile_hint: Mapping[str, Any] | None = None,
    ) -> T | None:
        """Run one call and return the ``data`` of its ``Success`` envelope, or raise."""
        attempt_limit = resolve(timeout, self.attempt_timeout)
        call_limit = resolve(deadline, self.deadline)
        if attempt_limit is not self._checked_limits[0]:
            check_limit("timeout", attempt_limit)
        if call_limit is not self._checked_limits[1]:
            check_limit("deadline", call_limit)
        payload = None if body is None else msgspec.json.encode(body)
        started = self._clock()
        ends_at = None if call_limit is None else started + call_limit
        attempt = 0
        may_have_acted = False  # an attempt already retried may have been carried out
        while True:
            attempt += 1
            pause = self.throttle.delay()
            if pause > 0 and ends_at is not None and pause >= ends_at - self._clock():
                raise APITimeoutError(
                    f"deadline of {call_limit}s would run out while the client is paused "
                    f"after a 429 (or by its rate cap); attempt {attempt} was not started",
                    method=method,
                    endpoint=path,
                    attempts=attempt - 1,
                )
            if pause > 0 or self.throttle.requests_per_second is not None:
                await self.throttle.wait()  # otherwise it would return at once
            remaining = None if ends_at is None else ends_at - self._clock()
            if remaining is not None and remaining <= 0:
                raise APITimeoutError(
                    f"deadline of {call_limit}s ran out before attempt {attempt}",
                    method=method,
                    endpoint=path,
                    attempts=attempt - 1,
                )
            limit = (
                attempt_limit if remaining is None else min(attempt_limit or remaining, remaining)
            )
            try:
                envelope = await self._attempt(
                    method, path, payload, params, decoder, limit, attempt
                )
                return envelope.data
            except _Failure as failure:
                self.stats.failures += 1
                error = failure.error
                if isinstance(error, APIConnectionError | APIStatusError | MalformedResponseError):
                    error.attempts = attempt
                    error.earlier_attempt_may_have_acted = may_have_acted
                if not idempotent and failure.kind.maybe_acted:
                    raise OutcomeUnknownError(
                        f"{method} {path} may have reached the server but its answer was lost "
                        f"({error}); it was not retried, to avoid doing it twice",
                        method=method,
                        endpoint=path,
                        attempts=attempt,
                        reconcile_hint=dict(reconcile_hint or {}),
                    ) from error
                delay = self._delay_before_retry(failure, attempt, idempotent=idempotent)
                if delay is None or (ends_at is not None and self._clock() + delay >= ends_at):
                    raise error from None
                self.stats.retries += 1
                may_have_acted = may_have_acted or failure.kind.maybe_acted
                logger.debug(
                    "retrying %s %s after attempt %d failed (%s); sleeping %.3fs",
                    method,
                    path,
                    attempt,
                    type(error).__name__,
                    delay,
                )
                await self._sleep(delay)

    def _delay_before_retry(
        self, failure: _Failure, attempt: int, *, idempotent: bool
    ) -> float | None:
        if not self.retry.should_retry(failure.kind, idempotent=idempotent, attempt=attempt):
            return None
        if failure.retry_after is not None:
            delay = self.retry.wait_for_hint(failure.retry_after, self._rng)
            if delay is None:
                return None  # the hint is beyond the cap: give the caller the RateLimitError
        else:
            delay = self.retry.backoff(attempt, self._rng)
        if failure.kind is FailureKind.RATE_LIMITED:
            self.throttle.on_rate_limited(delay)
        if not self.budget.try_spend():
            logger.debug("retry budget exhausted; not retrying")
            return None
        return delay

    async def _attempt(
        self,
        method: str,
        path: str,
        payload: bytes | None,
        params: Mapping[str, str] | None,
        decoder: EnvelopeDecoder[T],
        limit: float | None,
        attempt: int,
    ) -> Envelope[T]:
        session = self._get_session()
        headers = self._auth.plain if payload is None else self._auth.json
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = yarl.URL(self._base_url + path)
        key = (limit, self.connect_timeout)
        if self._last_timeout is not None and self._last_timeout[0] == key:
            timeout = self._last_timeout[1]
        else:
            timeout = aiohttp.ClientTimeout(total=limit, sock_connect=self.connect_timeout)
            self._last_timeout = (key, timeout)
        self.stats.requests += 1
        debug = logger.isEnabledFor(logging.DEBUG)
        started = self._clock() if debug else 0.0
        # With a session passed in, nothing tracks the connection: assume it may have been sent.
        tracking = _HAS_CONNECTION.set(not isinstance(session.connector, _TrackingConnector))
        try:
            async with session.request(
                method,
                url,
                data=payload,
                params=params,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                body = await response.read()
                status = response.status
                hint = response.headers.get("Retry-After")
                retry_after = None if hint is None else parse_retry_after(hint, now=time.time())
        except aiohttp.ConnectionTimeoutError as exc:
            raise _Failure(
                FailureKind.NOT_SENT,
                APITimeoutError(f"connect timed out: {exc}", method=method, endpoint=path),
            ) from exc
        except TimeoutError as exc:
            if not _HAS_CONNECTION.get():
                raise _Failure(
                    FailureKind.NOT_SENT,
                    APITimeoutError(
                        f"no connection within {limit}s (pool busy or connect slow); not sent",
                        method=method,
                        endpoint=path,
                    ),
                ) from exc
            raise _Failure(
                FailureKind.MAYBE_SENT,
                APITimeoutError(f"no answer within {limit}s", method=method, endpoint=path),
            ) from exc
        except aiohttp.ClientConnectorError as exc:
            raise _Failure(
                FailureKind.NOT_SENT,
                APIConnectionError(f"cannot connect: {exc.os_error}", method=method, endpoint=path),
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise _Failure(
                FailureKind.MAYBE_SENT,
                APIConnectionError(
                    f"connection failed: {type(exc).__name__}: {exc}", method=method, endpoint=path
                ),
            ) from exc
        finally:
            _HAS_CONNECTION.reset(tracking)
        if debug:
            logger.debug(
                "%s %s -> HTTP %d, %d bytes, %.1f ms (attempt %d)",
                method,
                path,
                status,
                len(body),
                (self._clock() - started) * 1000,
                attempt,
            )
        return self._interpret(method, path, status, body, retry_after, decoder)

    def _interpret(
        self,
        method: str,
        path: str,
        status: int,
        body: bytes,
        retry_after: float | None,
        decoder: EnvelopeDecoder[T],
    ) -> Envelope[T]:
        try:
            envelope: Envelope[T] | None = decoder.decode(body)
            shape_error: str | None = None
        except ResponseShapeError as exc:
            raw = exc.envelope
            envelope = (
                None
                if raw is None or raw.code is None
                else Envelope(code=raw.code, msg=raw.msg, data=None, request_id=raw.request_id)
            )
            shape_error = str(exc)
        except msgspec.DecodeError as exc:
            envelope, shape_error = None, f"not JSON: {exc}"

        if (
            status == 200
            and envelope is not None
            and envelope.code == "Success"
            and shape_error is None
        ):
            self.budget.record_success()
            return envelope
        if status == 200 and (envelope is None or envelope.code in ("", "Success")):
            raise _Failure(
                FailureKind.MAYBE_SENT,
                MalformedResponseError(
                    f"unexpected response body for {method} {path}: {shape_error}",
                    method=method,
                    endpoint=path,
                    http_status=status,
                    body_excerpt=_redact(_excerpt(body), self._token),
                    request_id=envelope.request_id if envelope else None,
                ),
            )
        code = envelope.code if envelope is not None and envelope.code else f"HTTP{status}"
        msg = (envelope.msg or "") if envelope is not None else _excerpt(body).strip()
        msg = _redact(msg, self._token)
        request_id = envelope.request_id if envelope is not None else None
        cls = error_class_for(code, msg, status)
        common: dict[str, Any] = {
            "code": code,
            "http_status": status,
            "request_id": request_id,
            "method": method,
            "endpoint": path,
        }
        kind = self.retry.classify_status(status, envelope.code if envelope else "")
        if cls is RateLimitError:
            error: APIStatusError = RateLimitError(msg, retry_after=retry_after, **common)
        else:
            error = cls(msg, **common)
        # A hint is honoured on any retried status (RFC 9110 allows it with 503 too).
        raise _Failure(kind, error, retry_after=retry_after)
