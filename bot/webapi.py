"""Read-only views the web chat shows (rooms, people, history), from storage."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage import directory
from storage.messages import room_history
from storage.models import Person, RoleGrant, Room


@dataclass
class StorageViews:
    engine: Engine

    def rooms(self) -> list[dict]:
        with Session(self.engine) as session:
            return [{"id": r.id, "topic": r.topic, "kind": r.kind} for r in directory.rooms(session)]

    def room(self, room_id: str) -> Room | None:
        with Session(self.engine) as session:
            return session.get(Room, room_id)

    def people(self) -> list[dict]:
        with Session(self.engine) as session:
            grants: dict[str, list[str]] = {}
            for g in session.exec(select(RoleGrant)).all():
                grants.setdefault(g.person_id, []).append(g.role)
            rows = session.exec(select(Person).where(col(Person.deleted).is_(False)).order_by(Person.id)).all()
            return [{"id": p.id, "name": p.name, "roles": sorted(set(grants.get(p.id, [])))} for p in rows]

    def history(self, room_id: str, limit: int) -> list[dict]:
        with Session(self.engine) as session:
            return [
                {
                    "sender_id": m.sender_id,
                    "sender_name": m.sender_name,
                    "text": m.text,
                    "at": m.at.isoformat(),
                    "from_bot": m.from_bot,
                }
                for m in room_history(session, room_id, limit)
            ]
