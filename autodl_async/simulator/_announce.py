"""Where to point a client at a standalone simulator, and when to warn about who else can.

A server started with ``--host 0.0.0.0`` (or ``::``) listens on every interface, but that
address is not one to connect to, and the SDK sends its token over plain http only to a
loopback host: printing ``http://0.0.0.0:PORT`` as the base URL gave users a line the client
refuses. The URL to paste is the loopback address of the same family; the wider reach gets a
one-line warning of its own, because the simulator accepts a well-known test token.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit, urlunsplit

__all__ = ["connect_url", "exposure_warning"]


def _address(url: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    host = urlsplit(url).hostname or ""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def connect_url(url: str) -> str:
    """``url`` with a wildcard host replaced by loopback (``127.0.0.1`` or ``[::1]``)."""
    address = _address(url)
    if address is None or not address.is_unspecified:
        return url
    parts = urlsplit(url)
    host = "127.0.0.1" if address.version == 4 else "[::1]"
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    return urlunsplit(parts._replace(netloc=netloc))


def exposure_warning(url: str) -> str | None:
    """A one-line warning when the simulator listens beyond loopback, else ``None``."""
    address = _address(url)
    if address is None or address.is_loopback:
        return None
    host = urlsplit(url).hostname
    if address.is_unspecified:
        return (
            f"warning: listening on {host} (every interface): the simulator is reachable "
            "from other machines; use --host 127.0.0.1 to keep it local"
        )
    return (
        f"warning: listening on {host}: the simulator is reachable from other machines, and "
        "the SDK sends a token over plain http only to loopback (allow_insecure_http=True)"
    )
