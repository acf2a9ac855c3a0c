"""Room and connection events: the bot's one-time introduction, connection alerts."""
from __future__ import annotations

import logging

from sqlmodel import Session

from bot.handling import lifecycle_handler
from bot.events import Connected, Disconnected, Event, Outgoing, RoomJoined, RoomLeft
from bot.services import Services
from storage import directory

log = logging.getLogger(__name__)

INTRODUCTION = (
    "大家好，我是{bot}，社区的楼道群助手。在群里描述需要解决的问题（如楼道堆物、漏水、电梯故障），"
    "我会登记编号并转给楼道长、信息员跟进；法律问题转给社区法律顾问。"
    "为此我会记录群消息（手机号、身份证号自动隐去），保存不超过{days}天，仅工作人员可查看；"
    "需要删除您的信息，请私聊我发送 /删除我的信息。"
)


@lifecycle_handler
def handle(services: Services, session: Session, event: Event) -> list[Outgoing]:
    if isinstance(event, RoomJoined):
        room = directory.resolve_room(session, event.transport, event.room_id, event.room_topic)
        for person_id, name in zip(event.member_ids, event.member_names, strict=False):
            directory.ensure_person(session, person_id, name)
            directory.ensure_member(session, room.id, person_id)
        if event.bot_joined and not room.introduced:
            room.introduced = True
            session.add(room)
            text = INTRODUCTION.format(bot=services.config.bot.name, days=services.config.privacy.retention_days)
            services.queue(session, key=f"intro:{room.id}", text=text, room=room)
            return [Outgoing(text=text, room_id=event.room_id)]
    elif isinstance(event, RoomLeft):
        log.info("left room %s", event.room_topic or event.room_id)
    elif isinstance(event, Connected):
        log.info("transport %s connected as %s", event.transport, event.self_name or event.self_id)
        services.on_connected()
    elif isinstance(event, Disconnected):
        log.warning("transport %s disconnected: %s", event.transport, event.reason)
        for admin in directory.admins(session):  # queued: it goes out once the link is back
            services.queue(
                session, key=f"disconnected:{event.transport}:{services.clock.now():%Y%m%d%H%M}:{admin.id}",
                to=admin.id, text=f"【连接中断】{event.transport} 已断开（{event.reason[:80]}），正在重连。",
            )
    return []
