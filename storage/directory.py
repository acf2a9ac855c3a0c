"""Rooms, people, memberships and role grants."""
from __future__ import annotations

import time
import uuid
import weakref

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col, select

from bot.config import DEFAULT_ACCOUNT, AppConfig
from bot.privacy import clean_name
from storage.db import cache_store_allowed, directory_version
from storage.models import Person, PersonAlias, RoleGrant, Room, RoomMember


def config_source(config: AppConfig) -> str:
    """The ``source`` of the grants and aliases a config file makes: its own account's, so that
    one account's start never deletes what another account's config granted."""
    account = config.bot.account
    return "config" if account == DEFAULT_ACCOUNT else f"config@{account}"


def seed_from_config(session: Session, config: AppConfig) -> None:
    """Make the database agree with config: rooms (with their account), people, memberships,
    this config's grants and aliases.

    Grants made in chat (source='chat') and another account's config grants are kept; this
    config's grants and aliases no longer in config are removed (one it also names, granted
    elsewhere already, is left there). Incremental: what is there is read in one query per table
    and only the differences are written, so a district's restart (800 groups) costs a few queries.
    """
    source = config_source(config)
    rooms = {r.id: r for r in session.exec(select(Room)).all()}
    for rc in config.rooms:
        room = rooms.get(rc.id) or Room(id=rc.id, topic=rc.topic)
        wanted = (rc.topic, rc.kind, rc.grid, rc.stairwell, rc.auto_tickets, config.room_account(rc))
        if rc.id not in rooms or (room.topic, room.kind, room.grid, room.stairwell, room.auto_tickets, room.account) != wanted:
            room.topic, room.kind, room.grid, room.stairwell, room.auto_tickets, room.account = wanted
            session.add(room)
    people = {p.id: p for p in session.exec(select(Person)).all()}
    for pc in config.people:
        person = people.get(pc.id)
        if person is None or person.name != pc.name:
            person = person or Person(id=pc.id, name=pc.name)
            person.name = pc.name
            session.add(person)
    session.flush()  # rooms and people before the rows that refer to them

    topic_to_id = {rc.topic: rc.id for rc in config.rooms}
    # In config order: who is named first (an ack's 信息员) follows the order grants were added.
    have_members = set(session.exec(select(RoomMember.room_id, RoomMember.person_id)).all())
    new_members = dict.fromkeys((topic_to_id[t], pc.id) for pc in config.people for t in pc.rooms)
    session.add_all(RoomMember(room_id=r, person_id=p) for r, p in new_members if (r, p) not in have_members)

    wanted_grants = dict.fromkeys((pc.id, g.role, g.scope) for pc in config.people for g in pc.roles)
    for row in session.exec(select(RoleGrant)).all():
        triple = (row.person_id, row.role, row.scope)
        if row.source == source and triple not in wanted_grants:
            session.delete(row)
        wanted_grants.pop(triple, None)  # already there (from this config, another, or chat)
    session.add_all(RoleGrant(person_id=p, role=r, scope=s, source=source) for p, r, s in wanted_grants)

    wanted_aliases = {alias: pc.id for pc in config.people for alias in pc.aliases}
    for existing in session.exec(select(PersonAlias).where(col(PersonAlias.transport) == "*")).all():
        if wanted_aliases.get(existing.external_id) == existing.person_id and existing.source == source:
            del wanted_aliases[existing.external_id]  # unchanged
        elif existing.source == source and existing.external_id not in wanted_aliases:
            session.delete(existing)
    for existing in session.exec(select(PersonAlias).where(col(PersonAlias.source) == source,
                                                           col(PersonAlias.transport) != "*")).all():
        session.delete(existing)
    session.flush()
    for alias, person_id in wanted_aliases.items():
        session.merge(PersonAlias(transport="*", external_id=alias, person_id=person_id, source=source))
    session.flush()


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


def rooms(session: Session) -> list[Room]:
    return list(session.exec(select(Room).order_by(Room.id)).all())


def room_members(session: Session, room_id: str) -> list[Person]:
    stmt = (
        select(Person)
        .join(RoomMember, col(RoomMember.person_id) == col(Person.id))
        .where(RoomMember.room_id == room_id)
        .order_by(Person.id)
    )
    return list(session.exec(stmt).all())


def people_with_roles(session: Session, roles: set[str] | frozenset[str], room: Room | None) -> list[Person]:
    """People holding any of ``roles`` with a scope naming this room's stairwell, grid or topic.

    A "*" grant (an admin's) does not make someone the stairwell's officer.
    """
    # In grant order (config order first): the role+scope index must not change who is named first.
    stmt = select(RoleGrant).where(col(RoleGrant.role).in_(sorted(roles))).order_by(col(RoleGrant.id))
    ids: list[str] = []
    for grant in session.exec(stmt).all():
        if room is not None and grant.scope not in (room.stairwell, room.grid, room.topic):
            continue
        if grant.person_id not in ids:
            ids.append(grant.person_id)
    people = [session.get(Person, pid) for pid in ids]
    return [p for p in people if p is not None]


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
    exists = session.exec(
        select(RoleGrant).where(RoleGrant.person_id == person_id, RoleGrant.role == role, RoleGrant.scope == scope)
    ).first()
    if exists:
        return False
    session.add(RoleGrant(person_id=person_id, role=role, scope=scope, source="chat", granted_by=by))
    return True


def revoke_chat_grants(session: Session, person_id: str, role: str | None = None) -> int:
    rows = [
        g for g in grants_for(session, person_id)
        if g.source == "chat" and (role is None or g.role == role)
    ]
    for row in rows:
        session.delete(row)
    return len(rows)


def core_person_id(session: Session, transport: str, external_id: str) -> str:
    """The person a transport id belongs to (itself when no alias links it to a known person)."""
    for key in ((transport, external_id), ("*", external_id)):
        alias = session.get(PersonAlias, key)
        if alias is not None:
            return alias.person_id
    return external_id


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

    def fresh(self, engine: Engine | None = None) -> "DirectoryCache":
        version = directory_version()
        stamp = database_stamp(engine) if engine is not None else self.stamp
        now = time.monotonic()
        if version != self.version or stamp != self.stamp or now - self.filled_at > self.max_age:
            self._empty(stamp)
            self.version, self.filled_at = version, now
        return self

    def may_store(self, session: Session) -> bool:
        return self.version == directory_version() and cache_store_allowed(session.connection())


_caches: "weakref.WeakKeyDictionary[Engine, DirectoryCache]" = weakref.WeakKeyDictionary()


def database_stamp(engine: Engine) -> int | None:
    """How many directory writes the database has committed (any process); None without the row."""
    try:
        with engine.connect() as conn:
            return conn.execute(_STAMP).scalar()
    except DBAPIError:  # a database made before revision 0003 (tests' create_all): max_age only
        return None


_STAMP = text("SELECT version FROM directory_stamp WHERE id = 1")


def cache_for(engine: Engine) -> DirectoryCache:
    cache = _caches.get(engine)
    if cache is None:
        cache = _caches[engine] = DirectoryCache()
    return cache.fresh(engine)


def _snapshot(room: Room) -> Room:
    copy = Room(**{c: getattr(room, c) for c in _ROOM_COLUMNS})
    make_transient_to_detached(copy)
    return copy


_ROOM_COLUMNS = tuple(Room.model_fields)  # every field of Room is a column (no relationships)


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
