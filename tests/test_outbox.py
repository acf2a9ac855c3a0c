"""The persistent outbox: limits with a fake clock, retries, failures reported, long texts split."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import Session, select

from bot.config import OutboxConfig
from bot.transports.base import TransportError
from storage.db import writer
from storage.models import OutboxItem, Room
from storage.outbox import split_text
from tests.conftest import eventually

WECHAT_LIMITS = OutboxConfig(room_interval_seconds=2, per_minute=20, jitter_seconds=0.5, max_length=100)
NO_LIMITS = OutboxConfig(room_interval_seconds=0, per_minute=0, jitter_seconds=0)


async def start_with_limits(make_chat, config, clock, limits: OutboxConfig):
    cfg = config.model_copy(update={"transport_limits": config.transport_limits.model_copy(update={"memory": limits})})
    chat = await make_chat(cfg)
    sent_at = []

    async def fake_wait(delay, wake) -> None:  # time passes only on the fake clock
        if delay is None:
            await wake.wait()
        else:
            clock.advance(seconds=delay)
            await asyncio.sleep(0)

    original = chat.transport.send

    async def timed_send(message):
        external_id = await original(message)  # raises for the failures a test asks for
        sent_at.append((clock.now(), message.room_id))
        return external_id

    chat.transport.send = timed_send
    chat.app.outbox.waiter = fake_wait
    return chat, sent_at


async def start_with_slow_sends(make_chat, config, clock, seconds: float):
    """No limits, but every transport send takes ``seconds`` (a slow gateway); ``chat.sending``
    lists the messages whose send has begun."""
    chat, _ = await start_with_limits(make_chat, config, clock, NO_LIMITS)
    original = chat.transport.send
    chat.sending = []

    async def slow_send(message):
        chat.sending.append(message)
        await asyncio.sleep(seconds)
        return await original(message)

    chat.transport.send = slow_send
    return chat


def queue(chat, n_per_room: int, text: str = "测试消息") -> None:
    # A writer's session: a deferred one that read the rooms and then inserts fails at once
    # (SQLITE_BUSY_SNAPSHOT) if an outbox thread committed a send in between.
    with Session(writer(chat.app.engine)) as session:
        rooms = session.exec(select(Room)).all()
        for i in range(n_per_room):
            for room in rooms:
                chat.app.services.queue(session, key=f"t:{room.id}:{i}", text=f"{text}{i}", room=room)
        session.commit()


def queued(chat) -> int:
    with Session(chat.app.engine) as session:
        return len(session.exec(select(OutboxItem).where(OutboxItem.status == "queued")).all())


async def send_all(chat) -> None:
    for _ in range(1000):
        if not queued(chat):
            return
        await chat.app.outbox.drain()
    raise AssertionError("outbox did not empty")


async def test_limits_hold_on_a_fake_clock(make_chat, config, clock):
    chat, sent_at = await start_with_limits(make_chat, config, clock, WECHAT_LIMITS)
    queue(chat, 15)  # 45 messages over 3 rooms
    await send_all(chat)
    assert len(sent_at) == 45
    for room in {r for _, r in sent_at}:
        times = [t for t, r in sent_at if r == room]
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
        assert min(gaps) >= 2.0, (room, min(gaps))
    times = [t for t, _ in sent_at]
    for i, start in enumerate(times):
        in_window = [t for t in times[i:] if t - start < timedelta(seconds=60)]
        assert len(in_window) <= 20
    # and not absurdly slow: 45 messages at 20/minute need a bit over two minutes
    assert (times[-1] - times[0]) < timedelta(minutes=3)


async def test_limits_off_sends_everything_at_once(make_chat, config, clock):
    chat, sent_at = await start_with_limits(
        make_chat, config, clock, NO_LIMITS
    )
    queue(chat, 5)
    await send_all(chat)
    assert len(sent_at) == 15 and sent_at[0][0] == sent_at[-1][0]


async def test_transport_errors_are_retried_with_backoff_then_reported(make_chat, config, clock):
    limits = OutboxConfig(room_interval_seconds=0, per_minute=0, jitter_seconds=0, max_attempts=3, retry_base_seconds=5)
    chat, sent_at = await start_with_limits(make_chat, config, clock, limits)
    chat.transport.fail_next = [TransportError("gateway busy")]
    with Session(writer(chat.app.engine)) as session:
        room = session.get(Room, "s3-1")
        chat.app.services.queue(session, key="retry-1", text="第一条", room=room)
        session.commit()
    start = clock.now()
    await send_all(chat)
    assert [r for _, r in sent_at] == ["s3-1"] and sent_at[0][0] - start >= timedelta(seconds=5)
    # a message that keeps failing is marked failed after max_attempts and admins are told
    chat.transport.fail_next = [TransportError("down")] * 3
    with Session(writer(chat.app.engine)) as session:
        chat.app.services.queue(session, key="doomed", text="发不出去", room=session.get(Room, "s3-2"))
        session.commit()
    await send_all(chat)
    with Session(chat.app.engine) as session:
        doomed = session.exec(select(OutboxItem).where(OutboxItem.key == "doomed")).one()
    assert doomed.status == "failed" and doomed.attempts == 3
    reports = [m for m in chat.sent if m.to == "grid-zhao" and "发送失败" in m.text]
    assert len(reports) == 1 and "s3-2" in reports[0].text and "发不出去" in reports[0].text


async def test_non_retryable_error_fails_at_once(make_chat, config, clock):
    chat, _ = await start_with_limits(make_chat, config, clock, NO_LIMITS)
    chat.transport.fail_next = [TransportError("room not found", retryable=False)]
    with Session(writer(chat.app.engine)) as session:
        chat.app.services.queue(session, key="gone", text="x", room=session.get(Room, "s3-1"))
        session.commit()
    await send_all(chat)
    with Session(chat.app.engine) as session:
        gone = session.exec(select(OutboxItem).where(OutboxItem.key == "gone")).one()
    assert gone.status == "failed" and gone.attempts == 1


async def test_long_texts_are_split_and_keys_are_idempotent(make_chat, config, clock):
    chat, sent_at = await start_with_limits(make_chat, config, clock, OutboxConfig(room_interval_seconds=0, per_minute=0, jitter_seconds=0, max_length=50))
    long_text = "\n".join(f"第{i}条：请大家注意用电安全，不要在楼道里给电动车充电。" for i in range(6))
    with Session(writer(chat.app.engine)) as session:
        room = session.get(Room, "s3-1")
        added = chat.app.services.queue(session, key="long", text=long_text, room=room)
        again = chat.app.services.queue(session, key="long", text=long_text, room=room)
        session.commit()
    assert added == 6 and again == 0
    await send_all(chat)
    assert len(sent_at) == 6 and all(len(m.text) <= 50 for m in chat.sent)
    assert "\n".join(m.text for m in chat.sent) == long_text


def test_split_text_never_loses_characters():
    text = "甲" * 130 + "\n" + "乙" * 10
    parts = split_text(text, 50)
    assert all(len(p) <= 50 for p in parts)
    assert "".join(p.replace("\n", "") for p in parts) == text.replace("\n", "")
    assert split_text("短", 50) == ["短"]


async def test_a_slow_send_never_blocks_other_writes(make_chat, config, clock):
    """No database transaction stays open across the transport call (the 'database is locked' trap)."""
    chat = await start_with_slow_sends(make_chat, config, clock, 0.2)
    first = asyncio.create_task(chat.say("3单元楼道里堆满了纸箱,消防通道都堵了", sender="res-zhang"))
    await eventually(lambda: chat.sending, what="the outbox to be inside a send")
    await chat.say("2楼楼道里堆了好多杂物，把消防通道堵死了", sender="res-chen")
    await first
    await send_all(chat)
    with Session(chat.app.engine) as session:
        statuses = {i.status for i in session.exec(select(OutboxItem)).all()}
    assert statuses == {"sent"}


async def test_stopping_lets_the_send_in_progress_finish(make_chat, config, clock):
    chat = await start_with_slow_sends(make_chat, config, clock, 0.3)
    with Session(writer(chat.app.engine)) as session:
        chat.app.services.queue(session, key="last-words", text="再见", room=session.get(Room, "s3-1"))
        session.commit()
    chat.app.outbox.wake()
    await eventually(lambda: chat.sending, what="the send to start")
    await chat.app.stop()
    with Session(chat.app.engine) as session:
        row = session.exec(select(OutboxItem).where(OutboxItem.key == "last-words")).one()
    assert row.status == "sent" and [m.text for m in chat.sent] == ["再见"]


async def test_an_urgent_line_jumps_60_spam_petitions_across_rooms(make_chat, config, clock):
    """Issue 11.4: one resident's 60 petitions in one group must not delay another group's
    gas-leak safety line (it waited 212 s under WeChat limits); the limits still hold."""
    # the per-sender ticket throttle would hold this spam back after 5; lifted so the queue fills
    throttle = config.tickets.throttle.model_copy(update={"max_tickets": 1000})
    config = config.model_copy(update={"tickets": config.tickets.model_copy(update={"throttle": throttle})})
    chat, sent_at = await start_with_limits(make_chat, config, clock, WECHAT_LIMITS)
    await chat.app.outbox.stop()  # queue everything first, as a busy evening would
    for i in range(60):
        await chat.transport.say(f"{i + 2}楼楼道灯坏了第{i}次反映", sender="web-spam", sender_name="小刘", room="s3-1")
    replies = await chat.transport.say("楼道里好大一股煤气味，快来人", sender="res-chen", sender_name="陈先生", room="s3-2")
    assert replies.handled.urgent
    with Session(chat.app.engine) as session:
        rows = session.exec(select(OutboxItem)).all()
    urgent_rows = [r for r in rows if r.priority > 0]
    assert len(rows) > 150 and urgent_rows and all(r.room_id != "s3-1" for r in urgent_rows)
    start = clock.now()
    chat.app.outbox.start()
    await send_all(chat)
    first = chat.sent[0]
    assert first.room_id == "s3-2" and "紧急" in first.text and sent_at[0][0] == start, first
    # every urgent row (the safety line, the staff alerts and their second parts) is out within
    # seconds (each recipient's own interval), while the spam takes minutes
    urgent_keys = {r.key for r in urgent_rows}
    urgent_times = [t for (t, _), m in zip(sent_at, chat.sent, strict=True) if m.key in urgent_keys]
    assert len(urgent_times) == len(urgent_keys)
    assert max(urgent_times) - start <= timedelta(seconds=5), max(urgent_times) - start
    assert sent_at[-1][0] - start > timedelta(minutes=5)
    # and the limits held all along
    times = [t for t, _ in sent_at]
    for i, t0 in enumerate(times):
        assert len([t for t in times[i:] if t - t0 < timedelta(seconds=60)]) <= 20
    for room in {r for _, r in sent_at if r}:
        room_times = [t for t, r in sent_at if r == room]
        assert all((b - a).total_seconds() >= 2.0 for a, b in zip(room_times, room_times[1:], strict=False))


async def test_a_row_held_by_its_room_keeps_its_window_slot(make_chat, config, clock):
    """Priority per row under both limits: while an urgent row waits out its room's interval,
    ordinary rows of other rooms do not use up the one-minute window ahead of it."""
    limits = OutboxConfig(room_interval_seconds=2, per_minute=3, jitter_seconds=0, max_length=100)
    chat, sent_at = await start_with_limits(make_chat, config, clock, limits)
    with Session(writer(chat.app.engine)) as session:
        chat.app.services.queue(session, key="b-first", text="二单元普通消息", room=session.get(Room, "s3-2"))
        session.commit()
    await send_all(chat)  # s3-2 has just had a message: its next one waits 2 s
    await chat.app.outbox.stop()
    with Session(writer(chat.app.engine)) as session:
        for room_id in ("s3-1", "legal-xfl"):
            for i in range(3):
                chat.app.services.queue(session, key=f"{room_id}-{i}", text=f"普通消息{i}", room=session.get(Room, room_id))
        chat.app.services.queue(session, key="b-urgent", text="二单元紧急：煤气泄漏", room=session.get(Room, "s3-2"), priority=10)
        session.commit()
    start = clock.now()
    chat.app.outbox.start()
    await send_all(chat)
    urgent_at = next(t for (t, _), m in zip(sent_at, chat.sent, strict=True) if m.key == "b-urgent")
    assert urgent_at - start <= timedelta(seconds=2.5), urgent_at - start  # not a minute later


async def test_one_petition_makes_one_row_per_recipient_however_long(make_chat, config, clock):
    """Issue 11.4: a long petition quoted in full to each staff member made a dozen rows; now the
    ack and one note per responsible staff member (the note says where the full text is)."""
    chat, _ = await start_with_limits(make_chat, config, clock, OutboxConfig(
        room_interval_seconds=0, per_minute=0, jitter_seconds=0, max_length=600))
    long_text = "楼道灯坏了，晚上完全看不见，" + "老人上下楼很危险，孩子也害怕，" * 200
    replies = await chat.say(long_text, sender="res-zhang")
    assert replies.handled.ticket == 1
    with Session(chat.app.engine) as session:
        rows = session.exec(select(OutboxItem)).all()
    staff_notes = [r for r in rows if r.to in ("officer-li", "leader-zhou")]
    assert len(rows) == 3 and len(staff_notes) == 2, [(r.key, len(r.text)) for r in rows]
    assert all("全文见 /进度 1" in r.text and len(r.text) <= 600 for r in staff_notes)
    # a follow-up joining the ticket quotes the same way
    await chat.say("楼道灯还是坏的，" + "真的很危险，" * 300, sender="res-chen")
    with Session(chat.app.engine) as session:
        assert len(session.exec(select(OutboxItem)).all()) == 6


async def test_an_urgent_row_queued_during_a_pass_goes_next(make_chat, config, clock):
    """A pass that read 20 ordinary rows does not finish them before a newly queued urgent row."""
    chat = await start_with_slow_sends(make_chat, config, clock, 0.05)
    await chat.app.outbox.stop()
    queue(chat, 7)  # 21 ordinary rows over three rooms
    chat.app.outbox.start()
    await eventually(lambda: len(chat.sent) >= 2, what="two sends of the pass")
    with Session(writer(chat.app.engine)) as session:
        chat.app.services.queue(session, key="gas", text="【紧急】煤气泄漏，请勿开关电器", room=session.get(Room, "s3-2"), priority=10)
        session.commit()
    chat.app.outbox.wake()
    await send_all(chat)
    order = [m.key for m in chat.sent]
    assert order.index("gas") <= 3, order


async def test_a_full_minute_window_reads_nothing_until_a_slot_frees(make_chat, config, clock):
    """Issue 15: with WeChat's 20 a minute used up and a backlog queued (a broadcast, the overdue
    digests), every incoming message woke the outbox, which read 100 rows to send none: 7 ms of a
    worker thread taking the GIL from the next resident's message (petition p99 11-15 -> 8-10 ms
    on the district). Now nothing is read before a slot frees; then the most urgent row goes."""
    import threading

    from sqlalchemy import event

    from bot.outbox import wait_or_wake

    limits = OutboxConfig(room_interval_seconds=0, per_minute=3, jitter_seconds=0, max_length=100)
    chat, _ = await start_with_limits(make_chat, config, clock, limits)
    chat.app.outbox.waiter = wait_or_wake  # real waits: the fake clock stands still meanwhile
    queue(chat, 2)  # six rows over three rooms
    await chat.app.outbox.drain()
    assert len(chat.sent) == 3 and queued(chat) == 3
    loop_thread = threading.get_ident()
    reads: list[str] = []

    def record(_conn, _cursor, sql, *_rest) -> None:
        if threading.get_ident() != loop_thread and "outbox" in sql.lower():
            reads.append(sql)

    event.listen(chat.app.engine, "before_cursor_execute", record)
    try:
        for i in range(5):  # residents talking: each message wakes the outbox
            await chat.say(f"今天天气不错{i}", sender="res-zhang")
            await chat.app.outbox.drain()
        assert reads == [] and len(chat.sent) == 3
        with Session(chat.app.engine) as session:
            chat.app.services.queue(session, key="gas", text="【紧急】煤气泄漏", room=session.get(Room, "s3-2"), priority=10)
            session.commit()
        clock.advance(seconds=61)  # the window's oldest send is a minute old: three slots again
        await chat.app.outbox.drain()
    finally:
        event.remove(chat.app.engine, "before_cursor_execute", record)
    assert reads and chat.sent[3].key == "gas" and len(chat.sent) == 6, [m.key for m in chat.sent]


async def test_the_outbox_never_runs_a_statement_on_the_event_loop(make_chat, config, clock):
    """Issue 15: the per-send bookkeeping (what is due, the claim, marking it sent, what is due
    next) ran on the loop, two transactions per message sent; now each runs in a worker thread."""
    import threading

    from sqlalchemy import event

    chat, _ = await start_with_limits(make_chat, config, clock, NO_LIMITS)
    await chat.app.outbox.drain()
    queue(chat, 1)  # in the test's own transaction, before recording starts
    loop_thread = threading.get_ident()
    on_loop: list[str] = []
    outbox_writes: list[str] = []

    def record(_conn, _cursor, sql, *_rest) -> None:
        if threading.get_ident() == loop_thread:
            on_loop.append(sql)
        elif sql.lstrip().upper().startswith(("UPDATE OUTBOX", "INSERT INTO MESSAGES")):
            outbox_writes.append(sql)

    event.listen(chat.app.engine, "before_cursor_execute", record)
    try:
        await chat.app.outbox.drain()  # no limits: one pass sends every row due
    finally:
        event.remove(chat.app.engine, "before_cursor_execute", record)
    assert len(chat.sent) >= 2 and len(outbox_writes) == 3 * len(chat.sent)  # claim, mark sent, its log line
    assert on_loop == []
    assert queued(chat) == 0
