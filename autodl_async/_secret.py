"""A string that refuses to show itself.

The developer token grants spending rights on the account and a container's root password opens
its shell; both must survive ``repr()``, f-strings, logging and tracebacks without leaking. Only
an explicit ``reveal()`` gives the value back.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["MASK", "Secret", "mask_passwords", "redact"]

_MASK: Final = "**********"
#: What every secret prints as.
MASK: Final = _MASK

# A password-like JSON member (`"root_password": "..."`), its value possibly cut off by an
# excerpt, and a password given on a command line (`sshpass -p X`, `--password X`, `password=X`).
_JSON_PASSWORD: Final = re.compile(r'("[a-z_]*password"\s*:\s*")((?:[^"\\]|\\.)*)', re.IGNORECASE)
_INLINE_PASSWORD: Final = re.compile(
    r"(sshpass\s+-p\s*|--password[= ]\s*|password=)('[^']*'?|[^\s\"]+)", re.IGNORECASE
)


class Secret:
    """Holds a secret string; ``str()`` and ``repr()`` print a mask, never the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The real value, for the one place that must send it."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return f"Secret('{_MASK}')" if self._value else "Secret('')"

    def __str__(self) -> str:
        return _MASK if self._value else ""

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return self._value == other._value
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[type[Secret], tuple[str]]:
        # Pickling must not silently drop the value, but it is the caller's choice to do it.
        return (Secret, (self._value,))


def mask_passwords(text: str) -> str:
    """Mask passwords inside free text the SDK did not write itself (a server's body excerpt).

    Only the value is replaced, so what remains still tells a reader which field it was.
    """
    lowered = text.lower()
    if "password" not in lowered and "sshpass" not in lowered:
        return text
    text = _JSON_PASSWORD.sub(lambda m: m.group(1) + _MASK, text)
    return _INLINE_PASSWORD.sub(lambda m: m.group(1) + _MASK, text)


def redact(text: str, *secrets: Secret) -> str:
    """``text`` with every given secret's value and any password in it masked.

    For text that came from outside (an echoing proxy, a truncated body kept for diagnosis)
    and is about to end up in an exception message or attribute.
    """
    for secret in secrets:
        value = secret.reveal()
        if value and value in text:
            text = text.replace(value, _MASK)
    return mask_passwords(text)
