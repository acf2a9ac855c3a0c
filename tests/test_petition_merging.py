"""Several reports of one problem join one ticket; a different or more dangerous problem never does."""
from __future__ import annotations

import pytest
from sqlmodel import Session, select

from handlers.petitions import places, same_object, same_place, same_place_in, same_problem
from nlp.router import default_router
from storage.models import AuditEntry, Message, Ticket, TicketEvent


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
    # its own ticket, the gas advice first (no switches, air the room, call from outside)
    assert "#2" in group[0].text and group[0].text.index("不要开关电器") < group[0].text.index("#2")
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


def events(chat, ticket_id: int) -> list[str]:
    with Session(chat.app.engine) as session:
        rows = session.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id))
        return [e.action for e in rows]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("402群租的事有人管吗", {"flat": 402, "floor": 4}),
        ("3-302门口堆了东西", {"flat": 302, "floor": 3}),
        ("1201的空调滴水", {"flat": 1201, "floor": 12}),
        ("一楼下水道堵了", {"floor": 1}),
        ("五楼的灯不亮", {"floor": 5}),
        ("12层电梯口", {"floor": 12}),
        ("2单元门禁坏了", {"unit": 2}),
        ("3号楼的路灯", {"building": 3}),
        ("1号电梯又停了", {"no": 1}),
        # dates, times, amounts and stairs are not places
        ("11月25日下午3点停水", {}),
        ("交了1200块物业费", {}),
        ("2026年的事", {}),
        ("楼梯扶手松了", {}),
        ("都等了10:30了", {}),
        ("3楼煤气味 已经打了110", {"floor": 3}),  # an emergency number is no flat
        ("打了120 人在502门口", {"flat": 502, "floor": 5}),
        ("5-02家卫生间漏水", {"flat": 502, "floor": 5}),  # floor-room
        ("3-302的快递", {"flat": 302, "floor": 3}),  # building-flat
        ("2026-12-02停水", {}),
    ],
)
def test_places(text: str, want: dict) -> None:
    assert places(text) == want


def test_places_compatible_only_when_every_shared_kind_agrees() -> None:
    assert same_place(places("402群租"), places("群租的事有人管吗"))
    assert same_place(places("4楼群租"), places("402群租"))
    assert not same_place(places("402群租"), places("502群租"))
    assert not same_place(places("3楼的灯"), places("5楼灯也坏了"))


def test_a_flat_both_reports_name_is_one_place_whichever_each_names_first() -> None:
    # a leak names its source and the flat it reaches; the neighbour writes them the other way round
    assert same_place_in("502家卫生间漏水 渗到我家402天花板", "我家302也被502漏下来的水泡了")
    assert not same_place_in("502家卫生间漏水", "602漏水了")
    assert not same_place_in("3单元502漏水", "4单元302被502泡了")  # another unit: another 502


@pytest.mark.parametrize(
    ("old", "new", "same"),
    [
        # the ticket names a thing with the leak ("墙皮" shows it), the neighbour the leak alone
        ("5-02家卫生间漏水 渗到我家天花板上了 墙皮都鼓起来了", "我家302也被502漏下来的水泡了", True),
        ("502漏水了", "502卫生间漏水 墙皮都鼓起来了", True),
        ("楼上漏水了", "卫生间漏水 墙皮都鼓起来了", False),  # which flat's leak is not known
        ("楼顶水箱在漏水", "楼道灯坏了", False),  # no shared symptom
        ("楼顶水箱在漏水", "地下室水管爆了", False),  # two things that leak: two problems
    ],
)
def test_a_symptom_alone_joins_the_ticket_that_has_it(old: str, new: str, same: bool) -> None:
    class Open:  # an open ticket as a row
        text, urgent = old, False

    assert same_problem(Open(), new, False, default_router()) is same


@pytest.mark.parametrize(
    ("old", "new", "same"),
    [
        ("楼道灯坏了", "灯还是没人修啊", True),  # a family word ("灯") matches a facet
        ("楼道灯坏了", "路灯不亮", False),  # two facets of one family: two problems
        ("楼上天天半夜咚咚咚", "又来了 楼上还在跺脚", True),
        ("楼上装修电钻响", "楼下的狗叫了一晚上", False),
        ("楼上装修吵死了", "又吵起来了 吵得睡不着", True),
        ("门上贴满了通下水道的小广告", "一楼下水道堵了", False),  # 下水道 only qualifies the flyer
        ("楼道里煤气味好大", "垃圾桶着火了 烟好大", False),
        ("楼梯口堆了纸箱", "楼梯口煤气味好大", False),
    ],
)
def test_objects_decide_the_problem(old: str, new: str, same: bool) -> None:
    router = default_router()
    assert same_object(router.objects(old), router.objects(new)) is same, (router.objects(old), router.objects(new))


