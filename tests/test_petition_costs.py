"""What a petition costs on a district's data: the queries it runs find their rows by index, the
staff of its group are picked from the grants of three scopes, and open tickets' texts are not
segmented again for every new report (issue 15's volume bench: 18 ms of the 40 ms a petition took
on PostgreSQL was one count scanning 300,000 ticket events)."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlmodel import Session, col, func, select

from nlp import router as router_module
from nlp import segment
from nlp.router import default_router
from storage.models import AuditEntry, TicketEvent


def _plan(engine, stmt) -> str:
    compiled = stmt.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        return " | ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))


def test_a_senders_recent_reports_and_warnings_are_counted_by_index(tmp_path):
    from storage.db import create_db_engine, init_schema

    engine = create_db_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    init_schema(engine)
    since = datetime(2026, 11, 25, tzinfo=timezone.utc)
    reports = select(func.count()).select_from(TicketEvent).where(
        TicketEvent.actor_id == "res-chen", col(TicketEvent.action).in_(("受理", "追加")), col(TicketEvent.at) >= since)
    warnings = select(func.count()).select_from(AuditEntry).where(
        AuditEntry.actor_id == "res-chen", AuditEntry.action == "throttled", col(AuditEntry.at) >= since)
    assert "USING INDEX ix_ticket_events_actor_id_at (actor_id=? AND at>?)" in _plan(engine, reports)
    assert "USING INDEX ix_audit_log_actor_id_at (actor_id=? AND at>?)" in _plan(engine, warnings)
    engine.dispose()


def test_a_tickets_objects_are_found_once_per_text(monkeypatch):
    router = default_router()
    router._objects_memo.clear()
    cuts = []
    real_cut = segment.cut
    monkeypatch.setattr(segment, "cut", lambda text: cuts.append(text) or real_cut(text))
    text = "3单元电梯又坏了，老人上下楼太难了"
    first = router.objects(text)
    assert first == router._objects(text)[0] and "电梯" in "".join(first)
    before = len(cuts)
    for _ in range(5):
        assert router.objects(text) == first
    assert len(cuts) == before  # kept, not segmented again
    monkeypatch.setattr(router_module, "OBJECTS_MEMO_SIZE", 3)
    for n in range(5):
        router.objects(f"{n}楼楼道灯坏了")
    assert len(router.__dict__["_objects_memo"]) <= 3  # bounded: emptied when full


def test_the_overdue_check_finds_a_tickets_markers_by_ticket_not_among_all_of_the_bots(tmp_path):
    """The throttle's (actor_id, at) index must not serve the overdue check's anti-join: SQLite chose
    it and read every 催办 marker of the bot for each overdue ticket (4.8 s on the district)."""
    from domain.overdue import overdue_tickets
    from storage.db import create_db_engine, init_schema

    engine = create_db_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    init_schema(engine)
    seen: list[tuple[str, object]] = []
    listener = lambda _c, _cur, sql, params, _ctx, _many: seen.append((sql, params))  # noqa: E731
    from sqlalchemy import event

    event.listen(engine, "before_cursor_execute", listener)
    with Session(engine) as session:
        overdue_tickets(session, datetime(2026, 11, 25, tzinfo=timezone.utc), unreminded=True)
    event.remove(engine, "before_cursor_execute", listener)
    sql, params = seen[-1]
    with engine.connect() as conn:
        plan = " | ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
    assert "ticket_events USING INDEX ix_ticket_events_ticket_id (ticket_id=?)" in plan, plan
    engine.dispose()
