"""A client whose transport answers from given bytes instead of the network.

Used by the property tests, which feed thousands of odd bodies through the SDK's real decoding,
error mapping and normalisation code; going over loopback for each would only add time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from autodl_async import AutoDL, RetryPolicy
from autodl_async._decoding import EnvelopeDecoder
from autodl_async._transport import Transport
from autodl_async.types.common import Envelope

T = TypeVar("T")


class BytesTransport(Transport):
    """Every attempt 'receives' ``self.answer`` = (status, body)."""

    answer: tuple[int, bytes] = (200, b"")

    async def _attempt(  # type: ignore[override]
        self,
        method: str,
        path: str,
        payload: bytes | None,
        params: Mapping[str, str] | None,
        decoder: EnvelopeDecoder[T],
        limit: float | None,
        attempt: int,
    ) -> Envelope[T]:
        status, body = self.answer
        return self._interpret(method, path, status, body, None, decoder)


def offline_client() -> tuple[AutoDL, BytesTransport]:
    async def no_sleep(_: float) -> None:
        return None

    client = AutoDL("offline-token", base_url="http://127.0.0.1:1", retry=RetryPolicy.never())
    transport = BytesTransport(
        token=client._transport._token,
        base_url="http://127.0.0.1:1",
        attempt_timeout=1.0,
        connect_timeout=1.0,
        deadline=1.0,
        retry=RetryPolicy.never(),
        budget=client.retry_budget,
        max_connections=1,
        sleep=no_sleep,
    )
    for name in (
        "images",
        "deployments",
        "containers",
        "events",
        "blacklist",
        "gpu_stock",
        "account",
    ):
        getattr(client, name)._transport = transport
    client._transport = transport
    return client, transport
