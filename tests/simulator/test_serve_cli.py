"""`autodl-async serve` with `--fault`, `--faults` and `--state`: bad input is one line, good
input reaches a real server (a subprocess, stopped with Ctrl-C as a user would)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from autodl_async.cli._app import cli
from autodl_async.simulator.__main__ import _announce as announce
from autodl_async.simulator.__main__ import build_config
from autodl_async.simulator._announce import connect_url, exposure_warning

from ._support import DEPLOYMENT, DEPLOYMENTS, GPU_STOCK, deployment_body


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, ["serve", *args], catch_exceptions=False)


def one_line_error(result: Result, code: int) -> str:
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("autodl-async: error: ")
    assert "Traceback" not in result.output
    return line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fault", "explode"], "fault 'explode': unknown fault kind 'explode'"),
        (["--fault", "status::status=abc"], "status must be an integer, got 'abc'"),
        (
            ["--fault", "status", "--fault", "rate_limit::retry_after=-1"],
            "retry_after must be >= 0",
        ),
        (["--token", " "], "--token must not be empty"),
    ],
)
def test_bad_fault_flags_are_one_line_usage_errors(args: list[str], message: str) -> None:
    assert message in one_line_error(invoke(*args), code=2)


def test_a_bad_fault_file_is_a_one_line_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "faults.toml"
    bad.write_text('[[faults]]\nkind = "status"\nstatuss = 500\n')
    line = one_line_error(invoke("--faults", str(bad)), code=2)
    assert f"fault file '{bad}', rule 1: unknown field 'statuss'" in line
    line = one_line_error(invoke("--faults", str(tmp_path / "absent.json")), code=2)
    assert "cannot read fault file" in line


def test_a_bad_state_file_is_a_one_line_error_and_is_kept(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"format": "something else"}')
    line = one_line_error(invoke("--state", str(state)), code=1)
    assert f"state file '{state}' is not a simulator state file" in line
    assert state.read_text() == '{"format": "something else"}'


def test_an_unwritable_state_file_is_a_one_line_error(tmp_path: Path) -> None:
    line = one_line_error(invoke("--state", str(tmp_path / "missing-dir" / "s.json")), code=1)
    assert "cannot write state file" in line


def test_the_module_entry_point_takes_the_same_options(tmp_path: Path) -> None:
    config = build_config(
        ["--fault", "status:/x:times=1", "--fault", "reset", "--state", str(tmp_path / "s.json")]
    )
    assert [(r.kind, r.path, r.times) for r in config.faults] == [
        ("status", "/x", 1),
        ("reset", None, None),
    ]
    assert config.state_file == str(tmp_path / "s.json")
    with pytest.raises(SystemExit) as info:
        build_config(["--fault", "nope"])
    assert info.value.code == 2


@contextmanager
def serving(*args: str) -> Iterator[tuple[str, str, str]]:
    """Run `autodl-async serve ARGS`; yields (banner line, url, token); Ctrl-C at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "autodl_async.cli", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(4)]
        assert banner[0].startswith("AutoDL simulator listening on "), banner
        url = banner[1].split("=", 1)[1].strip()
        token = banner[2].split("=", 1)[1].strip()
        yield banner[0], url, token
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert "simulator stopped" in out


