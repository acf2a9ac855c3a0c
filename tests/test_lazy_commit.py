"""Messages from WeChat commit without waiting for the disk on PostgreSQL, and nothing the bot says
is sent before what it says about is on disk (storage.db.lazy_commit_engine).

On a VM's disk a synchronous COMMIT waited 1–100 ms (up to 0.7 s) for the write-ahead log, with
the event loop, and so every chat, waiting behind it. The dispatcher's message transactions now
commit with ``synchronous_commit = off``; the outbox claims each row with an ordinary (synchronous)
COMMIT before the send, which flushes the log past the message's commit (the log is one sequence).
A transport whose HTTP answer tells the sender "stored" keeps the synchronous commit."""
from __future__ import annotations

import pytest
from sqlalchemy import event, text

from bot.transports.base import TransportBase
from bot.transports.memory import MemoryTransport
from bot.transports.webchat import WebChatTransport
from bot.transports.webhook import WebhookTransport
from tests.conftest import PG_URL, S1

on_sqlite = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def on_postgres(test):
    """The test on PostgreSQL only (the ``db_url`` fixture's other half)."""
    test = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)(test)
    return pytest.mark.skipif(not PG_URL, reason="PostgreSQL: set STAIRWELL_TEST_DATABASE_URL (CI does)")(test)


def _setting(engine) -> str:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SHOW synchronous_commit").scalar_one()


def test_only_transports_that_answer_stored_declare_it():
    assert TransportBase.acknowledges is False and MemoryTransport.acknowledges is False
    assert WebhookTransport.acknowledges is True and WebChatTransport.acknowledges is True


@on_sqlite
async def test_on_sqlite_messages_use_the_one_engine(make_chat):
    chat = await make_chat()
    assert chat.app.message_engine is chat.app.engine


@on_postgres
async def test_a_petition_commits_lazily_and_its_ack_is_sent_after_a_flush_past_it(make_chat):
    chat = await make_chat()
    app = chat.app
    assert app.message_engine is not app.engine
    assert _setting(app.message_engine) == "off" and _setting(app.engine) == "on"

    steps: list[str] = []
    event.listen(app.message_engine, "commit", lambda _conn: steps.append("message"))
    event.listen(app.engine, "commit", lambda _conn: steps.append("commit"))
    committed_at: list[int] = []  # the log's insert position once the message was committed
    flushed_at_send: list[int] = []
    real_send = chat.transport.send

    def position(function: str) -> int:
        with app.engine.connect() as conn:  # pg_lsn - '0/0' is a number of bytes
            return int(conn.execute(text(f"SELECT {function}() - '0/0'::pg_lsn")).scalar_one())

    async def send(message):
        steps.append("send")
        flushed_at_send.append(position("pg_current_wal_flush_lsn"))
        return await real_send(message)

    chat.transport.send = send  # type: ignore[method-assign]
    replies = await chat.transport.say("3楼楼道里堆了好多纸箱，走路都不方便", sender="res-chen", room=S1,
                                       sender_name="陈阿姨")
    committed_at.append(position("pg_current_wal_insert_lsn"))
    await app.idle()
    assert replies.handled.route == "petition"
    assert chat.sent and "编号 #1" in chat.sent[0].text
    assert steps.index("message") < steps.index("send")
    # the claim's synchronous COMMIT came between the message's lazy one and the send …
    assert "commit" in steps[steps.index("message"):steps.index("send")]
    # … and the log was on disk past the message's commit when the acknowledgement went out
    assert flushed_at_send[0] >= committed_at[0]  # read after the message's commit, before the claim's


@on_postgres
async def test_a_transport_that_answers_stored_commits_synchronously(make_chat, monkeypatch):
    monkeypatch.setattr(MemoryTransport, "acknowledges", True)
    chat = await make_chat()
    assert chat.app.message_engine is chat.app.engine and _setting(chat.app.engine) == "on"
    replies = await chat.say("3楼楼道灯坏了好几天了，晚上黑漆漆的", sender="res-chen")
    assert "编号 #1" in chat.texts(replies)


@on_postgres
def test_the_urls_own_server_options_are_kept(db_url):
    """A deployment's "?options=-c…" in STAIRWELL_DATABASE_URL holds on the lazy engine too."""
    from storage.db import create_db_engine, lazy_commit_engine

    sep = "&" if "?" in db_url else "?"
    engine = create_db_engine(f"{db_url}{sep}options=-c%20statement_timeout%3D12345")
    lazy = lazy_commit_engine(engine)
    try:
        with lazy.connect() as conn:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar_one() == "12345ms"
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar_one() == "off"
    finally:
        lazy.dispose()
        engine.dispose()
