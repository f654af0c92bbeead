"""Paging across list endpoints, and the guard against servers that do not advance."""

from __future__ import annotations

import pytest

from autodl_async import AutoDL, MalformedResponseError
from tests.scripted import ScriptedServer, success

pytestmark = pytest.mark.anyio


def image(i: int) -> dict[str, object]:
    return {"id": i, "image_name": f"img{i}", "image_uuid": f"image-{i:010d}"}


async def test_walks_until_max_page(scripted: ScriptedServer, scripted_client: AutoDL) -> None:
    for index in (1, 2, 3):
        rows = [image(index * 10 + k) for k in range(2 if index < 3 else 1)]
        scripted.push(success({"list": rows, "page_index": index, "page_size": 2, "max_page": 3}))
    ids = [i.id async for i in scripted_client.images.list(page_size=2)]
    assert ids == [10, 11, 20, 21, 30]
    assert [s.json()["page_index"] for s in scripted.seen] == [1, 2, 3]


async def test_short_page_ends_without_max_page(
    scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    scripted.push(success({"list": [image(1), image(2)]}))
    scripted.push(success({"list": [image(3)]}))
    assert [i.id for i in await scripted_client.images.list(page_size=2).to_list()] == [1, 2, 3]
    assert len(scripted.seen) == 2


async def test_bare_list_and_null_data(scripted: ScriptedServer, scripted_client: AutoDL) -> None:
    scripted.push(success([image(1)]))
    assert [i.id for i in await scripted_client.images.list().to_list()] == [1]
    scripted.push(success(None))
    assert await scripted_client.images.list().to_list() == []


async def test_non_advancing_pages_raise(scripted: ScriptedServer, scripted_client: AutoDL) -> None:
    same = success({"list": [image(1), image(2)], "max_page": 0})
    for _ in range(5):
        scripted.push(same)
    with pytest.raises(MalformedResponseError, match="not advancing"):
        await scripted_client.images.list(page_size=2).to_list()
    assert len(scripted.seen) == 2


async def test_pages_iterator(scripted: ScriptedServer, scripted_client: AutoDL) -> None:
    scripted.push(success({"list": [image(1)], "max_page": 2}))
    scripted.push(success({"list": [image(2)], "max_page": 2}))
    pages = [p async for p in scripted_client.images.list(page_size=1).pages()]
    assert [[i.id for i in p.rows] for p in pages] == [[1], [2]]
