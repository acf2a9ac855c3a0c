"""Upper bounds on the statements one message costs (counting is deterministic; timing is not).

bench/statements.py drives one message of each kind (chatter, a petition, a follow-up, a staff
command, a notice, a receipt) through the whole bot and records every statement the driver ran,
split into the handling and the outbox sending its replies. Measured in the second round, when
the directory cache is warm, as in a running bot. A change that adds a query to the per-message
path fails here and says which kind grew.
"""
from __future__ import annotations

from tests.test_bench_smoke import _load

# kind -> (handling statements, handling commits, sending statements). The handling is exact; the
# sending allows two more for the outbox worker's idle passes, whose number depends on timing.
# Before issue 15's work (warm cache): chatter 2 statements in 2 transactions (the directory stamp
# on a connection of its own), a petition 15 (the log written twice, the responsible staff and their
# names read each time), a follow-up 13, a staff command 9, a notice 10, a receipt 6. Since: a
# receipt stored as one at once (5), a petition's first questions in one statement and a handler's
# replies in one INSERT (petition 11 -> 7, staff command 8 -> 7); the sender's standing and the
# group's open tickets in one statement (petition 6; on PostgreSQL the new ticket, its reporter
# and its 受理 event are one statement, not three).
BUDGET = {
    "chatter": (2, 1, 4),
    "petition": (6, 1, 24),
    "follow-up": (9, 1, 24),
    "staff command": (7, 1, 18),
    "notice": (9, 1, 17),
    "receipt": (5, 1, 4),
}


async def test_statements_per_message_stay_within_budget(chat):
    statements = _load("statements")
    names = {p.id: p.name for p in chat.app.config.people}
    runs = await statements.per_kind(chat.app, chat.transport, names=names, rounds=2)
    warm = runs[len(statements.KINDS):]
    assert [r.kind for r in warm] == list(BUDGET)
    assert [r.route for r in warm] == ["other", "petition", "petition", "command", "command", "receipt"]
    for run in warm:
        most, commits, sending = BUDGET[run.kind]
        assert run.handling.count <= most, (run.kind, run.handling.summary())
        assert run.handling.commits == commits and run.handling.transactions == 1, (run.kind, run.handling.summary())
        assert run.sending.count <= sending, (run.kind, run.sending.summary())
    chatter, receipt = warm[0].handling, warm[-1].handling
    assert chatter.writes == 1  # the log insert, carrying its route: no UPDATE afterwards
    assert receipt.writes == 2  # the log insert already saying "receipt", and the receipt


def test_a_long_answer_is_queued_in_one_statement(engine):
    """/回执 on a district-wide notice runs to dozens of parts: one INSERT for all of them (it ran
    one per part on the event loop), and a part already queued is still skipped by its key."""
    from datetime import datetime, timezone

    from sqlalchemy import event
    from sqlmodel import Session, select

    from storage import outbox
    from storage.models import OutboxItem

    now = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
    text = "\n".join(f"{n}幢{n % 4 + 1}单元楼道群：已确认12人，未确认3人" for n in range(200))
    with Session(engine) as session:
        outbox.enqueue(session, key="receipts#3", transport="memory", text="早到的一段", now=now)
        session.commit()
    inserts: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _k, sql, *_: inserts.append(sql) if sql.lstrip().upper().startswith("INSERT") else None)
    with Session(engine) as session:
        added = outbox.enqueue(session, key="receipts", transport="memory", text=text, now=now, max_length=100)
        session.commit()
    parts = outbox.split_text(text, 100)
    assert len(parts) > 40 and len(inserts) == 1
    assert [item.key for item in added] == [f"receipts#{n + 1}" if n else "receipts"
                                          for n in range(len(parts)) if n != 2]
    with Session(engine) as session:
        stored = {row.key: (row.id, row.text) for row in session.exec(select(OutboxItem))}
    assert stored["receipts#3"][1] == "早到的一段" and stored["receipts#4"][1] == parts[3]
    assert all(stored[item.key][0] == item.id for item in added)
