"""Fault rules written as text: `KIND[:PATH[:key=value,...]]` specs and JSON/TOML rule files.

One grammar serves `autodl-async serve --fault`, `--faults FILE` and `FaultSet.add("...")` in a
test, so a rule read in a bug report can be pasted anywhere. Every mistake is a `FaultSpecError`
naming the spec (or file and entry) and what is wrong, never a bare KeyError or a traceback
from deep inside a parser.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final, get_args

import msgspec

from ._faults import FaultKind, FaultRule

__all__ = ["FaultSpecError", "load_fault_file", "parse_fault_spec", "rule_from_mapping"]

KINDS: Final = get_args(FaultKind)
_FIELDS: Final = tuple(f.name for f in dataclasses.fields(FaultRule))
_OPTIONS: Final = tuple(name for name in _FIELDS if name not in {"kind", "path"})


class FaultSpecError(ValueError):
    """A fault spec or fault file that cannot be turned into rules."""


def _number(kind: type[int] | type[float]) -> Callable[[str], Any]:
    def read(text: str) -> Any:
        try:
            return kind(text)
        except ValueError:
            noun = "an integer" if kind is int else "a number"
            raise FaultSpecError(f"must be {noun}, got {text!r}") from None

    return read


def _choice(*allowed: str) -> Callable[[str], str]:
    def read(text: str) -> str:
        if text not in allowed:
            raise FaultSpecError(f"must be {' or '.join(allowed)}, got {text!r}")
        return text

    return read


def _optional(read: Callable[[str], Any]) -> Callable[[str], Any]:
    return lambda text: None if text.lower() in {"", "none", "null"} else read(text)


_READERS: Final[dict[str, Callable[[str], Any]]] = {
    "method": _optional(str.upper),
    "status": _optional(_number(int)),
    "latency": _number(float),
    "retry_after": _optional(_number(float)),
    "times": _optional(_number(int)),
    "probability": _number(float),
    "after": _number(int),
    "when": _choice("before", "after"),
}


def _build(kind: str, values: Mapping[str, Any], where: str) -> FaultRule:
    if kind not in KINDS:
        raise FaultSpecError(f"{where}: unknown fault kind {kind!r} (one of {', '.join(KINDS)})")
    try:
        return msgspec.convert({"kind": kind, **values}, FaultRule, strict=False)
    except msgspec.ValidationError as exc:
        raise FaultSpecError(f"{where}: {exc}") from None


def parse_fault_spec(spec: str) -> FaultRule:
    """`status:/api/v1/dev/deployment/list:status=502,times=2` -> a `FaultRule`.

    PATH may be empty or `*` for every path, and is an fnmatch pattern otherwise; options are
    the `FaultRule` fields after `kind` and `path`.
    """
    where = f"fault {spec!r}"
    kind, _, rest = spec.strip().partition(":")
    path, _, options = rest.partition(":")
    values: dict[str, Any] = {}
    if path.strip() not in {"", "*"}:
        values["path"] = path.strip()
    for item in filter(None, (part.strip() for part in options.split(","))):
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep:
            raise FaultSpecError(f"{where}: option {item!r} is not key=value")
        if key not in _READERS:
            raise FaultSpecError(f"{where}: unknown option {key!r} (one of {', '.join(_OPTIONS)})")
        try:
            values[key] = _READERS[key](text.strip())
        except FaultSpecError as exc:
            raise FaultSpecError(f"{where}: {key} {exc}") from None
    return _build(kind.strip().lower(), values, where)


def rule_from_mapping(entry: object, where: str) -> FaultRule:
    """One entry of a fault file: a table of `FaultRule` fields, or a spec string."""
    if isinstance(entry, str):
        try:
            return parse_fault_spec(entry)
        except FaultSpecError as exc:
            raise FaultSpecError(f"{where}: {exc}") from None
    if not isinstance(entry, dict):
        raise FaultSpecError(f"{where}: expected a table of rule fields or a spec string")
    unknown = sorted(set(entry) - set(_FIELDS))
    if unknown:
        raise FaultSpecError(
            f"{where}: unknown field {unknown[0]!r} (fields: {', '.join(_FIELDS)})"
        )
    kind = entry.get("kind")
    if not isinstance(kind, str):
        raise FaultSpecError(f"{where}: 'kind' is required (one of {', '.join(KINDS)})")
    values = {k: v for k, v in entry.items() if k != "kind"}
    if values.get("path") == "*":
        values["path"] = None
    return _build(kind, values, where)


def _read(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FaultSpecError(
            f"cannot read fault file {str(path)!r}: {exc.strerror or exc}"
        ) from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            return json.loads(raw)
        if suffix == ".toml":
            return tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:  # JSON/TOML decode errors are ValueErrors
        raise FaultSpecError(f"fault file {str(path)!r} is not valid {suffix[1:]}: {exc}") from None
    raise FaultSpecError(f"fault file {str(path)!r} must end in .json or .toml")


def load_fault_file(path: str | os.PathLike[str]) -> tuple[FaultRule, ...]:
    """Rules from a `.json` or `.toml` file, in file order (the first matching rule wins).

    The file holds `faults`, a list of rules (TOML: `[[faults]]` tables); a JSON file may
    also be that list alone.
    """
    file = Path(path)
    document = _read(file)
    entries = document.get("faults") if isinstance(document, dict) else document
    if isinstance(document, dict) and set(document) - {"faults"}:
        extra = sorted(set(document) - {"faults"})[0]
        raise FaultSpecError(f"fault file {str(file)!r}: unknown top-level key {extra!r}")
    if not isinstance(entries, list):
        raise FaultSpecError(f"fault file {str(file)!r} must hold a list named 'faults'")
    return tuple(
        rule_from_mapping(entry, f"fault file {str(file)!r}, rule {i + 1}")
        for i, entry in enumerate(entries)
    )
