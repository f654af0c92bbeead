"""The transport: retries by failure kind, typed errors for odd answers, time limits."""

from __future__ import annotations

import contextlib
import email.utils
import functools
import inspect
import random
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import anyio.lowlevel
import pytest
from aiohttp import TCPConnector, web
from aiohttp.abc import AbstractResolver, ResolveResult

from autodl_async import (
    NOT_GIVEN,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    AutoDL,
    AutoDLError,
    ContainerTemplate,
    InvalidParameterError,
    MalformedResponseError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitError,
    RetryBudget,
    RetryPolicy,
    ServerError,
)
from autodl_async._retry import FailureKind, parse_retry_after
from autodl_async.simulator import FaultRule, Simulator, SimulatorConfig, VirtualClock
from autodl_async.types import Page
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


async def test_create_is_retried_after_429(scripted: ScriptedServer) -> None:
    scripted.push(b"", status=429, headers={"Retry-After": "2"})
    scripted.push(success({"deployment_uuid": "abc1234567"}))
    sleeps: list[float] = []
    async with _client(scripted.url, sleeps) as client:  # virtual time: the pause is slept
        assert await create(client) == "abc1234567"
        assert client.throttle.pauses == 1
    assert len(scripted.seen) == 2
    assert 2.0 <= sleeps[0] <= 2.25


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


# -- the classification table of docs/reliability.md, row by row ----------------------------

DOC = Path(__file__).resolve().parents[1] / "docs" / "reliability.md"
OK_READ = success({"list": [], "max_page": 0})
OK_CREATE = success({"deployment_uuid": "abc1234567"})


def doc_table() -> list[list[str]]:
    """The rows of the table under "## Retry classification", cells stripped."""
    section = DOC.read_text(encoding="utf-8").split("## Retry classification", 1)[1]
    lines = section.split("\n## ", 1)[0].splitlines()
    rows = [line for line in lines if line.startswith("|")]
    cells = [[c.strip() for c in row.strip().strip("|").split("|")] for row in rows]
    assert cells[0] == ["failure of one attempt", "kind", "idempotent call", "create deployment"]
    return [row for row in cells[2:] if row]


@dataclass
class Seen:
    """What one call did: its result or error, how many attempts, and the sleeps between."""

    result: Any = None
    error: AutoDLError | None = None
    attempts: int = 0
    sleeps: list[float] = field(default_factory=list)
    hint: float | None = None  # the Retry-After the scenario sent, if any


