"""How results look: rich tables for people, one JSON object per line for programs.

JSON lines keep the API's own field names and units (``memory_size`` in bytes, prices in
yuan × 1000) so they can be compared with the doc; tables convert to what people read (GB,
¥/h, short times). Secrets are masked in both unless ``--show-secrets`` is given. Every value
from the server is wrapped in :class:`rich.text.Text` so a name like ``[red]x`` is printed as
is instead of being read as rich markup.

Tables are :class:`~._fit.FitTable`: at any width (80 columns when piped) uuids, statuses,
types and request ids are shown whole, names and messages wrap without losing a character,
and times, counts, prices and template details give way first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import click
import msgspec
from rich import box
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from .._bulk_results import BulkSummary, ItemResult, ItemStatus
from .._errors import APIStatusError
from ..types import BlacklistEntry, Container, Deployment, GpuStock, Image, WalletBalance
from ..types.containers import mask_command
from ._fit import Column, FirstFit, FitTable, Give
from ._pipes import PipeSafeConsole

__all__ = [
    "MASK",
    "Output",
    "balance_table",
    "blacklist_table",
    "bulk_item_record",
    "bulk_problems_table",
    "bulk_summary_table",
    "bulk_targets_table",
    "compact_containers_table",
    "container_record",
    "containers_table",
    "deployments_table",
    "images_table",
    "stock_table",
]

MASK: Final = "**********"

STATUS_STYLES: Final[Mapping[str, str]] = {
    "creating": "cyan",
    "created": "cyan",
    "starting": "cyan",
    "oss_merged": "cyan",
    "running": "green",
    "shutting_down": "yellow",
    "shutdown": "dim",
    "stopped": "dim",
}


class Output:
    """Where a command's results go, and in which form."""

    def __init__(
        self, *, json_lines: bool, show_secrets: bool = False, console: Console | None = None
    ) -> None:
        self.json_lines = json_lines
        self.show_secrets = show_secrets
        self.console = console or PipeSafeConsole(highlight=False)

    def record(self, obj: Any) -> None:
        """One JSON object on its own line, flushed so a pipe sees it at once."""
        click.echo(msgspec.json.encode(obj).decode())

    def records(self, objs: Iterable[Any]) -> None:
        for obj in objs:
            self.record(obj)

    def show(self, renderable: RenderableType) -> None:
        # Uncropped: a table too wide for the terminal (see _fit) keeps its right-hand side.
        self.console.print(renderable, crop=False)


def _table(title: str | None = None) -> Table:
    """Two spaces between columns and none at the edges: more room for the values."""
    return Table(
        title=title,
        box=box.SIMPLE_HEAD,
        title_justify="left",
        pad_edge=False,
        show_edge=False,
        collapse_padding=True,
    )


def _fit(*columns: Column, caption: str | None = None) -> FitTable:
    return FitTable(columns, make_table=_table, caption=caption)


_DROP: Final = Give.DROP
_FOLD: Final = Give.FOLD


def cell(value: object) -> Text:
    """Plain text, never markup."""
    return Text("" if value is None else str(value))


def status_cell(status: str, width: int = 0) -> Text:
    return Text(f"{status:<{width}}", style=STATUS_STYLES.get(status, ""))


def when(value: datetime | None) -> Text:
    """``2026-09-01 10:00:05``: the server's own offset (+08:00) is kept, not shown."""
    return cell(value.strftime("%Y-%m-%d %H:%M:%S") if value else "-")


def yuan(milli: float) -> str:
    """yuan × 1000 → ``¥1.98``."""
    return f"¥{milli / 1000:,.2f}"


# -- images --------------------------------------------------------------------------------


def images_table(images: Sequence[Image]) -> FitTable:
    table = _fit(
        Column("IMAGE UUID"),
        Column("NAME", _FOLD, fold_width=24),
        Column("ID", _DROP, justify="right"),
    )
    for image in images:
        table.add_row(cell(image.image_uuid), cell(image.display_name), cell(image.id))
    return table


# -- GPU stock ------------------------------------------------------------------------------


def stock_table(stock: Mapping[str, GpuStock]) -> FitTable:
    table = _fit(
        Column("GPU"),
        Column("IDLE", justify="right"),
        Column("TOTAL", justify="right"),
        Column("CHIP", _DROP),
        Column("ARCH", _DROP, rank=1),
    )
    for name in sorted(stock):
        row = stock[name]
        idle = Text(str(row.idle_gpu_num), style="green" if row.idle_gpu_num else "red")
        table.add_row(
            cell(name), idle, cell(row.total_gpu_num), cell(row.chip_corp), cell(row.cpu_arch)
        )
    return table


# -- deployments ----------------------------------------------------------------------------


