"""bot.pieces (a sentence sent in pieces) and bot.quotes (WeChat's quoted reply), unit by unit;
tests/conversations/replay_s26i.yaml and replay_s27c.yaml replay them through the whole bot."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.pieces import MAX_CHARS, MAX_PIECES, PIECE_WINDOW, Pieces
from bot.quotes import Quote, quote_of, unquoted

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
KEY = ("s3-1", "wx-heayi")
DASHES = "\n- - - - - - - - - - - - - - -\n"


def test_pieces_within_the_window_are_read_together():
    pieces = Pieces()
    pieces.after(KEY, T0, "402那个一个人住的老太太", "other")
    assert pieces.before(KEY, T0 + timedelta(seconds=12)) == "402那个一个人住的老太太"
    assert pieces.before(("s3-1", "someone-else"), T0 + timedelta(seconds=12)) is None
    assert pieces.before(KEY, T0 + PIECE_WINDOW + timedelta(seconds=1)) is None


def test_a_line_that_acted_uses_up_its_pieces_and_only_the_last_few_are_kept():
    pieces = Pieces()
    for i in range(MAX_PIECES + 2):
        pieces.after(KEY, T0 + timedelta(seconds=i), f"第{i}句", "other")
    kept = pieces.before(KEY, T0 + timedelta(seconds=MAX_PIECES + 2))
    assert kept is not None and kept.split() == [f"第{i}句" for i in range(2, MAX_PIECES + 2)]
    pieces.after(KEY, T0 + timedelta(seconds=10), "楼道灯坏了", "petition")
    assert pieces.before(KEY, T0 + timedelta(seconds=11)) is None


def test_a_long_message_is_no_piece():
    pieces = Pieces()
    pieces.after(KEY, T0, "长" * (MAX_CHARS + 1), "other")
    assert pieces.before(KEY, T0 + timedelta(seconds=5)) is None


def test_a_short_answer_under_the_bots_quoted_line_stands_alone():
    notice = "「楼道通：【通知】明天上午9点到12点停水 收到请回复“收到”。」"
    assert unquoted(notice + DASHES + "收到", "楼道通") == "收到"
    resolved = "「楼道通：@陈先生 您反映的问题 #1（环境卫生）已办结：垃圾已清运」"
    assert unquoted(resolved + DASHES + "不满意 还是没人收 臭得很", "楼道通") == "不满意 还是没人收 臭得很"
    # a longer line under the bot's line about one ticket stands alone too: the quote says which
    long_line = resolved + DASHES + "什么时候再来看看啊 门口还是一股味道"
    assert unquoted(long_line, "楼道通") == "什么时候再来看看啊 门口还是一股味道"
    assert quote_of(long_line, "楼道通") == Quote(ticket=1, said="什么时候再来看看啊 门口还是一股味道")
    # a longer line under a bot line naming no single ticket keeps it
    two = "「楼道通：您有2件待评价：#1、#2」" + DASHES + "第一个还行吧 第二个还是老样子"
    assert unquoted(two, "楼道通") == two and quote_of(two, "楼道通") is None
    # a flat before the receipt: "502收到 我替我妈回一下"
    assert unquoted(notice + DASHES + "502收到 我替我妈回一下[抱拳]", "楼道通") == "502收到 我替我妈回一下[抱拳]"


def test_a_neighbours_quote_stays_but_a_command_under_any_quote_runs():
    report = "「张阿姨：三楼楼道灯坏了 晚上黑漆漆的」"
    assert unquoted(report + DASHES + "我家门口也是", "楼道通") == report + DASHES + "我家门口也是"
    assert quote_of(report + DASHES + "我家门口也是", "楼道通") == Quote(text="三楼楼道灯坏了 晚上黑漆漆的", said="我家门口也是")
    assert unquoted(report + DASHES + "/处理1 电工明天上午来换", "楼道通") == "/处理1 电工明天上午来换"
    assert unquoted("三楼楼道灯坏了", "楼道通") == "三楼楼道灯坏了"


def test_a_leading_mention_of_a_neighbour_is_no_part_of_what_is_said():
    from bot.dispatcher import strip_leading_mentions

    assert strip_leading_mentions("@张阿姨\u2005是的 我昨晚也是摸黑上来的") == "是的 我昨晚也是摸黑上来的"
    assert strip_leading_mentions("@张阿姨\u2005@李敏\u2005楼道灯坏了") == "楼道灯坏了"
    assert strip_leading_mentions("楼道灯坏了 @李敏") == "楼道灯坏了 @李敏"
    assert strip_leading_mentions("@张阿姨") == "@张阿姨"  # nothing else said: kept as it is
