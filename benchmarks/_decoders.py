"""Each way to turn a container-list body into usable rows, by name.

Every decoder takes the response bytes and returns the list of containers, doing the whole job
a caller needs (check the envelope, reach the rows), so they compare like with like. The
``autodl-async`` one is exactly what ``client.containers.list_page`` does with a body: the
resource's own module-level decoder, then ``page_of``; it imports them rather than copying them
so a change to the SDK's path is what gets measured.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

import msgspec

__all__ = ["DECODERS", "REFERENCES", "SCAN_FLOOR", "SDK", "UNTYPED", "decoder"]

SDK: Final = "autodl-async"
UNTYPED: Final = "msgspec untyped"
SCAN_FLOOR: Final = "msgspec scan floor (uuid only)"

Decoder = Callable[[bytes], list[Any]]


def _sdk() -> Decoder:
    from autodl_async.resources._base import page_of
    from autodl_async.resources.containers import _PAGE

    decode = _PAGE.decode

    def run(body: bytes) -> list[Any]:
        envelope = decode(body)
        if envelope.code != "Success":
            raise ValueError(envelope.code)
        return page_of(envelope.data).rows

    return run


def _rows_of(envelope: dict[str, Any]) -> list[Any]:
    if envelope["code"] != "Success":
        raise ValueError(envelope["code"])
    rows: list[Any] = envelope["data"]["list"] or []
    return rows


def _untyped() -> Decoder:
    decode = msgspec.json.Decoder().decode
    return lambda body: _rows_of(decode(body))


def _json() -> Decoder:
    return lambda body: _rows_of(json.loads(body))


def _orjson() -> Decoder:
    import orjson

    return lambda body: _rows_of(orjson.loads(body))


def _pydantic() -> Decoder:
    from ._pydantic_models import PydanticEnvelope

    def run(body: bytes) -> list[Any]:
        envelope = PydanticEnvelope.model_validate_json(body)
        if envelope.code != "Success":
            raise ValueError(envelope.code)
        return (envelope.data.list if envelope.data else None) or []

    return run


def _struct() -> Decoder:
    from ._structs import StructEnvelope

    decode = msgspec.json.Decoder(StructEnvelope).decode

    def run(body: bytes) -> list[Any]:
        envelope = decode(body)
        if envelope.code != "Success":
            raise ValueError(envelope.code)
        return (envelope.data.list if envelope.data else None) or []

    return run


def _scan_floor() -> Decoder:
    """Not a usable decoder: parses every byte but keeps only each row's uuid, so its time is
    roughly what reading this JSON costs at all with msgspec; no decoder of every field beats it."""

    from ._structs import ScanFloorEnvelope

    decode = msgspec.json.Decoder(ScanFloorEnvelope).decode

    def run(body: bytes) -> list[Any]:
        envelope = decode(body)
        return (envelope.data.list if envelope.data else None) or []

    return run


DECODERS: Final[dict[str, Callable[[], Decoder]]] = {
    SDK: _sdk,
    UNTYPED: _untyped,
    "json.loads": _json,
    "orjson.loads": _orjson,
    "pydantic v2": _pydantic,
    "msgspec Struct gc=False (bare)": _struct,
}
# References that do not produce usable rows: timed, but given no memory probe and no aim.
REFERENCES: Final[dict[str, Callable[[], Decoder]]] = {SCAN_FLOOR: _scan_floor}


def decoder(name: str) -> Decoder:
    """The decoder called ``name`` (built on demand, so a probe imports only what it needs)."""
    return {**DECODERS, **REFERENCES}[name]()
