"""Tables that fit the terminal: what a reader copies stays whole, the rest gives way.

When a table is too wide, rich ends up shrinking every column by the same amount. At 80
columns (what a pipe or a CI log gets) that turned a 32-character container uuid, a status or
a request id into ``…``, and those are the values people copy into the next command or send
to support. Here each column says how it may give way, and the choice is made when the table
is printed, for the width the console really has:

- ``KEEP`` columns (uuids, statuses, types, request ids) are printed whole on one line;
- ``FOLD`` columns (names, messages, ssh commands) wrap onto more lines but lose nothing;
- ``DROP`` columns (times, prices, template details) are printed whole or not at all: they
  are left out, least important first, while they do not fit, and a caption names them.

:class:`FirstFit` picks between whole layouts, for a table whose narrow form is arranged
differently rather than merely shorter (the bulk failures table moves the request id under
the error).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.console import Console, ConsoleOptions, JustifyMethod, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

__all__ = ["Column", "FirstFit", "FitTable", "Give"]

#: A ``FOLD`` column is never squeezed below this many cells, however narrow the terminal.
_NARROWEST_FOLD = 8


class Give(enum.Enum):
    """How a column makes room when the table is too wide."""

    KEEP = "keep"
    FOLD = "fold"
    DROP = "drop"


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its header, how it gives way, and for ``FOLD`` the width it keeps.

    ``rank`` orders the ``DROP`` columns: the lowest rank is kept longest (ties: the one
    declared first).
    """

    header: str
    give: Give = Give.KEEP
    justify: JustifyMethod = "left"
    fold_width: int = 20
    rank: int = 0


class FitTable:
    """A table laid out for the console width it is printed at (see the module docstring)."""

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        make_table: Callable[[], Table],
        caption: str | None = None,
        hidden_hint: str = "--json has them",
    ) -> None:
        self.columns = tuple(columns)
        self.rows: list[tuple[RenderableType, ...]] = []
        self.caption = caption
        self.hidden_hint = hidden_hint
        self._make_table = make_table

    def add_row(self, *cells: RenderableType) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"a row needs {len(self.columns)} cells, got {len(cells)}")
        self.rows.append(cells)

    # -- layout ------------------------------------------------------------------------------

    def _natural(self, console: Console, options: ConsoleOptions, index: int) -> int:
        """The width column ``index`` needs to show every cell (and its header) on one line."""
        wide = options.update_width(10_000)
        cells: list[RenderableType] = [Text(self.columns[index].header)]
        cells.extend(row[index] for row in self.rows)
        return max(Measurement.get(console, wide, cell).maximum for cell in cells)

    def _total(self, console: Console, widths: Sequence[int]) -> int:
        """How wide the table is with these column widths, borders and padding included."""
        probe = self._make_table()
        probe.title = probe.caption = None
        for width in widths:
            probe.add_column(width=width)
        return Measurement.get(console, console.options.update_width(10_000), probe).maximum

    def _plan(self, console: Console, options: ConsoleOptions) -> tuple[list[int], list[int], int]:
        """``(shown column indexes, width each one is given at least, total of those)``."""
        natural = [self._natural(console, options, i) for i in range(len(self.columns))]
        floors = list(natural)
        for i, column in enumerate(self.columns):
            if column.give is Give.FOLD:
                floors[i] = min(natural[i], max(column.fold_width, 1))
        shown = [i for i, c in enumerate(self.columns) if c.give is not Give.DROP]
        limit = options.max_width

        def width(indexes: Sequence[int]) -> int:
            return self._total(console, [floors[i] for i in sorted(indexes)])

        self._squeeze_folds(shown, floors, width(shown) - limit)
        droppable = sorted(
            (i for i, c in enumerate(self.columns) if c.give is Give.DROP),
            key=lambda i: (self.columns[i].rank, i),
        )
        for i in droppable:
            if width([*shown, i]) <= limit:
                shown.append(i)
        shown.sort()
        return shown, floors, width(shown)

    def _squeeze_folds(self, shown: Sequence[int], floors: list[int], excess: int) -> None:
        """Narrow the widest ``FOLD`` columns, one cell at a time, until ``excess`` is gone."""
        folds = [i for i in shown if self.columns[i].give is Give.FOLD]
        while excess > 0:
            candidates = [i for i in folds if floors[i] > _NARROWEST_FOLD]
            if not candidates:
                return
            widest = max(candidates, key=lambda i: floors[i])
            floors[widest] -= 1
            excess -= 1

    def required_width(self, console: Console, options: ConsoleOptions) -> int:
        """The width this table needs with every ``DROP`` column left out."""
        natural = [self._natural(console, options, i) for i in range(len(self.columns))]
        widths = [
            min(natural[i], max(c.fold_width, 1)) if c.give is Give.FOLD else natural[i]
            for i, c in enumerate(self.columns)
            if c.give is not Give.DROP
        ]
        return self._total(console, widths)

    def layout(self, console: Console, options: ConsoleOptions) -> Table:
        """The rich table for ``options.max_width``."""
        shown, floors, needed = self._plan(console, options)
        table = self._make_table()
        if needed > options.max_width:
            # Even the KEEP columns do not fit: lay them out whole and let the lines run past
            # the edge (printed uncropped, a pipe gets them complete) rather than letting
            # rich shrink every column evenly, which is what cut uuids short.
            table.width = needed
        for i in shown:
            column = self.columns[i]
            folds = column.give is Give.FOLD
            table.add_column(
                column.header,
                justify=column.justify,
                no_wrap=not folds,
                overflow="fold",
                min_width=floors[i],
            )
        for row in self.rows:
            table.add_row(*(row[i] for i in shown))
        hidden = [self.columns[i].header for i in range(len(self.columns)) if i not in shown]
        notes = [self.caption] if self.caption else []
        if hidden:
            notes.append(f"not shown at this width: {', '.join(hidden)} ({self.hidden_hint})")
        if notes:
            table.caption = "; ".join(notes)
            table.caption_justify = "left"
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.layout(console, options)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        required = self.required_width(console, options)
        natural = [self._natural(console, options, i) for i in range(len(self.columns))]
        whole = max(required, self._total(console, natural))
        return Measurement(required, whole).with_maximum(options.max_width)


class FirstFit:
    """The first of several layouts of the same rows that fits the width; else the last."""

    def __init__(self, *layouts: FitTable) -> None:
        if not layouts:
            raise ValueError("FirstFit needs at least one layout")
        self.layouts = layouts

    def choose(self, console: Console, options: ConsoleOptions) -> FitTable:
        for layout in self.layouts[:-1]:
            if layout.required_width(console, options) <= options.max_width:
                return layout
        return self.layouts[-1]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.choose(console, options)
