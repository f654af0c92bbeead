"""Bulk commands: stop many containers; scale, stop or delete many deployments.

They all run the same way (:func:`execute`), because an operator acting on a fleet needs the
same guarantees whatever the action:

- the targets are resolved first; ``--dry-run`` lists them and stops there, having sent only
  reads;
- anything that costs or destroys is confirmed on the terminal unless ``--yes`` is given, or
  the API is a local simulator (plain http on loopback, e.g. ``autodl-async serve``), where
  nothing is billed. With no terminal and no ``--yes`` the command refuses (exit 2) rather
  than guess;
- progress goes to stderr (a rich bar on a terminal, a plain line per tenth otherwise), so
  stdout carries only the report: a summary table, or with ``--json`` one object per item;
- any item that did not succeed makes the exit code 1, and Ctrl-C still reports what was done
  before exiting 130.
"""

from __future__ import annotations

import functools
import ipaddress
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Protocol, TypeVar
from urllib.parse import urlsplit

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .. import AutoDL
from .._bulk import DEFAULT_CONCURRENCY, BulkJob
from .._bulk_results import BulkResult, ItemStatus
from ..resources.bulk import ACTIVE_CONTAINER_STATUSES, BulkOptions
from . import _render as render
from ._common import (
    ClientSettings,
    CliError,
    CliUsageError,
    Interrupted,
    client_options,
    output_options,
)
from ._fit import Column, Give
from ._pipes import tolerate
from ._render import Output
from ._warnings import warn_unknown_statuses

__all__ = [
    "delete_deployments",
    "is_local_simulator",
    "scale_deployments",
    "stdin_is_interactive",
    "stop_containers",
    "stop_deployments",
]

F = TypeVar("F", bound=Callable[..., Any])

_MASK: Final = "**********"
#: Rows of the failures table before it says "and N more".
_PROBLEM_ROWS: Final = 20


# -- deciding whether to ask ----------------------------------------------------------------


def is_local_simulator(base_url: str) -> bool:
    """Plain http on a loopback host: the simulator, where nothing costs money.

    The real API is https; the client refuses plain http anywhere but loopback, so this cannot
    be a paid account reached by accident.
    """
    parts = urlsplit(base_url)
    host = (parts.hostname or "").strip("[]")
    if parts.scheme != "http" or not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def stdin_is_interactive() -> bool:
    """Whether a person can answer a prompt (a function so tests can say yes)."""
    return sys.stdin.isatty()


def _lower_first(text: str) -> str:
    """Lower-case only the first letter: a uuid later in the text keeps its case."""
    return text[:1].lower() + text[1:]


def confirm(question: str, *, base_url: str, yes: bool) -> None:
    """Return if the action may go ahead; raise (having sent nothing) if not."""
    if yes or is_local_simulator(base_url):
        return
    if not stdin_is_interactive():
        raise CliUsageError(
            f"refusing to {_lower_first(question)} without a terminal to confirm on; "
            "pass --yes to go ahead (or --dry-run to look first)"
        )
    try:
        agreed = click.confirm(f"{question}?", default=False, err=True)
    except click.Abort:
        agreed = False
    if not agreed:
        raise CliError("cancelled at the prompt; nothing was sent")


# -- progress -------------------------------------------------------------------------------


class ProgressDisplay:
    """``on_progress(done, failed, total)`` drawn on stderr.

    A live rich bar when stderr is an interactive terminal; otherwise a plain line at the
    start, at every tenth and at the end, which a log file or CI console can hold.
    """

    def __init__(self, label: str, console: Console) -> None:
        self.label = label
        self.console = console
        self.live = console.is_interactive
        self._bar: Progress | None = None
        self._task: Any = None
        self._printed = -1

    def __enter__(self) -> ProgressDisplay:
        if self.live:
            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[failed]} failed"),
                TimeElapsedColumn(),
                console=self.console,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=None, failed=0)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def update(self, done: int, failed: int, total: int) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=done, total=total, failed=failed)
            return
        tenth = done * 10 // total if total else 10
        if tenth > self._printed:
            self._printed = tenth
            click.echo(f"{self.label}: {done}/{total} done, {failed} failed", err=True)


