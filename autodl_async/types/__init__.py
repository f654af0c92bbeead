"""Typed models of the API's requests and responses (msgspec Structs)."""

from .account import DdpOverview, WalletBalance
from .blacklist import BlacklistEntry
from .common import Envelope, Page
from .containers import Container, ContainerInfo, ContainerStatus
from .deployments import (
    ContainerTemplate,
    CreateDeploymentRequest,
    Deployment,
    DeploymentStatus,
    DeploymentTemplate,
    DeploymentType,
)
from .events import ContainerEvent
from .images import Image
from .stock import GpuStock

__all__ = [
    "BlacklistEntry",
    "Container",
    "ContainerEvent",
    "ContainerInfo",
    "ContainerStatus",
    "ContainerTemplate",
    "CreateDeploymentRequest",
    "DdpOverview",
    "Deployment",
    "DeploymentStatus",
    "DeploymentTemplate",
    "DeploymentType",
    "Envelope",
    "GpuStock",
    "Image",
    "Page",
    "WalletBalance",
]
