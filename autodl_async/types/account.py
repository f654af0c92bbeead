"""Account endpoints seen in the wild: wallet balance and DDP overview."""

from __future__ import annotations

from datetime import datetime

from ._base import ResponseModel

__all__ = ["DdpOverview", "WalletBalance"]


class WalletBalance(ResponseModel):
    """``POST /api/v1/dev/wallet/balance``. Money fields are yuan × 1000 integers."""

    id: int = 0
    uid: int = 0
    assets: int | float = 0
    blocked_asset: int | float = 0
    accumulate: int | float = 0
    voucher_balance: int | float = 0
    total_recharge_asset: int | float = 0
    certain_conditions_voucher_balance: int | float = 0
    available_coupon_num: int = 0
    to_expire_voucher_num: int = 0
    remittance_code: str | None = None
    exclusive_transfer_account: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def available_yuan(self) -> float:
        """What can be spent now, in yuan: ``(assets - blocked_asset) / 1000``."""
        return (self.assets - self.blocked_asset) / 1000


class DdpOverview(ResponseModel):
    """One row of ``GET /api/v1/dev/deployment/ddp/overview``: GPU time in seconds."""

    gpu_type: str = ""
    total: int | float = 0
    balance: int | float = 0
    dc_list: str | list[str] | None = None

    @property
    def dc_names(self) -> list[str]:
        """The regions as a list, whether the server sent a list or one (comma-separated) string.

        Live responses disagree on ``dc_list``'s type; this reads either.
        """
        if self.dc_list is None:
            return []
        if isinstance(self.dc_list, list):
            return [name for name in self.dc_list if name]
        return [name.strip() for name in self.dc_list.split(",") if name.strip()]
