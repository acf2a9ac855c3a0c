"""Rooms, people, memberships and role grants."""
from __future__ import annotations

import time
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, bindparam, exists, false, text
from sqlalchemy import select as core_select
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col, select

from common.privacy import clean_name
from storage.db import cache_store_allowed, directory_version, primary
from storage.models import Person, PersonAlias, RoleGrant, RoleRevocation, Room, RoomMember
from storage.tables import detached


def ensure_member(session: Session, room_id: str, person_id: str) -> None:
    if session.get(RoomMember, (room_id, person_id)) is None:
        session.add(RoomMember(room_id=room_id, person_id=person_id))


def ensure_person(session: Session, person_id: str, name: str) -> Person:
    name = clean_name(name)  # display names are input (lifecycle events bring them too)
    person = session.get(Person, person_id)
    if person is None:
        person = Person(id=person_id, name=name)
        session.add(person)
        session.flush()
    elif name and (person.name != name or person.deleted):
        # Display names change (the id is the identity); a resident who had their information
        # deleted and writes again is a resident again.
        person.name, person.deleted = name, False
        session.add(person)
    return person


def clean_topic(topic: str) -> str:
    """An unknown group's name as stored and shown: cleaned like a display name, a little longer."""
    return clean_name(topic, limit=64) or "未命名群"


def resolve_room(
    session: Session, transport: str, external_id: str, topic: str | None, account: str | None = None
) -> Room:
    """The core room for a transport's room: by current external id, then by topic.

    Transports whose ids change across logins are re-bound by topic here.
    An unknown group gets an 'unbound' room so its messages are still kept.
    """
    room = session.exec(
        select(Room).where(Room.transport == transport, Room.external_id == external_id)
    ).first()
    if room is None and topic:
        room = session.exec(select(Room).where(Room.topic == topic)).first()
    if room is None:
        room = session.get(Room, external_id)  # web chat and memory use the core ids directly
    if room is None:
        # a random id: two processes finding new groups at once must not pick the same one
        room = Room(id=f"room-{uuid.uuid4().hex[:12]}", topic=clean_topic(topic or external_id), kind="unbound")
    if room.transport != transport or room.external_id != external_id:
        room.transport, room.external_id = transport, external_id
    if room.account is None and account:  # a group found by this account's login is served by it
        room.account = account
    if topic and room.kind == "unbound" and room.topic != clean_topic(topic):
        room.topic = clean_topic(topic)  # a group's name is input too: it is shown to staff
    session.add(room)
    session.flush()
    return room


def grants_for(session: Session, person_id: str) -> list[RoleGrant]:
    return list(session.exec(select(RoleGrant).where(RoleGrant.person_id == person_id)).all())


def roles_of(session: Session, person_id: str) -> list[str]:
    """The roles ``person_id`` holds (any scope), in grant order; from the directory cache when the
    session may use it (a petition names its first handler's title)."""
    cache = _session_cache(session)
    if cache is not None:
        return [role for role, _ in cached_grants(session, cache, person_id)]
    return [g.role for g in grants_for(session, person_id)]


def rooms(session: Session) -> list[Room]:
    return list(session.exec(select(Room).order_by(Room.id)).all())


def home_stairwell(session: Session, person_id: str) -> Room | None:
    """The one stairwell group a person is a member of (a private report is filed under it), or None."""
    stmt = (
        select(Room).join(RoomMember, col(RoomMember.room_id) == col(Room.id))
        .where(RoomMember.person_id == person_id, Room.kind == "stairwell").limit(2)
    )
    found = list(session.exec(stmt).all())
    return found[0] if len(found) == 1 else None


def stairwell_room(session: Session, stairwell: str | None) -> Room | None:
    """The stairwell group of a private ticket filed under ``stairwell`` (whose staff follow it)."""
    if not stairwell:
        return None
    stmt = select(Room).where(Room.stairwell == stairwell, Room.kind == "stairwell").order_by(Room.id).limit(1)
    return session.exec(stmt).first()


def room_members(session: Session, room_id: str) -> list[Person]:
    stmt = (
        select(Person)
        .join(RoomMember, col(RoomMember.person_id) == col(Person.id))
        .where(RoomMember.room_id == room_id)
        .order_by(Person.id)
    )
    return list(session.exec(stmt).all())


