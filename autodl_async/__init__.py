"""autodl-async: an asyncio SDK for AutoDL Elastic Deployment (弹性部署).

Start with :class:`AutoDL`; the embedded simulator is :mod:`autodl_async.simulator`.
"""

from ._bulk import BulkJob, ResultStream
from ._bulk_results import BulkError, BulkResult, BulkSummary, ItemResult, ItemStatus
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
    EventListError,
    InsufficientStockError,
    InvalidParameterError,
    MalformedResponseError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    WaitFailedError,
    WaitTimeoutError,
)
from ._event_cursor import EventCursor
from ._event_stream import EventStream, StreamStats
from ._pagination import AsyncPager
from ._retry import FailureKind, RetryBudget, RetryPolicy
from ._secret import Secret
from ._units import bytes_to_gb, cuda_version, milli_to_yuan, yuan_to_milli
from ._waiters import DeploymentState, Waiters
from ._watch import EventWatch, WatchCursor, WatchItem
from .resources.bulk import ACTIVE_CONTAINER_STATUSES, Bulk, BulkOptions
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
    "ACTIVE_CONTAINER_STATUSES",
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
    "Bulk",
    "BulkError",
    "BulkJob",
    "BulkOptions",
    "BulkResult",
    "BulkSummary",
    "ConfigurationError",
    "Container",
    "ContainerEvent",
    "ContainerInfo",
    "ContainerStatus",
    "ContainerTemplate",
    "DdpOverview",
    "Deployment",
    "DeploymentState",
    "DeploymentStatus",
    "DeploymentTemplate",
    "DeploymentType",
    "EventCursor",
    "EventListError",
    "EventStream",
    "EventWatch",
    "FailureKind",
    "GpuStock",
    "Image",
    "InsufficientStockError",
    "InvalidParameterError",
    "ItemResult",
    "ItemStatus",
    "MalformedResponseError",
    "NotFoundError",
    "NotGiven",
    "OutcomeUnknownError",
    "Page",
    "PermissionDeniedError",
    "RateLimitError",
    "ResultStream",
    "RetryBudget",
    "RetryPolicy",
    "Secret",
    "ServerError",
    "StreamStats",
    "WaitFailedError",
    "WaitTimeoutError",
    "Waiters",
    "WalletBalance",
    "WatchCursor",
    "WatchItem",
    "__version__",
    "bytes_to_gb",
    "cuda_version",
    "milli_to_yuan",
    "yuan_to_milli",
]
