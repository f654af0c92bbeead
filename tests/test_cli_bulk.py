"""The bulk commands (``containers stop``, ``deployments scale/stop/delete``) against a simulator.

As in ``test_cli.py``, the simulator runs on its own event loop in a portal thread (virtual
clock) while each command runs its own ``anyio.run`` through click's runner, as from a shell.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from click.testing import Result

from autodl_async.cli import _bulk_commands
from autodl_async.simulator import FaultRule, SimulatorConfig, VirtualClock
from tests.cli_support import PortalSim, invoke, json_lines, portal_simulator

TOKEN = "tok-Bulk-never-shown-2719"
STOP = "/api/v1/dev/deployment/container/stop"
CHANGING = ("PUT", "DELETE")  # every request method here that changes something


@dataclass
class Sim(PortalSim):
    """The shared portal simulator plus what the bulk tests read back."""

    def replicaset(self, replicas: int, name: str = "web") -> tuple[str, list[str]]:
        """A ReplicaSet with every replica running; its uuid and its containers' uuids."""
        dep = self.create_replicaset(replicas, name)
        self.sim.clock.advance(30)
        return dep, [c.uuid for c in self.sim.containers(dep)]

    def statuses(self, dep: str) -> dict[str, str]:
        return {c.uuid: c.status for c in self.sim.containers(dep)}

    def replicas(self, dep: str) -> int:
        return {d.uuid: d.replica_num for d in self.sim.deployments()}[dep]

    def changes(self) -> list[tuple[str, str]]:
        """Requests that change something, in arrival order."""
        return [(r.method, r.path) for r in self.sim.requests if r.method in CHANGING]


@pytest.fixture
def sim() -> Iterator[Sim]:
    config = SimulatorConfig(token=TOKEN, clock=VirtualClock(), machines_per_region=4)
    with portal_simulator(config) as (simulator, portal):
        yield Sim(simulator, portal)


@pytest.fixture
def remote(monkeypatch: pytest.MonkeyPatch) -> None:
    """Treat the loopback simulator as a paid account: confirmations apply."""
    monkeypatch.setattr(_bulk_commands, "is_local_simulator", lambda url: False)


def interactive(monkeypatch: pytest.MonkeyPatch, value: bool) -> None:
    monkeypatch.setattr(_bulk_commands, "stdin_is_interactive", lambda: value)


# -- containers stop ------------------------------------------------------------------------


def test_stop_by_uuid_reports_every_item_and_exits_1_on_a_failure(sim: Sim) -> None:
    dep, containers = sim.replicaset(3)
    args = ["containers", "stop", *containers, "container-gone", containers[0]]

    result = invoke(args, sim.env())

    assert result.exit_code == 1
    assert [(m, p) for m, p in sim.changes()] == [("PUT", STOP)] * 4  # the repeat dropped
    statuses = sim.statuses(dep)
    assert [statuses[c] for c in containers] == ["shutting_down"] * 3
    assert len(statuses) == 6  # a ReplicaSet replaces what was stopped without --decrease
    out = result.stdout
    assert "succeeded" in out
    assert "failed" in out
    assert "4 containers in" in out
    # The failure, typed, with the API's own (Chinese) message and its request id.
    [row] = [line for line in out.splitlines() if "container-gone" in line]
    assert "NotFoundError RecordNotFoundError" in row
    assert "未查询到相关记录" in row
    assert "stopping containers: 4/4 done, 1 failed" in result.stderr  # plain progress
    assert result.stderr.splitlines()[-1] == (
        "autodl-async: error: 1 of 4 containers not stopped (NotFoundError 1)"
    )


def test_stop_json_is_one_record_per_item_in_order(sim: Sim) -> None:
    _, containers = sim.replicaset(2)
    result = invoke(
        ["containers", "stop", containers[1], "nope", containers[0], "--json"], sim.env()
    )
    assert result.exit_code == 1
    records = json_lines(result.stdout)  # stdout holds the records and nothing else
    assert [(r["uuid"], r["action"], r["status"]) for r in records] == [
        (containers[1], "stop", "succeeded"),
        ("nope", "stop", "failed"),
        (containers[0], "stop", "succeeded"),
    ]
    assert records[0]["error"] is None
    assert records[0]["runs"] == 1
    error = records[1]["error"]
    assert isinstance(error, dict)
    assert (error["type"], error["code"], error["msg"]) == (
        "NotFoundError",
        "RecordNotFoundError",
        "未查询到相关记录",
    )
    assert error["request_id"]
    assert "containers: 3 items: 2 succeeded, 1 failed (NotFoundError 1)" in result.stderr

    ok = invoke(["containers", "stop", containers[0], "--json"], sim.env())
    assert ok.exit_code == 0  # stopping a stopped container is a success: idempotent
    assert [r["status"] for r in json_lines(ok.stdout)] == ["succeeded"]


