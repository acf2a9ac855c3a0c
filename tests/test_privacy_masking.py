"""Phone and ID masking in the forms residents actually type."""
from __future__ import annotations

import pytest

from bot.privacy import clean_text, mask


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("电话13812345678", "电话138****5678"),
        ("电话 138 1234 5678 谢谢", "电话 138****5678 谢谢"),
        ("电话138-1234-5678", "电话138****5678"),
        ("电话138.1234.5678", "电话138****5678"),
        ("+8613812345678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("008613812345678", "138****5678"),
        ("１３８１２３４５６７８", "138****5678"),
        ("身份证110105194912310021", "身份证110105********0021"),
        ("身份证11010519491231002X", "身份证110105********002X"),
        ("身份证 110105 19491231 0021", "身份证 110105********0021"),
        ("老身份证110105491231002", "老身份证110105*****1002"),
        ("身份证110105-19491231-0021", "身份证110105********0021"),
        ("卡号6222 0212 3456 7890 128", "卡号****0128"),
    ],
)
def test_numbers_are_masked(raw, masked):
    assert mask(raw) == masked


@pytest.mark.parametrize("text", ["订单号20261125123456789012", "3幢502室", "门牌1301", "金额12345元", "2026-11-25"])
def test_other_numbers_are_left_alone(text):
    assert mask(text) == text


def test_clean_text_makes_fullwidth_digits_plain():
    assert clean_text("\u200b电话１３８１２３４５６７８") == "电话13812345678"


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("3幢502室门口的纸箱已清理", "***室门口的纸箱已清理"),
        ("3号楼1单元502室", "***室"),
        ("3-1-502漏水已修好", "***室漏水已修好"),
        ("1101房的住户", "***室的住户"),
        ("3单元502", "***室"),
        ("5楼502漏水", "***室漏水"),
        ("3幢502房产证", "***室房产证"),
    ],
)
def test_flat_numbers_are_masked_for_group_posts(raw, masked):
    from bot.privacy import mask_flats

    assert mask_flats(raw) == masked


@pytest.mark.parametrize("text", ["2026-11-25", "2室1厅", "12月1日", "3天", "12月5号 1500人参加", "5号1380元", "1-15-2024"])
def test_flat_masking_leaves_dates_and_layouts(text):
    from bot.privacy import mask_flats

    assert mask_flats(text) == text


# Issue 11.8: numbers as people really spell them. (raw, masked); masked == raw means "left alone".
SPELLINGS = [
    # phones
    ("电话138\u00a01234\u00a05678", "电话138****5678"),  # no-break spaces
    ("电话138 1234 5678", "电话138****5678"),
    ("电话138  1234  5678", "电话138****5678"),  # double spaces
    ("138-1234-5678", "138****5678"),
    ("138 - 1234 - 5678", "138****5678"),
    ("1 3 8 1 2 3 4 5 6 7 8", "138****5678"),  # spaced digits
    ("1-3-8-1-2-3-4-5-6-7-8", "138****5678"),
    ("电话：1 3 8 - 1 2 3 4 - 5 6 7 8", "电话：138****5678"),
    ("13812 345678", "138****5678"),
    ("138\u20051234\u20055678", "138****5678"),  # WeChat's mention space
    ("138\u30001234\u30005678", "138****5678"),  # ideographic space
    ("138\u200b1234\u200b5678", "138****5678"),  # zero-width space (mask alone, before cleaning)
    ("138—1234—5678", "138****5678"),  # em dashes
    ("138/1234/5678", "138****5678"),
    ("+86-138-1234-5678", "138****5678"),
    ("(+86)13812345678", "(138****5678"),
    ("一三八一二三四五六七八", "138****5678"),  # Chinese numerals
    ("幺三八 一二三四 五六七八", "138****5678"),
    ("一三八1234 5678", "138****5678"),
    ("①③⑧①②③④⑤⑥⑦⑧", "138****5678"),  # circled digits
    ("١٣٨١٢٣٤٥٦٧٨", "138****5678"),  # Arabic-Indic digits
    ("电话１３８－１２３４－５６７８", "电话138****5678"),  # full-width digits and hyphens (Chinese IME)
    ("我家电话138－1234－5678，有事找我", "我家电话138****5678，有事找我"),
    ("138．1234．5678", "138****5678"),  # full-width full stops
    ("138~1234~5678", "138****5678"),
    ("138～1234～5678", "138****5678"),
    ("电话壹叁捌壹贰叁肆伍陆柒捌", "电话138****5678"),  # 大写 digits
    ("1️⃣3️⃣8️⃣1️⃣2️⃣3️⃣4️⃣5️⃣6️⃣7️⃣8️⃣", "138****5678"),  # keycap emoji
    ("李四13812345678", "李四138****5678"),  # a numeral in a name is not part of the number
    ("找张三138 1234 5678", "找张三138****5678"),
    ("13812345678 2号楼", "138****5678 2号楼"),  # a number after the phone is not swallowed
    ("3-302 13812345678", "3-302 138****5678"),
    # ID numbers
    ("110101-1990-0307-1234", "110101********1234"),
    ("110101 1990 0307 1234", "110101********1234"),
    ("110101 19900307 123X", "110101********123X"),
    ("身份证110101199003071234号", "身份证110101********1234号"),
    ("110101.1990.0307.1234", "110101********1234"),
    # bank cards (Luhn-valid)
    ("6222-0212-3456-7890-128", "****0128"),
    ("6222 0212 3456 7890 128", "****0128"),
    ("卡号6222\u00a00212\u00a03456\u00a07890\u00a0128", "卡号****0128"),
    ("4111-1111-1111-1111", "****1111"),
    # must survive
    ("2026-11-25 09:00", "2026-11-25 09:00"),
    ("2026.11.25", "2026.11.25"),
    ("11月25日上午9点", "11月25日上午9点"),
    ("3-302漏水", "3-302漏水"),
    ("3-1-502", "3-1-502"),
    ("502和503都停电了", "502和503都停电了"),
    ("工单 #12 谢谢", "工单 #12 谢谢"),
    ("09:00-12:00停水", "09:00-12:00停水"),
    ("物业费1,280.50元", "物业费1,280.50元"),
    ("12345市民热线", "12345市民热线"),
    ("反诈96110", "反诈96110"),
    ("13 14 15 16 17 18号楼", "13 14 15 16 17 18号楼"),
    ("订单号20261125123456789012", "订单号20261125123456789012"),
    ("138123456789", "138123456789"),  # 12 digits: not a phone
    ("12345678901", "12345678901"),  # 11 digits, not a mobile prefix
    ("2026-11-25 10 30 开会", "2026-11-25 10 30 开会"),
    ("一二三四五六七八九十", "一二三四五六七八九十"),
    ("三月五日三点", "三月五日三点"),
    ("0571-88881234", "0571-88881234"),  # an office landline
    ("9～12点停水", "9～12点停水"),
    ("2026．11．25", "2026．11．25"),
    ("3~5楼的灯都坏了", "3~5楼的灯都坏了"),
    ("壹佰贰拾叁元", "壹佰贰拾叁元"),
    ("1️⃣号楼2️⃣单元", "1️⃣号楼2️⃣单元"),
]


