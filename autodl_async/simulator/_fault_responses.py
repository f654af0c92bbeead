"""What a client receives when a fault rule applies: the effects, separate from the rules."""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import Final

from aiohttp import web

from ._faults import FaultRule
from ._wire import encode_envelope

__all__ = ["render_fault", "replaces_answer", "wait_before"]

_REPLACING: Final = frozenset({"status", "rate_limit", "reset", "html"})
_SLOW_BODY_DEFAULT_SECONDS: Final = 1.0
_SLOW_BODY_CHUNKS: Final = 8

_NGINX_PAGE: Final = """<html>
<head><title>{status} {reason}</title></head>
<body>
<center><h1>{status} {reason}</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""


def replaces_answer(rule: FaultRule) -> bool:
    """True when the request must not run at all (the fault happens in front of the API)."""
    return rule.kind in _REPLACING and rule.when == "before"


async def wait_before(rule: FaultRule) -> None:
    if rule.kind == "latency" and rule.when == "before":
        await asyncio.sleep(rule.latency)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _retry_after(seconds: float) -> str:
    """Whole seconds as RFC 9110 wants; fractions kept (non-standard) for fast tests."""
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def _error_status(rule: FaultRule, request_id: str) -> web.Response:
    status = rule.effective_status
    phrase = _phrase(status)
    headers: dict[str, str] = {}
    retry_after = rule.retry_after
    if rule.kind == "rate_limit" and retry_after is None:
        retry_after = 1.0
    if retry_after is not None:
        headers["Retry-After"] = _retry_after(retry_after)
    body = encode_envelope(phrase.replace(" ", "").replace("-", ""), phrase, None, request_id)
    return web.Response(status=status, body=body, content_type="application/json", headers=headers)


def _nginx(rule: FaultRule) -> web.Response:
    status = rule.effective_status
    reason = _phrase(status)
    return web.Response(
        status=status,
        text=_NGINX_PAGE.format(status=status, reason=reason),
        content_type="text/html",
        headers={"Server": "nginx"},
    )


def _body_of(answer: web.Response) -> bytes:
    body = answer.body
    return body if isinstance(body, bytes) else b""


async def _dribble(
    rule: FaultRule, request: web.Request, answer: web.Response
) -> web.StreamResponse:
    body = _body_of(answer)
    stream = web.StreamResponse(status=answer.status)
    stream.content_type = answer.content_type
    stream.content_length = len(body)
    await stream.prepare(request)
    chunks = max(min(_SLOW_BODY_CHUNKS, len(body)), 1)
    size = max(-(-len(body) // chunks), 1)
    pause = (rule.latency or _SLOW_BODY_DEFAULT_SECONDS) / chunks
    try:
        for start in range(0, len(body), size):
            await asyncio.sleep(pause)
            await stream.write(body[start : start + size])
        await stream.write_eof()
    except ConnectionError:
        pass  # the client gave up (e.g. its read timeout): exactly what this fault provokes
    return stream


async def render_fault(
    rule: FaultRule, request: web.Request, answer: web.Response | None, request_id: str
) -> web.StreamResponse:
    """The response for a request hit by `rule`; `answer` is the real one when it ran."""
    if rule.kind == "latency":
        if rule.when == "after":
            await asyncio.sleep(rule.latency)
        assert answer is not None
        return answer
    if rule.kind == "reset":
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)  # never reaches the client: the socket is gone
    if rule.kind in {"status", "rate_limit"}:
        return _error_status(rule, request_id)
    if rule.kind == "html":
        return _nginx(rule)
    assert answer is not None
    if rule.kind == "truncate":
        body = _body_of(answer)
        return web.Response(
            status=answer.status, body=body[: len(body) // 2], content_type=answer.content_type
        )
    return await _dribble(rule, request, answer)
