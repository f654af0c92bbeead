"""``autodl-async demo``, end to end, against the simulator at high speed.

The embedded run is the README's `make demo`; the ``--base-url`` runs point the demo at a
simulator the test owns (wall clock ×200), standing in for a real account, to check the
money-safety rules: refuse without a terminal, ask before paid steps, clean up on every exit.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence

import pytest
from anyio.from_thread import start_blocking_portal
from click.testing import CliRunner, Result

from autodl_async import Container
from autodl_async.cli import _demo_command
from autodl_async.cli._app import cli
from autodl_async.cli._demo_view import RichDemoView
from autodl_async.simulator import FaultRule, Simulator, SimulatorConfig, WallClock

TOKEN = "tok-demo-Q7-never-printed"
STOP_PATH = "/api/v1/dev/deployment/container/stop"
FAST = ["--poll-interval", "0.02"]

STEPS = (
    "1. Account",
    "2. Private images",
    "3. GPU stock in westDC2",
    "4. Create a ReplicaSet with 2 replicas",
    "5. Scale up to 4",
    "6. Scale down to 3",
    "7. Stop 2 containers concurrently",
    "8. Blacklist a host",
    "9. Run a Job",
    "10. Stop and delete",
    "Demo finished",
)


@pytest.fixture
def seen_containers(monkeypatch: pytest.MonkeyPatch) -> list[Container]:
    """Every container the demo put in a table (to look for leaked passwords)."""
    seen: list[Container] = []
    original = RichDemoView.containers

    def spy(self: RichDemoView, containers: Sequence[Container], labels: Mapping[str, str]) -> None:
        seen.extend(containers)
        original(self, containers, labels)

    monkeypatch.setattr(RichDemoView, "containers", spy)
    return seen


@pytest.fixture
def remote() -> Iterator[Simulator]:
    """A simulator the demo reaches only through --base-url, like a real account."""
    config = SimulatorConfig(token=TOKEN, seed=1, clock=WallClock(speed=200.0))
    with (
        start_blocking_portal(backend="asyncio") as portal,
        portal.wrap_async_context_manager(Simulator(config)) as sim,
    ):
        yield sim


def run_demo(args: list[str], *, input: str | None = None) -> Result:
    env = {"COLUMNS": "100", "AUTODL_TOKEN": TOKEN, "AUTODL_BASE_URL": "http://127.0.0.1:9"}
    return CliRunner().invoke(cli, ["demo", *args], env=env, input=input, catch_exceptions=False)


def assert_in_order(text: str, parts: Sequence[str]) -> None:
    position = 0
    for part in parts:
        found = text.find(part, position)
        assert found >= 0, f"{part!r} missing (or out of order) in:\n{text}"
        position = found + len(part)


def test_demo_runs_the_whole_lifecycle_on_the_embedded_simulator(
    seen_containers: list[Container],
) -> None:
    result = run_demo(["--speed", "200"])
    out = result.stdout
    assert result.exit_code == 0, result.output
    assert_in_order(out, STEPS)
    # Live events: each ReplicaSet container is seen booting, and the Job's run to the end.
    assert_in_order(out, ["rs-1", "creating", "created", "starting", "running"])
    assert_in_order(out, ["9. Run a Job", "job-1", "creating", "running", "shutdown"])
    assert "job-3" in out  # replica_num 3 at parallelism 2: a second wave ran
    assert "replica_num is now 1" in out
    assert "none ran on the blacklisted host" in out
    assert re.search(r"deleted [0-9a-f]{10}\n.*deleted [0-9a-f]{10}", out)
    assert "nothing left running" in out
    # Secrets: tables show a mask, never a password.
    passwords = [c.info.root_password for c in seen_containers if c.info]
    assert passwords
    assert "**********" in out
    assert not any(p in result.output for p in passwords)
    assert result.stderr == ""


def test_demo_shows_passwords_only_when_asked(seen_containers: list[Container]) -> None:
    result = run_demo(["--speed", "200", "--show-secrets"])
    assert result.exit_code == 0, result.output
    passwords = [c.info.root_password for c in seen_containers if c.info]
    assert passwords
    assert all(p in result.stdout for p in passwords)


def test_demo_ignores_the_environment_base_url() -> None:
    # AUTODL_BASE_URL points at a closed port: the demo must not use it (it would fail).
    result = run_demo(["--speed", "200"])
    assert result.exit_code == 0, result.output
    assert "embedded simulator" in result.stdout


def test_demo_refuses_a_real_url_without_a_terminal_or_yes(remote: Simulator) -> None:
    result = run_demo(["--base-url", remote.url])
    assert result.exit_code == 2
    assert result.stderr.startswith("autodl-async: error: refusing to run the demo against")
    assert "--yes" in result.stderr
    assert remote.requests == ()  # not even a read was sent


def test_demo_needs_a_token_for_a_real_url(remote: Simulator) -> None:
    result = CliRunner().invoke(
        cli, ["demo", "--base-url", remote.url, "--yes"], env={"AUTODL_TOKEN": ""}
    )
    assert result.exit_code == 2
    assert "needs a token" in result.stderr


def test_demo_with_yes_runs_against_a_url_and_leaves_nothing(remote: Simulator) -> None:
    result = run_demo(["--base-url", remote.url, "--yes", *FAST])
    assert result.exit_code == 0, result.output
    assert_in_order(result.stdout, STEPS)
    assert "creates real deployments" in result.stdout
    assert remote.deployments() == ()
    created = remote.deployments(include_deleted=True)
    assert [d.deployment_type for d in created] == ["ReplicaSet", "Job"]
    assert all(c.status == "shutdown" for c in remote.containers())
    assert TOKEN not in result.output


def test_demo_asks_before_each_paid_step(
    remote: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_demo_command, "stdin_is_interactive", lambda: True)
    result = run_demo(["--base-url", remote.url, *FAST], input="y\ny\ny\n")
    assert result.exit_code == 0, result.output
    assert_in_order(
        result.stdout, ["Create ReplicaSet", "[y/N]", "Scale", "[y/N]", "Create Job", "[y/N]"]
    )
    assert remote.deployments() == ()


def test_declining_a_paid_step_stops_and_cleans_up(
    remote: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_demo_command, "stdin_is_interactive", lambda: True)
    # Yes to the ReplicaSet, no to scaling it up.
    result = run_demo(["--base-url", remote.url, *FAST], input="y\nn\n")
    assert result.exit_code == 1
    assert "cancelled" in result.stderr
    assert "cleaned up: deleted deployment" in result.stdout
    assert "5. Scale up to 4" in result.stdout
    assert "6. Scale down" not in result.stdout
    assert remote.deployments() == ()
    [rs] = remote.deployments(include_deleted=True)
    assert rs.replica_num == 2  # the declined scale-up was never sent


def test_declining_the_first_paid_step_creates_nothing(
    remote: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_demo_command, "stdin_is_interactive", lambda: True)
    result = run_demo(["--base-url", remote.url, *FAST], input="n\n")
    assert result.exit_code == 1
    assert remote.deployments(include_deleted=True) == ()


def test_a_failing_step_is_one_line_and_cleans_up(remote: Simulator) -> None:
    # Every container stop fails on the server; the transport retries, then the bulk stop
    # reports the failure and the demo ends on one line, deleting what it made.
    remote.faults.add(FaultRule(kind="status", path=STOP_PATH, status=500))
    result = run_demo(["--base-url", remote.url, "--yes", *FAST])
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert re.fullmatch(r"autodl-async: error: stopping \S+ failed: .*HTTP 500.*", line), line
    assert "Traceback" not in result.output
    assert "cleaned up: deleted deployment" in result.stdout
    assert remote.deployments() == ()


def test_unknown_gpu_is_reported_before_anything_is_created(remote: Simulator) -> None:
    result = run_demo(["--base-url", remote.url, "--yes", "--gpu", "GTX 280", *FAST])
    assert result.exit_code == 1
    assert "'GTX 280' is not offered in westDC2" in result.stderr
    assert remote.deployments(include_deleted=True) == ()


def test_ctrl_c_deletes_what_the_demo_created() -> None:
    """Run as a real process: SIGINT once the ReplicaSet runs; it must be deleted, exit 130."""
    process = subprocess.Popen(
        [sys.executable, "-m", "autodl_async.cli", "demo", "--speed", "10"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "100"},
    )
    try:
        assert process.stdout is not None
        seen = ""
        while not re.search(r"rs-\d\s+running", seen):
            line = process.stdout.readline()
            assert line, seen  # the demo ended before a container ran
            seen += line
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, err
    assert re.search(r"cleaned up: deleted deployment [0-9a-f]{10}", out), out
    assert err == "autodl-async: error: interrupted\n"
