"""Type checks for the arguments of public resource methods, from their own annotations.

Python does not check annotations, so ``list_page(page_size="10")`` would otherwise fail deep
inside as a bare ``TypeError`` (a comparison, the JSON encoder) or reach the server as an odd
body and come back as a nameless 请求参数错误. :func:`checked` reads each method's type hints
once, and on every call checks the arguments given against them, raising
:class:`InvalidParameterError` that names the parameter. The common case (a ``str`` where a
``str`` is expected) is a set lookup, so it costs next to nothing on the hot path.

Supported annotations: ``str``, ``int`` (not ``bool``), ``float`` (``int`` accepted),
``bool``, ``None``, classes (``isinstance``), ``Literal[...]``, ``list[X]``, unions, and
``Any``. ``timeout``/``deadline`` are left to the transport, which checks them itself.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, Final, TypeVar, cast

from .._errors import InvalidParameterError

__all__ = ["checked"]

F = TypeVar("F", bound=Callable[..., Any])

_LEFT_TO_TRANSPORT: Final = frozenset({"self", "timeout", "deadline"})
_SIMPLE: Final = (str, int, float, bool, type(None))


def _describe(kind: Any) -> str:
    if kind is type(None):
        return "None"
    if isinstance(kind, type):
        return kind.__name__
    return str(kind).replace("typing.", "")


def _accepts(kind: Any, value: object) -> bool:
    """Whether ``value`` fits ``kind`` (the subset of typing the resources use)."""
    if kind is Any:
        return True
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        return any(_accepts(arm, value) for arm in typing.get_args(kind))
    if origin is typing.Literal:
        return value in typing.get_args(kind)
    if origin is list:
        (item,) = typing.get_args(kind)
        return isinstance(value, list) and all(_accepts(item, v) for v in value)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is type(None):
        return value is None
    if isinstance(kind, type):
        return isinstance(value, kind)
    return True  # an annotation this checker does not model: let it through


def _fast_types(kind: Any) -> frozenset[type]:
    """Exact runtime types that certainly fit ``kind`` (checked with one set lookup)."""
    arms = (
        typing.get_args(kind)
        if typing.get_origin(kind) in (typing.Union, types.UnionType)
        else (kind,)
    )
    fast: set[type] = set()
    for arm in arms:
        if arm in _SIMPLE:
            fast.add(arm)
            if arm is float:
                fast.add(int)
        elif isinstance(arm, type) and typing.get_origin(arm) is None:
            fast.add(arm)
    return frozenset(fast)


def checked(fn: F) -> F:
    """Check the arguments of ``fn`` (a method, sync or async) against its annotations."""
    signature = inspect.signature(fn)
    hints = typing.get_type_hints(fn)
    positional: list[str] = []
    plan: dict[str, tuple[frozenset[type], Any]] = {}
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            positional.append(param.name)
        if param.name in _LEFT_TO_TRANSPORT or param.name not in hints:
            continue
        kind = hints[param.name]
        plan[param.name] = (_fast_types(kind), kind)

    first = 1 if positional[:1] == ["self"] else 0

    def check_one(name: str, value: object) -> None:
        entry = plan.get(name)
        if entry is None or type(value) in entry[0] or _accepts(entry[1], value):
            return
        raise InvalidParameterError(
            name, f"must be {_describe(entry[1])}, got {type(value).__name__} {value!r}"
        )

    def check(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        # The common case inlined (one lookup, one set test per argument); the rest is rare.
        for index in range(first, min(len(args), len(positional))):
            name = positional[index]
            entry = plan.get(name)
            if entry is not None and type(args[index]) not in entry[0]:
                check_one(name, args[index])
        for name, value in kwargs.items():
            entry = plan.get(name)
            if entry is not None and type(value) not in entry[0]:
                check_one(name, value)

    # One plain wrapper for sync and async methods alike: for a coroutine function it checks at
    # call time and hands back the coroutine, so awaiting costs no extra frame. A bad argument
    # therefore raises where the call is written, before any coroutine exists.
    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        check(args, kwargs)
        return fn(*args, **kwargs)

    return cast(F, run)