# -- what a bulk command acts on ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunOptions:
    """The options every bulk command shares."""

    concurrency: int
    fail_fast: bool
    requests_per_second: float | None
    dry_run: bool
    yes: bool

    def bulk_options(self, on_progress: Callable[[int, int, int], object]) -> BulkOptions:
        return BulkOptions(
            concurrency=self.concurrency,
            fail_fast=self.fail_fast,
            requests_per_second=self.requests_per_second,
            on_progress=on_progress,
        )


class JobFactory(Protocol):
    def __call__(
        self, client: AutoDL, uuids: list[str], options: BulkOptions
    ) -> BulkJob[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Plan:
    """One bulk command: how to find its targets, describe them, ask, and act."""

    action: str  # "stop", "scale", "delete": the JSON records' "action"
    noun: str  # "container" or "deployment"
    doing: str  # "stopping": the progress label's verb
    done: str  # "stopped": for the exit message
    question: Callable[[int], str]  # "Stop 3 containers" for n targets
    targets: Callable[[AutoDL, bool], Awaitable[list[dict[str, Any]]]]  # (client, detailed)
    make_job: JobFactory
    columns: Sequence[tuple[Column, str]] = ((Column("UUID"), "uuid"),)
    extra: dict[str, Any] = field(default_factory=dict)  # added to every JSON record
    # What to point out before acting and in a dry run, given the targets and whether they
    # were looked up (a dry run's are; a real run sends no reads it does not need).
    notes: Callable[[Sequence[dict[str, Any]], bool], Sequence[str]] = lambda targets, seen: ()
    nothing: str = "nothing to do"

    def plural(self, n: int) -> str:
        return f"{n} {self.noun}{'' if n == 1 else 's'}"


@dataclass(slots=True)
class _Outcome:
    targets: list[dict[str, Any]]
    result: BulkResult[str, Any] | None = None


def execute(plan: Plan, run: RunOptions, settings: ClientSettings, out: Output) -> None:
    """Resolve, (dry run | confirm, run with progress), report, exit non-zero on any failure."""
    progress = ProgressDisplay(f"{plan.doing} {plan.noun}s", Console(stderr=True, highlight=False))
    jobs: list[BulkJob[str, Any]] = []

    async def main(client: AutoDL) -> _Outcome:
        client.bulk.reserve_pool(run.concurrency)  # before listing opens the pool
        targets = await plan.targets(client, run.dry_run)
        if not targets or run.dry_run:
            return _Outcome(targets)
        for note in plan.notes(targets, False):
            click.echo(f"note: {note}", err=True)
        confirm(plan.question(len(targets)), base_url=settings.base_url, yes=run.yes)
        uuids = [t["uuid"] for t in targets]
        job = plan.make_job(client, uuids, run.bulk_options(progress.update))
        jobs.append(job)
        with progress:
            await job
        return _Outcome(targets, job.result)

    scrub = _scrubber(settings)
    try:
        outcome = settings.run(main)
    except Interrupted:
        if jobs and jobs[0].result.finished:
            _report(plan, jobs[0].result, out, scrub)
        raise
    if not outcome.targets:
        if not out.json_lines:
            out.show(plan.nothing)
        return
    if outcome.result is None:
        _show_dry_run(plan, outcome.targets, out)
        return
    with tolerate():  # nobody reads the report: the exit code must still say what happened
        _report(plan, outcome.result, out, scrub)
    result = outcome.result
    if not result.ok:
        summary = result.summary()
        missed = result.total - result.succeeded
        detail = f" ({', '.join(f'{k} {v}' for k, v in summary.errors.items())})"
        raise CliError(
            f"{missed} of {plan.plural(result.total)} not {plan.done}"
            + (detail if summary.errors else "")
            + (f"; stopped early: {result.stopped}" if result.stopped else "")
        )


def _scrubber(settings: ClientSettings) -> Callable[[str], str]:
    token = settings.token.reveal()

    def scrub(text: str) -> str:
        return text.replace(token, _MASK) if len(token) >= 4 else text

    return scrub


def _show_dry_run(plan: Plan, targets: list[dict[str, Any]], out: Output) -> None:
    if out.json_lines:
        out.records({**t, "action": plan.action, **plan.extra, "dry_run": True} for t in targets)
        return
    out.show(f"dry run: would {_lower_first(plan.question(len(targets)))}; nothing was sent")
    out.show(render.bulk_targets_table(plan.columns, [{**t, **plan.extra} for t in targets]))
    for note in plan.notes(targets, True):
        out.show(f"note: {note}")


def _report(
    plan: Plan, result: BulkResult[str, Any], out: Output, scrub: Callable[[str], str]
) -> None:
    summary = result.summary()
    if out.json_lines:
        out.records(
            render.bulk_item_record(r, action=plan.action, scrub=scrub, **plan.extra)
            for r in result
        )
        click.echo(f"{plan.noun}s: {summary}", err=True)
        return
    out.show(render.bulk_summary_table(summary))
    line = f"{plan.plural(summary.total)} in {summary.elapsed:.2f}s"
    if summary.rate_limited:
        line += (
            f"; rate limited {summary.rate_limited}x, concurrency lowered to "
            f"{summary.lowest_concurrency}"
        )
    if result.stopped:
        line += f"; stopped early: {result.stopped}"
    out.show(line)
    problems = [r for r in result if r.status in (ItemStatus.FAILED, ItemStatus.CANCELLED)]
    if problems:
        out.show(render.bulk_problems_table(problems, scrub=scrub, limit=_PROBLEM_ROWS))


# -- shared options -------------------------------------------------------------------------


def run_options(f: F) -> F:
    """``--concurrency``, ``--requests-per-second``, ``--fail-fast``, ``--dry-run``, ``--yes``;
    the command receives ``run: RunOptions``."""

    @functools.wraps(f)
    def wrapper(
        *args: Any,
        concurrency: int,
        requests_per_second: float | None,
        fail_fast: bool,
        dry_run: bool,
        yes: bool,
        **kwargs: Any,
    ) -> Any:
        options = RunOptions(concurrency, fail_fast, requests_per_second, dry_run, yes)
        return f(*args, run=options, **kwargs)

    decorated: Callable[..., Any] = wrapper
    for option in reversed(
        (
            click.option(
                "--concurrency",
                type=click.IntRange(min=1, max=1000),
                default=DEFAULT_CONCURRENCY,
                show_default=True,
                help="Most calls in flight (lowered automatically while the API says 429).",
            ),
            click.option(
                "--requests-per-second",
                type=click.FloatRange(min=0, min_open=True),
                default=None,
                metavar="N",
                help="Start at most N calls per second.",
            ),
            click.option(
                "--fail-fast", is_flag=True, help="Stop at the first failure (the rest not run)."
            ),
            click.option(
                "--dry-run", is_flag=True, help="List the targets and stop; nothing is changed."
            ),
            click.option(
                "-y",
                "--yes",
                is_flag=True,
                help="Do not ask before acting (required without a terminal, except against "
                "a local simulator).",
            ),
        )
    ):
        decorated = option(decorated)
    return decorated  # type: ignore[return-value]


def _uuid_rows(uuids: Sequence[str]) -> list[dict[str, Any]]:
    return [{"uuid": u} for u in dict.fromkeys(uuids)]


# -- containers stop ------------------------------------------------------------------------


@click.command("stop")
@click.argument("container_uuids", nargs=-1, metavar="[CONTAINER_UUID]...")
@click.option(
    "--deployment",
    "deployment_uuid",
    metavar="UUID",
    default=None,
    help="With --all: the deployment whose containers to stop.",
)
@click.option("--all", "all_containers", is_flag=True, help="Every live container of --deployment.")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    metavar="STATUS",
    help="With --all: only containers in this status (repeatable); default: every live one "
    f"({', '.join(ACTIVE_CONTAINER_STATUSES)}).",
)
@click.option(
    "--decrease-replicas",
    "--decrease-one-replica-num",
    "decrease",
    is_flag=True,
    help="Lower the ReplicaSet's replica count per stop, so it is not replaced.",
)
@click.option("--no-cache", is_flag=True, help="Keep stopped containers out of the reuse pool.")
@click.option(
    "--cmd-before-shutdown",
    metavar="CMD",
    default=None,
    help="Run CMD in each container first (at most 5 s).",
)
@run_options
@client_options
@output_options()
def stop_containers(
    container_uuids: tuple[str, ...],
    deployment_uuid: str | None,
    all_containers: bool,
    statuses: tuple[str, ...],
    decrease: bool,
    no_cache: bool,
    cmd_before_shutdown: str | None,
    run: RunOptions,
    settings: ClientSettings,
    out: Output,
) -> None:
    """Stop containers: CONTAINER_UUID..., or every live one with --deployment UUID --all."""
    if all_containers != (deployment_uuid is not None):
        raise CliUsageError("--all and --deployment UUID go together: stop every live container")
    if all_containers and container_uuids:
        raise CliUsageError("give container uuids, or --deployment UUID --all, not both")
    if not all_containers and not container_uuids:
        raise CliUsageError("give container uuids, or --deployment UUID --all")
    if statuses and not all_containers:
        raise CliUsageError("--status only applies with --deployment UUID --all")

    def make_job(client: AutoDL, uuids: list[str], options: BulkOptions) -> BulkJob[str, Any]:
        return client.bulk.stop_containers(
            uuids,
            decrease_one_replica_num=decrease,
            no_cache=True if no_cache else None,
            cmd_before_shutdown=cmd_before_shutdown,
            **options,
        )

    warn_unknown_statuses(statuses)
    replaced: Sequence[str] = ()
    if all_containers and not decrease:
        replaced = (
            "a ReplicaSet starts a new container for each one stopped; "
            "--decrease-replicas stops them for good",
        )
    wanted = list(statuses) if statuses else list(ACTIVE_CONTAINER_STATUSES)
    if all_containers:
        assert deployment_uuid is not None
        dep = deployment_uuid

        async def listed(client: AutoDL, detailed: bool) -> list[dict[str, Any]]:
            found = await client.bulk.resolve_containers(dep, statuses=wanted)
            return [
                {
                    "uuid": c.uuid,
                    "deployment_uuid": c.deployment_uuid or dep,
                    "status": c.status,
                    "gpu_name": c.gpu_name,
                    "machine_id": c.machine_id,
                }
                for c in found
            ]

        plan = Plan(
            action="stop",
            noun="container",
            doing="stopping",
            done="stopped",
            question=lambda n: f"Stop {n} container{'s' if n != 1 else ''} of deployment {dep}",
            targets=listed,
            make_job=make_job,
            columns=(
                (Column("CONTAINER UUID"), "uuid"),
                (Column("STATUS"), "status"),
                (Column("GPU", Give.DROP), "gpu_name"),
                (Column("HOST", Give.DROP, rank=1), "machine_id"),
            ),
            notes=lambda targets, seen: replaced,
            nothing=f"no containers of {dep} in status {', '.join(wanted)}: nothing to do",
        )
    else:
        rows = _uuid_rows(container_uuids)

        async def given(client: AutoDL, detailed: bool) -> list[dict[str, Any]]:
            return rows

        plan = Plan(
            action="stop",
            noun="container",
            doing="stopping",
            done="stopped",
            question=lambda n: f"Stop {n} container{'s' if n != 1 else ''}",
            targets=given,
            make_job=make_job,
            columns=((Column("CONTAINER UUID"), "uuid"),),
        )
    execute(plan, run, settings, out)


