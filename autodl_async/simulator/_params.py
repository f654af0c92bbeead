"""Typed reading of request bodies with the platform's binding rules.

Modelled on a Go JSON binder: unknown keys are ignored, `null` counts as absent, and a value of
the wrong JSON type (a float for an int, a string for a bool) is a binding error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from ._errors import ParamError

__all__ = ["Body", "Paging", "read_paging"]


class Body:
    __slots__ = ("_data", "_from_query")

    def __init__(self, data: Mapping[str, Any], *, from_query: bool = False) -> None:
        self._data = data
        self._from_query = from_query

    @classmethod
    def from_json(cls, raw: bytes) -> Body:
        """An empty body reads as `{}`, so required-field checks report the problem."""
        if not raw.strip():
            return cls({})
        try:
            value = msgspec.json.decode(raw)
        except msgspec.DecodeError as exc:
            raise ParamError("body is not valid JSON") from exc
        if not isinstance(value, dict):
            raise ParamError("body is not a JSON object")
        return cls(value)

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Body:
        return cls(dict(query), from_query=True)

    def has(self, key: str) -> bool:
        return self._data.get(key) is not None

    def _value(self, key: str, required: bool) -> Any:
        value = self._data.get(key)
        if value is None and required:
            raise ParamError(f"{key} is required")
        return value

    def get_int(self, key: str, default: int | None = None) -> int:
        value = self._value(key, default is None)
        if value is None:
            assert default is not None
            return default
        if self._from_query and isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                raise ParamError(f"{key} must be an integer") from None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamError(f"{key} must be an integer")
        return value

    def get_number(self, key: str, default: float) -> float:
        value = self._value(key, False)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParamError(f"{key} must be a number")
        return float(value)

    def get_str(self, key: str, default: str | None = None) -> str:
        value = self._value(key, default is None)
        if value is None:
            assert default is not None
            return default
        if not isinstance(value, str):
            raise ParamError(f"{key} must be a string")
        return value

    def get_bool(self, key: str, default: bool = False) -> bool:
        value = self._value(key, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ParamError(f"{key} must be a boolean")
        return value

    def get_str_list(self, key: str, *, required: bool = False) -> tuple[str, ...]:
        value = self._value(key, required)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ParamError(f"{key} must be a list of strings")
        return tuple(value)

    def get_object(self, key: str) -> Body:
        value = self._value(key, True)
        if not isinstance(value, dict):
            raise ParamError(f"{key} must be an object")
        return Body(value)


@dataclass(frozen=True, slots=True)
class Paging:
    page_index: int  # effective, 1-based
    page_size: int
    offset: int


def read_paging(body: Body, max_page_size: int) -> Paging:
    """`page_index` 0 (the doc's Python example) means page 1; `page_size` 0/absent means 10."""
    page_index = body.get_int("page_index", 1)
    page_size = body.get_int("page_size", 0)
    offset = body.get_int("offset", 0)
    if page_index < 0 or offset < 0:
        raise ParamError("page_index and offset must not be negative")
    if page_size < 0 or page_size > max_page_size:
        raise ParamError(f"page_size must be within 0..{max_page_size}")
    return Paging(page_index or 1, page_size or 10, offset)
