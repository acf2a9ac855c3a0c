"""Legal aid applications in the database: what the interview stores (masked), that an interview
left for a day is dropped, and that deletion on request and the retention purge reach them."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from handlers.privacy_commands import DELETED
from storage.models import AidApplication
from storage.retention import PURGED, purge_texts_before

LEGAL = "幸福里法润民生群"


async def _apply(chat, who: str = "res-zhang") -> None:
    await chat.say("法律援助怎么申请", sender=who, room=LEGAL)
    for answer in ("申请", "儿女不给赡养费，我儿子电话13812345678", "2", "1"):
        await chat.say(answer, sender=who, room=None)


def _rows(chat) -> list[AidApplication]:
    with Session(chat.app.engine) as session:
        return list(session.exec(select(AidApplication)).all())


async def test_the_interview_stores_a_masked_application(make_chat):
    chat = await make_chat()
    await _apply(chat)
    [row] = _rows(chat)
    assert (row.asker_id, row.grid, row.status, row.adviser_id) == ("res-zhang", "网格A", "待受理", "lawyer-wang")
    assert row.matter == "儿女不给赡养费，我儿子电话138****5678"
    assert (row.matter_kind, row.income, row.documents) == ("赡养费、抚养费、扶养费", "no-income", "identity")


async def test_an_interview_left_for_a_day_is_dropped(make_chat, clock):
    chat = await make_chat()
    await chat.say("请不起律师怎么办", sender="res-chen", room=LEGAL)
    await chat.say("申请", sender="res-chen", room=None)
    clock.advance(seconds=25 * 3600)
    replies = await chat.say("公司欠我工资", sender="res-chen", room=None)
    assert not any("第2问" in r.text for r in replies)
    assert _rows(chat) == []


async def test_deletion_and_retention_blank_the_matter(make_chat, clock):
    chat = await make_chat()
    await _apply(chat, "res-zhang")
    await _apply(chat, "res-chen")
    await chat.say("/删除我的信息", sender="res-zhang", room=None)
    await chat.say("/确认删除", sender="res-zhang", room=None)
    by_asker = {r.asker_id: r for r in _rows(chat)}
    assert by_asker["res-zhang"].matter == DELETED and by_asker["res-zhang"].status == "待受理"
    assert "赡养费" in by_asker["res-chen"].matter

    await chat.say("/援助 A2 办结 已指派律师", sender="lawyer-wang", room=None)
    with Session(chat.app.engine) as session:
        purge_texts_before(session, clock.now() + timedelta(days=1))
        session.commit()
    by_asker = {r.asker_id: r for r in _rows(chat)}
    assert by_asker["res-chen"].matter == PURGED and by_asker["res-chen"].status == "已办结"
