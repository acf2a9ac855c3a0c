"""The data behind the staff console's 通知, 定时, 底账 and 走访 pages (domain and handlers' functions,
the ones chat uses), on SQLite and PostgreSQL: scope, audit, receipts."""
from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

from bot.permissions import Caller, caller_from_grants
from domain.ledger_view import OutOfScope, household_card, ledger_list, visits_page
from storage import directory, ledger
from storage.models import LedgerAudit
from tests.conftest import S1


def caller(session: Session, person_id: str) -> Caller:
    return caller_from_grants(person_id, person_id, directory.grants_for(session, person_id))


def audits(session: Session, action: str) -> list[LedgerAudit]:
    return list(session.exec(select(LedgerAudit).where(LedgerAudit.action == action).order_by(col(LedgerAudit.id))).all())


async def test_ledger_and_visits_pages_are_scoped_and_audited(chat, clock):
    await chat.say("/走访 101 已见本人", sender="officer-li", room=S1)
    with Session(chat.app.engine) as session:
        li, zhao = caller(session, "officer-li"), caller(session, "grid-zhao")
        mine = ledger_list(session, li, "officer-li", clock.now())
        assert [p.name for p in mine.stairwells] == ["3幢1单元"] and len(mine.rows["3幢1单元"]) == 8
        first = mine.rows["3幢1单元"][0]
        assert first.household.flat == "101" and first.tags == ["独居老人"]
        assert [p.name for p in ledger_list(session, zhao, "grid-zhao", clock.now()).stairwells] == ["3幢1单元", "3幢2单元"]
        with pytest.raises(OutOfScope):
            ledger_list(session, li, "officer-li", clock.now(), stairwell="3幢2单元")

        other = ledger.find(session, "3幢2单元", "101")
        assert other is not None and other.id is not None
        with pytest.raises(OutOfScope):
            household_card(session, li, "officer-li", other.id, clock.now())
        with pytest.raises(LookupError):
            household_card(session, li, "officer-li", 99999, clock.now())
        card = household_card(session, zhao, "grid-zhao", other.id, clock.now())
        assert card.members[0].name == "冯奶奶" and card.members[0].phone == "138****2101"
        assert [t.tag for t in card.tags] == ["独居老人", "空巢"]
        session.commit()
        reads = audits(session, ledger.READ)
        assert [(a.actor_id, a.household_id) for a in reads] == [("grid-zhao", other.id)]  # the refused read left none
        assert {a.actor_id for a in audits(session, ledger.OVERVIEW)} == {"officer-li", "grid-zhao"}

        tags = chat.app.config.visits.at_risk_tags
        page = visits_page(session, li, "officer-li", clock.now(), tags)
        assert [(c.stairwell, c.visited, c.total) for c in page.coverage] == [("3幢1单元", 1, 8)] and page.month is None
        with pytest.raises(OutOfScope):
            visits_page(session, li, "officer-li", clock.now(), tags, stairwell="3幢2单元")
        page = visits_page(session, li, "officer-li", clock.now(), tags, stairwell="3幢1单元")
        assert page.month is not None
        left = [h.flat for h in page.month.left()]
        assert "101" not in left and left[:4] == ["102", "201", "301", "401"]  # at risk first (空巢, 留守儿童, 残疾, 重病)
        session.commit()
        assert {a.household_id for a in audits(session, "走访进度")} == {h.id for h in page.month.left()[:4]}


async def test_notices_in_scope_with_receipts_per_group(chat):
    from handlers.notices import notices_in_scope

    await chat.say("/通知 全部 周六上午停水", sender="grid-zhao", room=None)
    await chat.say("/确认", sender="grid-zhao", room=None)
    await chat.say("收到", sender="res-zhang", room=S1)
    with Session(chat.app.engine) as session:
        li = notices_in_scope(session, caller(session, "officer-li"))
        zhao = notices_in_scope(session, caller(session, "grid-zhao"))
        nobody = notices_in_scope(session, caller(session, "res-zhang"))
    assert len(li) == 1 and [g.room.topic for g in li[0][1]] == [S1]
    assert li[0][1][0].done == ["张阿姨"] and "陈先生" in li[0][1][0].missing
    assert "李敏" not in li[0][1][0].missing  # staff are not asked to confirm
    assert len(zhao[0][1]) > 1 and nobody == []
