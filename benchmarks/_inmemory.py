"""The SDK's own Python per call, with the network taken out.

Over loopback a small call costs ~100 µs of client CPU, nearly all of it aiohttp and the event
loop, and the machine's noise is ±10 µs: too coarse to see what the SDK's layers (argument
checks, time limits, retry loop, throttle, envelope handling) add. Here both the SDK and a bare
"aiohttp + msgspec" call talk to the same stand-in session that answers at once with the same
bytes, so the difference is exactly the SDK's own work. The stand-in mimics only the slice of
``aiohttp.ClientSession`` that the transport uses (``request()`` as an async context manager,
``read()``, ``status``, ``headers``), so a transport change can break this probe; the overhead
benchmark then notes that and carries on.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Final, cast

import msgspec

from ._structs import StockEnvelope

__all__ = ["layer_cost"]

_DECODER: Final = msgspec.json.Decoder(StockEnvelope)


class _Answer:
    status = 200

    def __init__(self, body: bytes) -> None:
        self._body = body
        self.headers: dict[str, str] = {}

    async def read(self) -> bytes:
        return self._body


class _Exchange:
    def __init__(self, body: bytes) -> None:
        self._answer = _Answer(body)

    async def __aenter__(self) -> _Answer:
        return self._answer

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class _Session:
    """Answers every request with ``body``, at once."""

    closed = False
    connector = None

    def __init__(self, body: bytes) -> None:
        self._body = body

    def request(self, *args: Any, **kwargs: Any) -> _Exchange:
        return _Exchange(self._body)

    post = request

    async def close(self) -> None:
        return None


def _per_call(call: Callable[[], Awaitable[object]], calls: int) -> Callable[[], Awaitable[float]]:
    async def measure() -> float:
        started = time.process_time()
        for _ in range(calls):
            await call()
        return (time.process_time() - started) / calls * 1e6

    return measure


async def layer_cost(*, calls: int, rounds: int) -> dict[str, list[float]]:
    """µs of CPU per ``gpu_stock.get``: the SDK's and a bare call's, ``rounds`` alternations."""
    from autodl_async import AutoDL

    from ._payloads import gpu_stock

    session = _Session(gpu_stock())
    client = AutoDL("bench-token", base_url="http://127.0.0.1:9", session=cast(Any, session))
    body = msgspec.json.encode({"region_sign": "westDC2"})
    headers = {"Authorization": "bench-token", "Content-Type": "application/json"}

    async def sdk() -> object:
        return await client.gpu_stock.get("westDC2")

    async def bare() -> object:
        async with session.post("u", data=body, headers=headers) as answer:
            data = await answer.read()
        envelope = _DECODER.decode(data)
        if envelope.code != "Success":
            raise RuntimeError(envelope.code)
        return envelope

    found: dict[str, list[float]] = {"autodl-async": [], "aiohttp + msgspec": []}
    probes = {"autodl-async": _per_call(sdk, calls), "aiohttp + msgspec": _per_call(bare, calls)}
    async with client:
        for call in (sdk, bare):
            await _per_call(call, 200)()  # warm-up: imports, caches, first-call paths
        for index in range(rounds):
            order = list(probes.items())
            for name, probe in order if index % 2 == 0 else order[::-1]:
                found[name].append(await probe())
    return found