def test_stop_all_dry_run_lists_the_targets_and_changes_nothing(sim: Sim) -> None:
    dep, containers = sim.replicaset(4)

    dry = invoke(["containers", "stop", "--deployment", dep, "--all", "--dry-run"], sim.env())

    assert dry.exit_code == 0, dry.output
    assert f"dry run: would stop 4 containers of deployment {dep}; nothing was sent" in dry.stdout
    assert all(c in dry.stdout for c in containers)
    assert "running" in dry.stdout
    assert "--decrease-replicas" in dry.stdout  # the ReplicaSet-replaces-them note
    assert sim.changes() == []
    records = json_lines(
        invoke(
            ["containers", "stop", "--deployment", dep, "--all", "--dry-run", "--json"], sim.env()
        ).stdout
    )
    assert {r["uuid"] for r in records} == set(containers)
    assert all(r["dry_run"] is True and r["status"] == "running" for r in records)
    assert sim.changes() == []

    done = invoke(
        ["containers", "stop", "--deployment", dep, "--all", "--decrease-replicas"], sim.env()
    )

    assert done.exit_code == 0, done.output
    assert sim.changes() == [("PUT", STOP)] * 4
    assert set(sim.statuses(dep).values()) == {"shutting_down"}
    assert sim.replicas(dep) == 0  # decrease_one_replica_num on every stop: none replaced
    again = invoke(["containers", "stop", "--deployment", dep, "--all"], sim.env())
    assert again.exit_code == 0
    assert "nothing to do" in again.stdout
    assert len(sim.changes()) == 4


def test_stop_all_of_an_unknown_deployment_is_a_one_line_error(sim: Sim) -> None:
    result = invoke(["containers", "stop", "--deployment", "nope", "--all"], sim.env())
    assert result.exit_code == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("autodl-async: error: NotFoundError:")
    assert sim.changes() == []


def test_a_wide_concurrency_survives_listing_the_targets_first(
    sim: Sim, caplog: pytest.LogCaptureFixture
) -> None:
    dep, _ = sim.replicaset(2)
    with caplog.at_level(logging.WARNING, logger="autodl_async"):
        result = invoke(
            ["containers", "stop", "--deployment", dep, "--all", "--concurrency", "300"],
            sim.env(),
        )
    assert result.exit_code == 0, result.output
    assert not [r for r in caplog.records if "lowered" in r.getMessage()]


def test_stop_options_reach_the_api(sim: Sim) -> None:
    _, containers = sim.replicaset(1)
    result = invoke(
        ["containers", "stop", *containers, "--no-cache", "--cmd-before-shutdown", "sync"],
        sim.env(),
    )
    assert result.exit_code == 0, result.output
    [body] = [r.body for r in sim.sim.requests if r.path == STOP]
    assert body == {
        "deployment_container_uuid": containers[0],
        "decrease_one_replica_num": False,
        "no_cache": True,
        "cmd_before_shutdown": "sync",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--all"], "--all and --deployment UUID go together"),
        (["--deployment", "d-1"], "--all and --deployment UUID go together"),
        (["c-1", "--deployment", "d-1", "--all"], "not both"),
        ([], "give container uuids, or --deployment UUID --all"),
        (["c-1", "--status", "running"], "--status only applies"),
    ],
)
def test_stop_usage_errors_send_nothing(sim: Sim, args: list[str], message: str) -> None:
    result = invoke(["containers", "stop", *args], sim.env())
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("autodl-async: error: ")
    assert message in result.stderr
    assert sim.sim.requests == ()


def test_fail_fast_and_concurrency_reach_the_job(sim: Sim) -> None:
    dep, containers = sim.replicaset(3)
    result = invoke(
        ["containers", "stop", "gone", *containers, "--fail-fast", "--concurrency", "1"],
        sim.env(),
    )
    assert result.exit_code == 1
    assert "not run (nothing sent)" in result.stdout
    assert "stopped early: fail_fast" in result.stdout
    assert "4 of 4 containers not stopped (NotFoundError 1); stopped early: fail_fast" in (
        result.stderr
    )
    assert len(sim.changes()) == 1  # only the failing one was sent
    assert set(sim.statuses(dep).values()) == {"running"}


