"""``autodl-async events``: JSON lines or text, resuming from a cursor file, following.

The simulator runs on its own event loop in a portal thread, on a virtual clock that only
moves when a test says so; each command runs in the test's thread (or as a real process, to
see its output arrive through a pipe while it is still running).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from click.testing import CliRunner, Result

from autodl_async import AutoDL
from autodl_async._event_cursor import EventCursor
from autodl_async.cli._app import cli
from autodl_async.simulator import Simulator, SimulatorConfig, VirtualClock
from tests.event_support import template

TOKEN = "tok-Ev7-never-shown-0042"


@dataclass
class Sim:
    sim: Simulator
    portal: BlockingPortal
    clock: VirtualClock

    def env(self) -> dict[str, str]:
        return {"AUTODL_TOKEN": TOKEN, "AUTODL_BASE_URL": self.sim.url, "COLUMNS": "200"}

    def deployment(self, replicas: int = 1) -> str:
        async def create() -> str:
            async with AutoDL(TOKEN, base_url=self.sim.url) as client:
                return await client.deployments.create(
                    name="cli-events",
                    deployment_type="ReplicaSet",
                    replica_num=replicas,
                    template=template(),
                )

        uuid = self.portal.call(create)
        self.clock.advance(10)
        return uuid

    def stop(self, uuid: str) -> None:
        async def stop() -> None:
            async with AutoDL(TOKEN, base_url=self.sim.url) as client:
                await client.deployments.stop(uuid)

        self.portal.call(stop)
        self.clock.advance(10)

    def burst(self, uuid: str, count: int) -> None:
        self.portal.call(lambda: _burst(self.sim, uuid, count))

    def log(self, uuid: str) -> list[tuple[str, str]]:
        return [(e.deployment_container_uuid, e.status) for e in self.sim.events(uuid)]


async def _burst(sim: Simulator, uuid: str, count: int) -> None:
    sim.event_feed.burst(uuid, count)


@pytest.fixture
def sim() -> Iterator[Sim]:
    clock = VirtualClock()
    with (
        start_blocking_portal(backend="asyncio") as portal,
        portal.wrap_async_context_manager(
            Simulator(SimulatorConfig(token=TOKEN, clock=clock))
        ) as simulator,
    ):
        yield Sim(simulator, portal, clock)


def invoke(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def lines(result: Result) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_stored_events_as_json_lines_oldest_first_when_piped(sim: Sim) -> None:
    uuid = sim.deployment(replicas=2)
    result = invoke(["events", uuid], sim.env())
    assert result.exit_code == 0, result.output
    records = lines(result)
    assert [(r["deployment_container_uuid"], r["status"]) for r in records] == sim.log(uuid)
    assert set(records[0]) == {
        "deployment_uuid",
        "deployment_container_uuid",
        "status",
        "created_at",
    }
    assert records[0]["deployment_uuid"] == uuid
    assert str(records[0]["created_at"]).endswith("+08:00")
    assert TOKEN not in result.output


def test_text_format_is_one_readable_line_per_event(sim: Sim) -> None:
    uuid = sim.deployment()
    result = invoke(["events", uuid, "--format", "text"], sim.env())
    assert result.exit_code == 0, result.output
    rows = result.stdout.splitlines()
    assert len(rows) == len(sim.log(uuid))
    container, status = sim.log(uuid)[0]
    assert rows[0].startswith("2026-09-01 10:00:00")
    assert status in rows[0]
    assert container in rows[0]
    assert not rows[0].lstrip().startswith("{")


def test_cursor_file_resumes_where_the_last_run_stopped(sim: Sim, tmp_path: Path) -> None:
    uuid = sim.deployment()
    cursor_file = tmp_path / "events.cursor"
    first = invoke(["events", uuid, "--cursor-file", str(cursor_file)], sim.env())
    assert len(lines(first)) == len(sim.log(uuid))
    saved = EventCursor.decode(cursor_file.read_text())
    assert saved.deployment_uuid == uuid
    sim.burst(uuid, 7)
    second = invoke(["events", uuid, "--cursor-file", str(cursor_file)], sim.env())
    assert [(r["deployment_container_uuid"], r["status"]) for r in lines(second)] == sim.log(uuid)[
        -7:
    ]
    third = invoke(["events", uuid, "--cursor-file", str(cursor_file)], sim.env())
    assert third.exit_code == 0
    assert lines(third) == []


def test_a_bad_cursor_file_is_a_one_line_error(sim: Sim, tmp_path: Path) -> None:
    uuid = sim.deployment()
    cursor_file = tmp_path / "bad.cursor"
    cursor_file.write_text("{not a cursor")
    result = invoke(["events", uuid, "--cursor-file", str(cursor_file)], sim.env())
    assert result.exit_code == 1
    assert result.stderr.startswith("autodl-async: error: cursor file")
    assert "Traceback" not in result.output
    other = invoke(
        ["events", uuid, "--cursor-file", str(cursor_file.with_name("other.cursor"))], sim.env()
    )
    assert other.exit_code == 0
    # A cursor of another deployment is refused, naming the parameter.
    cursor_file.write_text(EventCursor(deployment_uuid="0123456789").encode())
    wrong = invoke(["events", uuid, "--cursor-file", str(cursor_file)], sim.env())
    assert wrong.exit_code == 1
    assert "InvalidParameterError: cursor: belongs to deployment" in wrong.stderr


def test_since_now_and_container_filter(sim: Sim) -> None:
    uuid = sim.deployment(replicas=2)
    assert lines(invoke(["events", uuid, "--since", "now"], sim.env())) == []
    container = sim.log(uuid)[0][0]
    result = invoke(["events", uuid, "--container", container], sim.env())
    assert {r["deployment_container_uuid"] for r in lines(result)} == {container}


def test_follow_until_stopped_exits_after_the_last_shutdown(sim: Sim) -> None:
    uuid = sim.deployment(replicas=2)
    sim.stop(uuid)
    result = invoke(
        ["events", uuid, "--follow", "--until-stopped", "--interval", "0.05"], sim.env()
    )
    assert result.exit_code == 0, result.output
    statuses = [r["status"] for r in lines(result)]
    assert statuses.count("shutdown") == 2
    assert [(r["deployment_container_uuid"], r["status"]) for r in lines(result)] == sim.log(uuid)


def test_unknown_deployment_is_a_one_line_error(sim: Sim) -> None:
    result = invoke(["events", "0000000000"], sim.env())
    assert result.exit_code == 1
    assert result.stderr.startswith("autodl-async: error: NotFoundError")
    assert TOKEN not in result.output


def test_follow_prints_each_event_as_it_comes_through_a_pipe(sim: Sim, tmp_path: Path) -> None:
    """A real process, reading its stdout pipe: the first line arrives while it still runs
    (block buffering would hold it until exit); Ctrl-C then ends it with 130 and no trace."""
    uuid = sim.deployment()
    cursor_file = tmp_path / "follow.cursor"
    env = {**os.environ, **sim.env()}
    env.pop("PYTHONUNBUFFERED", None)  # the flushing under test must be the command's own
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "autodl_async.cli",
            "events",
            uuid,
            "--follow",
            "--interval",
            "0.05",
            "--max-interval",
            "0.2",
            "--cursor-file",
            str(cursor_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        assert proc.poll() is None  # still following
        assert (first["deployment_container_uuid"], first["status"]) == sim.log(uuid)[0]
        for _ in range(len(sim.log(uuid)) - 1):
            proc.stdout.readline()
        sim.burst(uuid, 3)
        fresh = [json.loads(proc.stdout.readline()) for _ in range(3)]
        assert [(r["deployment_container_uuid"], r["status"]) for r in fresh] == sim.log(uuid)[-3:]
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    assert "Traceback" not in err
    assert TOKEN not in err
    saved = EventCursor.decode(cursor_file.read_text())
    assert saved.seen[-1] == sim.log(uuid)[-1]


def test_an_unwritable_cursor_file_fails_before_anything_is_printed(
    sim: Sim, tmp_path: Path
) -> None:
    uuid = sim.deployment()
    missing = tmp_path / "no-such-dir" / "x.cur"
    result = invoke(["events", uuid, "--cursor-file", str(missing)], sim.env())
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"autodl-async: error: cannot write cursor file {missing}: No such file or directory"
    ]
    assert not any(r.path.endswith("/event/list") for r in sim.sim.requests)  # nothing asked
    fine = tmp_path / "x.cur"
    assert invoke(["events", uuid, "--cursor-file", str(fine)], sim.env()).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.cur"]  # the probe left nothing


def test_a_cursor_that_cannot_be_saved_later_is_one_line(
    sim: Sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uuid = sim.deployment()
    cursor_file = tmp_path / "x.cur"
    real_replace = os.replace

    def full_disk(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst) == cursor_file:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", full_disk)
    result = invoke(["events", uuid, "--cursor-file", str(cursor_file)], sim.env())
    assert result.exit_code == 1
    assert len(lines(result)) == 1  # the event printed before the save failed
    assert result.stderr.splitlines() == [
        f"autodl-async: error: cannot save cursor to {cursor_file}: No space left on device"
    ]
