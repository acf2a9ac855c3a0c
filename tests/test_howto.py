"""Staff asking the bot in plain words, privately (handlers/howto.py; blind replay s30d)."""
from __future__ import annotations

from sqlmodel import Session

from handlers.howto import asks_how
from storage.models import Ticket


def test_what_counts_as_asking_how():
    for text in ("怎么派单啊 我刚来不太会弄", "办结怎么弄啊 是不是要写什么", "怎么看我手上的单子", "我有哪些单子超期了",
                 "帮我把1号单子办结了 灯已经换好了"):
        assert asks_how(text), text
    for text in ("三楼楼道灯坏了", "谢谢李敏", "今天怎么这么冷", "电梯什么时候修好"):
        assert not asks_how(text), text


async def test_a_change_asked_in_words_is_shown_never_made(chat):
    await chat.say("3楼楼道灯坏了好几天了，晚上黑漆漆的", sender="res-chen")
    replies = await chat.say("帮我把1号单子办结了 灯已经换好了", sender="officer-li", room=None)
    assert "/办结 1 灯已经换好了" in chat.texts(replies)
    with Session(chat.app.engine) as session:
        assert session.get(Ticket, 1).status == "已受理"  # nothing done from chat words


async def test_a_list_asked_for_is_the_command_run_for_staff_only(chat):
    await chat.say("3楼楼道灯坏了好几天了，晚上黑漆漆的", sender="res-chen")
    replies = await chat.say("怎么看我手上的单子", sender="officer-li", room=None)
    assert "#1" in chat.texts(replies)
    resident = await chat.say("怎么派单啊", sender="res-zhang", room=None)
    assert "/派单" not in chat.texts(resident)  # a resident is told how to report, not staff commands
