"""/删除我的信息 (个人信息保护法): what a resident's deletion request removes, and what happens when they come back."""
from __future__ import annotations

from sqlmodel import Session

from storage.models import Message, Notice, OutboxItem, Person
from tests.conftest import S1
from tests.test_tickets import LIGHT, PETITION, in_room, one_line, rows, ticket, to

GONE = "（已应居民要求删除）"


def person(chat, person_id: str) -> Person:
    with Session(chat.app.engine) as session:
        return session.get(Person, person_id)


async def test_deletion_blanks_notices_and_the_name_in_what_the_bot_said(chat):
    await chat.say(PETITION, sender="res-zhang")  # the bot @s 张阿姨 and names her to the staff
    await chat.say("通知：明天下午停电，请大家做好准备", sender="res-zhang")  # a resident's plain notice
    assert any("张阿姨" in m.text for m in rows(chat, Message) if m.from_bot)
    assert any("张阿姨" in o.text for o in rows(chat, OutboxItem))

    reply = one_line(await chat.say("/删除我的信息", sender="res-zhang", room=None))
    assert "删除" in reply and "张阿姨" not in reply
    assert [n.text for n in rows(chat, Notice) if n.author_id == "res-zhang"] == [GONE]
    said = [m.text for m in rows(chat, Message) if m.from_bot] + [o.text for o in rows(chat, OutboxItem)]
    assert said and not any("张阿姨" in text for text in said)
    assert any("@居民" in text for text in said) and any("· 居民" in text for text in said)
    assert not any("张阿姨" in m.sender_name for m in rows(chat, Message))
    # staff and their names are untouched
    assert any("信息员李敏" in text for text in said)


async def test_a_resident_who_comes_back_is_a_resident_again(chat, clock):
    await chat.say(LIGHT, sender="res-chen")
    await chat.say("/删除我的信息", sender="res-chen", room=None)
    assert person(chat, "res-chen").deleted
    # same instant, new name: the new petition is theirs, the old one stays unlinked
    opened = in_room(await chat.say("我家楼上502室天天半夜吵，吵得睡不着", sender="res-chen", sender_name="老陈"))
    assert "#2" in opened[0].text
    second = ticket(chat, 2)
    assert second.reporter_id == "res-chen"

    done = in_room(await chat.say("/办结 2 已上门劝导", sender="officer-li"))
    assert done[0].mentions == ("res-chen",) and done[0].text.startswith("@老陈 ")
    back = person(chat, "res-chen")
    assert (back.deleted, back.name) == (False, "老陈")

    clock.advance(minutes=5)  # the old ticket is now the latest resolved one
    old = in_room(await chat.say("/办结 1 灯已换好", sender="officer-li"))
    assert old[0].mentions == () and "老陈" not in old[0].text
    detail = to(await chat.say("/工单 1", sender="officer-li", room=None), "officer-li")[0].text
    assert "老陈" not in detail and "陈先生" not in detail and "（已删除）" in detail
    assert "老陈" in to(await chat.say("/工单 2", sender="officer-li", room=None), "officer-li")[0].text
    # their "1" answers the question they were asked (#2), not the old ticket's
    assert "#2" in one_line(await chat.say("1", sender="res-chen", sender_name="老陈", room=S1))
    assert (ticket(chat, 2).status, ticket(chat, 1).status) == ("已回访", "已办结")
