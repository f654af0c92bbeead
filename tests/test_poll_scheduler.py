"""The shared poll scheduler: many pollers, few wake-ups, and no poller stranded.

Time here is a discrete-event clock: a sleep blocks until the test's driver moves the clock
past it, and the driver moves it only once every poller is waiting, so what is measured is
how the scheduler groups wake-ups, not how fast this machine runs.
"""

from __future__ import annotations

import math
import random

import anyio
import anyio.lowlevel
import pytest

from autodl_async._poll_scheduler import PollScheduler, shared_scheduler

pytestmark = pytest.mark.anyio


class SteppedTime:
    """``sleep`` waits for the driver; ``advance_when`` moves time once enough tasks wait."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.waiting: list[tuple[float, anyio.Event]] = []
        self.sleeps = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        event = anyio.Event()
        self.waiting.append((self.now + seconds, event))
        await event.wait()

    async def settle(self) -> None:
        for _ in range(50):
            await anyio.lowlevel.checkpoint()

    async def step(self) -> bool:
        """Jump to the earliest pending wake-up and release it; ``False`` when none."""
        await self.settle()
        if not self.waiting:
            return False
        self.waiting.sort(key=lambda item: item[0])
        when, _ = self.waiting[0]
        self.now = max(self.now, when)
        due = [item for item in self.waiting if item[0] <= self.now]
        self.waiting = [item for item in self.waiting if item[0] > self.now]
        for _, event in due:
            event.set()
        return True


async def test_a_hundred_sleepers_on_one_instant_cost_one_timer() -> None:
    time = SteppedTime()
    scheduler = PollScheduler(sleep=time.sleep, clock=time.clock)
    woke: list[float] = []

    async def sleeper() -> None:
        await scheduler.sleep_until(1001.0)
        woke.append(time.now)

    async with anyio.create_task_group() as tg:
        for _ in range(100):
            tg.start_soon(sleeper)
        assert await time.step()
    assert woke == [1001.0] * 100
    assert time.sleeps == scheduler.wakeups == 1


async def test_pollers_with_jittered_windows_converge_on_shared_wake_ups() -> None:
    """100 pollers, each every 0.9-1.0 s for 20 rounds, start at scattered moments."""
    time = SteppedTime()
    scheduler = PollScheduler(sleep=time.sleep, clock=time.clock)
    rng = random.Random(7)
    polls: list[float] = []

    async def poller(offset: float) -> None:
        await scheduler.sleep_until(time.now + offset)
        for _ in range(20):
            now = time.clock()
            polls.append(now)
            await scheduler.sleep_within(now + 0.9, now + 1.0, rng)
            assert now + 0.9 - 1e-6 <= time.now <= now + 1.0 + 1e-6  # inside its window

    async with anyio.create_task_group() as tg:
        for _ in range(100):
            tg.start_soon(poller, rng.uniform(0, 1))
        while await time.step():
            pass
    assert len(polls) == 2000
    # Own timers would be ~2,100 wake-ups; the grid gives at most a handful per round.
    assert scheduler.wakeups < 2000 / 20


async def test_the_leader_can_be_cancelled_and_followers_still_wake() -> None:
    time = SteppedTime()
    scheduler = PollScheduler(sleep=time.sleep, clock=time.clock)
    woke: list[str] = []
    scopes: dict[str, anyio.CancelScope] = {}

    async def sleeper(name: str) -> None:
        with anyio.CancelScope() as scope:
            scopes[name] = scope
            await scheduler.sleep_until(1002.0)
            woke.append(name)

    async with anyio.create_task_group() as tg:
        for name in ("a", "b", "c"):
            tg.start_soon(sleeper, name)
        await time.settle()
        assert time.sleeps == 1  # "a" arrived first and holds the only timer
        scopes["a"].cancel()
        await time.settle()
        assert time.sleeps == 2  # "b" took over, with a timer for the same instant
        while await time.step():
            pass
    assert woke == ["b", "c"]
    assert time.now == 1002.0


def test_pick_prefers_an_instant_someone_already_waits_for() -> None:
    scheduler = PollScheduler(sleep=anyio.sleep, clock=lambda: 0.0, tick=0.1)
    rng = random.Random(1)
    picked = scheduler.pick(10.0, 11.0, rng)
    assert 10.0 <= picked <= 11.0
    assert math.isclose(picked * 10, round(picked * 10))  # on the grid
    # Narrower than a tick: the first grid point after the window opens.
    assert math.isclose(scheduler.pick(10.01, 10.02, rng), 10.1)


async def test_pick_joins_a_pending_slot() -> None:
    time = SteppedTime(start=0.0)
    scheduler = PollScheduler(sleep=time.sleep, clock=time.clock)
    async with anyio.create_task_group() as tg:
        tg.start_soon(scheduler.sleep_until, 10.5)
        await time.settle()
        rng = random.Random(3)
        assert all(math.isclose(scheduler.pick(10.0, 11.0, rng), 10.5) for _ in range(20))
        while await time.step():
            pass


async def test_an_instant_already_past_returns_at_once() -> None:
    time = SteppedTime()
    scheduler = PollScheduler(sleep=time.sleep, clock=time.clock)
    await scheduler.sleep_until(999.0)
    await scheduler.sleep_within(500.0, 600.0)
    assert time.sleeps == scheduler.wakeups == 0


def test_bad_tick_is_refused() -> None:
    with pytest.raises(ValueError, match="tick"):
        PollScheduler(tick=0)


def test_one_scheduler_per_transport_and_timing_source() -> None:
    class Owner:
        pass

    owner, other = Owner(), Owner()
    first = shared_scheduler(owner, sleep=anyio.sleep, clock=lambda: 0.0)
    clock = first.clock
    assert shared_scheduler(owner, sleep=anyio.sleep, clock=clock) is first
    assert shared_scheduler(other, sleep=anyio.sleep, clock=clock) is not first
    # A different sleep (e.g. a test's virtual one) gets its own scheduler.
    assert shared_scheduler(owner, sleep=SteppedTime().sleep, clock=clock) is not first
