"""``autodl-async events DEPLOYMENT_UUID``: a deployment's container events, oldest first.

Without ``--follow`` it prints what is stored and exits; with it, it keeps polling and prints
each new event as it comes, one line each, flushed at once so ``| jq`` sees it immediately.
``--cursor-file`` makes runs pick up where the last one stopped: the cursor is written (via a
temporary file and a rename, so a crash never leaves half a cursor) after each event is
printed. An event printed just before a crash may therefore be printed again by the next run;
none is ever skipped. Whether the cursor can be written at all is checked before anything is
printed, so a mistyped directory fails at once rather than after the first event.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Literal

import click
import msgspec
from rich.text import Text

from .. import AutoDL
from .._errors import InvalidParameterError
from .._event_cursor import EventCursor
from .._event_stream import EventStream
from ..types.events import ContainerEvent
from ._common import ClientSettings, CliError, CliUsageError, client_options
from ._render import STATUS_STYLES, Output

__all__ = ["events"]

Format = Literal["json", "text"]


def _load_cursor(path: Path | None) -> EventCursor | None:
    if path is None or not path.exists():
        return None
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise CliError(f"cannot read cursor file {path}: {exc.strerror or exc}") from None
    if not text:
        return None
    try:
        return EventCursor.decode(text)
    except InvalidParameterError as exc:
        raise CliError(f"cursor file {path}: {exc}") from None


def _temporary(path: Path) -> Path:
    return path.with_name(path.name + ".tmp")


def _check_writable(path: Path) -> None:
    """Create and remove the file :func:`_save_cursor` writes first: the real test (a mere
    permission check is wrong for root and ignores a missing directory)."""
    temporary = _temporary(path)
    try:
        temporary.write_bytes(b"")
        temporary.unlink()
    except OSError as exc:
        raise CliUsageError(f"cannot write cursor file {path}: {exc.strerror or exc}") from None


def _save_cursor(path: Path, cursor: EventCursor) -> None:
    temporary = _temporary(path)
    try:
        temporary.write_text(cursor.encode() + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        raise CliError(f"cannot save cursor to {path}: {exc.strerror or exc}") from None


def _record(deployment_uuid: str, event: ContainerEvent) -> dict[str, Any]:
    return {"deployment_uuid": deployment_uuid, **msgspec.structs.asdict(event)}


def _line(event: ContainerEvent) -> Text:
    when = event.created_at.strftime("%Y-%m-%d %H:%M:%S") if event.created_at else "-" * 19
    text = Text(f"{when}  ")
    text.append(f"{event.status:<14}", style=STATUS_STYLES.get(event.status, ""))
    text.append(f"  {event.deployment_container_uuid}")
    return text


@click.command()
@click.argument("deployment_uuid")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events (Ctrl-C stops).")
@click.option("--container", "container_uuid", metavar="UUID", help="Only this container.")
@click.option(
    "--since",
    type=click.Choice(["beginning", "now"]),
    default="beginning",
    show_default=True,
    help="Start with the stored events, or only new ones (ignored with a saved cursor).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "text"]),
    default=None,
    help="json: one object per line (default when piped); text: one readable line per event "
    "(default on a terminal).",
)
@click.option("--json", "json_flag", is_flag=True, help="Same as --format json.")
@click.option(
    "--cursor-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Resume from the cursor saved here, and save it after every event.",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=1.0,
    show_default=True,
    help="Seconds between polls while events flow.",
)
@click.option(
    "--max-interval",
    type=click.FloatRange(min=0.05),
    default=10.0,
    show_default=True,
    help="Seconds between polls when idle.",
)
@click.option(
    "--until-stopped",
    is_flag=True,
    help="With --follow: exit once the deployment is stopped and its containers shut down.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="With --follow: exit after this many seconds.",
)
@client_options
def events(
    deployment_uuid: str,
    follow: bool,
    container_uuid: str | None,
    since: Literal["beginning", "now"],
    fmt: Format | None,
    json_flag: bool,
    cursor_file: Path | None,
    interval: float,
    max_interval: float,
    until_stopped: bool,
    timeout: float | None,
    settings: ClientSettings,
) -> None:
    """A deployment's container events, oldest first; --follow keeps watching."""
    chosen: Format = "json" if json_flag else (fmt or ("text" if sys.stdout.isatty() else "json"))
    if max_interval < interval:
        raise click.BadParameter("must be >= --interval", param_hint="--max-interval")
    cursor = _load_cursor(cursor_file)
    if cursor_file is not None:
        _check_writable(cursor_file)
    out = Output(json_lines=chosen == "json")

    async def watch(client: AutoDL) -> EventStream:
        stream = client.events.stream(
            deployment_uuid,
            cursor=cursor,
            container_uuid=container_uuid,
            start="beginning" if cursor is not None else since,
            min_interval=interval,
            max_interval=max_interval,
            until_caught_up=not follow,
            until_stopped=follow and until_stopped,
            timeout=timeout if follow else None,
        )
        async with stream:
            async for event in stream:
                if out.json_lines:
                    out.record(_record(deployment_uuid, event))
                else:
                    out.show(_line(event))
                if cursor_file is not None:
                    _save_cursor(cursor_file, stream.cursor)
        return stream

    stream = settings.run(watch)  # a reader that goes away (`| head`): see _pipes
    if not out.json_lines and follow and stream.end_reason not in (None, "closed"):
        click.echo(f"events: stream ended ({stream.end_reason})", err=True)