# -- deployments scale / stop / delete ------------------------------------------------------

_DEPLOYMENT_COLUMNS: Final = (
    (Column("DEPLOYMENT UUID"), "uuid"),
    (Column("NAME", Give.FOLD), "name"),
    (Column("TYPE"), "deployment_type"),
    (Column("STATUS"), "status"),
    (Column("REPLICAS", Give.DROP, justify="right"), "current_replica_num"),
)


def _deployment_targets(
    uuids: Sequence[str], concurrency: int
) -> Callable[[AutoDL, bool], Awaitable[list[dict[str, Any]]]]:
    """The given uuids; for a dry run, each looked up (reads only) to show what it is."""
    rows = _uuid_rows(uuids)

    async def targets(client: AutoDL, detailed: bool) -> list[dict[str, Any]]:
        if not detailed:
            return rows
        found = await client.bulk.run(
            [r["uuid"] for r in rows], client.deployments.get, concurrency=concurrency
        )
        described: list[dict[str, Any]] = []
        for item in found:
            dep = item.value if item.ok else None
            if dep is None:
                why = type(item.error).__name__ if item.error else item.status.value
                described.append({"uuid": item.item, "found": False, "status": f"? ({why})"})
                continue
            described.append(
                {
                    "uuid": item.item,
                    "found": True,
                    "name": dep.name,
                    "deployment_type": dep.deployment_type,
                    "status": dep.status,
                    "current_replica_num": dep.replica_num,
                }
            )
        return described

    return targets


