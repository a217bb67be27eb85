"""Read models: what reads answer, typed and immutable, built from the rows of a SELECT.

A read model is a frozen, slotted dataclass in its domain's `views.py`. It is built from a row
by position: unpacking a row (a tuple) is cheap, where reading it by name (`row.title`) costs
several times as much and `dict(row._mapping)` more still. So a view's fields and its SELECT's
first columns come in one order, under the same names: `row_reader` checks it once, when the
reader is made, and the reader then only slices and unpacks (the columns a list adds after
them, its sort keys and total, are left out).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

V = TypeVar("V", bound="DataclassInstance")


class Column(Protocol):
    """A selected column (a mapped attribute, a labelled expression): its name in the row."""

    @property
    def key(self) -> str | None: ...


def row_reader(view: type[V], columns: Sequence[Column]) -> Callable[[Sequence[Any]], V]:
    """How to read a `view` from rows that begin with `columns`: its fields, in its order."""
    names = [field.name for field in fields(view)]
    keys = [column.key for column in columns]
    if keys != names:
        raise TypeError(f"{view.__name__} reads the columns {names}, not {keys}")
    width = len(names)

    def read(row: Sequence[Any]) -> V:
        return view(*row[:width])

    return read
