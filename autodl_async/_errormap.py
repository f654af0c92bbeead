"""Which exception class an error answer becomes.

AutoDL publishes no code table: business errors arrive as HTTP 200 with a string ``code`` and a
Chinese ``msg``, and a few meanings are only visible in the ``msg`` text. The rules below cover
the codes seen live (docs/api-field-notes.md §3) and fall back to the HTTP status.
"""

from __future__ import annotations

from typing import Final

from ._errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    InsufficientStockError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)

__all__ = ["error_class_for"]

_AUTH_CODES: Final = frozenset({"Unauthorized", "AuthorizeFailed", "TokenInvalid", "InvalidToken"})
_NOT_FOUND_CODES: Final = frozenset({"RecordNotFoundError", "NotFound", "RecordNotFound"})
_PERMISSION_CODES: Final = frozenset({"TORealName", "Forbidden", "PermissionDenied"})
_NOT_FOUND_WORDS: Final = ("不存在", "未查询到", "not found", "not_exist")


def error_class_for(code: str, msg: str, http_status: int) -> type[APIStatusError]:
    """The most specific error class for an answer that is not ``Success``."""
    if http_status == 429:
        return RateLimitError
    if code in _AUTH_CODES or http_status in (401, 403):
        return AuthenticationError
    if code in _PERMISSION_CODES or (code == "BadRequest" and "权限" in msg):
        return PermissionDeniedError
    if code in _NOT_FOUND_CODES or http_status == 404:
        return NotFoundError
    if "库存" in msg:
        return InsufficientStockError
    if code == "InternalError" or http_status >= 500:
        return ServerError
    if any(word in msg for word in _NOT_FOUND_WORDS):
        return NotFoundError
    if code in ("RequestParameterIsWrong", "BadRequest") or 400 <= http_status < 500:
        return BadRequestError
    return APIStatusError
