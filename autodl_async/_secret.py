"""A string that refuses to show itself.

The developer token grants spending rights on the account and a container's root password opens
its shell; both must survive ``repr()``, f-strings, logging and tracebacks without leaking. Only
an explicit ``reveal()`` gives the value back.
"""

from __future__ import annotations

from typing import Final

__all__ = ["Secret"]

_MASK: Final = "**********"


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
