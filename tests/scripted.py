"""A loopback HTTP server that answers with canned responses, in order.

It exists to feed the SDK bodies no faithful simulator would send (HTML, truncated JSON, odd
types) and to record exactly what the SDK sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import msgspec
from aiohttp import web

TOKEN = "test-token-abc123"


@dataclass
class Canned:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    reset: bool = False


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return msgspec.json.decode(self.body) if self.body else None


def success(data: Any = None, request_id: str = "0" * 32) -> bytes:
    return msgspec.json.encode(
        {"code": "Success", "msg": "", "data": data, "request_id": request_id}
    )


def failure(code: str, msg: str, request_id: str = "f" * 32) -> bytes:
    return msgspec.json.encode({"code": code, "msg": msg, "data": None, "request_id": request_id})


class ScriptedServer:
    def __init__(self) -> None:
        self.queue: list[Canned] = []
        self.default = Canned(body=success())
        self.seen: list[Seen] = []
        #: Replaces the canned queue when set, for tests that need a live handler.
        self.handler: Callable[[web.Request], Awaitable[web.StreamResponse]] | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    def push(
        self,
        body: bytes | str = b"",
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
        reset: bool = False,
    ) -> None:
        raw = body.encode() if isinstance(body, str) else body
        self.queue.append(Canned(status, raw, dict(headers or {}), content_type, reset))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(
            Seen(
                request.method,
                request.path,
                dict(request.query),
                dict(request.headers),
                await request.read(),
            )
        )
        if self.handler is not None:
            return await self.handler(request)
        canned = self.queue.pop(0) if self.queue else self.default
        if canned.reset:
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        return web.Response(
            status=canned.status,
            body=canned.body,
            headers=canned.headers,
            content_type=canned.content_type,
        )

    async def __aenter__(self) -> ScriptedServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._runner is not None
        await self._runner.cleanup()