def people_with_roles(session: Session, roles: set[str] | frozenset[str], room: Room | None) -> list[Person]:
    """People holding any of ``roles`` with a scope naming this room's stairwell, grid or topic
    (first grant first); with no room, every holder of the roles.

    A "*" grant (an admin's) does not make someone the stairwell's officer. Every petition asks
    this for its group: the answer is kept in the directory cache when the session may use it.
    """
    cache = _session_cache(session)
    key = frozenset(roles)
    if room is not None:
        ids = _room_holders(session, cache, key, frozenset(s for s in (room.stairwell, room.grid, room.topic) if s))
    else:
        everyone = cache.by_roles.get(key) if cache is not None else None
        if everyone is None:
            # In grant order (config order first): the role+scope index must not change who is named first.
            stmt = (select(RoleGrant.person_id).where(col(RoleGrant.role).in_(sorted(roles)))
                    .order_by(col(RoleGrant.id)))
            everyone = list(dict.fromkeys(session.exec(stmt).all()))
            if cache is not None:
                cache.by_roles[key] = everyone
        ids = everyone
    people = _cached_people(session, cache, ids)
    return [person for person in (people[pid] for pid in ids) if person is not None]


def _session_cache(session: Session) -> "DirectoryCache | None":
    """The engine's directory cache, when this session's transaction may read and fill it (no
    directory write of its own yet, begun in the cache's version); else None: ask the database."""
    cache = _caches.get(primary(session.get_bind()))  # type: ignore[arg-type]
    if cache is None or session.connection().info.get(_CHECKED) is not session.connection().get_transaction():
        return None  # only where the transaction checked the stamp (another process may have written)
    return cache if cache.may_store(session) else None


# A group's staff for a role set, with each one's name and every grant (roles_of asks them next),
# in one statement. It reads the grants of the group's three scopes by the (role, scope) index:
# loading a district's thousands of grants whenever the cache was emptied (every 30 s, and at
# every newcomer's first message) cost a petition 20-30 ms.
_ROOM_HOLDERS = core_select(col(RoleGrant.person_id)).where(
    col(RoleGrant.role).in_(bindparam("roles", expanding=True)),
    col(RoleGrant.scope).in_(bindparam("scopes", expanding=True)),
)
_ROOM_STAFF = (
    core_select(col(Person.id), col(Person.name), col(Person.deleted), col(RoleGrant.role), col(RoleGrant.scope))
    .join(RoleGrant, col(RoleGrant.person_id) == col(Person.id))
    .where(col(Person.id).in_(_ROOM_HOLDERS))
    .order_by(col(RoleGrant.id))
)


def _room_holders(
    session: Session, cache: "DirectoryCache | None", roles: frozenset[str], scopes: frozenset[str]
) -> list[str]:
    """Ids of the holders of ``roles`` in one of ``scopes``, first grant first."""
    if not scopes:
        return []
    found = cache.by_scopes.get((roles, scopes)) if cache is not None else None
    if found is not None:
        return found
    session.flush()  # a Core read: the session's own additions first
    rows = session.connection().execute(_ROOM_STAFF, {"roles": sorted(roles), "scopes": sorted(scopes)}).all()
    found = list(dict.fromkeys(pid for pid, _, _, role, scope in rows if role in roles and scope in scopes))
    if cache is not None:
        _remember_people(cache, rows)
        cache.by_scopes[(roles, scopes)] = found
    return found


_PEOPLE = select(Person).where(col(Person.id).in_(bindparam("ids", expanding=True)))  # built once
# The same people with their grants, for the cache: the petition that names its handler's title
# (roles_of) then asks nothing more. Plain rows, built once.
_PEOPLE_AND_GRANTS = (
    core_select(col(Person.id), col(Person.name), col(Person.deleted), col(RoleGrant.role), col(RoleGrant.scope))
    .outerjoin(RoleGrant, col(RoleGrant.person_id) == col(Person.id))
    .where(col(Person.id).in_(bindparam("ids", expanding=True)))
    .order_by(col(RoleGrant.id))
)


