"""Several reports of one problem join one ticket; a different or more dangerous problem never does."""
from __future__ import annotations

from sqlmodel import Session, select

from storage.models import Ticket


def ticket_rows(chat) -> list[Ticket]:
    with Session(chat.app.engine) as session:
        return list(session.exec(select(Ticket).order_by(Ticket.id)).all())


async def test_same_problem_from_a_neighbour_joins(chat):
    await chat.say("3单元楼道里堆满了纸箱,消防通道都堵了", sender="res-zhang")
    joined = await chat.say("楼道里的纸箱还没人清，消防通道还是堵着", sender="res-chen")
    assert "#1" in joined[0].text and "2人" in joined[0].text
    assert [t.reporters for t in ticket_rows(chat)] == [2]


async def test_a_gas_smell_never_joins_an_old_clutter_ticket(chat):
    await chat.say("3单元楼道里堆满了纸箱,消防通道都堵了", sender="res-zhang")
    gas = await chat.say("楼道里煤气味很重，快来人看看", sender="res-chen")
    group = [r for r in gas if r.room_id]
    assert "#2" in group[0].text and "119" in group[0].text  # its own ticket, safety line first
    rows = ticket_rows(chat)
    assert len(rows) == 2 and rows[1].urgent and not rows[0].urgent


async def test_a_different_fault_of_the_same_category_gets_its_own_ticket(chat):
    await chat.say("3楼的楼道灯又不亮了", sender="res-zhang")
    lift = await chat.say("电梯又坏了，老人上不去楼", sender="res-chen")
    assert "#2" in [r for r in lift if r.room_id][0].text
    assert [t.category for t in ticket_rows(chat)] == ["设施报修", "设施报修"]


async def test_two_short_reports_of_the_broken_lift_join(chat):
    await chat.say("电梯坏了", sender="res-zhang")
    joined = await chat.say("电梯又停了，我妈腿不好上不去楼", sender="res-chen")
    assert "#1" in joined[0].text and "2人" in joined[0].text
    await chat.say("3楼的楼道灯又不亮了", sender="res-chen")
    assert [t.reporters for t in ticket_rows(chat)] == [2, 1]


async def test_a_water_cut_does_not_join_the_lift_ticket(chat):
    await chat.say("电梯又停了", sender="res-zhang")
    water = await chat.say("家里水管没水了，水停了一上午", sender="res-chen")
    assert "#2" in [r for r in water if r.room_id][0].text


async def test_different_places_and_things_stay_apart(chat):
    await chat.say("1号电梯坏了", sender="res-zhang")
    await chat.say("2号电梯坏了", sender="res-chen")
    await chat.say("楼道灯坏了好几天了没人管", sender="res-zhang")
    await chat.say("单元门坏了好几天了没人管", sender="res-chen")
    assert [t.reporters for t in ticket_rows(chat)] == [1, 1, 1, 1]


async def test_a_repeat_finds_its_ticket_even_when_newer_ones_exist(chat):
    await chat.say("电梯坏了", sender="res-zhang")
    await chat.say("3楼的楼道灯又不亮了", sender="res-zhang")
    joined = await chat.say("电梯还是不能用，老人下不了楼", sender="res-chen")
    assert "#1" in joined[0].text
    assert [t.reporters for t in ticket_rows(chat)] == [2, 1]
