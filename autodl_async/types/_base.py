"""Base classes shared by every model.

Response models decode straight from bytes with reused msgspec decoders. They are lenient (every
field has a default, unknown fields are ignored, statuses are plain strings) so the API adding a
field or a status never breaks an installed SDK. They are not tracked by the cyclic GC
(``gc=False``): decoded JSON cannot form reference cycles, and skipping the GC makes decoding
100k containers about twice as fast (see ``benchmarks/``). Do not build cycles out of them.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .._errors import InvalidParameterError

__all__ = ["RequestModel", "ResponseModel", "check_field_types", "request_body"]


class ResponseModel(msgspec.Struct, kw_only=True, gc=False):
    """A value the server sent."""


class RequestModel(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A body the SDK sends. Defaults are sent (the API requires most template fields);
    only fields left as ``None`` are dropped, see :func:`request_body`."""


def check_field_types(model: msgspec.Struct) -> None:
    """Reject a wrongly typed field by name, before anything else looks at it.

    msgspec checks types when it decodes, not when a Struct is built in Python, so
    ``ContainerTemplate(gpu_num="1")`` would otherwise reach a comparison and fail there with
    a bare ``TypeError`` (or reach the server and come back as 请求参数错误 with no field
    named). A bare string where a list is wanted (``dc_list="westDC2"``) is caught here too.
    """
    for field in msgspec.structs.fields(type(model)):
        value = getattr(model, field.name)
        kind = field.type
        if isinstance(kind, type) and issubclass(kind, msgspec.Struct):
            if not isinstance(value, kind):
                raise InvalidParameterError(
                    field.name, f"must be a {kind.__name__}, got {type(value).__name__}"
                )
            continue
        try:
            msgspec.convert(value, kind, strict=True)
        except msgspec.ValidationError as exc:
            if isinstance(value, str) and "array" in str(exc):
                raise InvalidParameterError(
                    field.name, f"must be a list, not one string: use [{value!r}]"
                ) from None
            raise InvalidParameterError(field.name, f"{exc} (got {value!r})") from None


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    return value


def request_body(model: RequestModel) -> dict[str, Any]:
    """The JSON object for ``model``, wire names applied and unset (``None``) fields left out."""
    body: dict[str, Any] = _drop_none(msgspec.to_builtins(model))
    return body