def _remember_people(cache: "DirectoryCache", rows: Sequence[Row]) -> None:
    """Detached snapshots of these people, and their grants, from (id, name, deleted, role, scope)
    rows holding every grant of each (in grant order)."""
    grants: dict[str, list[tuple[str, str]]] = {}
    for pid, name, deleted, role, scope in rows:
        if pid not in cache.persons:
            snapshot = Person(id=pid, name=name, deleted=bool(deleted))
            make_transient_to_detached(snapshot)
            cache.persons[pid] = snapshot
        held = grants.setdefault(pid, [])
        if role is not None:
            held.append((role, scope))
    for pid, held in grants.items():
        if cache.persons[pid] is not None:
            cache.grants.setdefault(pid, tuple(held))


def _cached_people(session: Session, cache: "DirectoryCache | None", ids: list[str]) -> dict[str, Person | None]:
    """Session instances of these people (None: no such row), the missing ones in one statement."""
    found: dict[str, Person | None] = {}
    if cache is None:
        missing = list(dict.fromkeys(ids))
        rows = {p.id: p for p in session.exec(_PEOPLE, params={"ids": missing}).all()} if missing else {}
        return {pid: rows.get(pid) for pid in ids}
    missing = [pid for pid in dict.fromkeys(ids) if pid not in cache.persons]
    if missing:
        session.flush()  # a Core read: the session's own additions first
        _remember_people(cache, session.connection().execute(_PEOPLE_AND_GRANTS, {"ids": missing}).all())
        for pid in missing:
            cache.persons.setdefault(pid, None)
    for pid in ids:
        person = cache.persons[pid]
        found[pid] = session.merge(person, load=False) if person is not None else None
    return found


_CHECKED = "stairwell_directory_checked"  # connection info: the transaction that read the stamp


def responsible_staff(session: Session, room: Room | None) -> list[Person]:
    """Who follows up a stairwell's petitions: its 信息员 and 楼道长, else the grid worker, else admins."""
    for roles in ({"officer", "leader"}, {"grid"}):
        people = people_with_roles(session, roles, room) if room is not None else []
        if people:
            return people
    return admins(session)


def admins(session: Session) -> list[Person]:
    return people_with_roles(session, {"admin"}, None)


def person_name(session: Session, person_id: str | None) -> str:
    person = session.get(Person, person_id) if person_id else None
    return person.name if person else (person_id or "")


def people_named(session: Session, name: str, room_id: str | None = None) -> list[Person]:
    """People with this display name, members of ``room_id`` first when given."""
    stmt = select(Person).where(Person.name == name, col(Person.deleted).is_(False))
    found = list(session.exec(stmt).all())
    if room_id and len(found) > 1:
        members = {p.id for p in room_members(session, room_id)}
        in_room = [p for p in found if p.id in members]
        found = in_room or found
    return found


def grant(session: Session, person_id: str, role: str, scope: str, by: str) -> bool:
    for revoked in session.exec(select(RoleRevocation).where(
        RoleRevocation.person_id == person_id, RoleRevocation.role == role, RoleRevocation.scope == scope,
    )).all():
        session.delete(revoked)  # given back: config.yaml's grant counts again at the next start
    exists = session.exec(
        select(RoleGrant).where(RoleGrant.person_id == person_id, RoleGrant.role == role, RoleGrant.scope == scope)
    ).first()
    if exists:
        return False
    session.add(RoleGrant(person_id=person_id, role=role, scope=scope, source="chat", granted_by=by))
    return True


def revoke(session: Session, person_id: str, role: str | None, by: str, at: datetime) -> list[RoleGrant]:
    """Take back ``person_id``'s grants of ``role`` (every role when None), wherever they came
    from; one that config.yaml makes is remembered so the next start does not give it back."""
    rows = [g for g in grants_for(session, person_id) if role is None or g.role == role]
    for row in rows:
        if row.source != "chat":
            session.merge(RoleRevocation(person_id=person_id, role=row.role, scope=row.scope, revoked_by=by, at=at))
        session.delete(row)
    return rows


def revoked_grants(session: Session) -> set[tuple[str, str, str]]:
    """(person, role, scope) of every config grant taken back in chat."""
    rows = session.exec(select(RoleRevocation.person_id, RoleRevocation.role, RoleRevocation.scope)).all()
    return {(person_id, role, scope) for person_id, role, scope in rows}


