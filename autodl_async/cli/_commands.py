"""Read-only commands: images, GPU stock, deployments, containers, wallet balance.

Each opens one client, reads everything (all pages), and renders; nothing here changes the
account, so none of them asks for confirmation.
"""

from __future__ import annotations

import click

from .. import AutoDL
from ..types import Container, Deployment, GpuStock, Image, WalletBalance
from . import _bulk_commands as bulk
from . import _render as render
from ._common import ClientSettings, client_options, output_options
from ._render import Output
from ._warnings import warn_unknown_statuses

__all__ = ["balance", "containers", "deployments", "images", "stock"]


@click.command()
@client_options
@output_options()
def images(settings: ClientSettings, out: Output) -> None:
    """List the account's private images."""

    async def fetch(client: AutoDL) -> list[Image]:
        return await client.images.list().to_list()

    rows = settings.run(fetch)
    if out.json_lines:
        out.records(rows)
    elif rows:
        out.show(render.images_table(rows))
    else:
        out.show("no private images (save one from an instance on autodl.com)")


@click.command()
@click.argument("region")
@click.option(
    "--gpu", "gpus", multiple=True, metavar="NAME", help="Only this GPU model (repeatable)."
)
@client_options
@output_options()
def stock(region: str, gpus: tuple[str, ...], settings: ClientSettings, out: Output) -> None:
    """Idle and total GPUs per model in REGION (e.g. westDC2)."""

    async def fetch(client: AutoDL) -> dict[str, GpuStock]:
        return await client.gpu_stock.get(region, gpu_name_set=list(gpus) if gpus else None)

    rows = settings.run(fetch)
    if out.json_lines:
        out.records(rows[name] for name in sorted(rows))
    elif rows:
        out.show(render.stock_table(rows))
    else:
        out.show(f"no GPU stock reported for region {region!r} (is the region name right?)")


@click.group()
def deployments() -> None:
    """Deployments (ReplicaSet, Job, Container)."""


@deployments.command("list")
@click.option(
    "--status", type=click.Choice(["running", "stopped"]), default=None, help="Filter by status."
)
@click.option("--name", default=None, help="Exact deployment name.")
@client_options
@output_options()
def list_deployments(
    status: str | None, name: str | None, settings: ClientSettings, out: Output
) -> None:
    """List deployments, newest first."""

    async def fetch(client: AutoDL) -> list[Deployment]:
        return await client.deployments.list(status=status, name=name).to_list()

    rows = settings.run(fetch)
    if out.json_lines:
        out.records(rows)
    elif rows:
        out.show(render.deployments_table(rows))
    else:
        out.show("no deployments")


@click.group()
def containers() -> None:
    """Containers of a deployment."""


@containers.command("list")
@click.argument("deployment_uuid")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    metavar="STATUS",
    help="Only containers in this status (repeatable); default: every status.",
)
@client_options
@output_options(secrets=True)
def list_containers(
    deployment_uuid: str, statuses: tuple[str, ...], settings: ClientSettings, out: Output
) -> None:
    """List the containers of DEPLOYMENT_UUID; root passwords are masked."""
    warn_unknown_statuses(statuses)

    async def fetch(client: AutoDL) -> list[Container]:
        status = list(statuses) if statuses else None
        return await client.containers.list(deployment_uuid, status=status).to_list()

    rows = settings.run(fetch)
    if out.json_lines:
        out.records(render.container_record(c, show_secrets=out.show_secrets) for c in rows)
    elif rows:
        out.show(render.containers_table(rows, show_secrets=out.show_secrets))
    else:
        out.show("no containers")


@click.command()
@client_options
@output_options()
def balance(settings: ClientSettings, out: Output) -> None:
    """The wallet balance, in yuan."""

    async def fetch(client: AutoDL) -> WalletBalance:
        return await client.account.balance()

    wallet = settings.run(fetch)
    if out.json_lines:
        out.record(render.balance_record(wallet))
    else:
        out.show(render.balance_table(wallet))


# Bulk commands (they change things, so they live apart, with their confirmations).
containers.add_command(bulk.stop_containers)
for _command in (bulk.scale_deployments, bulk.stop_deployments, bulk.delete_deployments):
    deployments.add_command(_command)
