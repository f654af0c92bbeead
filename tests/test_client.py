"""Client configuration: token and base URL sources, secret hygiene, lifecycle."""

from __future__ import annotations

import pytest

from autodl_async import AutoDL, ConfigurationError, Secret
from tests.scripted import ScriptedServer, success

pytestmark = pytest.mark.anyio


def test_missing_token_is_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTODL_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match="AUTODL_TOKEN"):
        AutoDL()
    with pytest.raises(ConfigurationError):
        AutoDL("   ")


def test_token_and_base_url_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTODL_TOKEN", "env-token-xyz")
    monkeypatch.setenv("AUTODL_BASE_URL", "http://127.0.0.1:9/")
    client = AutoDL()
    assert client.base_url == "http://127.0.0.1:9"
    assert "env-token-xyz" not in repr(client)


def test_default_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTODL_BASE_URL", raising=False)
    assert AutoDL("t").base_url == "https://api.autodl.com"


@pytest.mark.parametrize("url", ["http://api.autodl.com", "http://10.0.0.5:8080", "ftp://x"])
def test_insecure_or_bad_base_url_refused(url: str) -> None:
    with pytest.raises(ConfigurationError):
        AutoDL("t", base_url=url)


def test_insecure_http_allowed_explicitly() -> None:
    assert AutoDL("t", base_url="http://10.0.0.5:8080", allow_insecure_http=True).base_url


@pytest.mark.parametrize("url", ["http://localhost:1", "http://127.0.0.1:1", "http://[::1]:1"])
def test_loopback_http_allowed(url: str) -> None:
    assert AutoDL("t", base_url=url).base_url == url


def test_secret_masks_everywhere() -> None:
    s = Secret("hunter2-token")
    assert "hunter2" not in repr(s)
    assert "hunter2" not in str(s)
    assert "hunter2" not in f"{s}"
    assert "hunter2" not in f"{s!r:>40}"
    assert s.reveal() == "hunter2-token"
    assert Secret("a") == Secret("a")
    assert AutoDL(s, base_url="http://127.0.0.1:1").base_url


async def test_concurrent_calls_share_one_session(scripted: ScriptedServer) -> None:
    import anyio

    async with AutoDL("t", base_url=scripted.url) as client:
        results: list[object] = []

        async def one() -> None:
            scripted.push(success([]))
            results.append(await client.blacklist.list())

        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(one)
        assert results == [[]] * 20
        assert client.stats.requests == 20
    assert client.closed