def core_person_id(session: Session, transport: str, external_id: str) -> str:
    """The person a transport id belongs to (itself when no alias links it to a known person)."""
    # one statement for both keys (a transport's own link wins over a config alias "*")
    rows = session.exec(
        select(PersonAlias.transport, PersonAlias.person_id)
        .where(col(PersonAlias.transport).in_([transport, "*"]), PersonAlias.external_id == external_id)
    ).all()
    found = dict(rows)
    return found.get(transport) or found.get("*") or external_id


def external_person_id(session: Session, transport: str, person_id: str) -> str:
    """The id to address ``person_id`` by on ``transport`` (a chat-made link wins over config)."""
    rows = session.exec(
        select(PersonAlias).where(PersonAlias.person_id == person_id, col(PersonAlias.transport).in_([transport, "*"]))
    ).all()
    if not rows:
        return person_id
    rows = sorted(rows, key=lambda a: (a.transport != transport, a.source != "chat"))
    return rows[0].external_id


def link_alias(session: Session, transport: str, external_id: str, person_id: str) -> None:
    session.merge(PersonAlias(transport=transport, external_id=external_id, person_id=person_id, source="chat"))


# ---- the in-process directory cache ----------------------------------------------------------
@dataclass(frozen=True)
class Arrival:
    """A message's sender and group as its transport names them: what the message path looks up
    first (the person behind the id, the room, membership and grants)."""

    transport: str
    sender: str
    room: str | None  # the transport's room id; None in private
    topic: str | None
    account: str | None

    @property
    def room_key(self) -> tuple[str, str, str | None]:
        assert self.room is not None
        return (self.transport, self.room, self.topic)

    def params(self) -> dict[str, str | None]:
        return {"transport": self.transport, "sender": self.sender, "room": self.room}


_ROOM_COLUMNS = tuple(c.name for c in Room.__table__.columns)  # type: ignore[attr-defined]
_ROOM_FLAGS = frozenset(c.name for c in Room.__table__.columns if isinstance(c.type, Boolean))  # type: ignore[attr-defined]
# A sender the cache does not hold yet, in one statement instead of four (the stamp, their alias,
# the room, their row + membership + grants): a district's residents are mostly unseen since the
# start, and on PostgreSQL each statement is a round trip. One row per grant (at least one row).
_ARRIVAL = text(f"""
WITH who AS (
  SELECT COALESCE(
    (SELECT person_id FROM person_aliases WHERE transport = :transport AND external_id = :sender),
    (SELECT person_id FROM person_aliases WHERE transport = '*' AND external_id = :sender),
    :sender) AS id
), here AS (
  SELECT {", ".join(_ROOM_COLUMNS)} FROM rooms WHERE transport = :transport AND external_id = :room LIMIT 1
)
SELECT (SELECT version FROM directory_stamp WHERE id = 1), who.id, people.name, people.deleted,
  EXISTS (SELECT 1 FROM room_members  -- by its key (room, person); a join with here scanned it
          WHERE room_members.room_id = (SELECT id FROM here) AND room_members.person_id = who.id),
  role_grants.role, role_grants.scope, {", ".join(f"here.{c}" for c in _ROOM_COLUMNS)}
FROM who
LEFT JOIN people ON people.id = who.id
LEFT JOIN role_grants ON role_grants.person_id = who.id
LEFT JOIN here ON 1 = 1
ORDER BY role_grants.id
""")


