"""The pytest plugin (`autodl_async.testing`): its fixtures, marker and virtual waits, and the
worked example of docs/testing.md run as a user would run it."""

from __future__ import annotations

import re
from pathlib import Path

import anyio
import pytest

from autodl_async import AutoDL
from autodl_async.simulator import FaultSet, Simulator, VirtualClock
from autodl_async.testing import virtual_sleep

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.anyio

DOCS = Path(__file__).parent.parent / "docs" / "testing.md"


def doc_examples() -> dict[str, str]:
    """The code blocks of docs/testing.md that follow an `<!-- example: NAME -->` line."""
    text = DOCS.read_text(encoding="utf-8")
    found = re.findall(r"<!-- example: (\S+) -->\n```python\n(.*?)```", text, re.DOTALL)
    return dict(found)


def test_the_worked_example_passes_as_a_user_would_run_it(pytester: pytest.Pytester) -> None:
    examples = doc_examples()
    assert sorted(examples) == ["myapp.py", "test_myapp.py"]
    for name, code in examples.items():
        pytester.makepyfile(**{name.removesuffix(".py"): code})
    pytester.syspathinsert()
    result = pytester.runpytest("-W", "error", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_the_plugin_is_registered_under_its_entry_point(pytestconfig: pytest.Config) -> None:
    plugin = pytestconfig.pluginmanager.get_plugin("autodl_async")
    assert plugin is not None
    assert plugin.__name__ == "autodl_async.testing"


async def test_the_fixtures_fit_together(
    autodl_simulator: Simulator,
    autodl_client: AutoDL,
    autodl_clock: VirtualClock,
    autodl_faults: FaultSet,
) -> None:
    assert autodl_client.base_url == autodl_simulator.url
    assert autodl_clock is autodl_simulator.clock
    assert autodl_faults is autodl_simulator.faults
    stock = await autodl_client.gpu_stock.get("westDC2")
    assert "RTX 4090" in stock


@pytest.mark.autodl_simulator(seed=9, faults=["status:*/gpu_stock:status=500,times=1"])
async def test_the_marker_sets_config_fields(autodl_simulator: Simulator) -> None:
    assert autodl_simulator.config.seed == 9
    (handle,) = autodl_simulator.faults.handles
    assert (handle.rule.kind, handle.rule.status, handle.rule.times) == ("status", 500, 1)
    assert isinstance(autodl_simulator.clock, VirtualClock)  # the default config is kept


async def test_waits_of_the_client_move_the_virtual_clock(
    autodl_client: AutoDL, autodl_clock: VirtualClock, autodl_faults: FaultSet
) -> None:
    handle = autodl_faults.add("rate_limit:*/gpu_stock:times=2,retry_after=30")
    start = autodl_clock.now()
    await autodl_client.gpu_stock.get("westDC2")  # two 429s, retried after 30 s each
    assert handle.applied == 2
    assert autodl_clock.now() - start >= 60


async def test_concurrent_virtual_sleeps_overlap() -> None:
    clock = VirtualClock(start=0.0)
    sleep = virtual_sleep(clock)
    await sleep(5)
    assert clock.now() == 5
    await sleep(-1)
    assert clock.now() == 5
    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(sleep, 3.0)
    assert clock.now() == 8  # ten sleeps of 3 s side by side take 3 s, not 30


def test_overrides_markers_and_misuse(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest
        from autodl_async import RetryPolicy
        from autodl_async.simulator import SimulatorConfig, VirtualClock

        @pytest.fixture
        def autodl_simulator_config():
            return SimulatorConfig(clock=VirtualClock(), token="from-conftest", seed=3)

        @pytest.fixture
        def autodl_client_options():
            return {"retry": RetryPolicy(max_attempts=1)}
        """
    )
    pytester.makepyfile(
        """
        import pytest
        from autodl_async import RateLimitError
        from autodl_async.simulator import WallClock

        pytestmark = [pytest.mark.anyio, pytest.mark.autodl_simulator(seed=4)]

        async def test_conftest_config_with_module_marker(autodl_simulator):
            assert (autodl_simulator.token, autodl_simulator.config.seed) == ("from-conftest", 4)

        @pytest.mark.autodl_simulator(seed=5)
        async def test_the_closest_marker_wins(autodl_simulator):
            assert autodl_simulator.config.seed == 5

        async def test_client_options_reach_the_client(autodl_client, autodl_faults):
            autodl_faults.add("rate_limit:*/gpu_stock:times=1")
            with pytest.raises(RateLimitError):
                await autodl_client.gpu_stock.get("westDC2")

        @pytest.mark.autodl_simulator(no_such_field=1)
        async def test_bad_marker_field(autodl_simulator):
            pass

        @pytest.mark.autodl_simulator(faults=["explode"])
        async def test_bad_marker_fault(autodl_simulator):
            pass

        @pytest.mark.autodl_simulator(clock=WallClock())
        async def test_clock_fixture_needs_a_virtual_clock(autodl_clock):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=3)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.autodl_simulator: *no_such_field*",
            "*@pytest.mark.autodl_simulator: fault 'explode': unknown fault kind*",
            "*autodl_clock needs a simulator on a VirtualClock; this one runs on WallClock*",
        ]
    )
