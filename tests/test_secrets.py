"""Neither the token nor a container's root password shows up in logs, reprs or errors."""

from __future__ import annotations

import logging
import traceback

import pytest

from autodl_async import AutoDL, AutoDLError, RetryPolicy
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


async def test_debug_logs_and_errors_hold_no_secret(
    scripted: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []

    async def no_sleep(_: float) -> None:
        return None

    async with AutoDL(
        TOKEN, base_url=scripted.url, retry=RetryPolicy(max_attempts=2), sleep=no_sleep
    ) as client:
        texts.append(repr(client))
        scripted.push(success({"list": [container("d-m-1"), container("d-m-2")], "max_page": 1}))
        page = await client.containers.list_page("d")
        for c in page.rows:
            texts += [repr(c), str(c), repr(c.info)]
        scripted.push("<html>502</html>", status=502, content_type="text/html")
        scripted.push(failure("Unauthorized", "token无效"), status=401)
        scripted.push(failure("BadRequest", f"echo {TOKEN}"))  # even if a server echoed it back
        for _ in range(2):
            try:
                await client.images.list_page()
            except AutoDLError as exc:
                texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    texts += [r.getMessage() for r in caplog.records]
    texts.append(caplog.text)
    assert any("HTTP 502" in t for t in texts)  # the log really captured the calls
    for text in texts:
        assert TOKEN not in text  # even a server's echo of it is masked
        assert PASSWORD not in text


async def test_password_reachable_when_asked(scripted: ScriptedServer) -> None:
    async with AutoDL(TOKEN, base_url=scripted.url) as client:
        scripted.push(success([container("d-m-1")]))
        [c] = (await client.containers.list_page("d")).rows
    assert c.info is not None
    assert c.info.root_password == PASSWORD
    assert "**********" in repr(c.info)
