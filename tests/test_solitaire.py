"""接龙 lists: only the line the sender added is theirs (bot/solitaire.py)."""
from __future__ import annotations

import pytest

from bot.solitaire import own_line

RICE = "接龙 崇明大米 25斤一袋 明天下午送货上门\n1. 小刘 1袋\n2. 孙伯 2袋 五楼楼道灯坏了好几天了"


def test_a_copy_of_the_list_says_only_its_last_line():
    assert own_line(RICE) == "孙伯 2袋 五楼楼道灯坏了好几天了"
    assert own_line(RICE + "\n3. 何婆婆 1袋") == "何婆婆 1袋"  # 孙伯's light is his, not hers


def test_the_organisers_first_copy_is_its_one_line():
    assert own_line("#接龙 今天上午9点楼道大扫除 把楼梯间堆的纸箱杂物清一清 自愿参加\n1. 小刘") == "小刘"


@pytest.mark.parametrize("text", [
    "楼道灯坏了\n1. 三楼\n2. 四楼",          # a list, but no 接龙
    "接龙 周六义诊",                          # a header alone
    "#接龙 周六义诊\n名单稍后发",              # nobody signed yet
    "收到",
])
def test_anything_else_is_left_as_it_is(text):
    assert own_line(text) == text
