"""The Core table behind a SQLModel table class, typed (for Core inserts and column lists), and
detached copies of rows."""
from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import SQLModel

M = TypeVar("M", bound=SQLModel)


def table_of(model: type[SQLModel]) -> Table:
    # SQLModel sets __table__ on every table=True class but does not declare it for type checkers.
    return model.__table__  # type: ignore[attr-defined]


def detached(model: type[M], row: Any) -> M:
    """A ``model`` instance holding ``row``'s columns (a Core row or another instance), detached:
    no session holds it and none queried it (attach with session.add, or merge(load=False))."""
    copy = model(**{c.name: getattr(row, c.name) for c in table_of(model).columns})
    make_transient_to_detached(copy)
    return copy
