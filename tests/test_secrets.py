"""Neither the token nor a container's root password shows up in logs, reprs, errors or output.

The scenario test runs what the rest of the suite runs (the demo, the CLI commands, error
answers, retries under injected faults) with every logger at DEBUG, and then scans everything
a user or a log shipper could see: captured log records, command output, exception messages,
reprs and attributes. Each scan is also run once with ``--show-secrets`` / ``reveal()``, to
prove the scan would have caught a leak.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from click.testing import CliRunner, Result

from autodl_async import (
    AutoDL,
    AutoDLError,
    Container,
    ContainerTemplate,
    MalformedResponseError,
    RetryPolicy,
    Secret,
)
from autodl_async._secret import MASK, mask_passwords, redact
from autodl_async.cli._app import cli
from autodl_async.cli._demo_view import RichDemoView
from autodl_async.simulator import FaultRule, Simulator, SimulatorConfig, VirtualClock, WallClock
from tests.scripted import ScriptedServer, failure, success

pytestmark = pytest.mark.anyio

TOKEN = "eyJhbGciOiJFUzI1NiJ9.SECRET-TOKEN-PAYLOAD.sig"
PASSWORD = "Root-Pa55-word-XYZ"


def container(uuid: str) -> dict[str, object]:
    return {
        "uuid": uuid,
        "status": "running",
        "info": {
            "ssh_command": f"sshpass -p {PASSWORD} ssh -p 21305 root@region-1.autodl.com",
            "root_password": PASSWORD,
            "service_url": "https://region-1.autodl.com:21294",
        },
    }


def attributes(exc: BaseException) -> list[str]:
    """Everything an error reporter could print about an exception and its causes."""
    texts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts += [str(current), repr(current), repr(vars(current))]
        current = current.__cause__ or current.__context__
    texts.append("".join(traceback.format_exception(exc)))
    return texts


@dataclass
class Scan:
    """Collects texts to check, and checks them."""

    secrets: Sequence[str]
    texts: list[str] = field(default_factory=list)

    def add(self, *texts: str) -> None:
        self.texts.extend(texts)

    def leaks(self) -> list[tuple[str, str]]:
        return [(s, t[:120]) for t in self.texts for s in self.secrets if s in t]


def test_masking_helpers() -> None:
    token = Secret(TOKEN)
    body = (
        '{"list":[{"info":{"ssh_command":"sshpass -p ' + PASSWORD + ' ssh root@h",'
        '"root_password":"' + PASSWORD + '"}}],"echo":"' + TOKEN + '"}'
    )
    cleaned = redact(body, token)
    assert PASSWORD not in cleaned
    assert TOKEN not in cleaned
    assert cleaned.count(MASK) == 3
    cut = '{"info":{"root_password":"' + PASSWORD[:7]  # an excerpt cut inside the value
    assert PASSWORD[:7] not in mask_passwords(cut)
    assert mask_passwords("sshpass -p 'two words' ssh") == f"sshpass -p {MASK} ssh"
    assert mask_passwords("no secrets here") == "no secrets here"
    assert mask_passwords("SSHPASS -P hunter2 ssh") == f"SSHPASS -P {MASK} ssh"


async def test_debug_logs_and_errors_hold_no_secret(
    scripted: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    scan = Scan([TOKEN, PASSWORD])

    async def no_sleep(_: float) -> None:
        return None

    async with AutoDL(
        TOKEN, base_url=scripted.url, retry=RetryPolicy(max_attempts=2), sleep=no_sleep
    ) as client:
        scan.add(repr(client), str(client), repr(vars(client)), repr(vars(client._transport)))
        scripted.push(success({"list": [container("d-m-1"), container("d-m-2")], "max_page": 1}))
        page = await client.containers.list_page("d")
        for c in page.rows:
            scan.add(repr(c), str(c), repr(c.info), str(c.info), f"{c}", f"{c.info!r}")
        scripted.push("<html>502</html>", status=502, content_type="text/html")
        scripted.push(failure("Unauthorized", "token无效"), status=401)
        scripted.push(failure("BadRequest", f"echo {TOKEN}"))  # even if a server echoed it
        body = success({"list": [container("d-m-3")]}).decode()
        for cut in (body[: body.index(PASSWORD) + 5], body[: body.index("ssh ") + 2]):
            scripted.push(cut)  # a container list cut inside a password ...
            scripted.push(cut)  # ... twice: the read is retried once
        scripted.push(f"<html>bad gateway for {TOKEN}</html>", status=400, content_type="text/html")
        caught: list[AutoDLError] = []
        images, containers = client.images.list_page, lambda: client.containers.list_page("d")
        for call in (images, images, containers, containers, images):
            try:
                await call()
            except AutoDLError as exc:
                caught.append(exc)
                scan.add(*attributes(exc))
    assert len(caught) == 5
    assert any(isinstance(e, MalformedResponseError) and e.body_excerpt for e in caught)
    scan.add(*(r.getMessage() for r in caplog.records), caplog.text)
    assert any("HTTP 502" in t for t in scan.texts)  # the log really captured the calls
    assert any("retrying" in t for t in scan.texts)
    assert scan.leaks() == []
    assert Scan([PASSWORD], [page.rows[0].info.root_password]).leaks()  # type: ignore[union-attr]


async def test_password_reachable_when_asked(scripted: ScriptedServer) -> None:
    async with AutoDL(TOKEN, base_url=scripted.url) as client:
        scripted.push(success([container("d-m-1")]))
        [c] = (await client.containers.list_page("d")).rows
    assert c.info is not None
    assert c.info.root_password == PASSWORD
    assert "**********" in repr(c.info)


# -- the suite's scenarios, end to end --------------------------------------------------------


@dataclass
class Running:
    portal: BlockingPortal
    url: str

    def env(self, token: str = TOKEN) -> dict[str, str]:
        return {"AUTODL_TOKEN": token, "AUTODL_BASE_URL": self.url, "COLUMNS": "200"}


@pytest.fixture
def portal() -> Iterator[BlockingPortal]:
    with start_blocking_portal(backend="asyncio") as running:
        yield running


def invoke(args: list[str], env: Mapping[str, str], scan: Scan) -> Result:
    result = CliRunner().invoke(cli, args, env=dict(env), catch_exceptions=False)
    scan.add(result.output, result.stdout, result.stderr)
    return result


def _template(sim: Simulator) -> ContainerTemplate:
    return ContainerTemplate(
        image_uuid=sim.images()[0].image_uuid,
        cmd="sleep infinity",
        gpu_name_set=["RTX 4090"],
        dc_list=["westDC2"],
        cuda_v_from=118,
        cuda_v_to=128,
    )


def _passwords(running: Running, uuid: str) -> list[str]:
    async def fetch() -> list[str]:
        async with AutoDL(TOKEN, base_url=running.url) as client:
            found = await client.containers.list(uuid).to_list()
        return [c.info.root_password for c in found if c.info and c.info.root_password]

    return running.portal.call(fetch)


def _create(running: Running, sim: Simulator, replicas: int) -> str:
    async def create() -> str:
        async with AutoDL(TOKEN, base_url=running.url) as client:
            return await client.deployments.create(
                name="secret-scan",
                deployment_type="ReplicaSet",
                replica_num=replicas,
                template=_template(sim),
            )

    return running.portal.call(create)


def test_the_suites_scenarios_leak_no_secret(
    portal: BlockingPortal, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    passwords: list[str] = []
    scan = Scan([TOKEN])

    # 1. The demo against a "remote" account (our token), with faults on every read.
    shown: list[Container] = []
    original = RichDemoView.containers

    def spy(self: RichDemoView, items: Sequence[Container], labels: Mapping[str, str]) -> None:
        shown.extend(items)
        original(self, items, labels)

    monkeypatch.setattr(RichDemoView, "containers", spy)
    config = SimulatorConfig(token=TOKEN, seed=5, clock=WallClock(speed=200.0))
    with portal.wrap_async_context_manager(Simulator(config)) as sim:
        running = Running(portal, sim.url)
        for rule in (
            FaultRule(kind="status", path="*/list", status=503, probability=0.15),
            FaultRule(kind="reset", path="*/list", probability=0.05),
            FaultRule(kind="rate_limit", path="*/list", retry_after=0.01, probability=0.05),
        ):
            sim.faults.add(rule)
        demo = invoke(
            ["demo", "--base-url", sim.url, "--yes", "--poll-interval", "0.02"], running.env(), scan
        )
        assert demo.exit_code == 0, demo.output
        faulted = sum(1 for r in sim.requests if r.fault)
    passwords += [c.info.root_password for c in shown if c.info and c.info.root_password]
    assert passwords
    assert faulted > 0  # the demo really went through retries

    # 2. Every CLI command, its errors included, against a simulator (virtual clock).
    config = SimulatorConfig(token=TOKEN, clock=VirtualClock())
    with portal.wrap_async_context_manager(Simulator(config)) as sim:
        running = Running(portal, sim.url)
        uuid = _create(running, sim, 2)
        sim.clock.advance(30)
        passwords += _passwords(running, uuid)
        for args in (
            ["images"],
            ["images", "--json"],
            ["stock", "westDC2"],
            ["stock", "westDC2", "--json"],
            ["deployments", "list"],
            ["deployments", "list", "--json"],
            ["containers", "list", uuid],
            ["containers", "list", uuid, "--json"],
            ["balance"],
            ["balance", "--json"],
        ):
            assert invoke(args, running.env(), scan).exit_code == 0, args
        for args in (["containers", "list", "doesnotexist"], ["deployments", "list"]):
            assert invoke(args, running.env("tok-wrong"), scan).exit_code == 1
        proof = Scan(list(passwords))
        invoke(["containers", "list", uuid, "--show-secrets"], running.env(), proof)
        assert proof.leaks()  # the scan sees a password when one is printed
        sim.faults.add(FaultRule(kind="status", status=503))  # every attempt fails
        assert invoke(["images"], running.env(), scan).exit_code == 1

    # 3. A server whose ssh_command carries the password, for the CLI's table and JSON.
    async def scripted_server() -> ScriptedServer:
        return ScriptedServer()

    server = portal.call(scripted_server)
    with portal.wrap_async_context_manager(server):
        server.default.body = success({"list": [container("d-m-1")], "max_page": 1})
        running = Running(portal, server.url)
        for args in (["containers", "list", "d"], ["containers", "list", "d", "--json"]):
            assert invoke(args, running.env(), scan).exit_code == 0
    passwords.append(PASSWORD)

    scan.add(*(r.getMessage() for r in caplog.records), caplog.text)
    scan.secrets = [TOKEN, *passwords]
    assert len(caplog.records) > 50  # DEBUG really was on for SDK and simulator
    assert scan.leaks() == []
    print(
        f"secrets scan: {len(scan.secrets)} secrets x {len(scan.texts)} texts "
        f"({sum(len(t) for t in scan.texts)} chars, {len(caplog.records)} log records), 0 leaks"
    )
