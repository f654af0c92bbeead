"""An embedded simulator of AutoDL's Elastic Deployment (弹性部署) API.

It speaks the wire format of the official doc as corrected by live observations, with real
scheduling over a seeded fleet, container lifecycles on a (virtual) clock, an event log and
scriptable transport faults. It deliberately imports nothing from the rest of `autodl_async`:
the SDK and the simulator are each checked against the doc, so they cannot share a mistake.
"""

from ._clock import DEFAULT_EPOCH, VirtualClock, WallClock
from ._config import DdpPackage, SimulatorConfig, Timings
from ._fault_specs import FaultSpecError, load_fault_file, parse_fault_spec
from ._faults import FaultHandle, FaultRule, FaultSet
from ._persistence import StateFileError
from ._recorder import RequestRecord
from ._server import Simulator, run_standalone
from ._snapshots import (
    BlacklistSnapshot,
    ContainerSnapshot,
    DeploymentSnapshot,
    EventSnapshot,
    MachineSnapshot,
)
from ._state import Template
from ._world import PrivateImage

__all__ = [
    "DEFAULT_EPOCH",
    "BlacklistSnapshot",
    "ContainerSnapshot",
    "DdpPackage",
    "DeploymentSnapshot",
    "EventSnapshot",
    "FaultHandle",
    "FaultRule",
    "FaultSet",
    "FaultSpecError",
    "MachineSnapshot",
    "PrivateImage",
    "RequestRecord",
    "Simulator",
    "SimulatorConfig",
    "StateFileError",
    "Template",
    "Timings",
    "VirtualClock",
    "WallClock",
    "load_fault_file",
    "parse_fault_spec",
    "run_standalone",
]