class _FailingResolver(AbstractResolver):
    async def resolve(self, host: str, port: int = 0, family: int = 0) -> list[ResolveResult]:
        raise OSError(-2, "Name or service not known")

    async def close(self) -> None:
        return None


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextlib.contextmanager
def _blackhole() -> Iterator[int]:
    """A port whose accept queue is full, so a new connect hangs until it times out."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port: int = server.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        yield port
    finally:
        for filler in fillers:
            filler.close()
        server.close()


Call = Callable[[AutoDL], Awaitable[Any]]
Scenario = Callable[[ScriptedServer, Call, bytes], Awaitable[list[Seen]]]


async def _run(client: AutoDL, call: Call, sleeps: list[float]) -> Seen:
    seen = Seen(sleeps=sleeps)
    try:
        seen.result = await call(client)
    except AutoDLError as exc:
        seen.error = exc
    return seen


def _client(url: str, sleeps: list[float], **options: Any) -> AutoDL:
    """A client in virtual time: sleeping only moves its clock (and records the sleep)."""
    now = [0.0]

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    options.setdefault("timeout", 5.0)
    return AutoDL(
        TOKEN,
        base_url=url,
        retry=RetryPolicy(max_attempts=2, retry_codes=frozenset({"TryAgain"})),
        sleep=fake_sleep,
        clock=lambda: now[0],
        rng=random.Random(7),
        **options,
    )


async def _scripted_scenario(
    scripted: ScriptedServer,
    call: Call,
    ok: bytes,
    pushes: list[dict[str, Any]],
    hint: float | None = None,
) -> Seen:
    scripted.seen.clear()
    scripted.queue.clear()
    for push in pushes:
        scripted.push(**push)
    scripted.push(ok)
    sleeps: list[float] = []
    async with _client(scripted.url, sleeps) as client:
        seen = await _run(client, call, sleeps)
    seen.attempts = len(scripted.seen)
    seen.hint = hint
    return seen


def _answers(*pushes: dict[str, Any], hint: float | None = None) -> Scenario:
    async def scenario(scripted: ScriptedServer, call: Call, ok: bytes) -> list[Seen]:
        return [await _scripted_scenario(scripted, call, ok, list(pushes), hint)]

    return scenario


def _each(*scenarios: Scenario) -> Scenario:
    async def scenario(scripted: ScriptedServer, call: Call, ok: bytes) -> list[Seen]:
        return [seen for one in scenarios for seen in await one(scripted, call, ok)]

    return scenario


async def _refused(scripted: ScriptedServer, call: Call, ok: bytes) -> list[Seen]:
    sleeps: list[float] = []
    async with _client(f"http://127.0.0.1:{_closed_port()}", sleeps) as client:
        seen = await _run(client, call, sleeps)
    assert isinstance(seen.error, APIConnectionError)
    seen.attempts = seen.error.attempts
    return [seen]


async def _dns(scripted: ScriptedServer, call: Call, ok: bytes) -> list[Seen]:
    sleeps: list[float] = []
    session = aiohttp.ClientSession(connector=TCPConnector(resolver=_FailingResolver()))
    async with session, _client("http://localhost:9", sleeps, session=session) as client:
        seen = await _run(client, call, sleeps)
    assert isinstance(seen.error, APIConnectionError)
    assert "Name or service not known" in str(seen.error)
    seen.attempts = seen.error.attempts
    return [seen]


async def _connect_timeout(scripted: ScriptedServer, call: Call, ok: bytes) -> list[Seen]:
    sleeps: list[float] = []
    with _blackhole() as port:
        async with _client(f"http://127.0.0.1:{port}", sleeps, connect_timeout=0.2) as client:
            seen = await _run(client, call, sleeps)
    assert isinstance(seen.error, APITimeoutError)
    assert "connect" in str(seen.error)
    seen.attempts = seen.error.attempts
    return [seen]


async def _pool_wait(scripted: ScriptedServer, call: Call, ok: bytes) -> list[Seen]:
    """One connection, held by a slow read; the call queues for it past its attempt timeout."""
    release, holding = anyio.Event(), anyio.Event()
    posts: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        if request.path.endswith("/blacklist"):
            holding.set()
            await release.wait()
            return web.Response(body=success([]), content_type="application/json")
        posts.append(request.path)
        return web.Response(body=ok, content_type="application/json")

    scripted.handler = handler
    sleeps: list[float] = []

    async def sleep_releases(seconds: float) -> None:
        sleeps.append(seconds)
        release.set()  # the holder finishes while the call backs off
        await anyio.lowlevel.checkpoint()

    client = AutoDL(
        TOKEN,
        base_url=scripted.url,
        max_connections=1,
        timeout=0.3,
        retry=RetryPolicy(max_attempts=2),
        sleep=sleep_releases,
    )
    async with client, anyio.create_task_group() as tg:
        tg.start_soon(functools.partial(client.blacklist.list, timeout=5.0))
        await holding.wait()
        seen = await _run(client, call, sleeps)
    scripted.handler = None
    seen.attempts = len(sleeps) + 1  # the first attempt never reached the server
    assert len(posts) == 1  # ... and the retry did, once
    return [seen]


async def _no_answer(scripted: ScriptedServer, call: Call, ok: bytes) -> list[Seen]:
    release = anyio.Event()
    answered = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal answered
        answered += 1
        if answered == 1:
            with anyio.move_on_after(5):
                await release.wait()
        return web.Response(body=ok, content_type="application/json")

    scripted.handler = handler
    scripted.seen.clear()
    sleeps: list[float] = []
    async with _client(scripted.url, sleeps, timeout=0.2) as client:
        seen = await _run(client, call, sleeps)
    release.set()
    scripted.handler = None
    seen.attempts = len(scripted.seen)
    return [seen]


HTML = {"body": HTML_502, "content_type": "text/html"}

SCENARIOS: dict[str, Scenario] = {
    "connection refused (nothing listening)": _refused,
    "DNS failure": _dns,
    "connect timeout": _connect_timeout,
    "no free connection in the pool within the attempt timeout": _pool_wait,
    "HTTP 429 without `Retry-After`": _answers({"status": 429}),
    "HTTP 429 with `Retry-After` up to `retry_after_cap`": _each(
        _answers({"status": 429, "headers": {"Retry-After": "2"}}, hint=2.0),
        _answers({"status": 429, "headers": {"Retry-After": "0.5"}}, hint=0.5),
    ),
    "HTTP 429 with `Retry-After` above `retry_after_cap`": _answers(
        {"status": 429, "headers": {"Retry-After": "3600"}}, hint=3600.0
    ),
    "no answer within the attempt timeout": _no_answer,
    "connection reset after the request was sent": _answers({"reset": True}),
    "HTTP 500, 502, 503, 504 (`retry_statuses`)": _each(
        *(_answers({"status": status, **HTML}) for status in (500, 502, 503, 504)),
        _answers({"status": 503, "headers": {"Retry-After": "3"}, **HTML}, hint=3.0),
    ),
    "any other HTTP 5xx": _each(
        _answers({"status": 501, **HTML}), _answers({"status": 507, **HTML})
    ),
    "HTTP 200 with an empty, HTML, truncated or mis-shaped body": _each(
        _answers({"body": b""}),
        _answers({"body": b"<html>hi</html>", "content_type": "text/html"}),
        _answers({"body": b'{"code":"Success","msg":"","data":{"li'}),
        _answers({"body": b'{"code":"Success","data":{"list":7,"deployment_uuid":[1]}}'}),
    ),
    "business `code` listed in `RetryPolicy.retry_codes` (none by default)": _answers(
        {"body": failure("TryAgain", "请稍后再试")}
    ),
    "any other business error (HTTP 200, `code` ≠ `Success`)": _each(
        _answers({"body": failure("RequestParameterIsWrong", "请求参数错误")}),
        _answers({"body": failure("RecordNotFoundError", "未查询到相关记录")}),
    ),
    "HTTP 401, 403, 404 and other 4xx": _each(
        *(
            _answers({"status": status, "body": failure(f"E{status}", "不行")})
            for status in (400, 401, 403, 404, 409)
        ),
    ),
    "any other HTTP status (a 3xx redirect is not followed)": _each(
        _answers({"status": 302, "headers": {"Location": "http://127.0.0.1:9/elsewhere"}}),
        _answers({"status": 204}),
    ),
}

# Row kinds the pure policy decides from a status: checked against ``classify_status``.
STATUS_KINDS: dict[str, list[tuple[int, str]]] = {
    "HTTP 429 without `Retry-After`": [(429, "")],
    "HTTP 500, 502, 503, 504 (`retry_statuses`)": [(s, "") for s in (500, 502, 503, 504)],
    "any other HTTP 5xx": [(501, ""), (507, "")],
    "business `code` listed in `RetryPolicy.retry_codes` (none by default)": [(200, "TryAgain")],
    "any other business error (HTTP 200, `code` ≠ `Success`)": [(200, "BadRequest")],
    "HTTP 401, 403, 404 and other 4xx": [(s, "") for s in (400, 401, 403, 404, 409)],
    "any other HTTP status (a 3xx redirect is not followed)": [(302, ""), (204, "")],
}


def _retried(seen: Seen) -> None:
    assert seen.attempts == 2, seen
    assert len(seen.sleeps) == 1, seen
    assert not isinstance(seen.error, OutcomeUnknownError), seen


def _retried_after_backoff(seen: Seen) -> None:
    _retried(seen)
    assert 0 <= seen.sleeps[0] <= RetryPolicy().backoff_base


def _retried_after_hint(seen: Seen) -> None:
    _retried(seen)
    assert seen.hint is not None
    assert seen.hint <= seen.sleeps[0] <= seen.hint + RetryPolicy().backoff_base


def _retried_after_hint_if_sent(seen: Seen) -> None:
    _retried_after_hint(seen) if seen.hint is not None else _retried(seen)


def _one_attempt(seen: Seen, cls: type[AutoDLError]) -> None:
    assert isinstance(seen.error, cls), seen
    assert seen.attempts == 1, seen
    assert seen.sleeps == [], seen


def _rate_limit_with_hint(seen: Seen) -> None:
    _one_attempt(seen, RateLimitError)
    assert isinstance(seen.error, RateLimitError)
    assert seen.error.retry_after == seen.hint


def _outcome_unknown(seen: Seen) -> None:
    _one_attempt(seen, OutcomeUnknownError)
    assert isinstance(seen.error, OutcomeUnknownError)
    assert seen.error.reconcile_hint["name"] == "web"
    assert seen.error.__cause__ is not None


def _server_error(seen: Seen) -> None:
    _one_attempt(seen, ServerError)


def _typed(seen: Seen) -> None:
    _one_attempt(seen, APIStatusError)


OUTCOMES: dict[str, Callable[[Seen], None]] = {
    "retry": _retried,
    "retry after backoff": _retried_after_backoff,
    "retry after the hint": _retried_after_hint,
    "retry (after `Retry-After` if sent)": _retried_after_hint_if_sent,
    "`RateLimitError` carrying `.retry_after`": _rate_limit_with_hint,
    "`OutcomeUnknownError`": _outcome_unknown,
    "`ServerError`": _server_error,
    "typed error": _typed,
}


def test_every_documented_row_has_a_scenario_and_back() -> None:
    labels = [row[0] for row in doc_table()]
    assert len(labels) == len(set(labels))
    assert sorted(labels) == sorted(SCENARIOS)
    for row in doc_table():
        assert row[2] in OUTCOMES, row
        assert row[3] in OUTCOMES, row


@pytest.mark.parametrize("row", doc_table(), ids=[row[0] for row in doc_table()])
async def test_classification_table(scripted: ScriptedServer, row: list[str]) -> None:
    label, kind_cell, read_outcome, create_outcome = row
    kind = FailureKind(kind_cell.strip("`"))
    policy = RetryPolicy()
    for status, code in STATUS_KINDS.get(label, []):
        assert policy.classify_status(status, code if code != "TryAgain" else "") in (
            kind,
            FailureKind.FATAL,  # business codes are only retryable once listed
        )
        listed = RetryPolicy(retry_codes=frozenset({"TryAgain"}))
        assert listed.classify_status(status, code) is kind, (status, code)
    # The outcome columns follow from the kind by the pure policy ...
    # (a hint above the cap stops a retry the kind would allow).
    capped = "`RateLimitError` carrying `.retry_after`"
    retries_read = policy.should_retry(kind, idempotent=True, attempt=1)
    retries_create = policy.should_retry(kind, idempotent=False, attempt=1)
    assert read_outcome.startswith("retry") == retries_read or read_outcome == capped
    assert create_outcome.startswith("retry") == retries_create or create_outcome == capped
    assert (create_outcome == "`OutcomeUnknownError`") == kind.maybe_acted
    # ... and the transport really behaves so, over HTTP.
    for seen in await SCENARIOS[label](scripted, lambda c: c.images.list_page(), OK_READ):
        OUTCOMES[read_outcome](seen)
        if seen.error is None and read_outcome.startswith("retry"):
            assert isinstance(seen.result, Page)
    for seen in await SCENARIOS[label](scripted, create, OK_CREATE):
        OUTCOMES[create_outcome](seen)
        if seen.error is None and create_outcome.startswith("retry"):
            assert seen.result == "abc1234567"


# -- Retry-After in both forms, statuses the policy lists ------------------------------------

NOW = 1_790_000_000.0  # a fixed "now" for the pure parser


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("2", 2.0),
        (" 7 ", 7.0),
        ("0.5", 0.5),
        ("0", 0.0),
        (email.utils.formatdate(NOW + 90, usegmt=True), 90.0),
        (email.utils.formatdate(NOW - 90, usegmt=True), 0.0),  # already past: go now
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
        ("-5", None),
        ("inf", None),
        ("nan", None),
        ("1e400", None),
        ("soon", None),
        ("", None),
        (None, None),
        ("Wed, 21 Oct 2015 07:28:00", None),  # no zone: not an HTTP date
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == expected


async def test_retry_after_as_an_http_date(scripted: ScriptedServer) -> None:
    past = email.utils.formatdate(time.time() - 30, usegmt=True)
    scripted.push(b"", status=429, headers={"Retry-After": past})
    scripted.push(OK_READ)
    sleeps: list[float] = []
    async with _client(scripted.url, sleeps) as client:
        await client.images.list_page()
    assert len(scripted.seen) == 2
    assert sleeps[0] <= RetryPolicy().backoff_base  # a date in the past: only the jitter

    future = email.utils.formatdate(time.time() + 7200, usegmt=True)
    scripted.push(b"", status=429, headers={"Retry-After": future})
    async with _client(scripted.url, sleeps := []) as client:
        with pytest.raises(RateLimitError) as info:
            await client.images.list_page()
    assert info.value.retry_after is not None
    assert 7000 < info.value.retry_after <= 7200  # the hint, carried to the caller
    assert sleeps == []


async def test_retry_after_on_503_is_honoured_up_to_the_cap(scripted: ScriptedServer) -> None:
    scripted.push(HTML_502, status=503, content_type="text/html", headers={"Retry-After": "5"})
    scripted.push(OK_READ)
    sleeps: list[float] = []
    async with _client(scripted.url, sleeps) as client:
        await client.images.list_page()
        assert client.throttle.pauses == 0  # only a 429 pauses the whole client
    assert 5.0 <= sleeps[0] <= 5.25
    scripted.push(HTML_502, status=503, content_type="text/html", headers={"Retry-After": "999"})
    async with _client(scripted.url, sleeps := []) as client:
        with pytest.raises(ServerError):
            await client.images.list_page()
    assert sleeps == []


async def test_retry_statuses_and_codes_are_the_policys(scripted: ScriptedServer) -> None:
    policy = RetryPolicy(retry_statuses=frozenset({503}), retry_codes=frozenset({"Busy"}))
    async with AutoDL(TOKEN, base_url=scripted.url, retry=policy, sleep=_no_sleep) as client:
        scripted.push(HTML_502, status=502, content_type="text/html")
        with pytest.raises(ServerError):
            await client.images.list_page()
        assert len(scripted.seen) == 1  # 502 is not listed any more
        scripted.push(b"", status=429)
        with pytest.raises(RateLimitError):
            await client.images.list_page()
        assert len(scripted.seen) == 2  # nor is 429
        scripted.push(failure("Busy", "繁忙"))
        scripted.push(OK_READ)
        await client.images.list_page()
        assert len(scripted.seen) == 4  # a listed business code is retried


async def _no_sleep(_: float) -> None:
    await anyio.lowlevel.checkpoint()


# -- time limits --------------------------------------------------------------------------------


async def test_deadline_covers_the_clients_429_pause(scripted: ScriptedServer) -> None:
    now = [0.0]
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    async with AutoDL(
        TOKEN, base_url=scripted.url, sleep=fake_sleep, clock=lambda: now[0]
    ) as client:
        client.throttle.on_rate_limited(100.0)  # another task saw a 429 with a long hint
        with pytest.raises(APITimeoutError, match="paused") as info:
            await client.images.list_page(deadline=5.0)
        assert info.value.attempts == 0
        assert sleeps == []  # failed at once, did not sleep into the pause
        assert scripted.seen == []
        await client.images.list_page(deadline=None)  # no limit: waits the pause out
    assert sleeps == [100.0]
    assert len(scripted.seen) == 1


@pytest.mark.parametrize("value", [0, -1, float("nan"), "5", True])
@pytest.mark.parametrize("param", ["timeout", "deadline"])
async def test_bad_time_limits_are_refused(
    scripted: ScriptedServer, scripted_client: AutoDL, param: str, value: object
) -> None:
    with pytest.raises(InvalidParameterError) as info:
        await scripted_client.images.list_page(**{param: value})  # type: ignore[arg-type]
    assert info.value.param == param
    with pytest.raises(InvalidParameterError) as info:
        AutoDL(TOKEN, base_url=scripted.url, **{param: value})  # type: ignore[arg-type]
    assert info.value.param == param
    assert scripted.seen == []


def _public_methods() -> Iterator[tuple[str, Callable[..., Any]]]:
    client = AutoDL(TOKEN, base_url="http://127.0.0.1:9")
    for group in ("images", "deployments", "containers", "events", "blacklist", "gpu_stock"):
        resource = getattr(client, group)
        for name in dir(resource):
            if not name.startswith("_"):
                yield f"{group}.{name}", getattr(resource, name)
    yield "account.balance", client.account.balance
    for group in ("bulk", "waiters"):
        helper = getattr(client, group, None)
        for name in dir(helper) if helper is not None else ():
            if not name.startswith("_"):
                yield f"{group}.{name}", getattr(helper, name)


def test_every_time_limit_defaults_to_the_client_default() -> None:
    """``None`` is "no limit" and must be asked for; leaving a limit out is ``NOT_GIVEN``."""
    checked = []
    for name, method in _public_methods():
        if not callable(method):
            continue
        for param in inspect.signature(method).parameters.values():
            if param.name in ("timeout", "deadline"):
                assert param.default is NOT_GIVEN, (name, param.name)
                checked.append((name, param.name))
    assert len(checked) >= 30, checked  # every call of every resource, plus bulk


async def test_none_means_no_limit_and_omitted_means_the_default(
    scripted: ScriptedServer,
) -> None:
    now = [0.0]

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds

    policy = RetryPolicy(max_attempts=6, backoff_base=10.0, backoff_cap=10.0)
    async with AutoDL(
        TOKEN,
        base_url=scripted.url,
        deadline=15.0,
        retry=policy,
        sleep=fake_sleep,
        clock=lambda: now[0],
        rng=random.Random(3),
    ) as client:
        for _ in range(12):
            scripted.push(HTML_502, status=503, content_type="text/html")
        with pytest.raises(ServerError):
            await client.images.list_page()  # the client's 15 s deadline
        bounded = len(scripted.seen)
        with pytest.raises(ServerError):
            await client.images.list_page(deadline=None)  # asked for no limit
    assert bounded < 6
    assert len(scripted.seen) - bounded == 6  # every attempt the policy allows


# -- retries only by the policy -----------------------------------------------------------------


@pytest.mark.parametrize("verb", ["GET", "PUT"])
async def test_no_silent_resend_below_the_policy(scripted: ScriptedServer, verb: str) -> None:
    """aiohttp would re-send an idempotent HTTP method once after a reset; the SDK's does not."""
    scripted.push(reset=True)
    async with AutoDL(TOKEN, base_url=scripted.url, retry=RetryPolicy.never()) as client:
        call = client.blacklist.list() if verb == "GET" else client.containers.stop("c-1")
        with pytest.raises(APIConnectionError):
            await call
        assert client.stats.requests == 1
    assert [s.method for s in scripted.seen] == [verb]


