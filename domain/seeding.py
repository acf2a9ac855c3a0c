"""Making the database agree with config.yaml at start: rooms, people, memberships, grants, aliases.

It reads the bot's config models, so it lives above storage (which may not import the bot).
"""
from __future__ import annotations

import hashlib
from datetime import datetime

from sqlmodel import Session, col, select

from bot.config import DEFAULT_ACCOUNT, AppConfig
from storage.directory import revoked_grants, stamp_in
from storage.models import Person, PersonAlias, RoleGrant, Room, RoomMember
from storage.state import get_flag, set_flag

SEEDING_RULES = 1  # raise when seed_from_config changes what it writes: every database is seeded again


def config_source(config: AppConfig) -> str:
    """The ``source`` of the grants and aliases a config file makes: its own account's, so that
    one account's start never deletes what another account's config granted."""
    account = config.bot.account
    return "config" if account == DEFAULT_ACCOUNT else f"config@{account}"


def seed_if_changed(session: Session, config: AppConfig, now: datetime) -> bool:
    """Seed unless neither the config nor the directory changed since this account last seeded:
    the directory's stamp (bumped by triggers on every write to rooms, people, memberships,
    grants and aliases, from any process) is recorded with a hash of the config, so a restart
    of a district (800 groups, 1,600 staff) skips reading it all back (issue 15's start-up).
    True when it seeded."""
    flag = f"seeded:{config_source(config)}"
    digest = hashlib.sha256(f"{SEEDING_RULES}:{config.model_dump_json()}".encode()).hexdigest()
    recorded = get_flag(session, flag) or {}
    stamp = stamp_in(session.connection())
    if stamp is not None and recorded == {"config": digest, "stamp": stamp}:
        return False
    seed_from_config(session, config)
    stamp = stamp_in(session.connection())  # with this seeding's own writes
    if stamp is not None:
        set_flag(session, flag, {"config": digest, "stamp": stamp}, now)
    return True


def seed_from_config(session: Session, config: AppConfig) -> None:
    """Make the database agree with config: rooms (with their account), people, memberships,
    this config's grants and aliases.

    Grants made in chat (source='chat') and another account's config grants are kept; this
    config's grants taken back in chat (/撤销) stay out; its grants and aliases no longer in config are removed (one it also names, granted
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

    revoked = revoked_grants(session)  # taken back in chat (/撤销): not given back at a restart
    wanted_grants = dict.fromkeys(
        grant for grant in ((pc.id, g.role, g.scope) for pc in config.people for g in pc.roles) if grant not in revoked
    )
    for row in session.exec(select(RoleGrant)).all():
        triple = (row.person_id, row.role, row.scope)
        if row.source == source and triple not in wanted_grants:
            session.delete(row)
        wanted_grants.pop(triple, None)  # already there (from this config, another, or chat)
    session.add_all(RoleGrant(person_id=p, role=r, scope=s, source=source) for p, r, s in wanted_grants)

    wanted_aliases = {alias: pc.id for pc in config.people for alias in pc.aliases}
    for alias_row in session.exec(select(PersonAlias).where(col(PersonAlias.transport) == "*")).all():
        if wanted_aliases.get(alias_row.external_id) == alias_row.person_id and alias_row.source == source:
            del wanted_aliases[alias_row.external_id]  # unchanged
        elif alias_row.source == source and alias_row.external_id not in wanted_aliases:
            session.delete(alias_row)
    for alias_row in session.exec(select(PersonAlias).where(col(PersonAlias.source) == source,
                                                      col(PersonAlias.transport) != "*")).all():
        session.delete(alias_row)
    session.flush()
    for alias, person_id in wanted_aliases.items():
        session.merge(PersonAlias(transport="*", external_id=alias, person_id=person_id, source=source))
    session.flush()
