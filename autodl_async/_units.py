"""The API's units, and helpers that convert to and from what people write.

- CUDA versions are integers: ``118`` means 11.8.
- Prices are yuan × 1000 (milli-yuan) integers: ``100`` means 0.1 元 per hour.
- Memory is **GB in requests** but **bytes in responses**.
"""

from __future__ import annotations

import math
import re
from typing import Final

from ._errors import InvalidParameterError

__all__ = [
    "BYTES_PER_GB",
    "bytes_to_gb",
    "cuda_version",
    "milli_to_yuan",
    "yuan_to_milli",
]

#: The API counts memory in binary gigabytes: 17179869184 bytes is 16 GB.
BYTES_PER_GB: Final = 1024**3

_CUDA_RE: Final = re.compile(r"^\s*(\d{1,2})(?:\.(\d))?\s*$")


def cuda_version(version: str | int | float) -> int:
    """``"11.8"`` → ``118``, ``"12"`` → ``120``; an int already in API form passes through."""
    if isinstance(version, bool):
        raise InvalidParameterError(
            "cuda_version", f"expected a version like '11.8', got {version!r}"
        )
    if isinstance(version, int):
        if 70 <= version <= 999:
            return version
        raise InvalidParameterError(
            "cuda_version", f"{version} is not a CUDA version in API form (e.g. 118 for 11.8)"
        )
    text = f"{version:.1f}" if isinstance(version, float) else version
    match = _CUDA_RE.match(text)
    if match is None:
        raise InvalidParameterError(
            "cuda_version", f"expected a version like '11.8', got {version!r}"
        )
    major, minor = int(match.group(1)), int(match.group(2) or 0)
    return major * 10 + minor


def yuan_to_milli(yuan: float | int) -> int:
    """``0.1`` 元 → ``100``, the API's integer price unit (rounded to the nearest milli-yuan)."""
    if isinstance(yuan, bool) or not isinstance(yuan, int | float) or not math.isfinite(yuan):
        raise InvalidParameterError("price", f"expected a finite number of yuan, got {yuan!r}")
    if yuan < 0:
        raise InvalidParameterError("price", f"must not be negative, got {yuan!r}")
    return round(yuan * 1000)


def milli_to_yuan(milli: float | int) -> float:
    """The API's yuan × 1000 back to yuan."""
    return milli / 1000


def bytes_to_gb(size_bytes: int) -> float:
    """A response's byte count in GB (1024³), the unit requests use."""
    return size_bytes / BYTES_PER_GB
