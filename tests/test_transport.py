"""The transport: retries by failure kind, typed errors for odd answers, time limits."""

from __future__ import annotations

import socket

import pytest

from autodl_async import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    AutoDL,
    ContainerTemplate,
    MalformedResponseError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitError,
    RetryBudget,
    RetryPolicy,
    ServerError,
)
from tests.scripted import TOKEN, ScriptedServer, failure, success

pytestmark = pytest.mark.anyio

HTML_502 = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def template() -> ContainerTemplate:
    return ContainerTemplate(
        dc_list=["westDC2"],
        gpu_name_set=["RTX 4090"],
        cuda_v_from=118,
        cuda_v_to=128,
        cmd="sleep 100",
        image_uuid="image-db8346e037",
    )


async def create(client: AutoDL) -> str:
    return await client.deployments.create(
        name="web", deployment_type="ReplicaSet", replica_num=1, template=template()
    )


async def test_sends_token_header_and_json(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    scripted.push(success({"list": [], "max_page": 0}))
    await scripted_client.images.list_page(2, 5)
    seen = scripted.seen[0]
    assert seen.headers["Authorization"] == TOKEN  # no "Bearer": the API takes the bare token
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.json() == {"page_index": 2, "page_size": 5, "offset": 0}


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_read_retries_5xx_then_succeeds(
    scripted: ScriptedServer, scripted_client: AutoDL, status: int
) -> None:
    scripted.push(HTML_502, status=status, content_type="text/html")
    scripted.push(success([]))
    assert await scripted_client.blacklist.list() == []
    assert len(scripted.seen) == 2
    assert scripted_client.stats.retries == 1
    assert len(scripted_client.sleeps) == 1  # type: ignore[attr-defined]


async def test_read_gives_up_after_max_attempts(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    for _ in range(3):
        scripted.push(HTML_502, status=502, content_type="text/html")
    with pytest.raises(ServerError) as info:
        await scripted_client.blacklist.list()
    assert info.value.http_status == 502
    assert info.value.attempts == 3
    assert "502 Bad Gateway" in info.value.msg
    assert len(scripted.seen) == 3


async def test_idempotent_stop_retries_connection_reset(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    scripted.push(reset=True)
    scripted.push(success(None))
    await scripted_client.containers.stop("c-1")
    assert len(scripted.seen) == 2


async def test_create_is_not_retried_after_reset(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    scripted.push(reset=True)
    with pytest.raises(OutcomeUnknownError) as info:
        await create(scripted_client)
    assert len(scripted.seen) == 1
    assert info.value.reconcile_hint["name"] == "web"


async def test_create_is_not_retried_after_5xx(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    scripted.push(HTML_502, status=502, content_type="text/html")
    with pytest.raises(OutcomeUnknownError) as info:
        await create(scripted_client)
    assert isinstance(info.value.__cause__, ServerError)
    assert len(scripted.seen) == 1


async def test_create_is_not_retried_after_truncated_success(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    scripted.push(b'{"code":"Success","msg":"","data":{"deployment_uu')
    with pytest.raises(OutcomeUnknownError):
        await create(scripted_client)
    assert len(scripted.seen) == 1


async def test_create_is_retried_after_429(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    scripted.push(b"", status=429, headers={"Retry-After": "2"})
    scripted.push(success({"deployment_uuid": "abc1234567"}))
    assert await create(scripted_client) == "abc1234567"
    assert len(scripted.seen) == 2
    assert scripted_client.sleeps[0] >= 2.0  # type: ignore[attr-defined]
    assert scripted_client.throttle.pauses == 1


async def test_create_is_retried_when_never_sent() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    attempts: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        attempts.append(seconds)

    async with AutoDL(
        TOKEN,
        base_url=f"http://127.0.0.1:{port}",
        retry=RetryPolicy(max_attempts=3),
        sleep=fake_sleep,
    ) as client:
        with pytest.raises(APIConnectionError) as info:
            await create(client)
    assert not isinstance(info.value, OutcomeUnknownError)
    assert info.value.attempts == 3
    assert len(attempts) == 2


async def test_retry_after_above_cap_raises_rate_limit(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    scripted.push(b"", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(RateLimitError) as info:
        await scripted_client.blacklist.list()
    assert info.value.retry_after == 3600
    assert len(scripted.seen) == 1


async def test_business_errors_are_not_retried(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    scripted.push(failure("RecordNotFoundError", "未查询到相关记录", request_id="ab" * 16))
    with pytest.raises(NotFoundError) as info:
        await scripted_client.deployments.stop("nope")
    assert info.value.request_id == "ab" * 16
    assert info.value.msg == "未查询到相关记录"
    assert info.value.method == "PUT"
    assert len(scripted.seen) == 1


async def test_http_401_is_authentication_error(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    scripted.push(failure("Unauthorized", "token无效"), status=401)
    with pytest.raises(AuthenticationError) as info:
        await scripted_client.images.list_page()
    assert info.value.http_status == 401
    assert TOKEN not in str(info.value)
    assert TOKEN not in repr(info.value.__dict__)


async def test_plain_404_is_not_found(scripted: ScriptedServer, scripted_client: AutoDL) -> None:
    scripted.push("404: Not Found", status=404, content_type="text/plain")
    with pytest.raises(NotFoundError) as info:
        await scripted_client.images.list_page()
    assert info.value.code == "HTTP404"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html><body>maintenance</body></html>",
        b'{"code":"Success","msg":"","data":{"list":[{"id":1,',
        b"[1, 2, 3]",
        b'"Success"',
        b"null",
    ],
)
async def test_malformed_success_bodies_are_typed(
    scripted: ScriptedServer, scripted_client: AutoDL, body: bytes
) -> None:
    for _ in range(3):
        scripted.push(body)
    with pytest.raises(MalformedResponseError) as info:
        await scripted_client.images.list_page()
    assert info.value.http_status == 200
    assert info.value.endpoint == "/api/v1/dev/image/private/list"
    assert len(scripted.seen) == 3  # a read is retried: the body may have been cut in transit


async def test_wrong_types_in_data_are_typed(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    for _ in range(3):
        scripted.push(success({"list": [{"id": "not-a-number-at-all", "image_uuid": 5}]}))
    with pytest.raises(MalformedResponseError) as info:
        await scripted_client.images.list_page(deadline=None, timeout=None)
    assert "$.data.list[0]" in str(info.value)


async def test_bom_and_odd_timestamps_are_tolerated(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    body = (
        b"\xef\xbb\xbf"
        + b'{"code":"Success","msg":null,"data":{"list":[{"uuid":"c","status":"brand_new",'
        + b'"memory_size":"17179869184","created_at":"","started_at":{"Time":"2026-01-01T00:00:00+08:00","Valid":true},'
        + b'"stopped_at":{"Time":"0001-01-01T00:00:00Z","Valid":false}}]}}'
    )
    scripted.push(body)
    [c] = (await scripted_client.containers.list_page("d")).rows
    assert c.status == "brand_new"
    assert c.memory_size_bytes == 16 * 1024**3
    assert c.created_at is None
    assert c.started_at is not None
    assert c.started_at.year == 2026
    assert c.stopped_at is None


async def test_error_envelope_with_odd_data_still_maps(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    scripted.push(
        b'{"code":"BadRequest","msg":"\xe6\x97\xa0\xe5\xbd\x93\xe5\x89\x8d\xe8\xb5\x84\xe6\xba\x90\xe8\xae\xbf\xe9\x97\xae\xe6\x9d\x83\xe9\x99\x90","data":"weird"}'
    )
    from autodl_async import PermissionDeniedError

    with pytest.raises(PermissionDeniedError) as info:
        await scripted_client.images.list_page()
    assert info.value.msg == "无当前资源访问权限"


async def test_attempt_timeout_then_retry(scripted: ScriptedServer) -> None:
    """A read that times out is retried; the attempt limit is what bounds each try."""
    import anyio
    from aiohttp import web

    calls = 0
    release = anyio.Event()

    async def slow_then_ok(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            await release.wait()  # never answers in time; released at the end of the test
        return web.Response(body=success([]), content_type="application/json")

    scripted.handler = slow_then_ok
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with AutoDL(TOKEN, base_url=scripted.url, timeout=0.2, sleep=fake_sleep) as client:
        assert await client.blacklist.list() == []
    release.set()
    assert calls == 2
    assert len(sleeps) == 1


async def test_deadline_bounds_the_whole_call(scripted: ScriptedServer) -> None:
    now = [0.0]

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds

    for _ in range(10):
        scripted.push(HTML_502, status=503, content_type="text/html")
    async with AutoDL(
        TOKEN,
        base_url=scripted.url,
        retry=RetryPolicy(max_attempts=10, backoff_base=4.0, backoff_cap=4.0),
        sleep=fake_sleep,
        clock=lambda: now[0],
        rng=__import__("random").Random(1),
    ) as client:
        with pytest.raises((ServerError, APITimeoutError)):
            await client.blacklist.list(deadline=5.0)
    assert now[0] < 5.0
    assert len(scripted.seen) < 10


async def test_retry_budget_stops_retry_storm(scripted: ScriptedServer) -> None:
    async def fake_sleep(seconds: float) -> None:
        return None

    budget = RetryBudget(capacity=2, refill_per_success=0.5)
    async with AutoDL(
        TOKEN, base_url=scripted.url, retry_budget=budget, sleep=fake_sleep
    ) as client:
        for _ in range(20):
            scripted.push(HTML_502, status=503, content_type="text/html")
        for _ in range(3):
            with pytest.raises(ServerError):
                await client.blacklist.list()
        # 3 calls, each allowed 4 attempts, but only 2 retries in the whole budget.
        assert len(scripted.seen) == 5
        assert budget.tokens < 1


async def test_closed_client_refuses(scripted: ScriptedServer) -> None:
    client = AutoDL(TOKEN, base_url=scripted.url)
    await client.aclose()
    assert client.closed
    with pytest.raises(APIConnectionError):
        await client.images.list_page()
