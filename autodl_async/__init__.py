"""autodl-async: an asyncio SDK for AutoDL Elastic Deployment (弹性部署).

Start with :class:`AutoDL`; the embedded simulator is :mod:`autodl_async.simulator`.
"""

from ._client import AutoDL
from ._config import NOT_GIVEN, NotGiven
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    AutoDLError,
    BadRequestError,
    ConfigurationError,
    InsufficientStockError,
    InvalidParameterError,
    MalformedResponseError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    WaitTimeoutError,
)
from ._pagination import AsyncPager
from ._retry import RetryBudget, RetryPolicy
from ._secret import Secret
from ._units import bytes_to_gb, cuda_version, milli_to_yuan, yuan_to_milli
from .types import (
    BlacklistEntry,
    Container,
    ContainerEvent,
    ContainerInfo,
    ContainerStatus,
    ContainerTemplate,
    DdpOverview,
    Deployment,
    DeploymentStatus,
    DeploymentTemplate,
    DeploymentType,
    GpuStock,
    Image,
    Page,
    WalletBalance,
)

__version__ = "0.1.0"

__all__ = [
    "NOT_GIVEN",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncPager",
    "AuthenticationError",
    "AutoDL",
    "AutoDLError",
    "BadRequestError",
    "BlacklistEntry",
    "ConfigurationError",
    "Container",
    "ContainerEvent",
    "ContainerInfo",
    "ContainerStatus",
    "ContainerTemplate",
    "DdpOverview",
    "Deployment",
    "DeploymentStatus",
    "DeploymentTemplate",
    "DeploymentType",
    "GpuStock",
    "Image",
    "InsufficientStockError",
    "InvalidParameterError",
    "MalformedResponseError",
    "NotFoundError",
    "NotGiven",
    "OutcomeUnknownError",
    "Page",
    "PermissionDeniedError",
    "RateLimitError",
    "RetryBudget",
    "RetryPolicy",
    "Secret",
    "ServerError",
    "WaitTimeoutError",
    "WalletBalance",
    "__version__",
    "bytes_to_gb",
    "cuda_version",
    "milli_to_yuan",
    "yuan_to_milli",
]