def deployments_table(deployments: Sequence[Deployment]) -> FitTable:
    """At 80 columns: uuid, name, type, status and the running / wanted counts."""
    table = _fit(
        Column("UUID"),
        Column("NAME", _FOLD),
        Column("TYPE"),
        Column("STATUS"),
        Column("REPLICAS", _DROP, justify="right", rank=1),
        Column("STARTING", _DROP, justify="right", rank=4),
        Column("RUNNING", _DROP, justify="right", rank=0),
        Column("FINISHED", _DROP, justify="right", rank=3),
        Column("GPU", _DROP, rank=5),
        Column("CREATED", _DROP, rank=2),
    )
    for dep in deployments:
        template = dep.template
        gpus = ", ".join(template.gpu_name_set or []) if template else ""
        if template and template.gpu_num:
            gpus = f"{template.gpu_num}× {gpus}"
        table.add_row(
            cell(dep.uuid),
            cell(dep.name),
            cell(dep.deployment_type),
            status_cell(dep.status),
            cell(dep.replica_num),
            cell(dep.starting_num),
            cell(dep.running_num),
            cell(dep.finished_num),
            cell(gpus),
            when(dep.created_at),
        )
    return table


# -- containers -----------------------------------------------------------------------------


def container_record(container: Container, *, show_secrets: bool) -> dict[str, Any]:
    """The container as the API sent it, with the password (and any in ``ssh_command``)
    masked unless ``show_secrets``."""
    data: dict[str, Any] = msgspec.to_builtins(container)
    info = data.get("info")
    if isinstance(info, dict) and not show_secrets:
        if info.get("root_password"):
            info["root_password"] = MASK
        if isinstance(info.get("ssh_command"), str):
            info["ssh_command"] = mask_command(info["ssh_command"])
    return data


def _secrets(container: Container, show_secrets: bool) -> tuple[str, str]:
    """``(ssh_command, root_password)``, masked unless ``show_secrets``."""
    info = container.info
    ssh = info.ssh_command if info else ""
    password = info.root_password if info else ""
    if show_secrets:
        return ssh, password
    return mask_command(ssh), MASK if password else ""


def containers_table(containers: Sequence[Container], *, show_secrets: bool) -> FitTable:
    """How to reach each container (price, region etc.: --json). A masked password column
    is the first to go; one that is shown (``show_secrets``) stays."""
    table = _fit(
        Column("CONTAINER UUID"),
        Column("STATUS"),
        Column("GPU", _DROP, rank=1),
        Column("STARTED", _DROP, rank=2),
        Column("SSH", _FOLD, fold_width=36),
        Column("PASSWORD") if show_secrets else Column("PASSWORD", _DROP, rank=0),
    )
    for c in containers:
        ssh, password = _secrets(c, show_secrets)
        table.add_row(
            cell(c.uuid),
            status_cell(c.status),
            cell(f"{c.gpu_num}× {c.gpu_name}" if c.gpu_name else ""),
            when(c.started_at),
            cell(ssh),
            cell(password),
        )
    return table


def compact_containers_table(
    containers: Sequence[Container], *, show_secrets: bool, labels: Mapping[str, str]
) -> FitTable:
    """The demo's narrower table (fits 80 columns); the host is the uuid's middle part."""
    table = _fit(
        Column(""),
        Column("CONTAINER UUID"),
        Column("STATUS"),
        Column("¥/H", _DROP, justify="right"),
        Column("PASSWORD"),
    )
    for c in containers:
        _, password = _secrets(c, show_secrets)
        table.add_row(
            Text(labels.get(c.uuid, ""), style="bold"),
            cell(c.uuid),
            status_cell(c.status),
            cell(f"{c.price / 1000:.2f}"),
            cell(password),
        )
    return table


# -- account --------------------------------------------------------------------------------


def balance_record(wallet: WalletBalance) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.to_builtins(wallet)
    data["available_yuan"] = wallet.available_yuan
    return data


def balance_table(wallet: WalletBalance) -> Table:
    table = _table()
    table.add_column("WALLET")
    table.add_column("YUAN", justify="right")
    for label, milli in (
        ("available", wallet.assets - wallet.blocked_asset),
        ("assets", wallet.assets),
        ("frozen", wallet.blocked_asset),
        ("vouchers", wallet.voucher_balance),
        ("spent so far", wallet.accumulate),
    ):
        table.add_row(cell(label), cell(yuan(milli)))
    return table


def blacklist_table(entries: Sequence[BlacklistEntry]) -> FitTable:
    table = _fit(
        Column("MACHINE"),
        Column("REGION"),
        Column("UNTIL", _DROP),
        Column("COMMENT", _FOLD),
    )
    for entry in entries:
        table.add_row(
            cell(entry.machine_id),
            cell(entry.data_center),
            when(entry.expired_time),
            cell(entry.msg),
        )
    return table