def test_backoff_is_full_jitter_under_a_cap() -> None:
    policy = RetryPolicy(max_attempts=5000, backoff_base=0.5, backoff_cap=8.0)
    rng = random.Random(11)
    for attempt in (1, 2, 3, 4, 5, 6, 50, 1100, 4999):
        ceiling = min(8.0, 0.5 * 2 ** min(attempt - 1, 62))
        draws = [policy.backoff(attempt, rng) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in draws)
        assert max(draws) > ceiling * 0.8  # the whole range is used, not a fixed delay
    assert policy.wait_for_hint(3.0, rng) is not None
    assert policy.wait_for_hint(RetryPolicy().retry_after_cap + 1, rng) is None


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": 2.5}, "max_attempts"),
        ({"backoff_base": -1}, "backoff_base"),
        ({"backoff_cap": float("inf")}, "backoff_cap"),
        ({"retry_after_cap": float("nan")}, "retry_after_cap"),
        ({"retry_statuses": frozenset({200})}, "retry_statuses"),
    ],
)
def test_policy_rejects_bad_settings(kwargs: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        RetryPolicy(**kwargs)
    assert info.value.param == param


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [({"capacity": -1}, "capacity"), ({"refill_per_success": float("nan")}, "refill_per_success")],
)
def test_budget_rejects_bad_settings(kwargs: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        RetryBudget(**kwargs)
    assert info.value.param == param


# -- safe creates against the simulator ----------------------------------------------------------

CREATE = "/api/v1/dev/deployment"


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(SimulatorConfig(token=TOKEN, clock=VirtualClock())) as simulator:
        yield simulator


def _sim_template(sim: Simulator) -> ContainerTemplate:
    return ContainerTemplate(
        dc_list=["westDC2"],
        gpu_name_set=["RTX 4090"],
        cuda_v_from=118,
        cuda_v_to=128,
        cmd="sleep 100",
        image_uuid=sim.images()[0].image_uuid,
    )


async def _create(client: AutoDL, sim: Simulator, name: str = "web", **kwargs: Any) -> str:
    return await client.deployments.create(
        name=name,
        deployment_type="ReplicaSet",
        replica_num=1,
        template=_sim_template(sim),
        **kwargs,
    )


def _paths(sim: Simulator) -> list[str]:
    return [f"{r.method} {r.path.rsplit('/', 1)[-1]}" for r in sim.requests]


async def test_lost_create_answer_is_outcome_unknown_and_not_repeated(sim: Simulator) -> None:
    sim.faults.add(FaultRule(kind="reset", path=CREATE, method="POST", when="after", times=1))
    async with AutoDL(sim.token, base_url=sim.url) as client:
        with pytest.raises(OutcomeUnknownError) as info:
            await _create(client, sim)
        assert info.value.reconcile_hint["name"] == "web"
        [made] = sim.deployments()  # it did happen, once
        found = await client.deployments.list(name=info.value.reconcile_hint["name"]).to_list()
    assert [d.uuid for d in found] == [made.uuid]
    assert _paths(sim) == ["POST deployment", "POST list"]


async def test_reconcile_by_name_finds_the_deployment_after_a_lost_answer(
    sim: Simulator,
) -> None:
    sim.faults.add(FaultRule(kind="truncate", path=CREATE, method="POST", times=1))
    async with AutoDL(sim.token, base_url=sim.url) as client:
        uuid = await _create(client, sim, reconcile_by_name=True)
    [made] = sim.deployments()
    assert uuid == made.uuid
    assert _paths(sim) == ["POST list", "POST deployment", "POST list"]  # look, create, look


async def test_reconcile_by_name_raises_when_nothing_was_made(sim: Simulator) -> None:
    sim.faults.add(FaultRule(kind="reset", path=CREATE, method="POST", times=1))  # before: none
    async with AutoDL(sim.token, base_url=sim.url) as client:
        with pytest.raises(OutcomeUnknownError) as info:
            await _create(client, sim, reconcile_by_name=True)
    assert info.value.reconcile_hint["name"] == "web"
    assert sim.deployments() == ()
    assert _paths(sim) == ["POST list", "POST deployment", "POST list"]


async def test_reconcile_by_name_returns_a_live_one_and_ignores_stopped(sim: Simulator) -> None:
    async with AutoDL(sim.token, base_url=sim.url) as client:
        first = await _create(client, sim)
        assert await _create(client, sim, reconcile_by_name=True) == first
        assert len(sim.deployments()) == 1  # looked, found, created nothing
        await client.deployments.stop(first)
        second = await _create(client, sim, reconcile_by_name=True)
    assert second != first  # a stopped deployment does not count as "this one"
    assert len(sim.deployments()) == 2
    assert [p for p in _paths(sim) if p == "POST deployment"] == ["POST deployment"] * 2
