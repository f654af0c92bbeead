"""A status the SDK does not know is sent as given, but said out loud: a typo matches nothing.

``runing`` in a bulk filter would target no container, in a stream's end condition would never
end it, in a waiter would wait out its timeout; each is logged once, where it was given.
"""

from __future__ import annotations

import logging

import pytest

from autodl_async import AutoDL, NotFoundError
from tests.scripted import ScriptedServer

pytestmark = pytest.mark.anyio


def warnings_in(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


async def test_a_typo_in_a_bulk_filter_is_logged(
    caplog: pytest.LogCaptureFixture, scripted_client: AutoDL
) -> None:
    caplog.set_level(logging.WARNING, logger="autodl_async")
    scripted_client.bulk.stop_all_containers("d", statuses=["runing", "running"])
    [message] = warnings_in(caplog)
    assert "statuses: unknown container status 'runing'" in message
    assert "'running'" not in message.split("(known")[0]  # the right one is not flagged


async def test_a_typo_in_a_stream_end_condition_is_logged(
    caplog: pytest.LogCaptureFixture, scripted_client: AutoDL
) -> None:
    caplog.set_level(logging.WARNING, logger="autodl_async")
    scripted_client.events.stream("d", until_status="runing")
    assert any("until_status: unknown container status 'runing'" in m for m in warnings_in(caplog))


async def test_a_typo_in_a_waiter_is_logged_and_known_statuses_are_quiet(
    caplog: pytest.LogCaptureFixture, scripted: ScriptedServer, scripted_client: AutoDL
) -> None:
    caplog.set_level(logging.WARNING, logger="autodl_async")
    scripted_client.bulk.stop_all_containers("d")  # the defaults are all known
    assert warnings_in(caplog) == []
    with pytest.raises(NotFoundError):  # the scripted server lists no such container
        await scripted_client.waiters.until_container_status("d", "c", "shutdwon", timeout=1)
    assert any("status: unknown container status 'shutdwon'" in m for m in warnings_in(caplog))
