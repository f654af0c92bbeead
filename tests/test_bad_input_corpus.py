"""A corpus of odd answers, each with its expected outcome: a typed error or a lenient success.

The bodies are served over real HTTP by the scripted loopback server, so content types,
status lines and connection resets are real too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from autodl_async import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    AutoDL,
    AutoDLError,
    BadRequestError,
    Container,
    ContainerTemplate,
    MalformedResponseError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    ServerError,
)
from autodl_async.types import Page
from tests.scripted import ScriptedServer

pytestmark = pytest.mark.anyio

Call = Callable[[AutoDL], Awaitable[Any]]


async def containers(client: AutoDL) -> Page[Container]:
    return await client.containers.list_page("d3adb33f03")


async def stock(client: AutoDL) -> Any:
    return await client.gpu_stock.get("westDC2")


async def balance(client: AutoDL) -> Any:
    return await client.account.balance()


async def blacklist(client: AutoDL) -> Any:
    return await client.blacklist.list()


async def create(client: AutoDL) -> Any:
    template = ContainerTemplate(
        dc_list=["westDC2"],
        gpu_name_set=["RTX 4090"],
        cuda_v_from=118,
        cuda_v_to=128,
        cmd="sleep 1",
        image_uuid="image-db8346e037",
    )
    return await client.deployments.create(
        name="corpus", deployment_type="ReplicaSet", replica_num=1, template=template
    )


@dataclass
class Case:
    name: str
    body: bytes | str
    expect: type[AutoDLError] | Callable[[Any], bool]
    status: int = 200
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    call: Call = containers
    reset: bool = False


def ok(data: str) -> str:
    return '{"code":"Success","msg":"","data":' + data + ',"request_id":"' + "a" * 32 + '"}'


ITEM = '{"uuid":"d-m-c","status":"running","memory_size":17179869184,"price":1980}'

CORPUS = [
    Case(
        "html 502 page",
        "<html><body><h1>502 Bad Gateway</h1></body></html>",
        ServerError,
        502,
        "text/html",
    ),
    Case(
        "html 200 page",
        "<!DOCTYPE html><html>login</html>",
        MalformedResponseError,
        content_type="text/html",
    ),
    Case("empty body", "", MalformedResponseError),
    Case("whitespace body", "  \n ", MalformedResponseError),
    Case("truncated json", ok('{"list":[' + ITEM)[:-5], MalformedResponseError),
    Case("json array at top", "[]", MalformedResponseError),
    Case("json string at top", '"ok"', MalformedResponseError),
    Case("json null at top", "null", MalformedResponseError),
    Case("code missing", '{"msg":"","data":null}', MalformedResponseError),
    Case("code is a number", '{"code":0,"msg":"","data":null}', MalformedResponseError),
    Case("data null where list expected", ok("null"), lambda p: p.rows == []),
    Case("data empty object", ok("{}"), lambda p: p.rows == []),
    Case("data bare list", ok("[" + ITEM + "]"), lambda p: p.rows[0].uuid == "d-m-c"),
    Case("list null inside page", ok('{"list":null,"max_page":0}'), lambda p: p.rows == []),
    Case("wrong type for list", ok('{"list":"nope"}'), MalformedResponseError),
    Case("item is a number", ok('{"list":[1]}'), MalformedResponseError),
    Case(
        "huge memory size",
        ok('{"list":[{"uuid":"x","memory_size":1152921504606846976}]}'),
        lambda p: p.rows[0].memory_size_bytes == 2**60,
    ),
    Case(
        "number beyond int64",
        ok('{"list":[{"uuid":"x","memory_size":99999999999999999999999}]}'),
        lambda p: p.rows[0].memory_size_bytes == 99999999999999999999999,
    ),
    Case(
        "price as float",
        ok('{"list":[{"uuid":"x","price":1881.5}]}'),
        lambda p: p.rows[0].price == 1881.5,
    ),
    Case(
        "memory as numeric string",
        ok('{"list":[{"uuid":"x","memory_size":"2147483648"}]}'),
        lambda p: p.rows[0].memory_size_bytes == 2**31,
    ),
    Case(
        "unknown status",
        ok('{"list":[{"uuid":"x","status":"hibernating"}]}'),
        lambda p: p.rows[0].status == "hibernating",
    ),
    Case(
        "unknown fields",
        ok('{"list":[{"uuid":"x","gpu_temp":71,"nested":{"a":[1]}}],"cursor":"z"}'),
        lambda p: p.rows[0].uuid == "x",
    ),
    Case(
        "missing fields",
        ok('{"list":[{}]}'),
        lambda p: p.rows[0].uuid == "" and p.rows[0].info is None,
    ),
    Case(
        "null info and times",
        ok('{"list":[{"uuid":"x","info":null,"started_at":null}]}'),
        lambda p: p.rows[0].started_at is None,
    ),
    Case(
        "empty-string time",
        ok('{"list":[{"uuid":"x","created_at":""}]}'),
        lambda p: p.rows[0].created_at is None,
    ),
    Case(
        "go nullable time",
        ok('{"list":[{"uuid":"x","stopped_at":{"Time":"0001-01-01T00:00:00Z","Valid":false}}]}'),
        lambda p: p.rows[0].stopped_at is None,
    ),
    Case(
        "bad time text",
        ok('{"list":[{"uuid":"x","created_at":"yesterday"}]}'),
        MalformedResponseError,
    ),
    Case("utf8 bom", "\ufeff" + ok("[]"), lambda p: p.rows == []),
    Case(
        "wrong content type",
        ok("[" + ITEM + "]"),
        lambda p: len(p.rows) == 1,
        content_type="text/plain",
    ),
    Case(
        "200 error envelope",
        '{"code":"RequestParameterIsWrong","msg":"请求参数错误","data":null}',
        BadRequestError,
    ),
    Case(
        "200 permission envelope",
        '{"code":"BadRequest","msg":"无当前资源访问权限"}',
        PermissionDeniedError,
    ),
    Case("200 unknown error code", '{"code":"Weird","msg":"奇怪"}', AutoDLError),
    Case(
        "error envelope with odd data",
        '{"code":"RecordNotFoundError","msg":"未查询到相关实例","data":[1,"x"]}',
        NotFoundError,
    ),
    Case("404 text", "404: Not Found", NotFoundError, 404, "text/plain"),
    Case("401 json", '{"code":"Unauthorized","msg":"token无效"}', AuthenticationError, 401),
    Case("403 html", "<html>forbidden</html>", AuthenticationError, 403, "text/html"),
    Case("429 no retry-after", "", RateLimitError, 429),
    Case("429 huge retry-after", "", RateLimitError, 429, headers={"Retry-After": "86400"}),
    Case("500 json error", '{"code":"InternalError","msg":"服务器错误"}', ServerError, 500),
    Case("connection reset", "", APIConnectionError, reset=True),
    Case(
        "invalid utf8", b'{"code":"Success","msg":"\xff\xfe","data":null}', MalformedResponseError
    ),
    Case(
        "success with msg null",
        '{"code":"Success","msg":null,"data":{"list":[]}}',
        lambda p: p.rows == [],
    ),
    Case(
        "deeply nested data",
        ok('{"list":[{"uuid":"x","info":' + "[" * 50_000 + "]" * 50_000 + "}]}"),
        MalformedResponseError,
    ),
    Case("NaN literal", ok('{"list":[{"uuid":"x","price":NaN}]}'), MalformedResponseError),
    Case(
        "integral float for a count",
        ok('{"list":[{"uuid":"x","gpu_num":2.0}]}'),
        lambda p: p.rows[0].gpu_num == 2,
    ),
    Case("fractional count", ok('{"list":[{"uuid":"x","gpu_num":1.5}]}'), MalformedResponseError),
    Case(
        "escaped chinese msg",
        '{"code":"BadRequest","msg":"\\u65e0\\u5f53\\u524d\\u8d44\\u6e90\\u8bbf\\u95ee'
        '\\u6743\\u9650"}',
        PermissionDeniedError,
    ),
    Case("code with stray space", '{"code":" Success","msg":""}', APIStatusError),
    Case(
        "302 redirect elsewhere",
        "",
        APIStatusError,
        302,
        headers={"Location": "http://127.0.0.1:9/login"},
    ),
    Case("204 no content", "", APIStatusError, 204),
    Case(
        "gzip header on a plain body",
        ok("[]"),
        APIConnectionError,
        headers={"Content-Encoding": "gzip"},
    ),
    Case(
        "binary content type",
        ok("[" + ITEM + "]"),
        lambda p: p.rows[0].uuid == "d-m-c",
        content_type="application/octet-stream",
    ),
    Case(
        "a large page",
        ok('{"list":[' + ",".join([ITEM] * 20_000) + '],"max_page":1}'),
        lambda p: len(p.rows) == 20_000,
    ),
    Case("stock data is a string", ok('"none"'), MalformedResponseError, call=stock),
    Case("stock data null", ok("null"), lambda s: s == {}, call=stock),
    Case(
        "stock item with unknown keys",
        ok('[{"RTX 4090":{"idle_gpu_num":3,"total_gpu_num":8,"shiny":true}}]'),
        lambda s: s["RTX 4090"].idle_gpu_num == 3,
        call=stock,
    ),
    Case("balance data null", ok("null"), MalformedResponseError, call=balance),
    Case(
        "balance as numeric strings",
        ok('{"assets":"500000","voucher_balance":0,"accumulate":"12"}'),
        lambda w: w.assets == 500_000,
        call=balance,
    ),
    Case(
        "create data empty",
        ok("{}"),
        OutcomeUnknownError,  # Success means it was made; only the uuid is missing
        call=create,
    ),
    Case(
        "create uuid not a string",
        ok('{"deployment_uuid":12345}'),
        OutcomeUnknownError,  # a body that cannot be read after a create: the outcome is unknown
        call=create,
    ),
    Case(
        "blacklist data a bare object",
        ok('{"machine_id":"m1"}'),
        lambda b: len(b) == 1,
        call=blacklist,
    ),
]


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 30
    assert len({c.name for c in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
async def test_corpus(scripted: ScriptedServer, case: Case) -> None:
    scripted.push(
        case.body,
        status=case.status,
        headers=case.headers,
        content_type=case.content_type,
        reset=case.reset,
    )
    async with AutoDL("corpus-token", base_url=scripted.url, retry=RetryPolicy.never()) as client:
        if isinstance(case.expect, type):
            with pytest.raises(case.expect) as info:
                await case.call(client)
            assert "corpus-token" not in str(info.value)
        else:
            result = await case.call(client)
            assert case.expect(result), result
