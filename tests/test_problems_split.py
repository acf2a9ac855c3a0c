"""Several problems in one message (handlers.petitions.problems): each part said as if alone."""
from __future__ import annotations

import types

import pytest

from handlers import petitions
from nlp.router import default_router


@pytest.fixture(scope="module")
def ctx():
    return types.SimpleNamespace(services=types.SimpleNamespace(router=default_router()),
                                 caller=types.SimpleNamespace(is_staff=False), quote=None)


@pytest.mark.parametrize("text, count", [
    ("给楼道长提几个事：1.一楼大门的闭门器坏了 关门砰砰响 2.五楼楼道里有人堆了好几袋垃圾 都臭了 3.楼顶天台的门锁坏了", 3),
    ("反映一下 一是三楼楼道里的消防栓箱门掉了 二是六楼有人把电瓶车推进楼道里充电 三是单元门口的台阶碎了一块", 3),
    ("四楼的灯不亮了还有楼梯口堆了好多旧家具过不去人", 2),
    ("地库C区的灯又坏了好几个 旁边那两个汽车充电桩也用不了 扫码没反应", 2),
])
def test_each_problem_is_a_part(ctx, text, count):
    parts = petitions.problems(ctx, text)
    assert parts is not None and len(parts) == count, parts


@pytest.mark.parametrize("text", [
    "灯坏了还有点闪",                                   # one light, told at length
    "纸箱子 旧沙发 还有腌菜的坛子 堆在二楼拐角",          # one pile
    "1楼大门关不上了 风呼呼的往里灌",                    # a floor, not a list
    "楼道灯坏了 我家门口的也不亮",                       # the same lights
])
def test_one_problem_stays_whole(ctx, text):
    assert petitions.problems(ctx, text) is None


def test_the_danger_comes_first(ctx):
    parts = petitions.problems(ctx, "一楼的灯坏了 黑灯瞎火的 还有就是楼梯底下插线板都冒烟了 有股烧焦味")
    assert parts is not None and "冒烟" in parts[0]


def test_a_list_counts_from_one(ctx):
    assert petitions.list_items("2. 三楼灯坏了 3. 四楼灯坏了") is None  # (a copy's tail, not a list)
    assert petitions.list_items("①电梯坏了 ②楼道灯不亮") == ["电梯坏了", "楼道灯不亮"]
