"""The log of requests the simulator saw, for tests to assert on (e.g. "create was not retried").

Entries are added when a request arrives and completed when its answer is decided, so the log
is in arrival order even when slow requests overlap. Headers are never stored: the token
must not end up anywhere a test report could print it. Every read hands out fresh copies of
the bodies, so a test that mutates what it got cannot rewrite the log.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = ["RequestLog", "RequestRecord"]


class RequestRecord(NamedTuple):
    """One request as the simulator saw it.

    `body` is the JSON object sent (None if absent or not an object); for GET requests it holds
    the query parameters instead. `outcome` is the envelope `code` when the API answered
    (even if a `when="after"` fault then hid it), else the HTTP status sent, or None when the
    connection was reset or the request is still in flight. `fault` is the kind of fault
    applied, or None.
    """

    method: str
    path: str
    body: dict[str, Any] | None
    outcome: str | int | None
    fault: str | None


@dataclass(slots=True)
class Entry:
    method: str
    path: str
    body: dict[str, Any] | None
    outcome: str | int | None = None
    fault: str | None = None


class RequestLog:
    def __init__(self) -> None:
        self._entries: list[Entry] = []

    def start(self, method: str, path: str, body: dict[str, Any] | None) -> Entry:
        entry = Entry(method, path, body)
        self._entries.append(entry)
        return entry

    def records(self) -> tuple[RequestRecord, ...]:
        return tuple(
            RequestRecord(e.method, e.path, copy.deepcopy(e.body), e.outcome, e.fault)
            for e in self._entries
        )

    def clear(self) -> None:
        self._entries.clear()