# -- bulk operations ------------------------------------------------------------------------

#: How each final item status reads in a summary.
BULK_STATUS_LABELS: Final[Mapping[ItemStatus, str]] = {
    ItemStatus.SUCCEEDED: "succeeded",
    ItemStatus.FAILED: "failed",
    ItemStatus.CANCELLED: "cancelled (outcome unknown)",
    ItemStatus.NOT_RUN: "not run (nothing sent)",
}
_BULK_STYLES: Final[Mapping[ItemStatus, str]] = {
    ItemStatus.SUCCEEDED: "green",
    ItemStatus.FAILED: "red",
    ItemStatus.CANCELLED: "yellow",
    ItemStatus.NOT_RUN: "dim",
}


def bulk_targets_table(
    columns: Sequence[tuple[Column, str]], rows: Sequence[Mapping[str, Any]]
) -> FitTable:
    """A dry run's targets: ``columns`` are ``(column, key)`` pairs read from each row."""
    table = _fit(*(column for column, _ in columns))
    for row in rows:
        table.add_row(*(cell(row.get(key)) for _, key in columns))
    return table


def bulk_summary_table(summary: BulkSummary) -> Table:
    """Counts per outcome; zero rows other than succeeded/failed are left out."""
    table = _table()
    table.add_column("RESULT")
    table.add_column("COUNT", justify="right")
    counts = {
        ItemStatus.SUCCEEDED: summary.succeeded,
        ItemStatus.FAILED: summary.failed,
        ItemStatus.CANCELLED: summary.cancelled,
        ItemStatus.NOT_RUN: summary.not_run,
    }
    for status, count in counts.items():
        if count or status in (ItemStatus.SUCCEEDED, ItemStatus.FAILED):
            label = Text(BULK_STATUS_LABELS[status], style=_BULK_STYLES[status] if count else "")
            table.add_row(label, cell(count))
    table.add_row(Text("total", style="bold"), cell(summary.total))
    return table


def _error_parts(error: BaseException | None) -> tuple[str, str, str]:
    """``(type and code, message as sent, request id)`` of an item's error."""
    if error is None:
        return "", "", ""
    if isinstance(error, APIStatusError):
        return f"{type(error).__name__} {error.code}", error.msg, error.request_id or ""
    return type(error).__name__, " ".join(str(error).split()), ""


def bulk_problems_table(
    items: Sequence[ItemResult[str, Any]], *, scrub: Callable[[str], str], limit: int = 20
) -> FirstFit:
    """Items that failed or were cut off mid-call, at most ``limit`` (``--json`` has all).

    Wide terminals get one line per item; narrower ones (80 columns: two 32-character ids do
    not fit beside an error) put the request id on its own line under the error, whole.
    """
    shown = items[:limit]
    caption = f"... and {len(items) - limit} more (--json lists every item)"
    caption_or_none = caption if len(items) > limit else None
    wide = _fit(
        Column("UUID"),
        Column("RESULT"),
        Column("ERROR", _FOLD),
        Column("MESSAGE", _FOLD, fold_width=16),
        Column("REQUEST ID"),
        caption=caption_or_none,
    )
    narrow = _fit(
        Column("UUID"),
        Column("RESULT"),
        Column("ERROR / REQUEST ID", _FOLD, fold_width=32),
        caption=caption_or_none,
    )
    for item in shown:
        kind, message, request_id = _error_parts(item.error)
        message = scrub(message)
        result = Text(item.status.value, style=_BULK_STYLES.get(item.status, ""))
        wide.add_row(cell(item.item), result, cell(kind), cell(message), cell(request_id))
        error = Text(": ".join(part for part in (kind, message) if part))
        if request_id:
            error.append("\n" + request_id, style="dim")
        narrow.add_row(cell(item.item), result, error)
    return FirstFit(wide, narrow)


def bulk_item_record(
    item: ItemResult[str, Any], *, action: str, scrub: Callable[[str], str], **extra: Any
) -> dict[str, Any]:
    """One item of a bulk run for ``--json``: the uuid, what was done, how it ended, and
    the error's type, API ``code``, ``msg`` (as sent) and ``request_id`` when it failed."""
    record: dict[str, Any] = {"uuid": item.item, "action": action, **extra}
    record["status"] = item.status.value
    record["runs"] = item.runs
    record["elapsed"] = None if item.elapsed is None else round(item.elapsed, 4)
    error = item.error
    if error is None:
        record["error"] = None
    else:
        detail: dict[str, Any] = {"type": type(error).__name__, "message": scrub(str(error))}
        if isinstance(error, APIStatusError):
            detail.update(
                code=error.code,
                msg=scrub(error.msg),
                http_status=error.http_status,
                request_id=error.request_id,
            )
        record["error"] = detail
    return record
