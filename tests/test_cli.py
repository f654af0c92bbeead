"""The ``autodl-async`` commands, run in-process through click's runner against a simulator.

The simulator runs on its own event loop in a portal thread (virtual clock, so nothing moves
unless a test says so) while each command runs its own ``anyio.run`` in the test's thread, as
it does from a shell.
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

from autodl_async import AutoDL
from autodl_async.cli import MISSING_EXTRA, main
from autodl_async.cli._warnings import sdk_warnings_to_stderr
from autodl_async.simulator import SimulatorConfig, VirtualClock
from tests.cli_support import PortalSim, invoke, json_lines, portal_simulator

TOKEN = "tok-Zx81-never-shown-4711"
MASK = "**********"


@dataclass
class Sim(PortalSim):
    """The shared portal simulator plus what these tests read back."""

    def passwords(self, deployment_uuid: str) -> list[str]:
        async def fetch() -> list[str]:
            async with AutoDL(self.sim.token, base_url=self.sim.url) as client:
                containers = await client.containers.list(deployment_uuid).to_list()
            return [c.info.root_password for c in containers if c.info]

        return self.portal.call(fetch)


def _start(config: SimulatorConfig) -> Iterator[Sim]:
    with portal_simulator(config) as (sim, portal):
        yield Sim(sim, portal)


@pytest.fixture
def sim() -> Iterator[Sim]:
    yield from _start(SimulatorConfig(token=TOKEN, clock=VirtualClock()))


# -- the entry point --------------------------------------------------------------------------


def test_missing_cli_extra_is_one_line_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "click", None)  # makes `import click` raise ImportError
    with pytest.raises(SystemExit) as exit_info:
        main(["images"])
    assert exit_info.value.code == 1
    captured = capsys.readouterr()
    assert captured.err == MISSING_EXTRA + "\n"
    assert "pip install 'autodl-async[cli]'" in captured.err
    assert captured.out == ""


def test_missing_rich_alone_also_gives_the_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "rich", None)
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_help_lists_every_command() -> None:
    result = invoke(["--help"], env={})
    assert result.exit_code == 0
    for command in ("demo", "serve", "images", "stock", "deployments", "containers", "balance"):
        assert re.search(rf"^\s+{command}\b", result.output, re.MULTILINE), command
    version = invoke(["--version"], env={})
    assert version.exit_code == 0
    assert "autodl-async" in version.output


# -- read commands ------------------------------------------------------------------------------


def test_images_table_and_json_lines(sim: Sim) -> None:
    images = sim.sim.images()
    table = invoke(["images"], sim.env())
    assert table.exit_code == 0, table.output
    for image in images:
        assert image.image_uuid in table.stdout
        assert image.image_name in table.stdout

    lines = json_lines(invoke(["images", "--json"], sim.env()).stdout)
    assert [(r["image_uuid"], r["image_name"]) for r in lines] == [
        (i.image_uuid, i.image_name) for i in images
    ]


def test_server_text_is_never_read_as_markup() -> None:
    config = SimulatorConfig(token=TOKEN, clock=VirtualClock(), private_images=("[red]x[/red]",))
    for running in _start(config):
        result = invoke(["images"], running.env())
        assert "[red]x[/red]" in result.stdout


def test_stock_table_json_and_filter(sim: Sim) -> None:
    table = invoke(["stock", "westDC2"], sim.env())
    assert table.exit_code == 0, table.output
    for gpu in ("RTX 4090", "RTX 3090", "RTX A4000"):
        assert gpu in table.stdout

    rows = json_lines(invoke(["stock", "westDC2", "--json"], sim.env()).stdout)
    by_name = {r["gpu_name"]: r for r in rows}
    assert set(by_name) >= {"RTX 4090", "RTX 3090"}
    assert all(isinstance(r["idle_gpu_num"], int) for r in rows)
    assert all(r["idle_gpu_num"] <= r["total_gpu_num"] for r in rows)  # type: ignore[operator]

    only = json_lines(invoke(["stock", "westDC2", "--gpu", "RTX 4090", "--json"], sim.env()).stdout)
    assert [r["gpu_name"] for r in only] == ["RTX 4090"]

    unknown = invoke(["stock", "nowhereDC9"], sim.env())
    assert unknown.exit_code == 0
    assert "no GPU stock reported for region 'nowhereDC9'" in unknown.stdout


def test_deployments_list_table_json_and_filters(sim: Sim) -> None:
    uuid = sim.create_replicaset(1, name="svc-alpha")
    table = invoke(["deployments", "list"], sim.env())
    assert table.exit_code == 0, table.output
    assert uuid in table.stdout
    assert "svc-alpha" in table.stdout
    assert "ReplicaSet" in table.stdout

    rows = json_lines(invoke(["deployments", "list", "--json"], sim.env()).stdout)
    assert [(r["uuid"], r["name"], r["deployment_type"]) for r in rows] == [
        (uuid, "svc-alpha", "ReplicaSet")
    ]
    stopped = invoke(["deployments", "list", "--status", "stopped"], sim.env())
    assert "no deployments" in stopped.stdout
    assert uuid not in stopped.stdout


def test_containers_list_masks_passwords_unless_asked(sim: Sim) -> None:
    uuid = sim.create_replicaset(2)
    sim.sim.clock.advance(30)  # boot both containers
    passwords = sim.passwords(uuid)
    assert len(passwords) == 2
    assert all(len(p) >= 8 for p in passwords)
    containers = sim.sim.containers(uuid)

    table = invoke(["containers", "list", uuid], sim.env())
    assert table.exit_code == 0, table.output
    for container in containers:
        assert container.uuid in table.stdout
    assert "running" in table.stdout
    assert MASK in table.stdout
    assert not any(p in table.output for p in passwords)

    rows = json_lines(invoke(["containers", "list", uuid, "--json"], sim.env()).stdout)
    assert {r["uuid"] for r in rows} == {c.uuid for c in containers}
    assert all(r["info"]["root_password"] == MASK for r in rows)  # type: ignore[index]
    assert all(r["memory_size"] > 2**30 for r in rows)  # type: ignore[operator]  # bytes

    shown = invoke(["containers", "list", uuid, "--show-secrets"], sim.env())
    assert all(p in shown.stdout for p in passwords)
    shown_json = json_lines(
        invoke(["containers", "list", uuid, "--json", "--show-secrets"], sim.env()).stdout
    )
    assert sorted(r["info"]["root_password"] for r in shown_json) == sorted(passwords)  # type: ignore[index]


def test_containers_list_status_filter(sim: Sim) -> None:
    uuid = sim.create_replicaset(2)
    sim.sim.clock.advance(1)  # still booting
    booting = json_lines(
        invoke(["containers", "list", uuid, "--status", "running", "--json"], sim.env()).stdout
    )
    assert booting == []
    sim.sim.clock.advance(30)
    running = json_lines(
        invoke(["containers", "list", uuid, "--status", "running", "--json"], sim.env()).stdout
    )
    assert [r["status"] for r in running] == ["running", "running"]


def test_balance_table_and_json(sim: Sim) -> None:
    table = invoke(["balance"], sim.env())
    assert table.exit_code == 0, table.output
    assert "¥500.00" in table.stdout
    record = json_lines(invoke(["balance", "--json"], sim.env()).stdout)
    assert len(record) == 1
    assert record[0]["available_yuan"] == 500.0
    assert record[0]["assets"] == 500_000  # the API's yuan × 1000, unconverted


# -- errors -------------------------------------------------------------------------------------


def assert_one_line_error(result: Result, *, code: int, starts: str) -> str:
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(starts), lines[0]
    assert "Traceback" not in result.output
    return lines[0]


def test_bad_token_is_a_one_line_typed_error(sim: Sim) -> None:
    wrong = "tok-wrong-but-secret-9931"
    result = invoke(["images"], sim.env(AUTODL_TOKEN=wrong))
    line = assert_one_line_error(result, code=1, starts="autodl-async: error: AuthenticationError:")
    assert "AUTODL_TOKEN" in line  # the hint says what to fix
    assert wrong not in result.output
    assert TOKEN not in result.output


def test_bad_token_flag_is_not_echoed(sim: Sim) -> None:
    wrong = "tok-from-flag-secret-5521"
    result = invoke(["deployments", "list", "--token", wrong], sim.env())
    assert_one_line_error(result, code=1, starts="autodl-async: error: AuthenticationError:")
    assert wrong not in result.output


def test_missing_token_is_a_usage_error() -> None:
    env = {"AUTODL_TOKEN": "", "AUTODL_BASE_URL": "http://127.0.0.1:9"}
    result = invoke(["balance"], env)
    line = assert_one_line_error(result, code=2, starts="autodl-async: error: no AutoDL token")
    assert "--token" in line


def test_insecure_base_url_is_refused_before_sending(sim: Sim) -> None:
    result = invoke(["images"], sim.env(AUTODL_BASE_URL="http://api.example.com"))
    assert_one_line_error(result, code=1, starts="autodl-async: error: ConfigurationError:")
    assert TOKEN not in result.output


def test_unverified_account_gets_the_enterprise_hint() -> None:
    config = SimulatorConfig(token=TOKEN, clock=VirtualClock(), enterprise_verified=False)
    for running in _start(config):
        result = invoke(["deployments", "list"], running.env())
        line = assert_one_line_error(
            result, code=1, starts="autodl-async: error: PermissionDeniedError:"
        )
        assert "无当前资源访问权限" in line
        assert "enterprise" in line


def test_unknown_deployment_is_a_one_line_error(sim: Sim) -> None:
    result = invoke(["containers", "list", "doesnotexist"], sim.env())
    assert_one_line_error(result, code=1, starts="autodl-async: error: NotFoundError:")


def test_no_command_output_ever_contains_the_token(sim: Sim) -> None:
    uuid = sim.create_replicaset(1)
    sim.sim.clock.advance(30)
    for args in (
        ["images"],
        ["stock", "westDC2", "--json"],
        ["deployments", "list", "--json"],
        ["containers", "list", uuid, "--json", "--show-secrets"],
        ["balance", "--json"],
        ["images", "--help"],
    ):
        result = invoke(args, sim.env())
        assert result.exit_code == 0, (args, result.output)
        assert TOKEN not in result.output, args


# -- serve --------------------------------------------------------------------------------------


def test_serve_prints_url_and_token_serves_and_stops_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "autodl_async.cli", "serve", "--speed", "50", "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(4)]
        assert banner[0].startswith("AutoDL simulator listening on http://127.0.0.1:"), banner
        url = banner[1].split("=", 1)[1].strip()
        token = banner[2].split("=", 1)[1].strip()
        assert banner[1].startswith("  export AUTODL_BASE_URL=")
        assert banner[2].startswith("  export AUTODL_TOKEN=")
        assert "Ctrl-C" in banner[3]

        result = invoke(
            ["stock", "westDC2", "--json"], {"AUTODL_BASE_URL": url, "AUTODL_TOKEN": token}
        )
        assert result.exit_code == 0, result.output
        assert any(r["gpu_name"] == "RTX 4090" for r in json_lines(result.stdout))

        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "simulator stopped" in out
    assert "Traceback" not in err


def test_serve_reports_a_taken_port() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke(["serve", "--port", str(port)], env={})
    assert_one_line_error(result, code=1, starts="autodl-async: error: cannot listen on")
    assert str(port) in result.stderr


# -- tables at the width of a pipe ------------------------------------------------------------


def test_deployments_table_keeps_uuid_name_type_and_status_whole_at_80_columns(sim: Sim) -> None:
    long_name = "inference-llama3-70b-prod"
    uuid = sim.create_replicaset(3, name=long_name)
    sim.sim.clock.advance(30)
    narrow = invoke(["deployments", "list"], sim.env(COLUMNS="80"))
    assert narrow.exit_code == 0, narrow.output
    lines = narrow.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    [row] = [line for line in lines if line.startswith(uuid)]
    assert row.split()[:4] == [uuid, long_name, "ReplicaSet", "running"]
    assert "…" not in narrow.stdout
    assert "not shown at this width: " in narrow.stdout  # what gave way is named
    assert "CREATED" not in lines[0]

    wide = invoke(["deployments", "list"], sim.env(COLUMNS="120"))
    lines = wide.stdout.splitlines()
    assert max(len(line) for line in lines) <= 120
    assert "CREATED" in lines[0]
    [row] = [line for line in lines if line.startswith(uuid)]
    assert row.split()[:4] == [uuid, long_name, "ReplicaSet", "running"]


def test_containers_table_keeps_uuid_status_and_ssh_host_whole_at_80_columns(sim: Sim) -> None:
    uuid = sim.create_replicaset(2)
    sim.sim.clock.advance(30)
    containers = sim.sim.containers(uuid)
    result = invoke(["containers", "list", uuid], sim.env(COLUMNS="80"))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    for container in containers:
        [row] = [line for line in lines if line.startswith(container.uuid)]
        assert row.split()[1] == "running"
    [first, *_] = json_lines(invoke(["containers", "list", uuid, "--json"], sim.env()).stdout)
    host = first["info"]["ssh_command"].split()[-1]  # type: ignore[index]
    assert host.startswith("root@")
    assert host in result.stdout  # folded only at a space, never inside the host


# -- --status typos -----------------------------------------------------------------------------


def test_an_unknown_container_status_is_warned_about_and_still_sent(sim: Sim) -> None:
    uuid = sim.create_replicaset(1)
    sim.sim.clock.advance(30)
    typo = invoke(["containers", "list", uuid, "--status", "runing", "--json"], sim.env())
    assert typo.exit_code == 0
    assert typo.stderr.splitlines() == [
        "autodl-async: warning: 'runing' is not a known container status "
        "(did you mean 'running'?); sending it as given"
    ]
    [sent] = [r.body for r in sim.sim.requests if r.path.endswith("/deployment/container/list")]
    assert sent is not None
    assert sent["status"] == ["runing"]
    known = invoke(["containers", "list", uuid, "--status", "running"], sim.env())
    assert known.stderr == ""
    far = invoke(["containers", "list", uuid, "--status", "xyz"], sim.env())
    assert "known: creating, created, starting, oss_merged, running" in far.stderr


# -- a reader that goes away ------------------------------------------------------------------


def run_with_closed_stdout(
    args: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run the CLI with a stdout pipe whose reader is already gone (`| head -0`, at once)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "autodl_async.cli", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **env},
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)


def test_a_closed_stdout_pipe_ends_every_kind_of_output_quietly_with_0(sim: Sim) -> None:
    uuid = sim.create_replicaset(1)
    sim.sim.clock.advance(30)
    for args in (
        ["images"],  # a rich table
        ["deployments", "list", "--json"],  # click.echo lines
        ["events", uuid],  # lines written inside the event stream's task group
        ["containers", "stop", "--deployment", uuid, "--all", "--dry-run"],  # a bulk dry run
    ):
        done = run_with_closed_stdout(args, sim.env())
        assert (done.returncode, done.stderr) == (0, ""), args


def test_sdk_warnings_become_one_cli_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    sdk = logging.getLogger("autodl_async.bulk")
    with sdk_warnings_to_stderr():
        sdk.warning("bulk: concurrency %d lowered\nto %d", 300, 100)
        sdk.info("not a warning")
        sdk.warning("statuses: unknown container status 'runing'; sending it as given")
    sdk.warning("after the command")  # the handler is gone with the command
    err = capsys.readouterr().err
    assert "autodl-async: warning: bulk: concurrency 300 lowered to 100\n" in err
    assert "not a warning" not in err
    assert "runing" not in err  # the CLI says that itself, naming --status
    assert err.count("autodl-async: warning:") == 1
