"""The client: configuration, session lifecycle, and the resource groups."""

from __future__ import annotations

import ipaddress
import os
import random
import time
from types import TracebackType
from typing import Final
from urllib.parse import urlsplit

import aiohttp
import anyio

from ._config import (
    DEFAULT_ATTEMPT_TIMEOUT,
    DEFAULT_BASE_URL,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_DEADLINE,
    DEFAULT_MAX_CONNECTIONS,
    Seconds,
)
from ._errors import ConfigurationError
from ._retry import RetryBudget, RetryPolicy
from ._secret import Secret
from ._throttle import Throttle
from ._transport import CallStats, Clock, Sleep, Transport
from ._waiters import Waiters
from .resources import Account, Blacklist, Containers, Deployments, Events, GpuStocks, Images
from .resources.bulk import Bulk

__all__ = ["AutoDL"]

TOKEN_ENV: Final = "AUTODL_TOKEN"
BASE_URL_ENV: Final = "AUTODL_BASE_URL"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_base_url(base_url: str, *, allow_insecure_http: bool) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"base_url must be an http(s) URL, got {base_url!r}")
    if parts.scheme == "http" and not _is_loopback(parts.hostname) and not allow_insecure_http:
        raise ConfigurationError(
            f"refusing to send the token over plain http to {parts.hostname}; use https, or pass "
            "allow_insecure_http=True if this network is trusted"
        )
    return base_url.rstrip("/")


class AutoDL:
    """Async client for AutoDL Elastic Deployment.

    Use it as an async context manager so its connection pool is closed::

        async with AutoDL() as client:              # token from AUTODL_TOKEN
            async for image in client.images.list():
                print(image.display_name)

    Calls from many tasks run concurrently over one pooled aiohttp session. Time limits:
    ``timeout`` bounds one HTTP attempt, ``deadline`` bounds a whole call across retries and
    backoff; both can be overridden per call, and ``None`` means "no limit".
    """

    images: Images
    deployments: Deployments
    containers: Containers
    events: Events
    blacklist: Blacklist
    gpu_stock: GpuStocks
    account: Account
    bulk: Bulk
    waiters: Waiters

    def __init__(
        self,
        token: str | Secret | None = None,
        *,
        base_url: str | None = None,
        timeout: Seconds = DEFAULT_ATTEMPT_TIMEOUT,
        connect_timeout: Seconds = DEFAULT_CONNECT_TIMEOUT,
        deadline: Seconds = DEFAULT_DEADLINE,
        retry: RetryPolicy | None = None,
        retry_budget: RetryBudget | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        allow_insecure_http: bool = False,
        requests_per_second: float | None = None,
        session: aiohttp.ClientSession | None = None,
        sleep: Sleep = anyio.sleep,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        if token is not None and not isinstance(token, str | Secret):
            raise ConfigurationError(f"token must be a str, got {type(token).__name__}")
        if base_url is not None and not isinstance(base_url, str):
            raise ConfigurationError(f"base_url must be a str, got {type(base_url).__name__}")
        raw_token = token if token is not None else os.environ.get(TOKEN_ENV)
        secret = raw_token if isinstance(raw_token, Secret) else Secret(raw_token or "")
        if not secret or not secret.reveal().strip():
            raise ConfigurationError(
                f"no AutoDL token: pass token=... or set {TOKEN_ENV} (console → 设置 → 开发者Token)"
            )
        url = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        if max_connections < 1:
            raise ConfigurationError(f"max_connections must be >= 1, got {max_connections}")
        self._transport = Transport(
            token=secret,
            base_url=_check_base_url(url, allow_insecure_http=allow_insecure_http),
            attempt_timeout=timeout,
            connect_timeout=connect_timeout,
            deadline=deadline,
            retry=retry or RetryPolicy(),
            budget=retry_budget or RetryBudget(),
            max_connections=max_connections,
            session=session,
            sleep=sleep,
            clock=clock,
            rng=rng,
            throttle=Throttle(requests_per_second=requests_per_second, sleep=sleep, clock=clock),
        )
        self.images = Images(self._transport)
        self.deployments = Deployments(self._transport)
        self.containers = Containers(self._transport)
        self.events = Events(
            self._transport, deployments=self.deployments, containers=self.containers
        )
        self.blacklist = Blacklist(self._transport)
        self.gpu_stock = GpuStocks(self._transport)
        self.account = Account(self._transport)
        self.bulk = Bulk(
            self._transport,
            containers=self.containers,
            deployments=self.deployments,
            blacklist=self.blacklist,
        )
        self.waiters = Waiters(
            self._transport, containers=self.containers, deployments=self.deployments
        )

    @property
    def base_url(self) -> str:
        """Where requests go."""
        return self._transport.base_url

    @property
    def stats(self) -> CallStats:
        """Requests sent, retries made and attempts failed since the client was made."""
        return self._transport.stats

    @property
    def retry_policy(self) -> RetryPolicy:
        """The policy every call uses."""
        return self._transport.retry

    @property
    def retry_budget(self) -> RetryBudget:
        """The client-wide budget every retry spends from."""
        return self._transport.budget

    @property
    def throttle(self) -> Throttle:
        """The client-wide pause gate and rate cap every attempt passes through."""
        return self._transport.throttle

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` has run."""
        return self._transport.closed

    async def aclose(self) -> None:
        """Close the connection pool (a session passed in by the caller is left open)."""
        await self._transport.aclose()

    async def __aenter__(self) -> AutoDL:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AutoDL(base_url={self.base_url!r}, token=**********)"
