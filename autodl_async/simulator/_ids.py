"""Seeded identifier and secret generation.

Each purpose draws from its own stream so that, say, an extra request (one more request id)
does not shift every container uuid of a seeded run.
"""

from __future__ import annotations

import random
import string
from typing import Any, Final

__all__ = ["IdSource"]

_PASSWORD_ALPHABET: Final = string.ascii_letters + string.digits


class IdSource:
    """Deterministic ids for one world; rebuilt on reset to replay the same sequence."""

    __slots__ = ("_entity", "_requests", "_secrets")

    def __init__(self, seed: int) -> None:
        self._entity = random.Random(f"autodl-sim:{seed}:entities")
        self._requests = random.Random(f"autodl-sim:{seed}:requests")
        self._secrets = random.Random(f"autodl-sim:{seed}:secrets")

    def hex(self, length: int) -> str:
        """Lowercase hex of `length` characters for uuids and uuid suffixes."""
        return f"{self._entity.getrandbits(4 * length):0{length}x}"

    def request_id(self) -> str:
        return f"{self._requests.getrandbits(128):032x}"

    def password(self) -> str:
        return "".join(self._secrets.choices(_PASSWORD_ALPHABET, k=12))

    def port(self) -> int:
        return self._secrets.randint(10000, 59999)

    def getstate(self) -> dict[str, Any]:
        """Where each stream stands, so a restored world continues the same sequences."""
        return {
            "entity": self._entity.getstate(),
            "requests": self._requests.getstate(),
            "secrets": self._secrets.getstate(),
        }

    def setstate(self, state: dict[str, Any]) -> None:
        self._entity.setstate(state["entity"])
        self._requests.setstate(state["requests"])
        self._secrets.setstate(state["secrets"])
