"""The resumable cursor: small, msgspec-serialisable, bounded, and strict about bad input."""

from __future__ import annotations

from collections import Counter

import msgspec
import pytest

from autodl_async import InvalidParameterError
from autodl_async._event_cursor import EventCursor
from tests.event_support import collect, open_world

pytestmark = pytest.mark.anyio


def test_round_trip_through_text_and_msgspec() -> None:
    cursor = EventCursor(
        deployment_uuid="3f967b8f00",
        order="newest_first",
        second=1_788_228_010,
        seen=(("3f967b8f00-a-b", "running"), ("3f967b8f00-a-c", "running")),
        older=17,
    )
    text = cursor.encode()
    assert EventCursor.decode(text) == cursor
    assert EventCursor.decode(text.encode()) == cursor
    assert msgspec.json.decode(msgspec.json.encode(cursor), type=EventCursor) == cursor
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(cursor), type=EventCursor) == cursor
    assert len(text) < 200


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        '{"deployment_uuid": 5}',
        '{"deployment_uuid": "d", "v": 2}',
        '{"deployment_uuid": ""}',
        '{"deployment_uuid": "d", "older": -1}',
        '{"deployment_uuid": "d", "seen": [["c", "running"]]}',
        '{"deployment_uuid": "d", "second": 5}',
        '{"deployment_uuid": "d", "order": "sideways"}',
        '{"deployment_uuid": "d", "surprise": 1}',
        '{"deployment_uuid": "d", "second": 5, "seen": [["c"]]}',
    ],
)
def test_bad_cursor_text_is_an_invalid_parameter(text: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        EventCursor.decode(text)
    assert caught.value.param == "cursor"


async def test_bad_cursor_arguments_are_rejected_before_anything_is_sent() -> None:
    async with open_world() as world:
        uuid = await world.deployment()
        events = world.client.events
        other = EventCursor(deployment_uuid="another0000").encode()
        filtered = EventCursor(deployment_uuid=uuid, container_uuid="c1")
        oldest = EventCursor(deployment_uuid=uuid, order="oldest_first")
        sent_before = len(world.sim.requests)
        cases: list[tuple[dict[str, object], str]] = [
            ({"cursor": "{oops"}, "cursor"),
            ({"cursor": 42}, "cursor"),
            ({"cursor": other}, "cursor"),
            ({"cursor": filtered}, "cursor"),
            ({"cursor": oldest, "order": "newest_first"}, "order"),
            ({"cursor": EventCursor(deployment_uuid=uuid), "start": "now"}, "start"),
            ({"start": "later"}, "start"),
            ({"order": "random"}, "order"),
            ({"page_size": 0}, "page_size"),
            ({"page_size": 1001}, "page_size"),
            ({"page_size": True}, "page_size"),
            ({"min_interval": 0}, "min_interval"),
            ({"min_interval": float("nan")}, "min_interval"),
            ({"min_interval": 5, "max_interval": 1}, "max_interval"),
            ({"jitter": 1.0}, "jitter"),
            ({"timeout": -1}, "timeout"),
            ({"until_stopped": "yes"}, "until_stopped"),
            ({"until_container": "c1"}, "until_container"),
            ({"container_uuid": ""}, "container_uuid"),
        ]
        for kwargs, param in cases:
            with pytest.raises(InvalidParameterError) as caught:
                events.stream(uuid, **kwargs)  # type: ignore[arg-type]
            assert caught.value.param == param, kwargs
        with pytest.raises(InvalidParameterError) as caught:
            events.stream("")
        assert caught.value.param == "deployment_uuid"
        assert len(world.sim.requests) == sent_before


async def test_the_cursor_stays_one_second_big_however_long_the_stream_runs() -> None:
    async with open_world() as world:
        uuid = await world.deployment()
        feed = world.sim.event_feed

        def burst() -> None:
            feed.burst(uuid, 40)

        world.time.on_sleep.append(burst)
        stream = world.client.events.stream(uuid, page_size=100, timeout=300)
        sizes = []
        async for _ in stream:
            sizes.append(len(stream.cursor.encode()))
            if stream.stats.events >= 5000:
                break
        delivered = world.sim.events(uuid)[: stream.stats.events]
        per_second = Counter(int(e.created_at) for e in delivered)
        assert len(stream.cursor.seen) == per_second[int(delivered[-1].created_at)]
        biggest_second = max(per_second.values())
        assert biggest_second <= 80  # two bursts at most share a second
        # Bounded by one second's keys (~60 bytes each), not by the 5,000 events.
        assert max(sizes) <= 80 * biggest_second + 200


async def test_a_cursor_taken_mid_second_resumes_inside_that_second() -> None:
    async with open_world() as world:
        uuid = await world.deployment()
        world.sim.event_feed.burst(uuid, 30)
        stream = world.client.events.stream(uuid, until_caught_up=True)
        got = await collect(stream, limit=len(world.log(uuid)) - 12)
        cursor = EventCursor.decode(stream.cursor.encode())
        assert cursor.second is not None
        assert len(cursor.seen) == 18
        rest = world.client.events.stream(uuid, cursor=cursor, until_caught_up=True)
        assert got + await collect(rest) == world.log(uuid)
