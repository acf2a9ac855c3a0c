"""Urgent tickets, overdue escalations, digests and emergency receipts also reach the WeCom staff group."""
from __future__ import annotations

from sqlmodel import Session

from bot.staff.channel import WeComStaffTransport
from bot.staff.wecom import WeComRobot
from domain.notices import chase_unconfirmed
from domain.overdue import remind_overdue
from schedules import jobs
from tests.conftest import eventually
from tests.test_wecom import KEY, FakeWeCom, wecom  # noqa: F401  (the loopback fake robot fixture)


def texts(fake: FakeWeCom) -> list[str]:
    return [b["text"]["content"] for b in fake.received]


async def test_staff_alerts_are_mirrored_to_the_wecom_group(make_chat, wecom, clock):
    chat = await make_chat(staff_transport=WeComStaffTransport(WeComRobot(wecom.url, KEY)))
    await chat.say("楼道里有很重的煤气味，快来人看看", sender="res-zhang")
    assert any(t.startswith("【紧急工单 #1】") and "3幢1单元楼道群" in t for t in texts(wecom))
    await chat.say("楼道灯坏了好几天了，晚上看不见", sender="res-chen")
    assert not any("#2" in t for t in texts(wecom))  # an ordinary ticket stays in the private notes

    clock.advance(days=9)
    with Session(chat.app.engine) as session:
        remind_overdue(chat.app.services, session, clock.now())
        session.commit()
    assert await jobs.daily_digest() >= 1
    await chat.app.idle()
    assert any(t.startswith("【超期督办】") for t in texts(wecom))
    assert any("每日工单摘要" in t for t in texts(wecom))

    await chat.say("/战时 开启 燃气泄漏", sender="grid-zhao")
    await chat.say("/通知 本楼 请勿使用明火，等待燃气公司处理", sender="grid-zhao")
    clock.advance(minutes=31)
    with Session(chat.app.engine) as session:
        chase_unconfirmed(chat.app.services, session)
        session.commit()
    await chat.app.idle()
    assert any(t.startswith("【战时回执】") for t in texts(wecom))
    before = len(wecom.received)
    with Session(chat.app.engine) as session:  # idempotent: nothing twice
        remind_overdue(chat.app.services, session, clock.now())
        session.commit()
    await chat.app.idle()
    assert len(wecom.received) == before


async def test_a_bad_robot_key_is_reported_not_retried(make_chat, wecom):
    chat = await make_chat(staff_transport=WeComStaffTransport(WeComRobot(wecom.url, "wrong-key")))
    await chat.say("楼道里有很重的煤气味，快来人看看", sender="res-zhang")
    assert len(wecom.received) == 1  # 93000: no retry
    # the failure is reported to the admins once the outbox's worker thread has recorded it
    await eventually(lambda: any("发送失败" in m.text and m.to == "grid-zhao" for m in chat.sent),
                     what="the failure reported to the admin")
    assert len(wecom.received) == 1


async def test_a_long_staff_alert_is_one_wecom_post_per_row(make_chat, wecom):
    from bot.services import STAFF_TARGET
    from storage.models import OutboxItem
    from sqlmodel import select

    chat = await make_chat(staff_transport=WeComStaffTransport(WeComRobot(wecom.url, KEY)))
    with Session(chat.app.engine) as session:
        rows = chat.app.services.to_staff_channel(session, key="long", text="\n".join(["工单摘要：楼道堆物待清理"] * 120))
        session.commit()
        stored = session.exec(select(OutboxItem).where(OutboxItem.to == STAFF_TARGET)).all()
    await chat.app.idle()
    assert rows == len(stored) > 1
    assert all(len(r.text.encode()) <= 2048 for r in stored)
    assert len(wecom.received) == rows  # one POST per row, so a retry never repeats a piece
