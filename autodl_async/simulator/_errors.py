"""Business errors: HTTP 200 with a non-Success code and the platform's Chinese message."""

from __future__ import annotations

from typing import Final

__all__ = [
    "NOT_FOUND",
    "NOT_REAL_NAME",
    "NO_PERMISSION",
    "NO_STOCK",
    "PARAM_WRONG",
    "UNAUTHORIZED",
    "ApiError",
    "ParamError",
]

PARAM_WRONG: Final = ("RequestParameterIsWrong", "请求参数错误")
# The ESD not-found text is unknown; the Pro API says 未查询到相关实例 for instances, and a
# deployment or container is a "record", so the simulator uses the generic wording.
NOT_FOUND: Final = ("RecordNotFoundError", "未查询到相关记录")
NO_PERMISSION: Final = ("BadRequest", "无当前资源访问权限")
UNAUTHORIZED: Final = ("Unauthorized", "token无效或已过期")
# Both seen live on the Pro API of the same backend (docs/api-field-notes.md §3); ESD's are unknown.
NOT_REAL_NAME: Final = ("TORealName", "未完成实名认证,认证后才可使用")
NO_STOCK: Final = ("InternalError", "当前算力规格暂无库存, 请修改配置或稍等再试")


class ApiError(Exception):
    def __init__(self, code: str, msg: str) -> None:
        super().__init__(code, msg)
        self.code = code
        self.msg = msg


class ParamError(ApiError):
    """Input the platform would fail to bind or accept; `detail` is for the simulator's logs only.

    The wire message is always exactly 请求参数错误, like the real service.
    """

    def __init__(self, detail: str) -> None:
        super().__init__(*PARAM_WRONG)
        self.detail = detail

    def __str__(self) -> str:
        return self.detail


def not_found() -> ApiError:
    return ApiError(*NOT_FOUND)
