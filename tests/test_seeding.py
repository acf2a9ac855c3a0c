"""Config seeding at start-up: incremental (only differences written), chat grants kept."""
from __future__ import annotations

from sqlalchemy import event
from sqlmodel import Session, select

from bot.config import AppConfig
from domain.seeding import seed_from_config
from storage import directory
from storage.db import create_db_engine, init_schema
from storage.models import PersonAlias, RoleGrant, Room, RoomMember


def grants(session: Session) -> set[tuple[str, str, str, str]]:
    return {(g.person_id, g.role, g.scope, g.source) for g in session.exec(select(RoleGrant)).all()}


def test_reseeding_writes_only_what_changed_and_keeps_chat_grants(config, db_url):
    engine = create_db_engine(db_url)
    init_schema(engine)
    with Session(engine) as session:
        seed_from_config(session, config)
        assert directory.grant(session, "res-chen", "support", "3幢1单元", by="grid-zhao")  # made in chat
        session.commit()
        before = grants(session)

    writes: list[str] = []
    record = lambda _c, _cur, statement, *_: writes.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", record)
    with Session(engine) as session:  # the same config again: only reads
        seed_from_config(session, config)
        session.commit()
    event.remove(engine, "before_cursor_execute", record)
    assert writes and not [w for w in writes if w.split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    with Session(engine) as session:
        assert grants(session) == before

    data = config.model_dump()
    data["rooms"][0]["topic"] = "3幢1单元邻里群"
    for person in data["people"]:
        person["rooms"] = ["3幢1单元邻里群" if t == "3幢1单元楼道群" else t for t in person["rooms"]]
        if person["id"] == "leader-zhou":  # 周建国 is no longer 楼道长 in config
            person["roles"] = []
    data["people"].append({"id": "res-new", "name": "新邻居", "rooms": ["3幢2单元楼道群"], "aliases": ["wxid_new"]})
    changed = AppConfig.model_validate(data)
    with Session(engine) as session:
        seed_from_config(session, changed)
        session.commit()
        after = grants(session)
        assert ("leader-zhou", "leader", "3幢1单元", "config") not in after
        assert ("res-chen", "support", "3幢1单元", "chat") in after  # chat grants survive a restart
        assert after == before - {("leader-zhou", "leader", "3幢1单元", "config")}
        assert session.get(Room, "s3-1").topic == "3幢1单元邻里群"
        assert session.get(RoomMember, ("s3-2", "res-new")) is not None
        assert session.get(PersonAlias, ("*", "wxid_new")).person_id == "res-new"
    engine.dispose()


def test_a_restart_with_nothing_changed_skips_seeding_and_any_change_seeds_again(config, db_url):
    """A district's restart skips reading the directory back (issue 15's start-up) only while
    neither the config nor the directory (the trigger-bumped stamp: any process, any write)
    changed since this account seeded; a grant deleted behind its back is restored."""
    from sqlalchemy import text

    from domain.seeding import seed_if_changed
    from datetime import datetime, timezone

    NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)

    engine = create_db_engine(db_url)
    init_schema(engine)

    def seed(cfg: AppConfig) -> tuple[bool, list[str]]:
        statements: list[str] = []
        record = lambda _c, _cur, statement, *_: statements.append(statement)  # noqa: E731
        event.listen(engine, "before_cursor_execute", record)
        try:
            with Session(engine) as session:
                seeded = seed_if_changed(session, cfg, NOW)
                session.commit()
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return seeded, statements

    assert seed(config)[0]
    skipped, statements = seed(config)
    assert not skipped
    assert not [s for s in statements if "people" in s or "role_grants" in s]  # the directory is not read
    assert len(statements) <= 3  # the flag and the stamp

    with Session(engine) as session:  # a grant made in chat: the directory changed, seeding runs (and keeps it)
        assert directory.grant(session, "res-chen", "support", "3幢1单元", by="grid-zhao")
        session.commit()
    assert seed(config)[0] and not seed(config)[0]

    with engine.begin() as conn:  # a config grant deleted behind the bot's back (any process): restored
        conn.execute(text("DELETE FROM role_grants WHERE person_id = 'leader-zhou' AND source = 'config'"))
    assert seed(config)[0]
    with Session(engine) as session:
        assert ("leader-zhou", "leader", "3幢1单元", "config") in grants(session)
        assert ("res-chen", "support", "3幢1单元", "chat") in grants(session)

    data = config.model_dump()  # an edited config seeds again
    data["people"].append({"id": "res-new", "name": "新邻居", "rooms": ["3幢2单元楼道群"]})
    changed = AppConfig.model_validate(data)
    assert seed(changed)[0] and not seed(changed)[0]
    with Session(engine) as session:
        assert session.get(RoomMember, ("s3-2", "res-new")) is not None
    engine.dispose()


def test_config_names_its_duplicates_and_unknown_topics():
    import pytest

    from bot.config import ConfigError, parse_config, read_yaml
    from tests.conftest import ROOT

    path = ROOT / "config.yaml"
    data = read_yaml(path)
    data["rooms"].append(dict(data["rooms"][0]))  # the same id and topic twice
    with pytest.raises(ConfigError) as twice:
        parse_config(data, path)
    assert f"duplicate rooms id: {data['rooms'][0]['id']}" in str(twice.value)
    data = read_yaml(path)
    data["people"][0]["rooms"] = ["没有这个群"]
    with pytest.raises(ConfigError, match="people\\[0\\].rooms: unknown room topic '没有这个群'"):
        parse_config(data, path)
