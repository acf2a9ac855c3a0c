"""The directory cache's one-statement look-up of a sender it does not hold yet.

A message's first questions (whose id is this, which room, are they a member, what may they do)
were four statements for a sender the cache had not seen; storage.directory.Arrival asks them in
one. It must give exactly what the questions asked one by one give, and cache nothing that
resolving the room would still change.
"""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from domain.seeding import seed_from_config
from storage import directory
from storage.db import writer
from storage.models import Person, RoleGrant, Room, RoomMember
from tests.test_bench_smoke import _load

S1, S2 = "3幢1单元楼道群", "3幢2单元楼道群"


@pytest.fixture
def seeded(engine, config):
    with Session(engine) as session:
        seed_from_config(session, config)
        directory.resolve_room(session, "memory", "s3-1", S1)  # bound, as after its first message
        directory.link_alias(session, "memory", "wx-zhao", "grid-zhao")  # linked in chat
        directory.link_alias(session, "*", "ext-li", "officer-li")  # a config alias
        unbound = directory.resolve_room(session, "memory", "g-new", "新建的群")
        unbound.account = "main"
        session.add(unbound)
        loose = directory.resolve_room(session, "memory", "g-old", "老年活动群")  # no account yet
        loose.account = None
        session.add(loose)
        session.commit()
    directory._caches.pop(engine, None)
    directory.cache_for(engine)  # a running bot's cache: it knows the table of the stamp is there
    return engine


def sent(recorded) -> list[str]:
    """The statements sent, without BEGIN / PRAGMA / SAVEPOINT bookkeeping."""
    return [sql for sql, _, _ in recorded.statements if not _load("statements").bookkeeping(sql)]


def values(room: Room) -> dict:
    return {c: getattr(room, c) for c in directory._ROOM_COLUMNS}


def one_by_one(engine, arrival: directory.Arrival):
    """What the message path found before: each question its own statement (read, rolled back)."""
    with Session(engine) as session:
        person = directory.core_person_id(session, arrival.transport, arrival.sender)
        room = None
        if arrival.room is not None:
            bound = session.exec(
                select(Room).where(Room.transport == arrival.transport, Room.external_id == arrival.room)
            ).first()
            before = values(bound) if bound is not None else None
            room = directory.resolve_room(session, arrival.transport, arrival.room, arrival.topic, arrival.account)
            room = directory._snapshot(room) if values(room) == before else None  # else resolving changed it
        member = room is not None and session.get(RoomMember, (room.id, person)) is not None
        found = session.get(Person, person)
        row = (found.name, found.deleted) if found else None
        grants = tuple((g.role, g.scope) for g in directory.grants_for(session, person))
        session.rollback()
    return person, room, member, row, grants


CASES = [
    ("res-chen", "s3-1", S1, "a resident in a bound group"),
    ("wx-zhao", "s3-1", S1, "a transport alias of the grid worker (two grants, in order)"),
    ("ext-li", "s3-1", S1, "a config alias '*' of the officer"),
    ("lawyer-wang", "s3-1", S1, "not a member of the group"),
    ("wx-new", "s3-1", S1, "no one the directory knows"),
    ("res-chen", None, None, "in private"),
    ("res-chen", "s3-2", S2, "a group not bound to this transport id yet"),
    ("res-chen", "g-new", "新群名", "an unbound group whose name changed"),
    ("res-chen", "g-old", "老年活动群", "a group with no account yet, found by this account"),
    ("res-chen", "g-new", "新建的群", "an unbound group under its own name"),
]


@pytest.mark.parametrize("sender,room,topic,why", CASES, ids=[c[3] for c in CASES])
def test_a_cold_sender_is_looked_up_in_one_statement_with_the_same_answers(seeded, sender, room, topic, why):
    arrival = directory.Arrival("memory", sender, room, topic, "main")
    person, live_room, member, row, grants = one_by_one(seeded, arrival)
    log = _load("statements").StatementLog(seeded)
    with Session(writer(seeded)) as session:
        recorded = log.start()
        cache = directory.cache_for(seeded, session.connection(), arrival)
        log.stop()
        assert len(sent(recorded)) == 1 and sent(recorded)[0].lstrip().startswith("WITH who"), sent(recorded)
        assert cache.core_ids[("memory", sender)] == person
        if live_room is None:  # resolving it would bind, rename or claim it: left to resolve_room
            assert room is None or arrival.room_key not in cache.rooms
        else:
            cached = cache.rooms[arrival.room_key]
            assert values(cached) == values(live_room)
            assert isinstance(cached.auto_tickets, bool) and isinstance(cached.introduced, bool)
            assert ((live_room.id, person) in cache.members) == member
        assert cache.people.get(person) == row
        assert cache.grants.get(person) == (grants if row is not None else None)
        assert cache.knows(arrival) == (row is not None and (room is None or (live_room is not None and member)))
        # and what the message path asks next comes from the cache: no statement
        recorded = log.start()
        directory.cached_core_person_id(session, cache, "memory", sender)
        if row is not None:
            directory.cached_grants(session, cache, person)
        if live_room is not None:
            directory.cached_room(session, cache, "memory", room, topic, "main")
        log.stop()
        assert sent(recorded) == []
    log.close()