_UUIDS: Final = click.argument("deployment_uuids", nargs=-1, required=True, metavar="UUID...")


def _scale_notes(replica_num: int, targets: Sequence[dict[str, Any]], seen: bool) -> list[str]:
    """The cost warning, when it can apply: a dry run knows each current count, so it warns
    only about deployments it found that would grow; a real run warns for any N above 0."""
    if not seen:
        return ["scaling up starts paid containers"] if replica_num else []
    growing = [
        t for t in targets if t.get("found") and (t.get("current_replica_num") or 0) < replica_num
    ]
    if not growing:
        return []
    n = len(growing)
    return [f"scaling up {n} deployment{'' if n == 1 else 's'} starts paid containers"]


@click.command("scale")
@_UUIDS
@click.option(
    "--replicas",
    "replica_num",
    type=click.IntRange(min=0),
    required=True,
    metavar="N",
    help="The replica count to set on every given ReplicaSet.",
)
@run_options
@client_options
@output_options()
def scale_deployments(
    deployment_uuids: tuple[str, ...],
    replica_num: int,
    run: RunOptions,
    settings: ClientSettings,
    out: Output,
) -> None:
    """Set the replica count of ReplicaSets UUID... to N (more replicas cost more)."""

    def make_job(client: AutoDL, uuids: list[str], options: BulkOptions) -> BulkJob[str, Any]:
        return client.bulk.scale(uuids, replica_num, **options)

    plan = Plan(
        action="scale",
        noun="deployment",
        doing="scaling",
        done="scaled",
        question=lambda n: (
            f"Scale {n} deployment{'s' if n != 1 else ''} to {replica_num} "
            f"replica{'s' if replica_num != 1 else ''}"
        ),
        targets=_deployment_targets(deployment_uuids, run.concurrency),
        make_job=make_job,
        columns=(*_DEPLOYMENT_COLUMNS, (Column("→ REPLICAS", justify="right"), "replica_num")),
        extra={"replica_num": replica_num},
        notes=functools.partial(_scale_notes, replica_num),
    )
    execute(plan, run, settings, out)


