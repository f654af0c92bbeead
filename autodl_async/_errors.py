"""The SDK's exception tree.

Every failure the SDK raises is an :class:`AutoDLError`, so one ``except`` clause is enough to
keep an autoscaler alive; the subclasses let callers react to what matters (retry later, fix
the request, ask for enterprise verification, reconcile an ambiguous create)::

    AutoDLError
    ├── ConfigurationError            bad client setup: no token, insecure base URL
    ├── InvalidParameterError         an argument rejected locally (also a ValueError)
    ├── APIConnectionError            no usable HTTP answer
    │   ├── APITimeoutError           an attempt or the call's deadline ran out
    │   └── OutcomeUnknownError       a non-idempotent call (create) may or may not have happened
    ├── MalformedResponseError        the body is not the expected JSON (HTML, empty, cut)
    │   └── EventListError            the event list cannot be followed exactly (not retried)
    ├── APIStatusError                the server answered with an error (HTTP or business code)
    │   ├── AuthenticationError       token refused (HTTP 401/403, Unauthorized)
    │   ├── PermissionDeniedError     BadRequest 无当前资源访问权限 (enterprise), TORealName
    │   ├── NotFoundError             RecordNotFoundError, HTTP 404
    │   ├── BadRequestError           RequestParameterIsWrong and other BadRequest codes
    │   ├── RateLimitError            HTTP 429; ``retry_after`` holds the server's hint
    │   ├── InsufficientStockError    no GPU stock for the requested spec
    │   └── ServerError               HTTP 5xx, InternalError
    ├── WaitTimeoutError              a waiter ran out of time; ``last`` holds the last state seen
    └── WaitFailedError               a waiter's state can no longer come; ``last`` likewise

The server's ``msg`` is kept exactly as sent (Chinese); the token never appears in any message.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "AutoDLError",
    "BadRequestError",
    "ConfigurationError",
    "EventListError",
    "InsufficientStockError",
    "InvalidParameterError",
    "MalformedResponseError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "WaitFailedError",
    "WaitTimeoutError",
    "is_transient",
]


class AutoDLError(Exception):
    """Root of everything the SDK raises."""


class ConfigurationError(AutoDLError):
    """The client cannot be used as configured; raised before any request is sent."""


class InvalidParameterError(AutoDLError, ValueError):
    """An argument was rejected locally; ``param`` names it so the caller can fix its input."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param


class _RequestContext(AutoDLError):
    """Carries where a failure happened, so logs and tickets can name the call."""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        endpoint: str = "",
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.endpoint = endpoint
        self.attempts = attempts
        #: An earlier attempt of this call may have been carried out (its answer was lost and
        #: it was retried): a "not found" now may mean the first attempt already did the job.
        self.earlier_attempt_may_have_acted = False


class APIConnectionError(_RequestContext):
    """No HTTP answer could be read: connection refused or reset, DNS, TLS."""


class APITimeoutError(APIConnectionError):
    """An attempt or the per-call deadline ran out before an answer arrived."""


class OutcomeUnknownError(APIConnectionError):
    """A call that is not safe to repeat was sent but its answer was lost.

    The SDK does not retry it: a second create could start (and bill) a second deployment.
    ``reconcile_hint`` says how to find out what happened, e.g. list deployments by ``name``.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        endpoint: str = "",
        attempts: int = 1,
        reconcile_hint: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, method=method, endpoint=endpoint, attempts=attempts)
        self.reconcile_hint: dict[str, Any] = dict(reconcile_hint or {})


class MalformedResponseError(_RequestContext):
    """The body could not be read as the expected JSON envelope.

    ``body_excerpt`` holds at most 200 characters of what arrived, for diagnosis.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        endpoint: str = "",
        attempts: int = 1,
        http_status: int | None = None,
        body_excerpt: str = "",
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, method=method, endpoint=endpoint, attempts=attempts)
        self.http_status = http_status
        self.body_excerpt = body_excerpt
        self.request_id = request_id


class EventListError(MalformedResponseError):
    """The server's event list cannot be followed exactly: rows out of order, the sort order
    flipped, a page repeated for every ``page_index``, or rows removed under the cursor.

    Unlike other malformed responses this is not retried: it would come back every time, and
    a stream that retried it forever would stall silently.
    """

    def __init__(self, message: str) -> None:
        super().__init__(
            message, method="POST", endpoint="/api/v1/dev/deployment/container/event/list"
        )


class APIStatusError(_RequestContext):
    """The server answered, and the answer is an error.

    ``code`` and ``msg`` are the envelope's (``msg`` kept as sent), ``http_status`` the HTTP
    status (200 for business errors), ``request_id`` the id to quote to AutoDL support.
    """

    def __init__(
        self,
        msg: str,
        *,
        code: str,
        http_status: int,
        request_id: str | None = None,
        method: str = "",
        endpoint: str = "",
        attempts: int = 1,
    ) -> None:
        detail = f"{code}: {msg}" if msg else code
        where = f" ({method} {endpoint}" if endpoint else ""
        if where:
            where += f", HTTP {http_status}"
            where += f", request_id={request_id})" if request_id else ")"
        super().__init__(detail + where, method=method, endpoint=endpoint, attempts=attempts)
        self.code = code
        self.msg = msg
        self.http_status = http_status
        self.request_id = request_id


class AuthenticationError(APIStatusError):
    """The token was refused; retrying will not help."""


class PermissionDeniedError(APIStatusError):
    """The account may not use this endpoint (enterprise or real-name verification missing)."""


class NotFoundError(APIStatusError):
    """The deployment, container or path does not exist."""


class BadRequestError(APIStatusError):
    """The server rejected the request's parameters."""


class RateLimitError(APIStatusError):
    """HTTP 429. ``retry_after`` is the server's hint in seconds, when it sent one."""

    def __init__(
        self,
        msg: str,
        *,
        code: str,
        http_status: int,
        request_id: str | None = None,
        method: str = "",
        endpoint: str = "",
        attempts: int = 1,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            msg,
            code=code,
            http_status=http_status,
            request_id=request_id,
            method=method,
            endpoint=endpoint,
            attempts=attempts,
        )
        self.retry_after = retry_after


class InsufficientStockError(APIStatusError):
    """No machine has the requested GPUs right now; try other regions, GPUs or later."""


class ServerError(APIStatusError):
    """HTTP 5xx or an InternalError business code: usually transient."""


class WaitTimeoutError(AutoDLError, TimeoutError):
    """A waiter ran out of time; ``last`` holds the last state it observed."""

    def __init__(self, message: str, *, last: Any = None) -> None:
        super().__init__(message)
        self.last = last


class WaitFailedError(AutoDLError):
    """The wanted state can no longer come, so the waiter stopped before its timeout.

    ``last`` holds what the final poll saw (a waiter's state, or a ``Container``).
    """

    def __init__(self, message: str, *, last: Any = None) -> None:
        super().__init__(message)
        self.last = last


def is_transient(error: BaseException) -> bool:
    """Whether a poll (stream, waiter) that failed with ``error`` should be tried again.

    Connection trouble, 5xx, 429 and bodies that did not parse may pass; a definite answer
    (token, permission, not found, bad request) and an event list that cannot be followed
    will not, so they end the poll instead of stalling it.
    """
    transient = (APIConnectionError, ServerError, RateLimitError, MalformedResponseError)
    return isinstance(error, transient) and not isinstance(error, EventListError)
