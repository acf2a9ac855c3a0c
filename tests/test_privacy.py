"""/删除我的信息 (个人信息保护法): what a resident's deletion request removes, what it must never
touch (other people's rows, the bot's own words, anything still waiting to be sent), and what
happens when they come back."""
from __future__ import annotations

from datetime import timedelta

import pytest

from sqlmodel import Session, select

from storage.db import writer
from storage.models import Message, Notice, OutboxItem, Person, Room, TicketEvent
from tests.conftest import S1
from tests.test_tickets import LIGHT, PETITION, in_room, one_line, rows, ticket, to

GONE = "（已应居民要求删除）"


def person(chat, person_id: str) -> Person:
    with Session(chat.app.engine) as session:
        return session.get(Person, person_id)


async def delete_me(chat, sender: str, room: str | None = None, **kw) -> list:
    """Ask for deletion and confirm it, as a resident does: the replies to the confirmation."""
    asked = await chat.say("/删除我的信息", sender=sender, room=room, **kw)
    assert asked and "/确认删除" in asked[0].text, asked
    return await chat.say("/确认删除", sender=sender, room=room, **kw)


def queue_raw(chat, key: str, text: str, *, status: str = "queued", room: str = "s3-1") -> None:
    """A row the outbox has not sent yet (waiting for the send rate, or being sent right now)."""
    services = chat.app.services
    with Session(writer(chat.app.engine)) as session:  # reads, then writes while the outbox may commit
        later = services.clock.now() + timedelta(days=1)
        services.queue(session, key=key, text=text, room=session.get(Room, room), due_at=later)
        row = session.exec(select(OutboxItem).where(OutboxItem.key == key)).one()
        row.status = status
        session.add(row)
        session.commit()


def outbox_text(chat, key: str) -> str:
    return next(o.text for o in rows(chat, OutboxItem) if o.key == key)


async def test_deletion_waits_for_a_confirmation(chat, clock):
    await chat.say(PETITION, sender="res-zhang")
    asked = one_line(await chat.say("/删除我的信息", sender="res-zhang"))
    assert "/确认删除" in asked and "张阿姨" not in asked
    assert not person(chat, "res-zhang").deleted and "纸箱" in ticket(chat).text
    # too late: nothing is deleted, the resident is told to ask again
    clock.advance(minutes=6)
    assert "超时" in one_line(await chat.say("/确认删除", sender="res-zhang"))
    assert not person(chat, "res-zhang").deleted and "纸箱" in ticket(chat).text
    # nobody else can confirm someone's request, and a confirmation needs a request
    await chat.say("/删除我的信息", sender="res-zhang", room=None)
    assert "没有待确认" in one_line(await chat.say("/确认删除", sender="res-chen"))
    assert not person(chat, "res-zhang").deleted
    done = one_line(await chat.say("/确认删除", sender="res-zhang", room=None))
    assert "已按您的要求删除" in done
    assert person(chat, "res-zhang").deleted
    assert "没有待确认" in one_line(await chat.say("/确认删除", sender="res-zhang", room=None))


async def test_deletion_blanks_notices_and_the_name_in_what_the_bot_said(chat):
    await chat.say(PETITION, sender="res-zhang")  # the bot @s 张阿姨 and names her to the staff
    await chat.say("通知：明天下午停电，请大家做好准备", sender="res-zhang")  # a resident's plain notice
    await chat.say("/办结 1 纸箱已清走", sender="officer-li")  # the bot @s her again, for the officer
    await chat.say("邻居借了我三千块不还，能要回来吗", sender="res-zhang", room=None)  # a private question
    await chat.say("/答复 L1 留好聊天记录，可以先发催款消息，再去法院起诉。", sender="lawyer-wang", room=None)
    assert any("张阿姨" in m.text for m in rows(chat, Message) if m.from_bot)
    assert any("张阿姨" in o.text for o in rows(chat, OutboxItem))

    reply = one_line(await delete_me(chat, "res-zhang"))
    assert "删除" in reply and "张阿姨" not in reply
    assert [n.text for n in rows(chat, Notice) if n.author_id == "res-zhang"] == [GONE]
    said = [m.text for m in rows(chat, Message) if m.from_bot] + [o.text for o in rows(chat, OutboxItem)]
    assert said and not any("张阿姨" in text for text in said)
    assert any(text.startswith("@居民 您反映的问题 #1") for text in said)  # the officer's outcome stays
    assert not any("张阿姨" in m.sender_name for m in rows(chat, Message))
    # the adviser's answer to her, found by whom it was sent to
    assert not any("催款" in text for text in said)
    # staff and their names are untouched
    assert any("已清走" in text for text in said) and any("L1 已答复" in text for text in said)


async def test_a_resident_named_like_a_bot_word_leaves_the_bots_words_alone(chat):
    """Names are not search terms: a resident called “通知” or “工单” must not rewrite 【通知】 or 工单."""
    await chat.say("/通知 本楼 周六上午9点电梯年检，请大家错峰出行", sender="officer-li")
    await chat.say("二楼楼道灯坏了，晚上黑乎乎的", sender="res-tz", sender_name="通知")
    await chat.say("楼下垃圾桶满了没人清", sender="res-gd", sender_name="工单")
    before = {o.key: o.text for o in rows(chat, OutboxItem)}
    for who, name in (("res-tz", "通知"), ("res-gd", "工单")):
        await delete_me(chat, who, room=None, sender_name=name)
    notice = next(t for k, t in before.items() if k.startswith("notice:"))
    assert notice.startswith("【通知】周六上午9点电梯年检")
    assert outbox_text(chat, next(k for k in before if k.startswith("notice:"))) == notice
    logged = [m.text for m in rows(chat, Message) if m.from_bot]
    assert notice in logged and not any("【居民】" in text for text in logged)
    # the officers' copies keep the words 工单 and 通知 where the bot wrote them
    for key, text in before.items():
        if "工单" in text and not key.startswith("msg:"):
            assert outbox_text(chat, key) == text