class DirectoryCache:
    """What the per-message path asks of the directory, kept between messages.

    Entries are valid for one directory version (storage.db): any committed or rolled-back
    write to rooms, people, aliases, memberships or grants, through any session or Core
    connection of this process, empties the cache; no handler has to invalidate it. Another
    process's writes are noticed at the next fresh(): triggers bump the ``directory_stamp`` row
    in the same transaction as the write (revision 0003), and fresh() reads it (one indexed
    SELECT) before anything is read from the cache. ``max_age`` is a last safety net.
    """

    max_age = 30.0

    def __init__(self, stamp: int | None = None) -> None:
        self._empty(stamp)

    def _empty(self, stamp: int | None) -> None:
        self.version = -1
        self.stamp = stamp  # the database's directory_stamp when the entries were read
        self.filled_at = 0.0
        self.rooms: dict[tuple[str, str, str | None], Room] = {}  # detached snapshots
        self.people: dict[str, tuple[str, bool]] = {}  # id -> (name, deleted)
        self.members: set[tuple[str, str]] = set()
        self.grants: dict[str, tuple[tuple[str, str], ...]] = {}
        self.core_ids: dict[tuple[str, str], str] = {}
        self.by_roles: dict[frozenset[str], list[str]] = {}  # roles -> every holder, first grant first
        self.by_scopes: dict[tuple[frozenset[str], frozenset[str]], list[str]] = {}  # (roles, a group's scopes)
        self.persons: dict[str, Person | None] = {}  # detached snapshots of staff (people_with_roles)

    def fresh(
        self, engine: Engine | None = None, conn: Connection | None = None, arrival: Arrival | None = None
    ) -> "DirectoryCache":
        version, now = directory_version(), time.monotonic()
        stale = version != self.version or now - self.filled_at > self.max_age
        found: Sequence[Row] | None = None
        if conn is not None and self.stamp is not None:  # in the caller's transaction
            if arrival is not None and (stale or not self.knows(arrival)):
                found = rows = conn.execute(_ARRIVAL, arrival.params()).all()
                stamp = rows[0][0]  # the stamp comes with it
            else:
                stamp = stamp_in(conn)
        else:
            stamp = database_stamp(engine) if engine is not None else self.stamp
        if conn is not None:  # this transaction saw the stamp: it may use the cache (_session_cache)
            conn.info[_CHECKED] = conn.get_transaction()
        if stale or stamp != self.stamp:
            self._empty(stamp)
            self.version, self.filled_at = version, now
        if arrival is not None and conn is not None and self.stamp is not None and cache_store_allowed(conn):
            if found is None and not self.knows(arrival):  # another process changed the directory
                found = conn.execute(_ARRIVAL, arrival.params()).all()
            if found is not None:
                self._keep_arrival(arrival, found)
        return self

    def knows(self, arrival: Arrival) -> bool:
        """Whether everything the message path asks about this sender and room is cached."""
        person = self.core_ids.get((arrival.transport, arrival.sender))
        if person is None or person not in self.people or person not in self.grants:
            return False
        if arrival.room is None:
            return True
        room = self.rooms.get(arrival.room_key)
        return room is not None and (room.id, person) in self.members

    def _keep_arrival(self, arrival: Arrival, rows: Sequence[Row]) -> None:
        """Cache what _ARRIVAL read: what resolve_room, core_person_id and warm_person would."""
        first = rows[0]
        person_id, name, deleted, is_member = first[1], first[2], first[3], first[4]
        self.core_ids[(arrival.transport, arrival.sender)] = person_id
        # A room held already was read in this same version of the directory: not built again
        room = self.rooms.get(arrival.room_key) if arrival.room is not None else None
        if room is None and first[7] is not None:  # a room bound to this transport id: cached unless resolving it would change it
            values: dict[str, Any] = {
                c: (bool(v) if c in _ROOM_FLAGS else v) for c, v in zip(_ROOM_COLUMNS, first[7:], strict=True)
            }
            room = Room(**values)
            topic = arrival.topic
            if (room.account is None and arrival.account) or (
                topic and room.kind == "unbound" and room.topic != clean_topic(topic)
            ):
                room = None
            else:
                make_transient_to_detached(room)
                self.rooms[arrival.room_key] = room
        if name is None:  # not in the directory yet: ensure_person adds them
            return
        self.people[person_id] = (name, bool(deleted))
        self.grants[person_id] = tuple((role, scope) for *_, role, scope in (r[:7] for r in rows) if role is not None)
        if room is not None and is_member:
            self.members.add((room.id, person_id))

    def may_store(self, session: Session) -> bool:
        return self.version == directory_version() and cache_store_allowed(session.connection())


_caches: "weakref.WeakKeyDictionary[Engine, DirectoryCache]" = weakref.WeakKeyDictionary()


def database_stamp(engine: Engine) -> int | None:
    """How many directory writes the database has committed (any process); None without the row."""
    try:
        with engine.connect() as conn:
            return stamp_in(conn)
    except DBAPIError:  # a database made before revision 0003 (tests' create_all): max_age only
        return None


