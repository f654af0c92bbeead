"""GPU stock per region."""

from __future__ import annotations

import warnings
from typing import Any, Final

from .._config import NOT_GIVEN, NotGiven, Seconds
from .._decoding import EnvelopeDecoder
from .._errors import InvalidParameterError
from ..types.stock import GpuStock
from ._arguments import checked
from ._base import Resource, require

__all__ = ["GpuStocks"]

_PATH: Final = "/api/v1/dev/machine/region/gpu_stock"
_WIRE = list[dict[str, GpuStock]] | dict[str, GpuStock]
_STOCK: Final = EnvelopeDecoder[_WIRE](_WIRE)


def _normalise(data: _WIRE | None) -> dict[str, GpuStock]:
    """A list of single-key objects (public cloud) or one object (private cloud) → mapping."""
    rows: list[dict[str, GpuStock]] = (
        [] if data is None else data if isinstance(data, list) else [data]
    )
    result: dict[str, GpuStock] = {}
    for row in rows:
        for name, stock in row.items():
            stock.gpu_name = name
            result[name] = stock
    return result


class GpuStocks(Resource):
    """``client.gpu_stock``."""

    @checked
    async def get(
        self,
        region: str,
        *,
        gpu_name_set: list[str] | None = None,
        cuda_v_from: int | None = None,
        cuda_v_to: int | None = None,
        cpu_num_from: int | None = None,
        cpu_num_to: int | None = None,
        memory_size_from_gb: int | None = None,
        memory_size_to_gb: int | None = None,
        price_from: int | None = None,
        price_to: int | None = None,
        cuda_v: int | None = None,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
    ) -> dict[str, GpuStock]:
        """Idle/total single-GPU slots per GPU model in ``region`` (e.g. ``"westDC2"``).

        An unknown region answers with an empty mapping, not an error (that is what the API
        does). Memory filters are in GB; prices in yuan × 1000.
        """
        body: dict[str, Any] = {"region_sign": require("region", region)}
        if cuda_v is not None:
            warnings.warn(
                "cuda_v is deprecated by the API; use cuda_v_from/cuda_v_to",
                DeprecationWarning,
                stacklevel=2,
            )
            body["cuda_v"] = cuda_v
        for name, low, high in (
            ("cuda_v", cuda_v_from, cuda_v_to),
            ("cpu_num", cpu_num_from, cpu_num_to),
            ("memory_size", memory_size_from_gb, memory_size_to_gb),
            ("price", price_from, price_to),
        ):
            if low is not None and high is not None and low > high:
                raise InvalidParameterError(
                    f"{name}_from", f"must be <= {name}_to ({low} > {high})"
                )
            if low is not None:
                body[f"{name}_from"] = low
            if high is not None:
                body[f"{name}_to"] = high
        if gpu_name_set is not None:
            body["gpu_name_set"] = list(gpu_name_set)
        data = await self._call(
            "POST", _PATH, _STOCK, body=body, idempotent=True, timeout=timeout, deadline=deadline
        )
        return _normalise(data)