async def test_a_follow_up_days_later_is_a_chase_of_the_open_ticket(chat, clock):
    await chat.say("3楼楼道灯坏了", sender="res-zhang")
    clock.advance(seconds=4 * 86400)
    chase = await chat.say("灯还是没人修啊", sender="res-chen")
    assert "#1" in [r for r in chase if r.room_id][0].text
    assert any(r.to == "officer-li" and "催办" in r.text and "4天" in r.text for r in chase)
    assert events(chat, 1) == ["受理", "追加", "催办"]  # the words in 追加, the chase itself in 催办
    assert [t.reporters for t in ticket_rows(chat)] == [2]


async def test_a_neighbour_repeating_the_problem_adds_to_it(chat):
    await chat.say("电梯坏了", sender="res-zhang")
    await chat.say("电梯停在3楼不动了", sender="res-chen")
    assert events(chat, 1) == ["受理", "追加"]


async def test_a_follow_up_without_an_open_ticket_stays_silent(chat):
    replies = await chat.say("还没人管吗？都一个礼拜了", sender="res-chen")
    assert replies == [] and ticket_rows(chat) == []


async def test_the_throttle_holds_back_tickets_but_logs_the_messages(make_chat, config):
    cfg = config.model_copy(update={"tickets": config.tickets.model_copy(
        update={"throttle": config.tickets.throttle.model_copy(update={"max_tickets": 2})})})
    chat = await make_chat(cfg)
    for text in ("楼道灯坏了", "单元门门禁坏了"):
        await chat.say(text, sender="res-chen")
    told = await chat.say("垃圾桶满了好几天没人倒", sender="res-chen")
    quiet = await chat.say("楼梯口堆满了纸箱", sender="res-chen")
    assert len(told) == 1 and "较多" in told[0].text and quiet == []
    urgent = await chat.say("楼道里好大的煤气味", sender="res-chen")
    assert "不要开关电器" in urgent[0].text
    assert [t.urgent for t in ticket_rows(chat)] == [False, False, True]
    with Session(chat.app.engine) as session:
        assert len(session.exec(select(Message).where(Message.sender_id == "res-chen")).all()) == 5
        assert len(session.exec(select(AuditEntry).where(AuditEntry.action == "限流")).all()) == 1


async def test_one_sender_repeating_a_danger_is_throttled_a_new_danger_is_not(chat):
    """Issue 11.4, urgent lines: repeats of a danger the sender already reported got the advice in
    the group and copies to staff each time (all urgent, jumping every queue); past the per-sender
    limit they are logged only. A neighbour's report and another danger are still answered."""
    # all different (the very same line again within a day is a flood: silent, uncounted)
    lines = ["楼道里好大一股煤气味", "3楼煤气味很重快来人", "楼道里有煤气味！！", "煤气泄漏了快来人",
             "煤气味越来越大了", "整个楼道都是煤气味", "谁家煤气漏了 味道好冲", "煤气味还在 快来人看看"]
    answered = [await chat.say(lines[i % len(lines)], sender="res-x", sender_name="小X") for i in range(20)]
    limit = chat.app.config.tickets.throttle.max_tickets
    assert all(r.handled.ticket == 1 for r in answered[:limit])
    told = answered[limit]
    assert len(told) == 1 and "较多" in told[0].text and "119" in told[0].text
    assert all(r == [] for r in answered[limit + 1:])
    assert events(chat, 1) == ["受理"] + ["追加"] * (limit - 1)
    with Session(chat.app.engine) as session:
        assert len(session.exec(select(Message).where(Message.sender_id == "res-x")).all()) == 20
    neighbour = await chat.say("楼道里煤气味好重", sender="res-chen")
    assert neighbour.handled.ticket == 1 and "不要开关电器" in neighbour[0].text
    fire = await chat.say("3幢2单元楼道里着火了，好大的烟", sender="res-x", sender_name="小X", room="3幢2单元楼道群")
    assert fire.handled.urgent and fire.handled.ticket == 2 and not fire.handled.joined


async def test_an_urgent_ticket_tells_the_trio_and_the_grid_worker_at_once(chat):
    replies = await chat.say("隔壁独居的王大爷两天没出门了 敲门也没人应", sender="res-zhang")
    told = {r.to for r in replies if r.to}
    assert {"officer-li", "leader-zhou", "grid-zhao"} <= told
    ordinary = await chat.say("3楼楼道灯坏了", sender="res-zhang")
    assert "grid-zhao" not in {r.to for r in ordinary if r.to}