def test_a_refused_token_stops_the_run_and_is_never_printed(sim: Sim) -> None:
    wrong = "tok-wrong-but-secret-6161"
    dep, containers = sim.replicaset(3)
    for extra in ([], ["--json"]):
        result = invoke(["containers", "stop", *containers, *extra], sim.env(AUTODL_TOKEN=wrong))
        assert result.exit_code == 1
        assert "AuthenticationError" in result.output
        assert "stopped early: aborted" in result.stderr
        assert wrong not in result.output
        assert TOKEN not in result.output
    assert set(sim.statuses(dep).values()) == {"running"}


# -- deployments scale / stop / delete ------------------------------------------------------


def test_scale_dry_run_shows_current_and_target_and_changes_nothing(sim: Sim) -> None:
    web, _ = sim.replicaset(2, name="web")
    api, _ = sim.replicaset(1, name="api")

    dry = invoke(
        ["deployments", "scale", web, api, "nope", "--replicas", "3", "--dry-run"], sim.env()
    )

    assert dry.exit_code == 0, dry.output
    assert "would scale 3 deployments to 3 replicas; nothing was sent" in dry.stdout
    rows = {line.split()[0]: line.split() for line in dry.stdout.splitlines() if line.strip()}
    assert rows[web][1:] == ["web", "ReplicaSet", "running", "2", "3"]
    assert rows[api][1:] == ["api", "ReplicaSet", "running", "1", "3"]
    assert "? (NotFoundError)" in " ".join(rows["nope"])
    records = json_lines(
        invoke(
            ["deployments", "scale", web, "nope", "--replicas", "3", "--dry-run", "--json"],
            sim.env(),
        ).stdout
    )
    assert [
        (r["uuid"], r["found"], r.get("current_replica_num"), r["replica_num"]) for r in records
    ] == [
        (web, True, 2, 3),
        ("nope", False, None, 3),
    ]
    assert sim.changes() == []

    done = invoke(
        ["deployments", "scale", web, api, "nope", "--replicas", "3", "--json"], sim.env()
    )

    assert done.exit_code == 1
    assert [(r["uuid"], r["status"], r["replica_num"]) for r in json_lines(done.stdout)] == [
        (web, "succeeded", 3),
        (api, "succeeded", 3),
        ("nope", "failed", 3),
    ]
    assert (sim.replicas(web), sim.replicas(api)) == (3, 3)
    assert "1 of 3 deployments not scaled" in done.stderr


def test_stop_and_delete_deployments(sim: Sim) -> None:
    web, _ = sim.replicaset(2, name="web")
    api, _ = sim.replicaset(1, name="api")

    stopped = invoke(["deployments", "stop", web, api], sim.env())
    assert stopped.exit_code == 0, stopped.output
    assert "2 deployments in" in stopped.stdout
    assert {d.uuid: d.status for d in sim.sim.deployments()} == {web: "stopped", api: "stopped"}
    assert set(sim.statuses(web).values()) == {"shutting_down"}

    deleted = invoke(["deployments", "delete", web, api, "--json"], sim.env())
    assert deleted.exit_code == 0, deleted.output
    assert [(r["uuid"], r["action"], r["status"]) for r in json_lines(deleted.stdout)] == [
        (web, "delete", "succeeded"),
        (api, "delete", "succeeded"),
    ]
    assert sim.sim.deployments() == ()


def test_deployment_commands_need_uuids(sim: Sim) -> None:
    for args in (
        ["deployments", "stop"],
        ["deployments", "delete"],
        ["deployments", "scale", "--replicas", "1"],
    ):
        result = invoke(args, sim.env())
        assert result.exit_code == 2, args
    missing_count = invoke(["deployments", "scale", "d-1"], sim.env())
    assert missing_count.exit_code == 2
    assert "--replicas" in missing_count.output
    assert sim.sim.requests == ()


# -- confirmation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000", "http://localhost:1", "http://[::1]:80"],
)
def test_local_simulator_urls(url: str) -> None:
    assert _bulk_commands.is_local_simulator(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.autodl.com",
        "https://127.0.0.1:8443",
        "http://10.0.0.5",
        "http://api.autodl.com",
    ],
)
def test_anything_else_is_treated_as_a_paid_account(url: str) -> None:
    assert not _bulk_commands.is_local_simulator(url)


