"""One class per API area; each calls the shared transport."""

from .account import Account
from .blacklist import Blacklist
from .containers import Containers
from .deployments import Deployments
from .events import Events
from .images import Images
from .stock import GpuStocks

__all__ = ["Account", "Blacklist", "Containers", "Deployments", "Events", "GpuStocks", "Images"]
