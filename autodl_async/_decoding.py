"""Bytes to typed envelopes: fast when the server is well-behaved, lenient when it is not.

The fast path is one reused ``msgspec.json.Decoder`` per response type, straight from the body
bytes. Only if that fails does the slow path run: decode to plain objects, repair the oddities
seen in the wild (a UTF-8 BOM, ``""`` or Go ``{"Time": ..., "Valid": ...}`` timestamps, numbers
sent as strings), and convert. What still does not fit is reported as the SDK's own error with
the JSON path of the offending value; a raw decode exception never escapes.
"""

from __future__ import annotations

from typing import Any, Final, Generic, TypeVar

import msgspec

from .types.common import Envelope

__all__ = ["EnvelopeDecoder", "RawEnvelope", "ResponseShapeError"]

T = TypeVar("T")

_BOM: Final = b"\xef\xbb\xbf"
_ZERO_TIMES: Final = frozenset({"", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+00:00"})
_TIME_KEYS_SUFFIX: Final = ("_at", "_time")


class ResponseShapeError(Exception):
    """The body is JSON-ish but not the shape we expect; ``envelope`` is set if one was read."""

    def __init__(self, message: str, envelope: RawEnvelope | None = None) -> None:
        super().__init__(message)
        self.envelope = envelope


class RawEnvelope(msgspec.Struct, gc=False):
    """The envelope without ``data`` (skipped unparsed): enough to report an error faithfully."""

    code: str | None = None
    msg: str | None = None
    request_id: str | None = None


_RAW_DECODER: Final = msgspec.json.Decoder(RawEnvelope)
_ANY_DECODER: Final = msgspec.json.Decoder()


def _repair(value: Any, key: str = "") -> Any:
    """Normalise the odd values real AutoDL-family backends send, recursively."""
    if isinstance(value, dict):
        if set(value) == {"Time", "Valid"}:
            return value["Time"] if value["Valid"] else None
        return {k: _repair(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_repair(v, key) for v in value]
    if isinstance(value, str) and key.endswith(_TIME_KEYS_SUFFIX) and value in _ZERO_TIMES:
        return None
    return value


class EnvelopeDecoder(Generic[T]):
    """Decodes ``{code, msg, data, request_id}`` with ``data`` typed as ``T``."""

    __slots__ = ("_decoder", "_type")

    def __init__(self, data_type: Any) -> None:
        self._type: Any = Envelope[data_type]
        self._decoder: msgspec.json.Decoder[Envelope[T]] = msgspec.json.Decoder(self._type)

    def decode(self, body: bytes) -> Envelope[T]:
        """Decode a body; raises :class:`ResponseShapeError` or ``msgspec.DecodeError``."""
        if body.startswith(_BOM):
            body = body[len(_BOM) :]
        try:
            try:
                return self._decoder.decode(body)
            except msgspec.ValidationError as fast_error:
                return self._lenient(body, fast_error)
        except RecursionError:
            # msgspec (and the repair pass) recurse per nesting level: a hostile or broken
            # body nested thousands deep must become the SDK's error, not a RecursionError.
            raise ResponseShapeError("the body is nested too deeply to read") from None

    def _lenient(self, body: bytes, fast_error: msgspec.ValidationError) -> Envelope[T]:
        try:
            raw: RawEnvelope | None = _RAW_DECODER.decode(body)
        except msgspec.ValidationError:
            raw = None
        if raw is not None and raw.code not in (None, "Success"):
            # An error envelope whose data is not shaped like a success: report the error.
            return Envelope(code=raw.code, msg=raw.msg, data=None, request_id=raw.request_id)
        try:
            repaired = _repair(_ANY_DECODER.decode(body))
            result: Envelope[T] = msgspec.convert(repaired, self._type, strict=False)
        except msgspec.ValidationError as error:
            raise ResponseShapeError(str(error), raw) from fast_error
        return result
