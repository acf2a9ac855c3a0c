"""The dispatcher pipeline end to end through the memory transport (SQLite, and PostgreSQL when set)."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from bot.events import Incoming
from storage.models import Message, OutboxItem, Ticket
from tests.conftest import S1

PETITION = "3单元楼道里堆满了纸箱,消防通道都堵了"


def messages(chat) -> list[Message]:
    with Session(chat.app.engine) as session:
        return list(session.exec(select(Message).order_by(Message.id)).all())


async def test_petition_is_logged_routed_and_answered(chat):
    replies = await chat.say(PETITION, sender="res-zhang")
    logged = [m for m in messages(chat) if not m.from_bot]
    assert [(m.sender_id, m.route) for m in logged] == [("res-zhang", "petition")]
    room_replies = [r for r in replies if r.room_id]
    assert len(room_replies) == 1
    assert room_replies[0].mentions == ("res-zhang",)
    assert "编号 #1" in room_replies[0].text
    private = [r.to for r in replies if r.to]
    assert "officer-li" in private and "leader-zhou" in private
    # the outbox sent exactly what handling produced
    assert sorted(r.text for r in chat.sent) == sorted(r.text for r in replies)


async def test_same_message_id_is_handled_once(chat):
    first = await chat.say(PETITION, sender="res-zhang", message_id="wx-1")
    again = await chat.say(PETITION, sender="res-zhang", message_id="wx-1")
    assert first and again == []
    assert len([m for m in messages(chat) if not m.from_bot]) == 1


async def test_duplicate_survives_restart(make_chat):
    chat = await make_chat()
    await chat.say(PETITION, sender="res-zhang", message_id="wx-7")
    await chat.app.stop()
    chat2 = await make_chat()
    assert await chat2.say(PETITION, sender="res-zhang", message_id="wx-7") == []


async def test_chatter_is_logged_but_never_answered(chat):
    for text in ("谢谢楼道长", "收到", "好的👍", "大家早上好"):
        assert await chat.say(text, sender="res-chen") == []
    assert chat.sent == []
    assert [m.route for m in messages(chat)] == ["other"] * 4


async def test_own_and_old_messages_are_dropped(chat, clock):
    transport = chat.transport
    own = Incoming("memory", "self-1", "s3-1", S1, "bot", "楼道通", PETITION, is_self=True)
    old = Incoming(
        "memory", "old-1", "s3-1", S1, "res-zhang", "张阿姨", PETITION, sent_at=clock.now() - timedelta(hours=2)
    )
    assert await transport.deliver(own) == []
    assert await transport.deliver(old) == []
    assert messages(chat) == []


async def test_phone_and_id_numbers_are_masked_before_storing(chat):
    await chat.say("我家水管漏水了，联系电话13812345678，身份证110105194912310021", sender="res-zhang")
    stored = [m.text for m in messages(chat) if not m.from_bot][0]
    assert "13812345678" not in stored and "138****5678" in stored
    assert "110105********0021" in stored
    with Session(chat.app.engine) as session:
        assert "13812345678" not in session.exec(select(Ticket)).one().text
    # and nothing the bot said in the group repeats them
    assert all("5678" not in r.text for r in chat.sent if r.room_id)


async def test_a_failing_handler_is_contained(chat, monkeypatch):
    import handlers.routes

    async def boom(*a, **k):
        raise RuntimeError("handler bug")

    monkeypatch.setattr(handlers.routes.petitions, "on_petition", boom)
    assert await chat.say(PETITION, sender="res-zhang") == []
    assert [m.route for m in messages(chat)] == ["error"]
    with Session(chat.app.engine) as session:
        assert session.exec(select(OutboxItem)).all() == []
    # the bot keeps working for the next message
    monkeypatch.undo()
    assert await chat.say("电梯坏了，困在里面出不来", sender="res-chen")


async def test_a_handler_that_wrote_then_failed_leaves_only_the_message_logged(chat, monkeypatch):
    """No SAVEPOINT around handlers: a failure rolls back the whole transaction (the ticket it
    opened, the new sender it met) and the message is logged again, once, as an error; a failed
    command still gets its one polite line."""
    from storage import directory
    from storage.models import Person, RoomMember

    def boom(*a, **k):
        raise RuntimeError("handler bug after the ticket was written")

    monkeypatch.setattr(directory, "responsible_staff", boom)  # asked after the ticket's INSERTs
    assert await chat.say(PETITION, sender="res-new", message_id="wx-boom") == []
    with Session(chat.app.engine) as session:
        assert session.exec(select(Ticket)).all() == []
        assert session.exec(select(OutboxItem)).all() == []
        logged = session.exec(select(Message).where(Message.external_id == "wx-boom")).all()
        assert [(m.route, m.sender_id) for m in logged] == [("error", "res-new")]
        # the sender, first met in the rolled-back transaction, is met again in the second
        assert session.get(Person, "res-new") is not None
        assert session.get(RoomMember, (logged[0].room_id, "res-new")) is not None
    # the same message redelivered is a duplicate, not a second try
    assert await chat.say(PETITION, sender="res-new", message_id="wx-boom") == []
    assert len([m for m in messages(chat) if m.external_id == "wx-boom"]) == 1

    import bot.commands

    async def command_bug(*a, **k):
        raise RuntimeError("command bug")

    monkeypatch.setattr(bot.commands, "run_command", command_bug)
    replies = await chat.say("/工单", sender="officer-li")
    assert [r.text for r in replies] == ["抱歉，指令处理出错了，请稍后再试。"]
    assert [m.route for m in messages(chat) if not m.from_bot][-1] == "error"


async def test_zero_width_and_emoji_are_harmless(chat):
    assert await chat.say("\u200b\u200b😀😀😀", sender="res-chen") == []
    assert await chat.say("收\u200b到", sender="res-chen") == []
    assert len(messages(chat)) == 2


async def test_wechat_emoji_codes_are_not_commands(chat):
    assert await chat.say("/::)", sender="res-chen") == []
    assert await chat.say("/:?", sender="res-chen") == []


async def test_chatter_takes_the_fast_path_and_a_registered_step_does_not(chat, monkeypatch):
    """The fast path is derived from the route steps' predicates: chatter opens no handler
    context; a message a step acts on (a petition in a stairwell group) does."""
    import bot.dispatcher

    opened: list[str] = []
    real = bot.dispatcher.Context

    def counting(*args, **kwargs):
        opened.append(kwargs.get("text", ""))
        return real(*args, **kwargs)

    monkeypatch.setattr(bot.dispatcher, "Context", counting)
    assert await chat.say("今天天气不错，出去走走", sender="res-chen") == []
    assert opened == []
    assert [m.route for m in messages(chat)] == ["other"]
    assert await chat.say(PETITION, sender="res-zhang")
    assert opened == [PETITION]
    assert [m.route for m in messages(chat) if not m.from_bot] == ["other", "petition"]


async def test_a_handler_that_replied_then_failed_sends_nothing_it_queued(chat, monkeypatch):
    """A handler's replies wait for one INSERT when it is done (Services.queue_later); one that
    raises after replying leaves no row behind, and the next message's replies go out."""
    import handlers.routes

    async def half_done(ctx, *a, **k):
        ctx.reply("已收到您反映的问题")  # queued, not yet written
        ctx.private("officer-li", "【新工单】……")
        raise RuntimeError("handler bug after replying")

    monkeypatch.setattr(handlers.routes.petitions, "on_petition", half_done)
    assert await chat.say(PETITION, sender="res-zhang") == []
    with Session(chat.app.engine) as session:
        assert session.exec(select(OutboxItem)).all() == []
    monkeypatch.undo()
    replies = await chat.say("电梯坏了，困在里面出不来", sender="res-chen")
    with Session(chat.app.engine) as session:
        keys = [row.key for row in session.exec(select(OutboxItem).order_by(col(OutboxItem.id))).all()]
    assert len(keys) == len(replies) >= 2  # the ack and the staff's notes, all written, in order
    assert keys == sorted(keys, key=lambda k: int(k.rsplit(":", 1)[1]))


def test_messages_queued_later_are_written_first_and_never_dropped_by_a_commit(engine, config, clock):
    from bot.services import Services
    from nlp.router import default_router

    services = Services(config=config, engine=engine, clock=clock, router=default_router(), transport_name="memory")
    with Session(engine) as session:
        services.queue_later(session, key="a", text="先说的", to="res-chen", sealed="先说的（含登录链接）")
        services.queue_later(session, key="b", text="再说的", to="res-chen")
        assert services.queue(session, key="c", text="直接排队的", to="res-chen") == 1  # a, b go first
        services.queue_later(session, key="d", text="最后的", to="res-chen")
        session.commit()  # d is written by the commit itself
        services.queue_later(session, key="e", text="不发的", to="res-chen")
        services.drop_queued(session)
        session.commit()
        rows = session.exec(select(OutboxItem).order_by(col(OutboxItem.id))).all()
    assert [r.key for r in rows] == ["a", "b", "c", "d"]
    assert services.sealed.get("a") == "先说的（含登录链接）"  # written by queue(), its secret still kept
