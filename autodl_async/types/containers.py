"""Containers (``POST /api/v1/dev/deployment/container/list``) and their status names."""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final

import msgspec

from .._units import BYTES_PER_GB
from ._base import ResponseModel

__all__ = ["Container", "ContainerInfo", "ContainerStatus"]

_MASK: Final = "**********"
# Passwords given on a command line: `sshpass -p X`, `--password X`, `password=X`.
_INLINE_PASSWORD: Final = re.compile(r"(?i)(sshpass\s+-p\s*|--password[= ]\s*|password=)(\S+)")


class ContainerStatus(enum.StrEnum):
    """Known container statuses, in lifecycle order.

    Model fields hold plain ``str`` so a status the API adds later still decodes; these
    constants compare equal to those strings.
    """

    CREATING = "creating"
    CREATED = "created"
    STARTING = "starting"
    OSS_MERGED = "oss_merged"
    RUNNING = "running"
    SHUTTING_DOWN = "shutting_down"
    SHUTDOWN = "shutdown"


_KNOWN: Final = frozenset(str(s) for s in ContainerStatus)
_logger: Final = logging.getLogger("autodl_async")


def warn_unknown_statuses(param: str, statuses: Iterable[str]) -> None:
    """Log a warning for a status the SDK does not know (a typo such as ``runing``).

    Not an error: the API may add statuses (the private cloud has ``in_cache``), and a filter
    or an end condition naming one must still work. But a typo silently matching nothing is
    the worse failure, so it is said once, where the argument was given.
    """
    unknown = sorted({s for s in statuses if s not in _KNOWN})
    if unknown:
        _logger.warning(
            "%s: unknown container status %s (known: %s); sending it as given",
            param,
            ", ".join(repr(s) for s in unknown),
            ", ".join(ContainerStatus),
        )


def mask_command(command: str) -> str:
    """Hide a password embedded in a shell command."""
    return _INLINE_PASSWORD.sub(lambda m: m.group(1) + _MASK, command)


class ContainerInfo(ResponseModel):
    """How to reach a container. Its repr never shows ``root_password``."""

    ssh_command: str = ""
    root_password: str = ""
    service_url: str = ""
    service_6006_port_url: str | None = None
    service_6008_port_url: str | None = None
    proxy_host: str | None = None
    custom_port: int | None = None

    def __repr__(self) -> str:
        password = _MASK if self.root_password else ""
        return (
            f"ContainerInfo(ssh_command={mask_command(self.ssh_command)!r}, "
            f"root_password={password!r}, service_url={self.service_url!r}, "
            f"service_6006_port_url={self.service_6006_port_url!r}, "
            f"service_6008_port_url={self.service_6008_port_url!r}, "
            f"proxy_host={self.proxy_host!r}, custom_port={self.custom_port!r})"
        )

    __str__ = __repr__

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        return [
            ("ssh_command", mask_command(self.ssh_command)),
            ("root_password", _MASK if self.root_password else ""),
            ("service_url", self.service_url),
        ]


class Container(ResponseModel):
    """One container of a deployment.

    ``memory_size_bytes`` is the wire's ``memory_size`` (bytes; requests use GB) and ``price``
    is yuan × 1000, as an int or a float depending on what the server sent.

    Fields are declared in the order the server sends them (the doc's sample): msgspec looks
    for the next key at the field after the last one matched, so matching the wire order saves
    a scan per key, about 5% of decoding a container list (``benchmarks/bench_decode.py``).
    """

    id: int = 0
    uuid: str = ""
    version: str | None = None
    data_center: str = ""
    machine_id: str = ""
    deployment_uuid: str = ""
    status: str = ""
    gpu_name: str = ""
    gpu_num: int = 0
    cpu_num: int = 0
    memory_size_bytes: int = msgspec.field(default=0, name="memory_size")
    image_uuid: str = ""
    price: int | float = 0
    info: ContainerInfo | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def memory_gb(self) -> float:
        """Memory in GB, the unit requests use."""
        return self.memory_size_bytes / BYTES_PER_GB

    @property
    def is_finished(self) -> bool:
        """The container has shut down for good."""
        return self.status == ContainerStatus.SHUTDOWN
