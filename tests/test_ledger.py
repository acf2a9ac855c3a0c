"""The household ledger in chat and in the database: what is stored (masked), what is audited,
that a resident's deletion leaves the community's record alone, the demo seeding, and the
flat numbers people write. Both databases (db_url)."""
from __future__ import annotations

import re

import pytest
import yaml
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.config import parse_config
from common.flats import FlatRef, parse_flat
from storage import ledger
from storage.db import create_db_engine, init_schema
from storage.models import Household, HouseholdMember, HouseholdTag, LedgerAudit, Message, OutboxItem
from tests.conftest import ROOT, S1

FULL_PHONE = re.compile(r"1[3-9]\d{9}")


def snapshot(engine) -> list[tuple]:
    """The whole ledger by natural keys (no ids, no timestamps of the write)."""
    with Session(engine) as session:
        out = []
        for h in session.exec(select(Household).order_by(Household.stairwell, Household.flat)).all():
            assert h.id is not None
            members = [(m.name, m.relation, m.phone) for m in ledger.members(session, h.id)]
            tags = sorted((t.tag, t.tenants, t.landlord, t.note, t.confirmed_at) for t in ledger.tags(session, h.id))
            out.append((h.stairwell, h.grid, h.building, h.unit, h.flat, h.note, h.last_confirmed, members, tags))
        return out


@pytest.mark.parametrize("text, want", [
    ("502", FlatRef("502")),
    ("502室", FlatRef("502")),
    ("5-502", FlatRef("502", either=5)),
    ("3-1-502", FlatRef("502", 3, 1)),
    ("3幢502", FlatRef("502", 3)),
    ("3栋1单元502", FlatRef("502", 3, 1)),
    ("3号楼1单元1201", FlatRef("1201", 3, 1)),
    ("5楼2号", FlatRef("502")),
    ("12层3室", FlatRef("1203")),
    ("３幢５０２", FlatRef("502", 3)),
])
def test_flat_numbers_as_people_write_them(text, want):
    assert parse_flat(text) == want


@pytest.mark.parametrize("text", ["12", "0502", "5楼", "abc", "502号楼", "500"])
def test_what_is_not_a_flat(text):
    assert parse_flat(text) is None


async def test_chat_changes_are_stored_masked_and_audited(chat):
    await chat.say("/底账 702 成员 王阿姨 户主 13912345678", sender="officer-li", room=None)
    await chat.say("/底账 702 出租 2人 房东周女士 138-1234-5678", sender="officer-li", room=None)
    await chat.say("/底账 702 备注 女儿电话13700001111", sender="officer-li", room=None)
    await chat.say("/底账 101", sender="leader-zhou", room=S1)
    with Session(chat.app.engine) as session:
        household = ledger.find(session, "3幢1单元", "702")
        assert household is not None and household.grid == "网格A" and household.updated_by == "officer-li"
        assert [(m.name, m.relation, m.phone) for m in session.exec(select(HouseholdMember).where(
            HouseholdMember.household_id == household.id)).all()] == [("王阿姨", "户主", "139****5678")]
        rented = session.get(HouseholdTag, (household.id, "出租房"))
        assert rented is not None and (rented.tenants, rented.landlord) == (2, "周女士 138****5678")
        assert household.note == "女儿电话137****1111"
        audit = session.exec(select(LedgerAudit).order_by(LedgerAudit.id)).all()
        assert [(a.actor_id, a.action) for a in audit] == [
            ("officer-li", "成员"), ("officer-li", "出租"), ("officer-li", "备注"), ("leader-zhou", "查看")]
        shown = session.exec(select(Household).where(Household.stairwell == "3幢1单元", Household.flat == "101")).one()
        assert audit[-1].household_id == shown.id
        # No full number anywhere: not in the ledger, its audit, the message log or the outbox.
        stored = [a.detail for a in audit] + [m.text for m in session.exec(select(Message)).all()]
        stored += [o.text for o in session.exec(select(OutboxItem)).all()]
        assert not [s for s in stored if FULL_PHONE.search(s.replace("-", ""))]


async def test_a_residents_deletion_leaves_the_household_record(chat):
    """/删除我的信息 blanks what the resident wrote; the ledger is the community's record."""
    await chat.say("/底账 101 成员 张阿姨 女儿 13912345678", sender="officer-li", room=None)
    await chat.say("我家楼道灯坏了", sender="res-zhang", room=S1)
    before = snapshot(chat.app.engine)
    assert ("张阿姨", "女儿", "139****5678") in before[0][7]
    await chat.say("/删除我的信息", sender="res-zhang", room=None)
    replies = await chat.say("/确认删除", sender="res-zhang", room=None)
    assert "已按您的要求删除" in chat.texts(replies)
    assert snapshot(chat.app.engine) == before
    replies = await chat.say("/底账 101", sender="officer-li", room=None)
    assert "张阿姨（女儿，139****5678）" in chat.texts(replies)


async def test_the_demo_is_seeded_once_and_only_into_an_empty_ledger(make_chat, db_url, config):
    chat = await make_chat()
    seeded = snapshot(chat.app.engine)
    assert len(seeded) == 12 and sum(1 for h in seeded if h[8]) >= 8  # a dozen households, most tagged
    assert {h[0] for h in seeded} == {"3幢1单元", "3幢2单元"}
    await chat.say("/底账 702 成员 王阿姨 户主", sender="officer-li", room=None)
    await chat.app.stop()
    again = await make_chat()  # a restart adds nothing and removes nothing
    assert len(snapshot(again.app.engine)) == 13


async def test_no_demo_over_a_ledger_someone_keeps(make_chat, db_url, clock):
    engine = create_db_engine(db_url)
    init_schema(engine)
    with Session(engine) as session:
        session.add(Household(stairwell="3幢1单元", building="3幢", unit="1单元", flat="101", updated_at=clock.now()))
        session.commit()
    engine.dispose()
    chat = await make_chat()
    assert [h[4] for h in snapshot(chat.app.engine)] == ["101"]


async def test_no_demo_unless_configured(make_chat):
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["ledger"] = {"stale_days": 90}
    chat = await make_chat(parse_config(data, ROOT / "config.yaml"))
    assert snapshot(chat.app.engine) == []


def test_a_flat_can_never_be_stored_twice(db_url, clock):
    engine = create_db_engine(db_url)
    init_schema(engine)
    try:
        with Session(engine) as session:
            for _ in range(2):
                session.add(Household(stairwell="3幢1单元", building="3幢", unit="1单元", flat="502",
                                      updated_at=clock.now()))
            with pytest.raises(IntegrityError):
                session.commit()
    finally:
        engine.dispose()


def test_phones_are_masked_mobile_and_landline():
    assert ledger.mask_phone("13812345678") == "138****5678"
    assert ledger.mask_phone("0571-87654321") == "057*****4321"
    assert ledger.mask_phone("王先生 138 1234 5678") == "王先生 138****5678"
    assert ledger.mask_phone("3人") == "3人"
