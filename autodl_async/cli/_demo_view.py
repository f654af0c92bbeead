"""The demo on a terminal: numbered steps, one line per container event, small tables."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from rich.console import Console
from rich.text import Text

from ..types import BlacklistEntry, Container, ContainerEvent, GpuStock, Image
from . import _render as render

__all__ = ["RichDemoView"]


class RichDemoView:
    """Implements ``_demo.DemoView`` with rich; ``show_secrets`` unmasks root passwords."""

    def __init__(self, console: Console, *, show_secrets: bool = False) -> None:
        self.console = console
        self.show_secrets = show_secrets
        self._steps = 0
        self._started = time.monotonic()

    def _clock(self) -> str:
        return f"{time.monotonic() - self._started:5.1f}s"

    def banner(self, text: str) -> None:
        self.console.print(Text(text, style="bold"))

    def step(self, title: str) -> None:
        self._steps += 1
        self.console.print()
        self.console.rule(Text(f"{self._steps}. {title}", style="bold"), align="left", style="blue")

    def note(self, text: str) -> None:
        self.console.print(Text("  " + text))

    def ok(self, text: str) -> None:
        self.console.print(Text.assemble(("  ✓ ", "green"), text))

    def warn(self, text: str) -> None:
        self.console.print(Text.assemble(("  ! ", "bold yellow"), (text, "yellow")))

    def event(self, label: str, event: ContainerEvent, *, first: bool) -> None:
        at = event.created_at.strftime("%H:%M:%S") if event.created_at else "--:--:--"
        line = Text.assemble(
            ("    " + self._clock() + "  ", "dim"),
            (at + "  ", "dim"),
            (f"{label:<6} ", "bold"),
            render.status_cell(event.status, 13),
        )
        if first:
            line.append(f" {event.deployment_container_uuid}", style="dim")
        self.console.print(line)

    def images(self, images: Sequence[Image]) -> None:
        self.console.print(render.images_table(images))

    def stock(self, stock: Mapping[str, GpuStock]) -> None:
        self.console.print(render.stock_table(stock))

    def containers(self, containers: Sequence[Container], labels: Mapping[str, str]) -> None:
        self.console.print(
            render.compact_containers_table(
                containers, show_secrets=self.show_secrets, labels=labels
            )
        )

    def blacklist(self, entries: Sequence[BlacklistEntry]) -> None:
        self.console.print(render.blacklist_table(entries))
