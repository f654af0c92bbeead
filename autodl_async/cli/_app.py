"""The ``autodl-async`` command group; each command lives in its own module."""

from __future__ import annotations

import click

from .. import __version__
from ._commands import balance, containers, deployments, images, stock
from ._demo_command import demo
from ._events import events
from ._pipes import QuietPipeGroup
from ._serve import serve
from ._warnings import sdk_warnings_to_stderr

__all__ = ["cli"]


@click.group(
    cls=QuietPipeGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "-V", "--version", prog_name="autodl-async")
def cli() -> None:
    """Command-line tool for AutoDL Elastic Deployment (弹性部署).

    Start with `autodl-async demo` (no account needed: it runs an embedded simulator).
    API commands read the token from AUTODL_TOKEN (or --token) and never print it.
    """
    click.get_current_context().with_resource(sdk_warnings_to_stderr())


for command in (demo, serve, images, stock, deployments, containers, balance, events):
    cli.add_command(command)