_STAMP = text("SELECT version FROM directory_stamp WHERE id = 1")


def stamp_in(conn: Connection) -> int | None:
    """The directory stamp as ``conn``'s transaction sees it (its own writes included)."""
    return conn.execute(_STAMP).scalar()


def cache_for(engine: Engine, conn: Connection | None = None, arrival: Arrival | None = None) -> DirectoryCache:
    """The engine's cache, checked against the database's stamp; with ``conn`` (a transaction
    already open on ``engine``) the stamp is read there once the table is known to exist, together
    with what the message path asks about ``arrival`` when the cache does not hold it yet."""
    engine = primary(engine)
    cache = _caches.get(engine)
    if cache is None:
        cache = _caches[engine] = DirectoryCache()
    return cache.fresh(engine, conn, arrival)


def _snapshot(room: Room) -> Room:
    return detached(Room, room)


def cached_core_person_id(session: Session, cache: DirectoryCache, transport: str, external_id: str) -> str:
    key = (transport, external_id)
    found = cache.core_ids.get(key)
    if found is None:
        found = core_person_id(session, transport, external_id)
        if cache.may_store(session):
            cache.core_ids[key] = found
    return found


def cached_room(
    session: Session, cache: DirectoryCache, transport: str, external_id: str, topic: str | None,
    account: str | None = None,
) -> Room:
    """resolve_room through the cache; a detached snapshot (use attach() to change it)."""
    key = (transport, external_id, topic)
    room = cache.rooms.get(key)
    if room is None:
        live = resolve_room(session, transport, external_id, topic, account)
        room = _snapshot(live)
        if cache.may_store(session):
            cache.rooms[key] = room
    return room


def attach(session: Session, room: Room) -> Room:
    """The session's own instance of a cached room snapshot (no query)."""
    return session.merge(room, load=False)


def warm_person(session: Session, cache: DirectoryCache, person_id: str, room_id: str | None) -> None:
    """A sender the cache does not know yet: their row, whether they are a member of this room,
    and their grants, in one statement instead of three (a district's residents are mostly
    unseen since the start; on PostgreSQL each statement is a round trip). Unknown people are
    left to ensure_person, which adds them."""
    known = person_id in cache.people and person_id in cache.grants
    if (known and (room_id is None or (room_id, person_id) in cache.members)) or not cache.may_store(session):
        return
    member = (
        exists().where(col(RoomMember.room_id) == room_id, col(RoomMember.person_id) == col(Person.id))
        if room_id is not None else false()
    )
    rows = session.execute(
        core_select(col(Person.name), col(Person.deleted), member, col(RoleGrant.role), col(RoleGrant.scope))
        .outerjoin(RoleGrant, col(RoleGrant.person_id) == col(Person.id))
        .where(col(Person.id) == person_id)
        .order_by(col(RoleGrant.id))
    ).all()
    if not rows:
        return
    name, deleted, is_member = rows[0][0], rows[0][1], rows[0][2]
    cache.people[person_id] = (name, bool(deleted))
    cache.grants[person_id] = tuple((role, scope) for *_, role, scope in rows if role is not None)
    if room_id is not None and is_member:
        cache.members.add((room_id, person_id))


def cached_ensure_person(session: Session, cache: DirectoryCache, person_id: str, name: str) -> None:
    known = cache.people.get(person_id)
    if known is not None and not known[1] and (not name or known[0] == name):
        return
    person = ensure_person(session, person_id, name)
    if cache.may_store(session):
        cache.people[person_id] = (person.name, person.deleted)


def cached_ensure_member(session: Session, cache: DirectoryCache, room_id: str, person_id: str) -> None:
    key = (room_id, person_id)
    if key in cache.members:
        return
    ensure_member(session, room_id, person_id)
    if cache.may_store(session):
        cache.members.add(key)


def cached_grants(session: Session, cache: DirectoryCache, person_id: str) -> tuple[tuple[str, str], ...]:
    found = cache.grants.get(person_id)
    if found is None:
        found = tuple((g.role, g.scope) for g in grants_for(session, person_id))
        if cache.may_store(session):
            cache.grants[person_id] = found
    return found