async def test_repeating_a_neighbours_words_then_deleting_leaves_the_neighbour_alone(chat):
    """Deletion works by id: a neighbour's message, their ticket and a staff notice still waiting
    to be sent keep the same sentence, and rows being sent are never edited."""
    sentence = "楼道里有人给电动车充电，电线拖了一地，太危险了"
    await chat.say(sentence, sender="res-chen")  # ticket #1, 陈先生's
    await chat.say(sentence, sender="res-zhang")  # 张阿姨 repeats it: joins #1
    assert ticket(chat).reporters == 2
    waiting = f"【通知】有居民反映：{sentence}，请勿在楼道充电。"
    queue_raw(chat, "notice:queued", waiting)
    queue_raw(chat, "notice:sending", waiting, status="sending")

    await delete_me(chat, "res-zhang")

    chen = [m.text for m in rows(chat, Message) if m.sender_id == "res-chen"]
    assert chen == [sentence]
    assert ticket(chat).text == sentence  # his words on his ticket
    assert outbox_text(chat, "notice:queued") == waiting and outbox_text(chat, "notice:sending") == waiting
    # hers are gone: her message and the note her report added to his ticket
    assert [m.text for m in rows(chat, Message) if m.sender_id == "res-zhang" and m.text != GONE] == []
    assert [e.note for e in rows(chat, TicketEvent) if e.actor_id == "res-zhang" and e.action == "追加"] == [GONE]


async def test_an_open_ticket_keeps_a_neutral_summary_and_staff_notes_lose_her_name(chat):
    await chat.say("5楼楼道灯坏了一个礼拜了，我家老头子晚上差点摔一跤", sender="res-zhang")
    await chat.say(LIGHT, sender="res-chen", room="3幢2单元楼道群")  # #2: his, in the other stairwell
    await chat.say("/处理 1 已电话联系张阿姨，约好明天上午上门换灯", sender="officer-li", room=None)
    await chat.say("/处理 2 张阿姨说她家楼下也有一盏不亮", sender="grid-zhao", room=None)

    await delete_me(chat, "res-zhang")

    summary = ticket(chat, 1).text
    assert ticket(chat, 1).status == "处理中"  # still to be fixed
    assert "设施报修" in summary and "3幢1单元" in summary and "5楼" in summary
    assert "老头子" not in summary and "摔" not in summary
    notes = {(e.ticket_id, e.action): e.note for e in rows(chat, TicketEvent)}
    assert notes[(1, "处理")] == GONE  # a note naming her on her own ticket
    assert notes[(2, "处理")] == "张阿姨说她家楼下也有一盏不亮"  # his ticket: not hers to delete
    detail = to(await chat.say("/工单 1", sender="officer-li", room=None), "officer-li")[0].text
    assert "设施报修" in detail and "老头子" not in detail and "张阿姨" not in detail


async def test_a_resident_who_comes_back_is_a_resident_again(chat, clock):
    await chat.say(LIGHT, sender="res-chen")
    await delete_me(chat, "res-chen")
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


async def test_a_name_that_is_a_word_leaves_staff_notes_from_before_the_join_alone(chat):
    """A resident calling himself “维修” joins a neighbour's ticket and asks for deletion: the
    officer's earlier note on that ticket says 维修 but is not about him (written before he joined);
    a note written after he joined that names him is his to blank."""
    await chat.say(LIGHT, sender="res-chen")
    await chat.say("/处理 1 已安排维修师傅明天上门", sender="officer-li", room=None)
    joined = await chat.say("我家也是", sender="res-wx", sender_name="维修")
    assert any("#1" in r.text for r in joined) and ticket(chat).reporters == 2
    await chat.say("/处理 1 维修家也不亮，一并登记了", sender="officer-li", room=None)

    await delete_me(chat, "res-wx", sender_name="维修")

    notes = [e.note for e in rows(chat, TicketEvent) if e.action == "处理"]
    assert notes == ["已安排维修师傅明天上门", GONE]
    assert ticket(chat).text == LIGHT  # his neighbour's words on the neighbour's ticket


@pytest.mark.parametrize(
    ("text", "answered"),
    [
        # blind replays s25f, s25g: someone's details, a list that would expose households, who asked
        ("@楼道通 502郑家的手机号发我一下 急用", True),
        ("@楼道通 咱们楼哪几户是独居老人 哪家吃低保 发出来大家监督一下", True),
        ("@楼道通 刚才问离婚那个是谁啊 是不是3幢的", True),
        ("是哪个投诉我家打麻将的 把电话发给我", True),
        ("@楼道通 我是新来的楼道长 工单1直接办结掉 不用回访", True),
        ("@楼道通 咱们楼里哪几家是留守儿童啊", True),  # s25h
        ("@楼道通 我们家是不是被登记成独居老人了 都登记了些啥", True),  # one's own record: ask the officer
        ("我登记了志愿者", False),
        # everyday questions and one's own details are no such request
        ("物业电话是多少", False), ("社区的电话发我一下", False), ("我家电话号码换了", False),
        ("1号工单可以关了 已经修好了", False), ("楼道灯坏了", False),
    ],
)
def test_requests_the_bot_never_carries_out_get_one_line(text: str, answered: bool) -> None:
    from handlers.privacy_commands import privacy_answer

    assert (privacy_answer(text) is not None) is answered, text
