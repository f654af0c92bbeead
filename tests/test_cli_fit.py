"""Tables that fit the width they are printed at: KEEP columns whole, FOLD columns wrapped but
complete, DROP columns left out (least important first) and named in the caption."""

from __future__ import annotations

import io

import pytest
from rich import box
from rich.console import Console, RenderableType
from rich.table import Table

from autodl_async.cli._fit import Column, FirstFit, FitTable, Give

UUID = "3f967b8f00-5dcb21bc38-14735fbd68"
REQUEST_ID = "8e9ae236d67bedaec4da508662074d82"
LONG_TEXT = "a message long enough that it has to wrap onto several lines at 80 columns"


def make_table() -> Table:
    return Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True)


def render(renderable: RenderableType, width: int) -> list[str]:
    console = Console(width=width, file=io.StringIO(), highlight=False, color_system=None)
    console.print(renderable, crop=False)  # as the CLI's Output.show prints
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return [line.rstrip() for line in text.splitlines()]


def sample() -> FitTable:
    table = FitTable(
        (
            Column("UUID"),
            Column("STATUS"),
            Column("CREATED", Give.DROP, rank=2),
            Column("PRICE", Give.DROP, rank=0),
            Column("MESSAGE", Give.FOLD, fold_width=20),
            Column("REQUEST ID"),
        ),
        make_table=make_table,
    )
    table.add_row(UUID, "shutting_down", "2026-09-01 10:00:05", "¥1.98", LONG_TEXT, REQUEST_ID)
    return table


@pytest.mark.parametrize("width", [103, 120, 160])
def test_keep_columns_are_whole_and_every_line_fits(width: int) -> None:
    lines = render(sample(), width)
    assert all(len(line) <= width for line in lines), lines
    row = next(line for line in lines if line.startswith(UUID))
    assert "shutting_down" in row
    assert REQUEST_ID in row


def test_fold_text_wraps_but_loses_nothing() -> None:
    lines = render(sample(), 100)
    start = lines[0].index("MESSAGE")
    folded = " ".join(line[start:].split(REQUEST_ID)[0].strip() for line in lines[2:])
    assert LONG_TEXT in " ".join(folded.split())


def test_drop_columns_go_least_important_first_and_are_named() -> None:
    narrow = render(sample(), 120)
    assert "PRICE" in narrow[0]  # rank 0: kept longest
    assert "CREATED" not in narrow[0]
    assert "not shown at this width: CREATED (--json has them)" in " ".join(narrow)
    narrower = render(sample(), 103)
    assert "PRICE" not in narrower[0]
    assert "not shown at this width: CREATED, PRICE" in " ".join(narrower)
    wide = render(sample(), 200)
    assert all(h in wide[0] for h in ("UUID", "STATUS", "CREATED", "PRICE", "MESSAGE"))
    assert not any("not shown" in line for line in wide)


def test_keep_columns_win_even_when_nothing_else_fits() -> None:
    lines = render(sample(), 80)  # UUID, STATUS, REQUEST ID and 8 cells of MESSAGE: 91
    row = next(line for line in lines if line.startswith(UUID))
    assert "shutting_down" in row
    assert REQUEST_ID in row  # the line runs past 80 rather than losing it
    assert "MESSAGE" in lines[0]
    assert max(len(line) for line in lines) == 91


def test_first_fit_takes_the_first_layout_that_fits_else_the_last() -> None:
    wide = FitTable((Column("A"), Column("B")), make_table=make_table)
    narrow = FitTable((Column("A"),), make_table=make_table)
    for table in (wide, narrow):
        cells = ("x" * 30, "y" * 30)[: len(table.columns)]
        table.add_row(*cells)
    both = FirstFit(wide, narrow)
    assert "y" * 30 in " ".join(render(both, 80))
    assert "y" * 30 not in " ".join(render(both, 40))
    assert "x" * 30 in " ".join(render(both, 40))
    with pytest.raises(ValueError, match="at least one layout"):
        FirstFit()


def test_a_row_must_have_a_cell_per_column() -> None:
    with pytest.raises(ValueError, match="a row needs 6 cells, got 1"):
        sample().add_row("only one")
