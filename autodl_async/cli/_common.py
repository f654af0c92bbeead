"""What the API commands share: client options, running a coroutine, one-line errors.

Errors reach the user as one line on stderr, ``autodl-async: error: <Type>: <message>``, with a
non-zero exit code, never as a traceback: the typed SDK errors already say what went wrong, and a
traceback would bury that. The token never appears in output: it is held as a
:class:`~autodl_async.Secret` from the moment click parses it, and any message printed is
scrubbed of it as a last line of defence.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any, Final, TypeVar

import anyio
import click

from .._client import BASE_URL_ENV, TOKEN_ENV, AutoDL
from .._config import DEFAULT_BASE_URL
from .._errors import (
    APIConnectionError,
    AuthenticationError,
    AutoDLError,
    PermissionDeniedError,
    WaitTimeoutError,
)
from .._secret import Secret
from ._render import Output

__all__ = [
    "PROG",
    "CliError",
    "CliUsageError",
    "ClientSettings",
    "Interrupted",
    "WaitFailed",
    "client_options",
    "describe",
    "output_options",
    "run",
]

PROG: Final = "autodl-async"
_MASK: Final = "**********"

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

_HINTS: Final[tuple[tuple[type[AutoDLError], str], ...]] = (
    (AuthenticationError, f"check --token or {TOKEN_ENV}"),
    (
        PermissionDeniedError,
        "this endpoint needs an enterprise-verified account (控制台 → 企业认证)",
    ),
    (APIConnectionError, "is --base-url right and reachable?"),
)


class CliError(click.ClickException):
    """A failure the user can act on: printed as one line on stderr, then exit 1."""

    exit_code = 1

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"{PROG}: error: {self.format_message()}", err=True)


class CliUsageError(CliError):
    """The invocation cannot work as given (no token, no terminal to confirm on): exit 2."""

    exit_code = 2


class WaitFailed(CliError):
    """Something did not reach the awaited state in time: exit 3."""

    exit_code = 3


class Interrupted(CliError):
    """Ctrl-C: exit 130, as shells report SIGINT."""

    exit_code = 130


def _one_line(text: str) -> str:
    return " ".join(text.split())


def describe(exc: BaseException, *, secrets: Sequence[Secret] = ()) -> str:
    """``Type: message — hint`` on one line, with every given secret masked."""
    text = f"{type(exc).__name__}: {_one_line(str(exc))}"
    for kind, hint in _HINTS:
        if isinstance(exc, kind):
            text += f" — {hint}"
            break
    for secret in secrets:
        value = secret.reveal()
        if len(value) >= 4:
            text = text.replace(value, _MASK)
    return text


def _only_autodl_error(group: BaseExceptionGroup[BaseException]) -> AutoDLError | None:
    """The SDK error inside a task group's exception group, if that is all it holds."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            leaves.append(exc)

    walk(group)
    errors = [leaf for leaf in leaves if isinstance(leaf, AutoDLError)]
    return errors[0] if errors and len(errors) == len(leaves) else None


def run(fn: Callable[[], Awaitable[T]], *, secrets: Sequence[Secret] = ()) -> T:
    """Run ``fn`` on asyncio (aiohttp needs it) and turn SDK errors into :class:`CliError`."""
    try:
        return anyio.run(fn, backend="asyncio")
    except AutoDLError as exc:
        kind = WaitFailed if isinstance(exc, WaitTimeoutError) else CliError
        raise kind(describe(exc, secrets=secrets)) from None
    except BaseExceptionGroup as group:
        error = _only_autodl_error(group)
        if error is None:
            raise
        raise CliError(describe(error, secrets=secrets)) from None
    except KeyboardInterrupt:
        raise Interrupted("interrupted") from None


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """Where to send requests and with which token; the token stays a :class:`Secret`."""

    token: Secret
    base_url: str

    def client(self) -> AutoDL:
        return AutoDL(self.token, base_url=self.base_url)

    def run(self, fn: Callable[[AutoDL], Awaitable[T]]) -> T:
        """Open a client, run ``fn`` with it, close it; errors as in :func:`run`."""

        async def call() -> T:
            async with self.client() as client:
                return await fn(client)

        return run(call, secrets=(self.token,))


def client_options(f: F) -> F:
    """Add ``--token`` and ``--base-url``; the command receives ``settings: ClientSettings``."""

    @functools.wraps(f)
    def wrapper(*args: Any, token: str | None, base_url: str, **kwargs: Any) -> Any:
        if not token or not token.strip():
            raise CliUsageError(
                f"no AutoDL token: pass --token or set {TOKEN_ENV} (控制台 → 设置 → 开发者Token)"
            )
        return f(*args, settings=ClientSettings(Secret(token.strip()), base_url), **kwargs)

    decorated = click.option(
        "--base-url",
        envvar=BASE_URL_ENV,
        show_envvar=True,
        default=DEFAULT_BASE_URL,
        show_default=True,
        metavar="URL",
        help="API host; point it at `autodl-async serve` to try things locally.",
    )(wrapper)
    decorated = click.option(
        "--token",
        envvar=TOKEN_ENV,
        show_envvar=True,
        default=None,
        metavar="TOKEN",
        help="Developer token (prefer the environment variable: flags show up in `ps`). "
        "Never printed.",
    )(decorated)
    return decorated  # type: ignore[return-value]


def output_options(*, secrets: bool = False) -> Callable[[F], F]:
    """Add ``--json`` (and ``--show-secrets``); the command receives ``out: Output``."""

    def decorate(f: F) -> F:
        @functools.wraps(f)
        def wrapper(*args: Any, json_lines: bool, show_secrets: bool = False, **kwargs: Any) -> Any:
            return f(*args, out=Output(json_lines=json_lines, show_secrets=show_secrets), **kwargs)

        decorated: Callable[..., Any] = wrapper
        if secrets:
            decorated = click.option(
                "--show-secrets",
                is_flag=True,
                help="Show root passwords (and passwords inside ssh commands) instead of a mask.",
            )(decorated)
        decorated = click.option(
            "--json",
            "json_lines",
            is_flag=True,
            help="One JSON object per line (API field names and units), for scripts and jq.",
        )(decorated)
        return decorated  # type: ignore[return-value]

    return decorate