def test_a_sender_the_cache_holds_costs_the_stamp_alone_and_a_directory_change_is_seen(seeded):
    arrival = directory.Arrival("memory", "res-chen", "s3-1", S1, "main")
    log = _load("statements").StatementLog(seeded)
    with Session(writer(seeded)) as session:
        directory.cache_for(seeded, session.connection(), arrival)
    with Session(writer(seeded)) as session:
        recorded = log.start()
        cache = directory.cache_for(seeded, session.connection(), arrival)
        log.stop()
    assert sent(recorded) == ["SELECT version FROM directory_stamp WHERE id = 1"]
    assert cache.rooms[arrival.room_key].auto_tickets
    with Session(seeded) as session:  # a staff member turns the group's tickets off
        room = session.get(Room, "s3-1")
        assert room is not None
        room.auto_tickets = False
        session.add(room)
        session.commit()
    with Session(writer(seeded)) as session:
        recorded = log.start()
        cache = directory.cache_for(seeded, session.connection(), arrival)
        log.stop()
        assert cache.rooms[arrival.room_key].auto_tickets is False  # read again, in the same one statement
        assert recorded.count == 1 and cache.knows(arrival)
    log.close()


def test_a_handlers_roles_come_from_the_cache_once_it_holds_them(seeded):
    arrival = directory.Arrival("memory", "wx-zhao", "s3-1", S1, "main")
    log = _load("statements").StatementLog(seeded)
    with Session(writer(seeded)) as session:
        directory.cache_for(seeded, session.connection(), arrival)
        recorded = log.start()
        assert directory.roles_of(session, "grid-zhao") == ["grid", "admin"]
        log.stop()
    assert sent(recorded) == []
    with Session(seeded) as session:  # a session that never checked the stamp asks the database
        recorded = log.start()
        assert sorted(directory.roles_of(session, "grid-zhao")) == ["admin", "grid"]
        log.stop()
    assert len(sent(recorded)) == 1
    log.close()


def test_the_look_up_finds_membership_by_its_key(seeded):
    """A join with the room scanned room_members by person over every room once the planner knew the
    table (0.41 ms a message on the district's SQLite; 0.02 ms by the key)."""
    if seeded.dialect.name != "sqlite":
        return  # the plan's wording is SQLite's; PostgreSQL runs the same statement in the suite
    with seeded.begin() as conn:  # a district's shape: many groups, many members each
        conn.execute(text("INSERT INTO rooms (id, topic, kind, auto_tickets, introduced, transport, external_id) "
                          "VALUES (:id, :id, 'stairwell', 1, 0, 'memory', :id)"), [{"id": f"g{n}"} for n in range(200)])
        conn.execute(text("INSERT INTO people (id, name, deleted) VALUES (:id, :id, 0)"),
                     [{"id": f"p{n}"} for n in range(2000)])
        conn.execute(text("INSERT INTO room_members (room_id, person_id) VALUES (:r, :p)"),
                     [{"r": f"g{n % 200}", "p": f"p{n}"} for n in range(2000)])
        conn.exec_driver_sql("ANALYZE")
    with seeded.connect() as conn:
        plan = " | ".join(str(row[-1]) for row in conn.execute(
            text(f"EXPLAIN QUERY PLAN {directory._ARRIVAL.text}"), {"transport": "memory", "sender": "p7", "room": "g7"}))
    assert "room_members USING COVERING INDEX sqlite_autoindex_room_members_1 (room_id=? AND person_id=?)" in plan, plan
    assert "ANY(room_id)" not in plan, plan


def test_a_groups_staff_come_in_one_statement_for_its_scopes_and_then_from_the_cache(seeded):
    """A petition names its group's staff. Loading every grant of the role set (a district's
    thousands) whenever the cache was emptied cost 20-30 ms; the group's three scopes are read
    instead, with each holder's name and grants, in one statement."""
    with Session(seeded) as session:  # more grants, in an order that crosses the scopes
        for n, (person, role, scope) in enumerate([
            ("officer-new", "officer", "5幢1单元"), ("leader-new", "leader", S1), ("grid-new", "grid", "网格A"),
            ("officer-new", "officer", "3幢1单元"), ("admin-new", "officer", "*"),
        ]):
            directory.ensure_person(session, person, f"新{n}")
            directory.grant(session, person, role, scope, by="admin")
        session.commit()
    with Session(seeded) as session:
        room = session.get(Room, "s3-1")
        assert room is not None
        scopes = {room.stairwell, room.grid, room.topic} - {None}
        grants = session.exec(select(RoleGrant).order_by(RoleGrant.id)).all()
    roles = {"officer", "leader", "grid"}
    expected = list(dict.fromkeys(g.person_id for g in grants if g.role in roles and g.scope in scopes))
    assert "officer-new" in expected and "admin-new" not in expected  # a "*" grant is no group's officer

    arrival = directory.Arrival("memory", "res-chen", "s3-1", S1, "main")
    log = _load("statements").StatementLog(seeded)
    with Session(writer(seeded)) as session:
        directory.cache_for(seeded, session.connection(), arrival)
        recorded = log.start()
        assert [p.id for p in directory.people_with_roles(session, roles, room)] == expected
        assert directory.roles_of(session, "officer-new") == ["officer", "officer"]  # its grants came along
        assert [p.id for p in directory.people_with_roles(session, roles, room)] == expected
        log.stop()
    assert len(sent(recorded)) == 1
    assert "role_grants.scope IN" in sent(recorded)[0]
    with Session(seeded) as session:  # no cache: the same people, first grant first
        assert [p.id for p in directory.people_with_roles(session, roles, room)] == expected
        assert directory.people_with_roles(session, roles, Room(id="x", topic="别的群")) == []
    log.close()
