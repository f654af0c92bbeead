"""Property tests: whatever bytes come back, only the SDK's own errors escape.

Every resource method that decodes a response, and every module-level decoder of
``autodl_async.resources``, is fed generated bodies (arbitrary bytes, and JSON built from the
envelope's shape with random values) through the real decoding, error mapping and
normalisation code. Two guard tests fail when a new decoder or decoding method appears without
being listed here.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import pkgutil
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autodl_async.resources
from autodl_async import AutoDL, AutoDLError, ContainerTemplate
from autodl_async._decoding import EnvelopeDecoder
from autodl_async._retry import RetryBudget, RetryPolicy
from autodl_async._secret import Secret
from autodl_async._transport import Transport, _Failure
from tests.offline import offline_client

TEMPLATE = ContainerTemplate(
    dc_list=["westDC2"],
    gpu_name_set=["RTX 4090"],
    cuda_v_from=118,
    cuda_v_to=128,
    cmd="sleep 1",
    image_uuid="image-db8346e037",
)

CALLS: dict[str, Callable[[AutoDL], Awaitable[Any]]] = {
    "images.list_page": lambda c: c.images.list_page(),
    "images.list": lambda c: c.images.list(page_size=5).to_list(),
    "deployments.create": lambda c: c.deployments.create(
        name="p", deployment_type="ReplicaSet", replica_num=1, template=TEMPLATE
    ),
    "deployments.list_page": lambda c: c.deployments.list_page(),
    "deployments.list": lambda c: c.deployments.list(page_size=5).to_list(),
    "deployments.get": lambda c: c.deployments.get("d"),
    "deployments.set_replicas": lambda c: c.deployments.set_replicas("d", 1),
    "deployments.stop": lambda c: c.deployments.stop("d"),
    "deployments.delete": lambda c: c.deployments.delete("d"),
    "deployments.ddp_overview": lambda c: c.deployments.ddp_overview("d"),
    "containers.list_page": lambda c: c.containers.list_page("d"),
    "containers.list": lambda c: c.containers.list("d", page_size=5).to_list(),
    "containers.stop": lambda c: c.containers.stop("c"),
    "events.list_page": lambda c: c.events.list_page("d"),
    "events.list": lambda c: c.events.list("d", page_size=5).to_list(),
    "blacklist.add": lambda c: c.blacklist.add("c"),
    "blacklist.list": lambda c: c.blacklist.list(),
    "gpu_stock.get": lambda c: c.gpu_stock.get("westDC2"),
    "account.balance": lambda c: c.account.balance(),
}


def _resource_decoders() -> dict[str, EnvelopeDecoder[Any]]:
    found: dict[str, EnvelopeDecoder[Any]] = {}
    for info in pkgutil.iter_modules(autodl_async.resources.__path__):
        module = importlib.import_module(f"autodl_async.resources.{info.name}")
        for name, value in vars(module).items():
            if isinstance(value, EnvelopeDecoder):
                found[f"{info.name}.{name}"] = value
    return found


DECODERS = _resource_decoders()


def _decoding_methods() -> set[str]:
    """Public resource methods whose own body sends a request and decodes its answer."""
    client = AutoDL("offline-token", base_url="http://127.0.0.1:1")
    names = set()
    for group in ("images", "deployments", "containers", "events", "blacklist", "gpu_stock"):
        for name, member in inspect.getmembers(type(getattr(client, group))):
            if not name.startswith("_") and callable(member):
                with contextlib.suppress(TypeError, OSError):
                    if "self._call(" in inspect.getsource(member):
                        names.add(f"{group}.{name}")
    names.add("account.balance")
    return names


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


def test_every_decoding_method_is_fuzzed() -> None:
    missing = _decoding_methods() - set(CALLS)
    assert not missing, f"add these to CALLS: {sorted(missing)}"


def test_every_module_decoder_is_fuzzed() -> None:
    # Every decoder a resource module defines is exercised directly below; this pins the count
    # so that a new one is noticed (and fuzzed by the test that walks DECODERS).
    assert len(DECODERS) >= 12, sorted(DECODERS)
    assert {name.split(".")[0] for name in DECODERS} >= {
        "account",
        "blacklist",
        "containers",
        "deployments",
        "events",
        "images",
        "stock",
    }


_TRANSPORT = Transport(
    token=Secret("offline-token"),
    base_url="http://127.0.0.1:1",
    attempt_timeout=1.0,
    connect_timeout=1.0,
    deadline=1.0,
    retry=RetryPolicy.never(),
    budget=RetryBudget(),
    max_connections=1,
)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    decoder=st.sampled_from(sorted(DECODERS)),
    body=st.binary(max_size=64) | envelopes.map(msgspec.json.encode),
    status=st.sampled_from([200, 200, 200, 204, 302, 400, 404, 429, 500, 503]),
)
def test_every_decoder_answers_or_fails_typed(decoder: str, body: bytes, status: int) -> None:
    """The transport's interpretation of any answer: an envelope, or a classified SDK error."""
    error: BaseException | None = None
    try:
        envelope = _TRANSPORT._interpret("POST", "/x", status, body, None, DECODERS[decoder])
    except _Failure as failure:
        error = failure.error
    if error is None:
        assert envelope.code == "Success"
        assert status == 200
    else:
        assert isinstance(error, AutoDLError)


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
