"""Legal questions followed to the end: registered, listed for the adviser, answered where they were asked."""
from __future__ import annotations

import pytest
from sqlmodel import Session

from storage.models import AuditEntry, Consultation
from tests.conftest import LEGAL
from tests.test_tickets import in_room, one_line, rows, to, web_say  # noqa: F401 (a fixture)

QUESTION = "我爸去世了，房子怎么继承"
WAGES = "老板拖欠工资三个月怎么办"


def consultation(chat, number: int = 1) -> Consultation:
    with Session(chat.app.engine) as session:
        return session.get(Consultation, number)


async def test_a_legal_question_is_answered_in_its_group(chat, clock):
    asked = await chat.say(QUESTION, sender="res-zhang", room=LEGAL)
    assert "L1" in in_room(asked)[0].text and to(asked, "lawyer-wang")

    # the adviser sees the open questions privately, and the read is audited
    listed = await chat.say("/咨询", sender="lawyer-wang", room=None)
    assert "L1" in listed[0].text and "继承" in listed[0].text
    assert any(a.action == "查看咨询" and a.subject == "L1" for a in rows(chat, AuditEntry))

    # a resident cannot answer
    assert "仅限" in one_line(await chat.say("/答复 L1 随便说说", sender="res-chen", room=LEGAL))

    clock.advance(hours=3)
    answer = "父母的房产由配偶、子女等第一顺序继承人继承，可先协商，协商不成可诉讼。"
    answered = await chat.say(f"/答复 L1 {answer}", sender="lawyer-wang", room=None)
    posted = in_room(answered)
    assert len(posted) == 1 and posted[0].room_id == "legal-xfl" and posted[0].mentions == ("res-zhang",)
    assert answer in posted[0].text and "王律师" in posted[0].text
    assert "已答复" in to(answered, "lawyer-wang")[0].text
    record = consultation(chat)
    assert (record.status, record.answered_by, record.answered_at) == ("已答复", "lawyer-wang", clock.now())

    # closed: a second answer is refused and the list is empty
    assert "已经答复" in one_line(await chat.say("/答复 L1 补充", sender="lawyer-wang", room=None))
    assert "没有待答复" in one_line(await chat.say("/咨询", sender="lawyer-wang", room=None))


async def test_a_private_question_is_answered_privately(chat):
    await chat.say(WAGES, sender="res-chen", room=None)
    answered = await chat.say("/答复 1 可以先找劳动监察大队投诉，或申请劳动仲裁。", sender="lawyer-wang", room=LEGAL)
    assert [r.to for r in answered if r.to] == ["res-chen", "lawyer-wang"]
    assert "劳动仲裁" in answered[0].text
    assert "L1 已答复" in to(answered, "lawyer-wang")[0].text  # the adviser is told privately
    assert [r.text for r in in_room(answered)] == ["@王律师 已私信您。"]


async def test_bad_legal_arguments_are_one_line(chat):
    await chat.say(QUESTION, sender="res-zhang", room=LEGAL)
    for text, fragment in (("/答复", "编号"), ("/答复 L9 内容", "L9"), ("/答复 L1", "内容")):
        assert fragment in one_line(await chat.say(text, sender="lawyer-wang", room=LEGAL)), text
    assert consultation(chat).status == "待答复"


async def test_a_legal_question_through_the_web_chat_api(web_say):
    asked = await web_say("res-chen", WAGES, room="legal-xfl")
    assert "L1" in asked[0]["text"] and any(r.get("to") == "lawyer-wang" for r in asked)
    answered = await web_say("lawyer-wang", "/答复 L1 可以先找劳动监察大队投诉，或申请劳动仲裁。", room="legal-xfl")
    assert len(answered) == 1 and answered[0]["mentions"] == ["res-chen"] and "劳动仲裁" in answered[0]["text"]
    assert "仅限" in (await web_say("res-chen", "/答复 L1 我自己答", room="legal-xfl"))[0]["text"]


# ---- sensitive answers reach only the resident ---------------------------------------------

SENSITIVE = [
    ("老公喝了酒就打我，我想离婚，孩子归谁？", "可以向法院申请人身安全保护令，离婚时法院会按最有利于孩子的原则判。"),
    ("我爸走了，哥哥霸占房子不让我住，遗产该怎么分？", "没有遗嘱的按法定继承，兄弟姐妹同一顺序，可先协商，不成可起诉。"),
    ("朋友借了我五万块钱一直不还，能起诉他吗", "有借条或转账记录就可以起诉，诉讼时效三年。"),
    ("我在工地干活摔伤住院了，老板不给赔偿怎么办", "先申请工伤认定，再找劳动仲裁。"),
]


def test_sensitivity_reads_the_stored_question_in_any_category():
    from handlers.legal_commands import sensitive

    quarrel = "我爸去年走了，房子我哥说全归他，我们姐妹俩一分都没有，这样合法吗"
    assert sensitive("其他法律", quarrel, "没有遗嘱的按法定继承")  # filed under 其他法律: still a dispute
    assert sensitive("其他法律", "离婚后前夫不让我见孩子", "可以申请强制执行")
    assert sensitive("物业与相邻", "邻居借了我两万一直不还", "可以起诉")
    # blind replay s25b: a widower's son wants the flat, in plain words
    assert sensitive("其他法律", "我老伴走了 房子写的是她的名字 儿子非说房子归他 要我搬出去", "儿子无权让您搬出去")
    assert not sensitive("继承", "我爸去世了，房子怎么继承", "没有遗嘱的按法定继承")  # a question, no quarrel
    assert not sensitive("物业与相邻", "物业费不交，物业能停水电吗", "可以协商或者走诉讼")
    assert not sensitive("劳动", "老板拖欠工资三个月怎么办", "可以申请劳动仲裁")


@pytest.mark.parametrize("question, answer", SENSITIVE, ids=["家暴", "继承纠纷", "借贷", "伤病"])
async def test_a_sensitive_answer_goes_privately_to_the_resident(chat, question, answer):
    await chat.say(question, sender="res-zhang", room=LEGAL)
    answered = await chat.say(f"/答复 L1 {answer}", sender="lawyer-wang", room=LEGAL)
    assert answer in to(answered, "res-zhang")[0].text
    assert not any(answer in r.text for r in in_room(answered))  # the group never reads it
    told = to(answered, "lawyer-wang")[0].text
    assert "私信" in told and "公开" in told
    assert consultation(chat).status == "已答复"


async def test_the_adviser_may_answer_a_sensitive_question_in_the_group(chat):
    await chat.say(SENSITIVE[2][0], sender="res-chen", room=LEGAL)
    answered = await chat.say("/答复 L1 公开 借钱最好写借条，约定还款时间。", sender="lawyer-wang", room=None)
    posted = in_room(answered)
    assert len(posted) == 1 and posted[0].room_id == "legal-xfl" and posted[0].mentions == ("res-chen",)
    assert "借钱最好写借条" in posted[0].text and "公开" not in posted[0].text
    assert not to(answered, "res-chen")


async def test_any_answer_can_be_kept_private(chat):
    await chat.say("物业费说涨就涨，这合法吗？", sender="res-chen", room=LEGAL)
    answered = await chat.say("/答复 1 私信 要看业主大会是否同意。", sender="lawyer-wang", room=LEGAL)
    assert "业主大会" in to(answered, "res-chen")[0].text
    assert [r.text for r in in_room(answered)] == ["@王律师 已私信您。"]