@pytest.mark.parametrize("raw, masked", SPELLINGS)
def test_spellings_of_numbers(raw, masked):
    assert mask(raw) == masked


def test_the_spelling_table_is_big_enough():
    assert len(SPELLINGS) >= 40
    assert sum(raw != masked for raw, masked in SPELLINGS) >= 20  # positives
    assert sum(raw == masked for raw, masked in SPELLINGS) >= 15  # negatives


def test_masking_is_idempotent():
    for raw, masked in SPELLINGS:
        assert mask(masked) == masked, raw


@pytest.mark.parametrize(
    "raw, cleaned",
    [
        ("王五\u2005\u2005【通知】明天停水", "王五 明天停水"),
        ("王五\n\n【紧急通知】今晚停电", "王五 今晚停电"),
        ("[系统消息]张三", "张三"),
        ("【3幢502】王阿姨", "(3幢502)王阿姨"),
        ("张三13812345678", "张三138****5678"),
        ("刘\u202e奶奶", "刘奶奶"),
        ("@所有人", "居民"),  # "@所有人 已收到…" would read as a mention of everyone
        ("张@三", "张三"),
        ("周建国#2", "周建国2"),
        ("\u3164", "居民"),  # a Hangul filler: the "blank" WeChat name
        ("", ""),
        ("长" * 50, "长" * 32),
        ("陈\x00先\x1b生", "陈先生"),
        # other brackets, a spaced-out header, a heading with a colon, the bot's own name
        ("王五「通知」明天停水", "王五 明天停水"),
        ("王五『紧急通知』今晚停电", "王五 今晚停电"),
        ("王五《公告》停水", "王五 停水"),
        ("王五<通知>停水", "王五 停水"),
        ("王五【 通 知 】停水", "王五 停水"),
        ("王五 通知：明天停水", "王五 明天停水"),
        ("楼道通", "居民"),
        ("楼道 通（机器人）", "居民"),
        ("《红楼梦》迷", "《红楼梦》迷"),  # brackets without a header word stay
        ("张三(3-502)", "张三(3-502)"),
    ],
)
def test_display_names_are_cleaned(raw, cleaned):
    from bot.privacy import clean_name

    assert clean_name(raw) == cleaned
    assert clean_name(cleaned) == cleaned


def test_clean_text_drops_controls_and_lone_surrogates():
    assert clean_text("漏水\x00了\ud800\r\n谢谢\u2066") == "漏水了\ufffd\n谢谢"


async def test_names_from_lifecycle_events_are_stored_cleaned(chat):
    """People stored when a group is joined get the same cleaning as senders' names."""
    from sqlmodel import Session, select

    from storage.models import Person, Room

    await chat.transport.join("wx-room-9", "\u202e【通知】新群\n13812345678", member_ids=("wx-a", "wx-b"),
                              member_names=("王五\u2005\u2005【通知】明天停水", "赵六 139 1234 5678"))
    with Session(chat.app.engine) as session:
        assert session.get(Person, "wx-a").name == "王五 明天停水"
        assert session.get(Person, "wx-b").name == "赵六 139****5678"
        room = session.exec(select(Room).where(Room.external_id == "wx-room-9")).one()
        assert room is not None and room.topic == "新群 138****5678"
