"""Staff hand-over from chat: /撤销 takes back a role config.yaml made too, it stays taken back
after a restart, the open tickets the person followed go back to the stairwell, and /授权 gives
the role back. (Round 31's blind replay: a grid worker replacing a 楼道长 from the phone was told
to edit config.yaml, and the old 楼道长 kept getting residents' complaints.)"""
from __future__ import annotations

from sqlmodel import Session, select

from storage import directory
from storage.models import RoleGrant, RoleRevocation, Ticket


def _roles(chat, person_id: str) -> set[tuple[str, str]]:
    with Session(chat.app.engine) as session:
        return {(g.role, g.scope) for g in session.exec(select(RoleGrant).where(RoleGrant.person_id == person_id))}


async def test_a_config_role_taken_back_in_chat_stays_out_after_a_restart(make_chat):
    chat = await make_chat()
    assert ("leader", "3幢1单元") in _roles(chat, "leader-zhou")
    reply = await chat.say("/撤销 @周建国 楼道长", sender="grid-zhao", room=None)
    assert "已撤销周建国（leader-zhou）的1项授权（楼道长）" in reply[0].text
    assert _roles(chat, "leader-zhou") == set()
    await chat.app.stop()

    again = await make_chat()  # the same database, config.yaml still names him 楼道长
    assert _roles(again, "leader-zhou") == set()
    denied = await again.say("/工单", sender="leader-zhou", room=None)
    assert "仅限" in denied[0].text
    await again.say("/授权 @周建国 楼道长 3幢1单元", sender="grid-zhao", room=None)
    await again.app.stop()

    back = await make_chat()
    assert ("leader", "3幢1单元") in _roles(back, "leader-zhou")
    with Session(back.app.engine) as session:
        assert session.exec(select(RoleRevocation)).all() == []  # given back: config owns it again


async def test_revoking_releases_the_tickets_the_person_followed(chat, clock):
    await chat.say("四楼楼道窗户玻璃碎了一块 风一吹哐哐响", sender="res-chen")
    await chat.say("/派单 1 @周建国", sender="officer-li", room=None)
    reply = await chat.say("/撤销 @周建国", sender="grid-zhao", room=None)
    assert "#1 已收回" in reply[0].text and "/派单 1" in reply[0].text
    with Session(chat.app.engine) as session:
        ticket = session.get(Ticket, 1)
        assert ticket is not None and ticket.assignee_id is None and ticket.status == "已受理"
    clock.advance(days=3)
    chase = await chat.say("窗户玻璃还是没人来弄 都三天了", sender="res-chen")
    assert [m.to for m in chase if m.to and "催办" in m.text] == ["officer-li"]
    assert "周建国" not in "\n".join(m.text for m in chase if m.room_id)


async def test_a_ticket_the_person_still_covers_is_kept(chat):
    await chat.say("四楼楼道窗户玻璃碎了一块", sender="res-chen")
    await chat.say("/派单 1 @李敏", sender="leader-zhou", room=None)
    await chat.say("/授权 @李敏 保障员 3幢1单元", sender="grid-zhao", room=None)
    reply = await chat.say("/撤销 @李敏 信息员", sender="grid-zhao", room=None)
    assert "已收回" not in reply[0].text  # still the stairwell's 保障员: she keeps following it
    with Session(chat.app.engine) as session:
        assert session.get(Ticket, 1).assignee_id == "officer-li"


async def test_the_last_community_admin_cannot_be_revoked(chat):
    with Session(chat.app.engine) as session:
        admins = [p.id for p in directory.admins(session)]
    assert admins == ["grid-zhao"]
    reply = await chat.say("/撤销 @赵磊", sender="grid-zhao", room=None)
    assert "不能撤销" in reply[0].text
    assert ("admin", "*") in _roles(chat, "grid-zhao")


async def test_revoking_a_role_nobody_holds_or_no_such_role(chat):
    none = await chat.say("/撤销 @陈先生", sender="grid-zhao", room=None)
    assert "没有任何角色" in none[0].text
    bad = await chat.say("/撤销 @周建国 队长", sender="grid-zhao", room=None)
    assert "没有“队长”这个角色" in bad[0].text
    assert ("leader", "3幢1单元") in _roles(chat, "leader-zhou")
