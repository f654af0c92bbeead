"""Base classes shared by every model.

Response models decode straight from bytes with reused msgspec decoders. They are lenient (every
field has a default, unknown fields are ignored, statuses are plain strings) so the API adding a
field or a status never breaks an installed SDK. They are not tracked by the cyclic GC
(``gc=False``): decoded JSON cannot form reference cycles, and skipping the GC makes decoding
100k containers about twice as fast (see ``benchmarks/``). Do not build cycles out of them.
"""

from __future__ import annotations

import msgspec

__all__ = ["RequestModel", "ResponseModel"]


class ResponseModel(msgspec.Struct, kw_only=True, gc=False):
    """A value the server sent."""


class RequestModel(msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    """A body the SDK sends; defaults are omitted so the server applies its own."""
