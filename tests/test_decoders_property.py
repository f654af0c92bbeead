"""Property tests: whatever bytes come back, only the SDK's own errors escape.

Every resource method that decodes a response is fed generated bodies (arbitrary bytes, and
JSON built from the envelope's shape with random values) through the real decoding, error
mapping and normalisation code.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autodl_async import AutoDL, AutoDLError
from tests.offline import offline_client

CALLS: dict[str, Callable[[AutoDL], Awaitable[Any]]] = {
    "images": lambda c: c.images.list_page(),
    "deployments": lambda c: c.deployments.list_page(),
    "create": lambda c: c.deployments.set_replicas("d", 1),
    "ddp": lambda c: c.deployments.ddp_overview("d"),
    "containers": lambda c: c.containers.list_page("d"),
    "events": lambda c: c.events.list_page("d"),
    "blacklist": lambda c: c.blacklist.list(),
    "stock": lambda c: c.gpu_stock.get("westDC2"),
    "balance": lambda c: c.account.balance(),
    "stop": lambda c: c.containers.stop("c"),
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(["", "2026-09-01T10:00:00+08:00", "0001-01-01T00:00:00Z", "running"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "list",
                    "uuid",
                    "status",
                    "memory_size",
                    "price",
                    "info",
                    "created_at",
                    "Time",
                    "Valid",
                    "max_page",
                    "idle_gpu_num",
                    "RTX 4090",
                    "assets",
                    "id",
                    "image_name",
                    "x",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)

envelopes = st.fixed_dictionaries(
    {"code": st.sampled_from(["Success", "BadRequest", "InternalError", ""]) | st.integers()},
    optional={
        "msg": st.text(max_size=8) | st.none(),
        "data": json_values,
        "request_id": st.text(max_size=4),
    },
)


def run(call: str, status: int, body: bytes) -> None:
    client, transport = offline_client()
    transport.answer = (status, body)

    async def go() -> None:
        with contextlib.suppress(AutoDLError):
            await CALLS[call](client)

    anyio.run(go)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(call=st.sampled_from(sorted(CALLS)), body=st.binary(max_size=64))
def test_arbitrary_bytes(call: str, body: bytes) -> None:
    run(call, 200, body)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    call=st.sampled_from(sorted(CALLS)),
    envelope=envelopes,
    status=st.sampled_from([200, 200, 200, 400, 401, 404, 429, 500, 502]),
)
def test_structured_json(call: str, envelope: dict[str, Any], status: int) -> None:
    run(call, status, msgspec.json.encode(envelope))
