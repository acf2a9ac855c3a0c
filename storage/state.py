"""Small persistent flags (emergency mode, pending confirmations) that survive restarts."""
from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Field, Session, SQLModel

from storage.models import _ts


EMERGENCY_FLAG = "emergency"  # 战时 (/战时 … /平时): set while every report is urgent


class StateFlag(SQLModel, table=True):
    __tablename__ = "state_flags"
    name: str = Field(primary_key=True)
    value: str = "{}"  # JSON
    set_at: datetime = _ts(nullable=False)


def get_flag(session: Session, name: str) -> dict | None:
    row = session.get(StateFlag, name)
    return json.loads(row.value) if row else None


def set_flag(session: Session, name: str, value: dict, at: datetime) -> None:
    row = session.get(StateFlag, name) or StateFlag(name=name, set_at=at)
    row.value, row.set_at = json.dumps(value, ensure_ascii=False), at
    session.add(row)


def clear_flag(session: Session, name: str) -> None:
    row = session.get(StateFlag, name)
    if row is not None:
        session.delete(row)