def call(url: str, token: str, method: str, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url + path,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Authorization": token, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:  # loopback only
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def test_serve_applies_faults_and_keeps_state_across_restarts(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    faults = tmp_path / "faults.json"
    faults.write_text(
        json.dumps({"faults": [{"kind": "rate_limit", "path": "*/gpu_stock", "times": 1}]})
    )
    stock = {"region_sign": "westDC2"}
    with serving(
        "--speed", "1", "--state", str(state), "--faults", str(faults),
        "--fault", "status:*/gpu_stock:status=502,times=1",
    ) as (banner, url, token):  # fmt: skip
        assert "2 fault rules" in banner
        assert f"state in {state}" in banner
        assert call(url, token, "POST", GPU_STOCK, stock)[0] == 429  # the file's rule first
        assert call(url, token, "POST", GPU_STOCK, stock)[0] == 502  # then the flag's
        assert call(url, token, "POST", GPU_STOCK, stock)[0] == 200
        status, created = call(url, token, "POST", DEPLOYMENT, deployment_body(name="kept"))
        assert (status, created["code"]) == (200, "Success")
    with serving("--speed", "1", "--state", str(state)) as (banner, url, token):
        status, listed = call(url, token, "POST", DEPLOYMENTS, {"page_size": 10})
        assert status == 200
        (dep,) = listed["data"]["list"]
        assert (dep["uuid"], dep["name"]) == (created["data"]["deployment_uuid"], "kept")
        assert call(url, token, "POST", GPU_STOCK, stock)[0] == 200  # faults are per run


# -- where to point a client ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "connect"),
    [
        ("http://0.0.0.0:4321", "http://127.0.0.1:4321"),
        ("http://[::]:4321", "http://[::1]:4321"),
        ("http://127.0.0.1:4321", "http://127.0.0.1:4321"),
        ("http://[::1]:4321", "http://[::1]:4321"),
        ("http://192.168.1.5:4321", "http://192.168.1.5:4321"),
    ],
)
def test_connect_url_replaces_only_a_wildcard_host(url: str, connect: str) -> None:
    assert connect_url(url) == connect


def test_exposure_is_warned_about_beyond_loopback_only() -> None:
    assert exposure_warning("http://127.0.0.1:1") is None
    assert exposure_warning("http://[::1]:1") is None
    wildcard = exposure_warning("http://0.0.0.0:1")
    assert wildcard is not None
    assert "reachable from other machines" in wildcard
    assert "\n" not in wildcard
    lan = exposure_warning("http://192.168.1.5:1")
    assert lan is not None
    assert "allow_insecure_http=True" in lan


def fake_server(monkeypatch: pytest.MonkeyPatch, url: str) -> list[str]:
    """Stand in for the server (binding every interface is not for tests): report `url`."""
    import autodl_async.simulator as simulator

    hosts: list[str] = []

    def run_standalone(config: Any, *, on_ready: Any) -> None:
        hosts.append(config.host)
        on_ready(url, config.token)

    monkeypatch.setattr(simulator, "run_standalone", run_standalone)
    return hosts


@pytest.mark.parametrize(
    ("host", "url", "connect"),
    [
        ("0.0.0.0", "http://0.0.0.0:4321", "http://127.0.0.1:4321"),
        ("::", "http://[::]:4321", "http://[::1]:4321"),
    ],
)
def test_serve_on_a_wildcard_prints_a_loopback_url_and_one_warning(
    monkeypatch: pytest.MonkeyPatch, host: str, url: str, connect: str
) -> None:
    hosts = fake_server(monkeypatch, url)
    result = invoke("--host", host)
    assert result.exit_code == 0, result.output
    assert hosts == [host]
    out = result.stdout.splitlines()
    assert out[0].startswith(f"AutoDL simulator listening on {url} ")  # where it listens
    assert out[1] == f"  export AUTODL_BASE_URL={connect}"  # where to connect
    [warning] = result.stderr.splitlines()
    assert warning.startswith(f"autodl-async: warning: listening on {host.strip('[]')} ")
    assert "reachable from other machines" in warning


def test_serve_on_loopback_does_not_warn(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_server(monkeypatch, "http://127.0.0.1:4321")
    result = invoke()
    assert result.exit_code == 0, result.output
    assert "  export AUTODL_BASE_URL=http://127.0.0.1:4321" in result.stdout
    assert result.stderr == ""


def test_the_module_entry_point_prints_paste_able_exports(
    capsys: pytest.CaptureFixture[str],
) -> None:
    announce("http://0.0.0.0:4321", "sim-token")
    captured = capsys.readouterr()
    assert captured.out.splitlines()[1:] == [
        "  export AUTODL_BASE_URL=http://127.0.0.1:4321",
        "  export AUTODL_TOKEN=sim-token",
    ]
    assert "reachable from other machines" in captured.err
    announce("http://127.0.0.1:4321", "sim-token")
    assert capsys.readouterr().err == ""