@click.command("stop")
@_UUIDS
@run_options
@client_options
@output_options()
def stop_deployments(
    deployment_uuids: tuple[str, ...], run: RunOptions, settings: ClientSettings, out: Output
) -> None:
    """Stop deployments UUID... (every container of each)."""

    def make_job(client: AutoDL, uuids: list[str], options: BulkOptions) -> BulkJob[str, Any]:
        return client.bulk.stop_deployments(uuids, **options)

    plan = Plan(
        action="stop",
        noun="deployment",
        doing="stopping",
        done="stopped",
        question=lambda n: f"Stop {n} deployment{'s' if n != 1 else ''} and all their containers",
        targets=_deployment_targets(deployment_uuids, run.concurrency),
        make_job=make_job,
        columns=_DEPLOYMENT_COLUMNS,
    )
    execute(plan, run, settings, out)


@click.command("delete")
@_UUIDS
@run_options
@client_options
@output_options()
def delete_deployments(
    deployment_uuids: tuple[str, ...], run: RunOptions, settings: ClientSettings, out: Output
) -> None:
    """Delete deployments UUID... (each is stopped first if it still runs)."""

    def make_job(client: AutoDL, uuids: list[str], options: BulkOptions) -> BulkJob[str, Any]:
        return client.bulk.delete_deployments(uuids, **options)

    plan = Plan(
        action="delete",
        noun="deployment",
        doing="deleting",
        done="deleted",
        question=lambda n: f"Delete {n} deployment{'s' if n != 1 else ''} (cannot be undone)",
        targets=_deployment_targets(deployment_uuids, run.concurrency),
        make_job=make_job,
        columns=_DEPLOYMENT_COLUMNS,
    )
    execute(plan, run, settings, out)
