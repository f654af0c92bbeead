"""Servers that misbehave or differ from the simulator, served over loopback by a list server.

Two outcomes only: the stream still delivers every event exactly once, or it stops with a
typed error that is not retried (``EventListError``) instead of stalling or repeating.
"""

from __future__ import annotations

import pytest

from autodl_async import InvalidParameterError, MalformedResponseError
from autodl_async._errors import EventListError, is_transient
from tests.event_support import ListServer, collect, serve_list

pytestmark = pytest.mark.anyio

DEP = "list-server-deployment"
BASE = 1_788_000_000


def names(server: ListServer) -> list[tuple[str, str]]:
    return [(c, s) for c, s, _ in server.events]


@pytest.mark.parametrize("order", ["newest_first", "oldest_first"])
@pytest.mark.parametrize("totals", [True, False])
@pytest.mark.parametrize("told", [False, True], ids=["auto", "told-the-order"])
async def test_a_server_that_ignores_page_index_is_a_typed_error_not_a_loop(
    order: str, totals: bool, told: bool
) -> None:
    server = ListServer(order=order, totals=totals, ignore_page_index=True)
    for second in range(5):
        server.add(30, BASE + second)
    async with serve_list(server) as client:
        stream = client.events.stream(
            DEP,
            page_size=20,
            until_caught_up=True,
            order=order if told else "auto",  # type: ignore[arg-type]
        )
        with pytest.raises(EventListError) as caught:
            await collect(stream)
    assert isinstance(caught.value, MalformedResponseError)
    assert not is_transient(caught.value)
    assert stream.stats.retries == 0
    assert server.requests < 20


async def test_rows_out_of_time_order_in_one_page_are_a_typed_error() -> None:
    server = ListServer()
    server.events = [("a", "running", BASE), ("b", "running", BASE + 5), ("c", "running", BASE + 2)]
    async with serve_list(server) as client:
        with pytest.raises(EventListError, match="not sorted"):
            await collect(client.events.stream(DEP, until_caught_up=True))


async def test_an_order_that_flips_mid_stream_is_a_typed_error() -> None:
    server = ListServer()
    server.add(3, BASE)
    server.add(3, BASE + 1)
    async with serve_list(server) as client:
        stream = client.events.stream(DEP)
        got = await collect(stream, limit=6)
        assert got == names(server)
        server.add(3, BASE + 2)
        server.order = "oldest_first"
        with pytest.raises(EventListError, match="switched"):
            await collect(stream)


async def test_an_explicit_order_the_server_contradicts_names_the_parameter() -> None:
    server = ListServer(order="oldest_first")
    server.add(2, BASE)
    server.add(2, BASE + 1)
    async with serve_list(server) as client:
        with pytest.raises(InvalidParameterError) as caught:
            await collect(client.events.stream(DEP, order="newest_first"))
    assert caught.value.param == "order"


@pytest.mark.parametrize("order", ["newest_first", "oldest_first"])
@pytest.mark.parametrize("totals", [True, False])
async def test_new_same_second_rows_tied_below_delivered_ones_are_not_missed(
    order: str, totals: bool
) -> None:
    """Ties ordered against the list: a row arriving in a second already delivered lands
    among (not after) the rows of that second. Only (container, status) tells it is new."""
    server = ListServer(order=order, totals=totals, ties_reversed=True)
    server.add(50, BASE)
    server.add(45, BASE + 1)
    async with serve_list(server) as client:
        stream = client.events.stream(DEP, page_size=20)
        got = await collect(stream, limit=95)
        server.add(30, BASE + 1, prefix="late")
        server.add(5, BASE + 2)
        got += await collect(stream, limit=35)
    assert sorted(got) == sorted(names(server))
    assert len(set(got)) == len(got) == 130
    # Seconds never go backwards, whatever the order within one.
    second = {(c, s): t for c, s, t in server.events}
    assert [second[k] for k in got] == sorted(second[k] for k in got)


@pytest.mark.parametrize("order", ["newest_first", "oldest_first"])
@pytest.mark.parametrize("totals", [True, False])
async def test_old_rows_trimmed_under_the_cursor_lose_and_repeat_nothing(
    order: str, totals: bool
) -> None:
    """A retention job drops the oldest rows: positions shift, content does not."""
    server = ListServer(order=order, totals=totals)
    for second in range(6):
        server.add(25, BASE + second)
    async with serve_list(server) as client:
        stream = client.events.stream(DEP, page_size=20)
        got = await collect(stream, limit=150)
        assert got == names(server)
        server.events = server.events[60:]
        server.add(40, BASE + 9)
        got += await collect(stream, limit=40)
        assert got[150:] == names(server)[-40:]
        assert stream.stats.restarts >= (1 if totals or order == "oldest_first" else 0)


@pytest.mark.parametrize("order", ["newest_first", "oldest_first"])
async def test_one_row_pages_still_reveal_the_order(order: str) -> None:
    server = ListServer(order=order, totals=False)
    for second in range(6):
        server.add(1, BASE + second)
    async with serve_list(server) as client:
        stream = client.events.stream(DEP, page_size=1, until_caught_up=True)
        assert await collect(stream) == names(server)
        assert stream.order == order


async def test_rows_without_created_at_are_delivered_where_the_server_put_them() -> None:
    server = ListServer(order="oldest_first")
    server.add(3, BASE)
    server.add(3, BASE + 1)
    server.untimed = {"c00001", "c00003"}
    async with serve_list(server) as client:
        stream = client.events.stream(DEP, until_caught_up=True)
        assert await collect(stream) == names(server)
