"""Account-level endpoints found beyond the doc (docs/api-field-notes.md §4)."""

from __future__ import annotations

from typing import Final

from .._config import NOT_GIVEN, NotGiven, Seconds
from .._decoding import EnvelopeDecoder
from .._errors import MalformedResponseError
from ..types.account import WalletBalance
from ._arguments import checked
from ._base import Resource

__all__ = ["Account"]

_BALANCE_PATH: Final = "/api/v1/dev/wallet/balance"
_BALANCE: Final = EnvelopeDecoder[WalletBalance](WalletBalance)


class Account(Resource):
    """``client.account``."""

    @checked
    async def balance(
        self,
        *,
        timeout: Seconds | NotGiven = NOT_GIVEN,
        deadline: Seconds | NotGiven = NOT_GIVEN,
    ) -> WalletBalance:
        """The wallet; money in yuan × 1000 (``available_yuan`` converts)."""
        data = await self._call(
            "POST", _BALANCE_PATH, _BALANCE, idempotent=True, timeout=timeout, deadline=deadline
        )
        if data is None:
            raise MalformedResponseError(
                "wallet balance answered with no data", endpoint=_BALANCE_PATH
            )
        return data