@pytest.mark.usefixtures("remote")
def test_without_a_terminal_or_yes_it_refuses_and_sends_nothing(
    sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    interactive(monkeypatch, False)
    dep, containers = sim.replicaset(2)
    for args in (
        ["containers", "stop", *containers],
        ["containers", "stop", "--deployment", dep, "--all"],
        ["deployments", "scale", dep, "--replicas", "5"],
        ["deployments", "stop", dep],
        ["deployments", "delete", dep],
    ):
        result = invoke(args, sim.env())
        assert result.exit_code == 2, args
        assert "without a terminal to confirm on; pass --yes" in result.stderr
    assert (
        "refusing to stop 2 containers"
        in invoke(["containers", "stop", *containers], sim.env()).stderr
    )
    assert sim.changes() == []
    assert set(sim.statuses(dep).values()) == {"running"}

    dry = invoke(["deployments", "delete", dep, "--dry-run"], sim.env())
    assert dry.exit_code == 0  # a dry run changes nothing, so it never asks
    assert sim.changes() == []

    forced = invoke(["containers", "stop", *containers, "--yes"], sim.env())
    assert forced.exit_code == 0, forced.output
    assert "[y/N]" not in forced.output
    assert len(sim.changes()) == 2


@pytest.mark.usefixtures("remote")
def test_the_prompt_decides(sim: Sim, monkeypatch: pytest.MonkeyPatch) -> None:
    interactive(monkeypatch, True)
    dep, containers = sim.replicaset(2)

    declined = invoke(["deployments", "delete", dep], sim.env(), input="n\n")
    assert declined.exit_code == 1
    assert "Delete 1 deployment (cannot be undone)? [y/N]" in declined.stderr
    assert "cancelled at the prompt; nothing was sent" in declined.stderr
    no_answer = invoke(["containers", "stop", *containers], sim.env(), input="")
    assert no_answer.exit_code == 1
    assert sim.changes() == []

    agreed = invoke(["containers", "stop", *containers], sim.env(), input="y\n")
    assert agreed.exit_code == 0, agreed.output
    assert "Stop 2 containers? [y/N]" in agreed.stderr
    assert sim.changes() == [("PUT", STOP)] * 2


def test_a_local_simulator_is_not_asked(sim: Sim, monkeypatch: pytest.MonkeyPatch) -> None:
    interactive(monkeypatch, False)  # no terminal, no --yes: fine on loopback http
    _, containers = sim.replicaset(1)
    result = invoke(["containers", "stop", *containers], sim.env())
    assert result.exit_code == 0, result.output
    assert "[y/N]" not in result.output


# -- progress, interruption -----------------------------------------------------------------


def test_progress_is_a_rich_bar_on_a_terminal_and_plain_lines_otherwise(sim: Sim) -> None:
    uuids = [f"c-{i}" for i in range(25)]
    plain = invoke(["containers", "stop", *uuids, "--json"], sim.env())
    lines = [line for line in plain.stderr.splitlines() if line.startswith("stopping containers")]
    assert lines[0] == "stopping containers: 0/25 done, 0 failed"
    assert lines[-1] == "stopping containers: 25/25 done, 25 failed"
    assert len(lines) == 11  # the start, then one per tenth: readable in a CI log
    assert "\x1b[" not in plain.stderr

    bar = invoke(
        ["containers", "stop", *uuids, "--json"],
        sim.env(TTY_COMPATIBLE="1", TTY_INTERACTIVE="1"),
    )
    assert "━" in bar.stderr  # rich's bar
    assert "stopping containers" in bar.stderr
    assert "stopping containers: 0/25" not in bar.stderr
    assert len(json_lines(bar.stdout)) == 25  # stdout stays clean for --json


def test_ctrl_c_reports_what_was_done_and_exits_130(sim: Sim) -> None:
    """A real process and a real SIGINT; about a second."""
    sim.sim.faults.add(FaultRule(kind="latency", path=STOP, latency=0.05))
    uuids = [f"c-{i}" for i in range(400)]
    env = {**os.environ, **sim.env(), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "autodl_async.cli",
            "containers",
            "stop",
            *uuids,
            "--concurrency",
            "4",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stderr is not None
        assert process.stderr.readline().startswith("stopping containers: 0/400")
        assert process.stderr.readline().startswith("stopping containers: 40/400")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130
    assert "not run (nothing sent)" in out
    assert "stopped early: cancelled" in out
    assert "400 containers in" in out
    assert err.splitlines()[-1] == "autodl-async: error: interrupted"
    assert "Traceback" not in err
    sent = [r for r in sim.sim.requests if r.path == STOP]
    assert 40 <= len(sent) < 400  # it stopped promptly


# -- at the width of a pipe -----------------------------------------------------------------


def test_failures_table_keeps_uuid_and_request_id_whole_at_80_columns(sim: Sim) -> None:
    dep, containers = sim.replicaset(1)
    gone = f"{dep}-0000000000-0000000000"  # a container uuid's length, unknown to the API
    for width in ("80", "120"):
        result = invoke(["containers", "stop", gone, *containers], sim.env(COLUMNS=width))
        assert result.exit_code == 1
        lines = result.stdout.splitlines()
        assert max(len(line) for line in lines) <= int(width)
        [row] = [line for line in lines if line.startswith(gone)]
        assert row.split()[1] == "failed"
        request_ids = re.findall(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])", result.stdout)
        assert len(request_ids) == 1, result.stdout  # whole, on one line
        assert "未查询到相关记录" in result.stdout
        assert "…" not in result.stdout


def test_dry_run_targets_keep_name_type_and_status_whole_at_80_columns(sim: Sim) -> None:
    long_name = "inference-llama3-70b-prod"
    web, _ = sim.replicaset(1, name=long_name)
    result = invoke(
        ["deployments", "scale", web, "nope", "--replicas", "2", "--dry-run"],
        sim.env(COLUMNS="80"),
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    [start] = [i for i, line in enumerate(lines) if line.startswith(web)]
    assert lines[start].split()[-3:] == ["ReplicaSet", "running", "2"]
    # The name may fold onto the next line, but no character is lost.
    header = next(line for line in lines if line.startswith("DEPLOYMENT UUID"))
    name = slice(header.index("NAME"), header.index("TYPE"))
    folded = [lines[start]] + [line for line in lines[start + 1 :][:2] if line.startswith(" ")]
    assert "".join(line[name].strip() for line in folded) == long_name
    assert "? (NotFoundError)" in result.stdout


# -- notes only when they apply -------------------------------------------------------------


def test_the_scale_cost_note_appears_only_when_something_would_grow(sim: Sim) -> None:
    web, _ = sim.replicaset(2, name="web")

    def dry(*args: str) -> Result:
        return invoke(["deployments", "scale", *args, "--dry-run"], sim.env())

    assert "note:" not in dry("nope", "--replicas", "5").output  # nothing found to grow
    assert "note:" not in dry(web, "--replicas", "1").output  # scaling down
    assert "note:" not in dry(web, "--replicas", "2").output  # no change
    grow = dry(web, "nope", "--replicas", "3")
    assert "note: scaling up 1 deployment starts paid containers" in grow.stdout
    real = invoke(["deployments", "scale", web, "--replicas", "4"], sim.env())
    assert "note: scaling up starts paid containers" in real.stderr  # counts not read: said
    assert sim.changes()  # and it went ahead


def test_a_status_typo_in_stop_all_is_warned_about(sim: Sim) -> None:
    dep, _ = sim.replicaset(1)
    result = invoke(
        ["containers", "stop", "--deployment", dep, "--all", "--status", "runing", "--dry-run"],
        sim.env(),
    )
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "autodl-async: warning: 'runing' is not a known container status "
        "(did you mean 'running'?); sending it as given"
    ]
    assert "in status runing: nothing to do" in result.stdout
    fine = invoke(
        ["containers", "stop", "--deployment", dep, "--all", "--status", "running", "--dry-run"],
        sim.env(),
    )
    assert "warning" not in fine.stderr


def test_an_unread_report_still_exits_1_when_items_failed(sim: Sim) -> None:
    _, containers = sim.replicaset(1)
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written
    try:
        done = subprocess.run(
            [sys.executable, "-m", "autodl_async.cli", "containers", "stop", "gone", *containers],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **sim.env()},
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        "autodl-async: error: 1 of 2 containers not stopped (NotFoundError 1)"
    )
    assert "Traceback" not in done.stderr
    assert sim.statuses(sim.sim.deployments()[0].uuid)[containers[0]] == "shutting_down"
