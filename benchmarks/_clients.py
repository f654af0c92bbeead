"""The clients the HTTP benchmarks compare, each making the same two calls the same way.

Every client sends the same JSON body with the token header, reads the whole answer, and
decodes it into typed msgspec Structs of the same shape (the SDK into its own models, the others
into ``benchmarks/_structs.py``), checking ``code``. So the SDK's gap to raw aiohttp is what its
layers cost (time limits, retry loop, throttle, envelope handling), and nothing else. Each
client is given the same connection pool of 100 (httpx keeps all 100 alive, not its default 20,
so it is not penalised for reconnecting).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final, Protocol

import msgspec

from ._servers import CONTAINERS_PATH, STOCK_PATH
from ._structs import StockEnvelope, StructEnvelope

__all__ = [
    "ENDPOINTS",
    "AsyncBench",
    "SyncBench",
    "aiohttp_raw",
    "httpx_client",
    "requests_client",
    "sdk_client",
]

POOL: Final = 100
REGION: Final = "westDC2"
PAGE: Final = 1000
# label -> path on the server
ENDPOINTS: Final = {
    "gpu_stock.get": STOCK_PATH,
    "containers.list_page(1000)": CONTAINERS_PATH,
}

_STOCK: Final = msgspec.json.Decoder(StockEnvelope)
_CONTAINERS: Final = msgspec.json.Decoder(StructEnvelope)


def _body(path: str, deployment: str) -> dict[str, Any]:
    if path == STOCK_PATH:
        return {"region_sign": REGION}
    return {"deployment_uuid": deployment, "page_index": 1, "page_size": PAGE}


def _check(path: str, body: bytes) -> None:
    envelope = (_STOCK if path == STOCK_PATH else _CONTAINERS).decode(body)
    if envelope.code != "Success":
        raise RuntimeError(f"{path}: {envelope.code} {envelope.msg}")


class AsyncBench(Protocol):
    """An open client: ``call(endpoint_label)`` gives the coroutine function to drive."""

    name: str

    def call(self, endpoint: str) -> Callable[[], Awaitable[object]]: ...

    async def aclose(self) -> None: ...


class SyncBench(Protocol):
    name: str

    def call(self, endpoint: str) -> Callable[[], object]: ...

    def close(self) -> None: ...


class _Sdk:
    name = "autodl-async"

    def __init__(self, url: str, token: str, deployment: str) -> None:
        from autodl_async import AutoDL

        self._client = AutoDL(token, base_url=url, max_connections=POOL)
        self._deployment = deployment

    def call(self, endpoint: str) -> Callable[[], Awaitable[object]]:
        client, deployment = self._client, self._deployment
        if ENDPOINTS[endpoint] == STOCK_PATH:

            async def stock() -> object:
                return await client.gpu_stock.get(REGION)

            return stock

        async def containers() -> object:
            page = await client.containers.list_page(deployment, 1, PAGE)
            return page.rows

        return containers

    async def aclose(self) -> None:
        await self._client.aclose()


class _Aiohttp:
    name = "aiohttp + msgspec"

    def __init__(self, url: str, token: str, deployment: str) -> None:
        import aiohttp

        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=POOL))
        self._url, self._deployment = url, deployment
        self._headers = {"Authorization": token, "Content-Type": "application/json"}

    def call(self, endpoint: str) -> Callable[[], Awaitable[object]]:
        path = ENDPOINTS[endpoint]
        url, session, headers = self._url + path, self._session, self._headers
        body = _body(path, self._deployment)

        async def run() -> object:
            async with session.post(url, data=msgspec.json.encode(body), headers=headers) as r:
                data = await r.read()
            _check(path, data)
            return data

        return run

    async def aclose(self) -> None:
        await self._session.close()


class _Httpx:
    name = "httpx + msgspec"

    def __init__(self, url: str, token: str, deployment: str) -> None:
        import httpx

        limits = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)
        self._client = httpx.AsyncClient(limits=limits, timeout=60.0)
        self._url, self._deployment = url, deployment
        self._headers = {"Authorization": token, "Content-Type": "application/json"}

    def call(self, endpoint: str) -> Callable[[], Awaitable[object]]:
        path = ENDPOINTS[endpoint]
        url, client, headers = self._url + path, self._client, self._headers
        body = _body(path, self._deployment)

        async def run() -> object:
            response = await client.post(url, content=msgspec.json.encode(body), headers=headers)
            _check(path, response.content)
            return response

        return run

    async def aclose(self) -> None:
        await self._client.aclose()


class _Requests:
    name = "requests + msgspec"

    def __init__(self, url: str, token: str, deployment: str) -> None:
        import requests

        self._session = requests.Session()
        self._url, self._deployment = url, deployment
        self._headers = {"Authorization": token, "Content-Type": "application/json"}

    def call(self, endpoint: str) -> Callable[[], object]:
        path = ENDPOINTS[endpoint]
        url, session, headers = self._url + path, self._session, self._headers
        body = _body(path, self._deployment)

        def run() -> object:
            response = session.post(url, data=msgspec.json.encode(body), headers=headers)
            _check(path, response.content)
            return response

        return run

    def close(self) -> None:
        self._session.close()


def sdk_client(url: str, token: str, deployment: str = "bench-deployment") -> AsyncBench:
    """The SDK under test."""
    return _Sdk(url, token, deployment)


def aiohttp_raw(url: str, token: str, deployment: str = "bench-deployment") -> AsyncBench:
    """The floor: one aiohttp session and a msgspec decode, nothing else."""
    return _Aiohttp(url, token, deployment)


def httpx_client(url: str, token: str, deployment: str = "bench-deployment") -> AsyncBench | None:
    """httpx.AsyncClient, or ``None`` when httpx is not installed."""
    try:
        return _Httpx(url, token, deployment)
    except ImportError:
        return None


def requests_client(url: str, token: str, deployment: str = "bench-deployment") -> SyncBench | None:
    """A requests.Session (sequential only), or ``None`` when requests is not installed."""
    try:
        return _Requests(url, token, deployment)
    except ImportError:
        return None