async def test_a_fraud_under_way_in_the_legal_group_gets_the_fraud_line_first(chat):
    replies = await chat.say("有人冒充客服让我把钱转到安全账户 我该怎么办", sender="res-zhang", room="幸福里法润民生群")
    group = [r for r in replies if r.room_id]
    assert group[0].text.index("110 / 96110") < group[0].text.index("不要转账、立即挂断") < group[0].text.index("L1")


async def test_chatter_never_chases_or_joins_open_tickets(chat):
    """With five problems open, a month of the probe's chatter (from the reporters themselves)
    opens, joins and chases nothing (a 便民 answer to "物业电话多少" is allowed: it is no ticket)."""
    import json
    from pathlib import Path

    for text, who in (("3楼楼道灯坏了", "res-zhang"), ("电梯又坏了 停在5楼", "res-chen"), ("楼上半夜咚咚咚 吵死了", "res-zhang"),
                      ("402群租 住了十几个人", "res-chen"), ("楼梯口堆满了纸箱", "res-zhang")):
        await chat.say(text, sender=who)
    probe = Path(__file__).parent / "data" / "chat_probe.jsonl"
    chatter = [row["text"] for row in map(json.loads, probe.read_text(encoding="utf-8").splitlines()) if row["label"] == "other"]
    answered = []
    for n, text in enumerate(chatter):
        replies = await chat.say(text, sender=("res-zhang", "res-chen")[n % 2])
        if replies and replies.handled.route != "bianmin":  # an everyday question's answer is no case
            answered.append((text, [r.text for r in replies]))
    # Some lines are news for a ticket: its own reporter saying the very thing works again
    # ("电梯修好了 谢谢物业" from the lift's); its staff are told (they close it). Some ask how a
    # problem of the group stands ("电梯修好了吗"): the answer, nothing stored. Nothing else is taken
    # for a report, a chase or a rating.
    fixed = [(text, said) for text, said in answered if "居民说已解决" in "".join(said)]
    asked = [(text, said) for text, said in answered if "正在处理中" in "".join(said)]
    assert fixed and len(fixed) + len(asked) == len(answered), answered
    assert all(len(said) == 1 and "吗" in text for text, said in asked), asked
    with Session(chat.app.engine) as session:
        assert len(ticket_rows(chat)) == 5
        added = session.exec(select(TicketEvent).where(TicketEvent.action.in_(["追加", "催办"]))).all()
        assert sorted(e.note for e in added) == sorted(text for text, _ in fixed)
        assert {e.action for e in added} == {"追加"}
        objects = chat.app.services.router.objects
        for event in added:  # each names the thing of the ticket it went to
            assert objects(event.note) & objects(session.get(Ticket, event.ticket_id).text), event.note


def test_a_flood_that_varies_only_punctuation_and_emoji_is_the_same_line() -> None:
    from handlers.petitions import gist

    assert gist("楼道灯坏了!!! 黑漆漆的!!!") == gist("楼道灯坏了，黑漆漆的[捂脸]") == gist("楼道灯坏了 黑漆漆的。")
    assert gist("楼道灯坏了") != gist("楼道灯又坏了")


@pytest.mark.parametrize("text", ["就在信箱对面那里 推车都推不过去", "在楼梯拐角", "是在三楼转角那里"])
def test_where_said_in_words_is_a_place_given(text: str) -> None:
    from handlers.petitions import SAYS_WHERE

    assert SAYS_WHERE.search(text)


def test_a_reporters_correction_puts_the_place_right_and_nothing_else_does():
    from handlers.petitions import corrected_place

    assert corrected_place("4楼楼道灯坏了 晚上黑的", "不对 是5楼不是4楼") == "5楼 楼道灯坏了 晚上黑的"
    assert corrected_place("4楼楼道灯坏了", "不是4楼 是5楼") == "5楼 楼道灯坏了"
    fixed = corrected_place("502漏水滴到我家402了 厨房顶上一直在滴", "打错了 是楼上602漏到我家502 不是502")
    assert fixed is not None and fixed.startswith("楼上602漏到我家502") and "402" not in fixed
    assert corrected_place("4楼楼道灯坏了", "就在4楼转角") is None  # a detail, not a correction
    assert corrected_place("三楼楼道灯坏了", "灯一闪一闪的不对劲 就在4楼") is None  # 不对劲 corrects nothing
    assert corrected_place("三楼楼道灯坏了", "不对 还有点闪") is None  # no place named
