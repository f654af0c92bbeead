"""Fault rules: which requests get a transport-level failure instead of a normal answer.

Rules are checked in the order they were added and the first one that applies wins. A rule
that matches but is skipped (`after`, `probability`) or used up (`times`) lets later rules
try. Probability draws come from a stream seeded by the simulator seed, so a seeded run
fails the same requests every time.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from types import TracebackType
from typing import Final, Literal, Self

__all__ = ["FaultHandle", "FaultKind", "FaultRule", "FaultSet", "FaultWhen"]

FaultKind = Literal["latency", "status", "rate_limit", "reset", "truncate", "html", "slow_body"]
FaultWhen = Literal["before", "after"]

_KINDS: Final = frozenset(
    {"latency", "status", "rate_limit", "reset", "truncate", "html", "slow_body"}
)
_DEFAULT_STATUS: Final = {"rate_limit": 429, "html": 502}


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultRule:
    """One fault. See docs/simulator.md for what each kind sends.

    `path` is an exact path or an fnmatch pattern (`/api/v1/dev/deployment*`); None matches
    every path, `method` None every method. `status` None means the kind's usual status
    (503 for "status", 429 for "rate_limit", 502 for "html"). `latency` is in real seconds.
    `when="after"` lets the request take effect before the client sees the fault; "truncate"
    and "slow_body" need the real answer, so they always run the request.
    """

    kind: FaultKind
    path: str | None = None
    method: str | None = None
    status: int | None = None
    latency: float = 0.0
    retry_after: float | None = None
    times: int | None = None
    probability: float = 1.0
    after: int = 0
    when: FaultWhen = "before"

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}")
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError("status must be an HTTP status code")
        if not math.isfinite(self.latency) or self.latency < 0:
            raise ValueError("latency must be a finite number of seconds >= 0")
        if self.retry_after is not None and not (
            math.isfinite(self.retry_after) and self.retry_after >= 0
        ):
            raise ValueError("retry_after must be >= 0")
        if self.times is not None and self.times < 0:
            raise ValueError("times must be >= 0 or None")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        if self.after < 0:
            raise ValueError("after must be >= 0")
        if self.when not in {"before", "after"}:
            raise ValueError("when must be 'before' or 'after'")

    @property
    def effective_status(self) -> int:
        return self.status or _DEFAULT_STATUS.get(self.kind, 503)

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method.upper()) and (
            self.path is None or fnmatchcase(path, self.path)
        )


class FaultHandle:
    """What `FaultSet.add` returns: live counters and a way to remove just this rule.

    Also a context manager, so a fault can be scoped to a block: `with sim.faults.add(...):`.
    """

    __slots__ = ("_owner", "applied", "matched", "rule")

    def __init__(self, rule: FaultRule, owner: FaultSet) -> None:
        self.rule = rule
        self.matched = 0  # requests the rule matched by path/method
        self.applied = 0  # requests it actually faulted
        self._owner = owner

    @property
    def exhausted(self) -> bool:
        return self.rule.times is not None and self.applied >= self.rule.times

    def remove(self) -> None:
        self._owner.remove(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"FaultHandle({self.rule!r}, matched={self.matched}, applied={self.applied})"


class FaultSet:
    """The simulator's fault rules; `initial` rules (from the config) come back on `reset`."""

    def __init__(self, seed: int, initial: Iterable[FaultRule] = ()) -> None:
        self._seed = seed
        self._initial = tuple(initial)
        self._handles: list[FaultHandle] = []
        self._rng = random.Random(f"autodl-sim:{seed}:faults")
        self.reset()

    def add(self, rule: FaultRule | str) -> FaultHandle:
        """Add a rule, or a spec string such as `"rate_limit:*/deployment/list:times=2"`."""
        if isinstance(rule, str):
            from ._fault_specs import parse_fault_spec  # the parser builds on this module

            rule = parse_fault_spec(rule)
        handle = FaultHandle(rule, self)
        self._handles.append(handle)
        return handle

    def remove(self, handle: FaultHandle) -> None:
        if handle in self._handles:
            self._handles.remove(handle)

    def clear(self) -> None:
        """Drop every rule and restart the probability stream, as on a fresh simulator."""
        self._handles.clear()
        self._rng = random.Random(f"autodl-sim:{self._seed}:faults")

    def reset(self) -> None:
        """Back to the rules the simulator started with (`SimulatorConfig.faults`)."""
        self.clear()
        for rule in self._initial:
            self.add(rule)

    @property
    def handles(self) -> tuple[FaultHandle, ...]:
        return tuple(self._handles)

    def pick(self, method: str, path: str) -> FaultRule | None:
        """The rule to apply to this request, counting it against that rule."""
        for handle in self._handles:
            rule = handle.rule
            if handle.exhausted or not rule.matches(method, path):
                continue
            handle.matched += 1
            if handle.matched <= rule.after:
                continue
            if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                continue
            handle.applied += 1
            return rule
        return None

    def __len__(self) -> int:
        return len(self._handles)
