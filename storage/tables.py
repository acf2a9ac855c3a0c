"""The Core table behind a SQLModel table class, typed (for Core inserts and column lists)."""
from __future__ import annotations

from sqlalchemy import Table
from sqlmodel import SQLModel


def table_of(model: type[SQLModel]) -> Table:
    # SQLModel sets __table__ on every table=True class but does not declare it for type checkers.
    return model.__table__  # type: ignore[attr-defined]
