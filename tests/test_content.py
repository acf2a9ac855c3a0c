"""Legal FAQ + 普法 content: data integrity, matcher behaviour, validation errors."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from nlp.faq import TOPICS, FaqMatcher, load_faq
from nlp.faq import LegalFaqEntry as FaqEntry
from schedules.content_library import (
    CaseItem,
    ContentError,
    PushItem,
    load_cases,
    load_weekly,
    render_case,
    render_push,
)

CITATION = re.compile(r"《[^》]+》")


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def faq() -> list[FaqEntry]:
    return load_faq()


@pytest.fixture(scope="module")
def matcher(faq: list[FaqEntry]) -> FaqMatcher:
    return FaqMatcher(faq)


@pytest.fixture(scope="module")
def weekly() -> list[PushItem]:
    return load_weekly()


@pytest.fixture(scope="module")
def cases() -> list[CaseItem]:
    return load_cases()


# ---------------------------------------------------------------- FAQ data


def test_faq_counts_and_topics(faq: list[FaqEntry]) -> None:
    assert len(faq) >= 40
    per_topic = Counter(e.topic for e in faq)
    assert set(per_topic) == set(TOPICS)  # all ten topics covered, nothing unknown
    for topic in TOPICS:
        assert per_topic[topic] >= 4, topic


def test_faq_entries_well_formed(faq: list[FaqEntry]) -> None:
    assert len({e.id for e in faq}) == len(faq)
    for e in faq:
        assert CITATION.search(e.law), e.id
        assert 3 <= len(e.keywords) <= 8, e.id
        assert len(set(e.keywords)) == len(e.keywords), e.id
        assert 0 < len(e.answer) <= 120, (e.id, len(e.answer))
        assert e.question.strip(), e.id
        # no placeholder or accidental ASCII-only junk in answers
        assert re.search(r"[\u4e00-\u9fff]", e.answer), e.id


def test_faq_keywords_are_specific(faq: list[FaqEntry]) -> None:
    # Greetings / filler must never be a cue word.
    banned = {"你好", "谢谢", "在吗", "怎么办", "请问", "好的", "收到", "大家好"}
    for e in faq:
        assert not banned & set(e.keywords), e.id


# ---------------------------------------------------------------- matcher


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("我爸去世了没留遗嘱，房子怎么分？", "继承"),
        ("我妈自己写的遗嘱有效吗", "继承"),
        ("父亲欠了很多债，我们要还吗", "继承"),
        ("老板拖欠工资三个月不给怎么办", "劳动争议"),
        ("上班的时候摔伤了算不算工伤", "劳动争议"),
        ("单位不签劳动合同", "劳动争议"),
        ("楼上漏水把我家淹了能不能要求赔偿", "物业与相邻"),
        ("物业服务差能不交物业费吗", "物业与相邻"),
        ("楼道里堆满了杂物", "物业与相邻"),
        ("我老公打我怎么办", "婚姻家庭"),
        ("离婚了孩子归谁", "婚姻家庭"),
        ("儿子不给赡养费", "婚姻家庭"),
        ("借钱给朋友他不还怎么办", "借贷"),
        ("利息太高了是不是高利贷", "借贷"),
        ("房东不退押金怎么办", "租赁买卖"),
        ("租的房子热水器坏了谁修", "租赁买卖"),
        ("被车撞了谁赔医药费", "交通事故"),
        ("骑电动车撞人了要赔吗", "交通事故"),
        ("有人打电话说我涉嫌洗钱要转到安全账户", "诈骗与消费"),
        ("网购的东西七天能退吗", "诈骗与消费"),
        ("楼上扔东西砸坏了我的车", "其他法律"),
        ("被狗咬了谁负责", "其他法律"),
        ("我的手机号被泄露了天天骚扰电话", "其他法律"),
        ("怎么申请法律援助", "法律援助"),
        ("12348是干什么的", "法律援助"),
    ],
)
def test_matcher_finds_topic(matcher: FaqMatcher, text: str, topic: str) -> None:
    entry = matcher.match(text)
    assert entry is not None, text
    assert entry.topic == topic, (text, entry.id)


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("我爸去世了没留遗嘱，房子怎么分？", "inherit-order"),
        ("老板拖欠工资三个月不给怎么办", "labor-unpaid-wage"),
        ("楼上漏水把我家淹了能不能要求赔偿", "neighbor-leak"),
        ("丈夫去世后我照顾公婆十年，能分遗产吗", "inherit-widowed-in-law"),
        ("定金能退吗", "buy-deposit"),
    ],
)
def test_matcher_picks_specific_entry(matcher: FaqMatcher, text: str, entry_id: str) -> None:
    entry = matcher.match(text)
    assert entry is not None and entry.id == entry_id, (text, entry and entry.id)


@pytest.mark.parametrize(
    "text",
    ["你好", "谢谢", "在吗", "收到", "好的", "大家好，今天天气不错", "", "   ", "工资", "遗嘱", "房子"],
)
def test_matcher_vague_gets_nothing(matcher: FaqMatcher, text: str) -> None:
    assert matcher.match(text) is None


def _entry(id_: str, keywords: tuple[str, ...]) -> FaqEntry:
    return FaqEntry(id=id_, topic="其他法律", keywords=keywords, question="问？", answer="答。", law="《某法》")


def test_matcher_needs_two_distinct_hits() -> None:
    m = FaqMatcher([_entry("a", ("遗嘱", "遗嘱", "继承"))])
    assert m.match("遗嘱遗嘱遗嘱") is None  # one distinct keyword, repeated
    assert m.match("遗嘱和继承") is not None


def test_matcher_tie_breaks() -> None:
    first = _entry("first", ("甲乙", "丙丁"))
    second = _entry("second", ("甲乙", "丙丁"))
    more = _entry("more", ("甲乙", "丙丁", "戊己"))
    # Equal score: earlier entry wins.
    assert FaqMatcher([first, second]).match("甲乙丙丁").id == "first"
    assert FaqMatcher([second, first]).match("甲乙丙丁").id == "second"
    # More hits beats entry order.
    assert FaqMatcher([first, more]).match("甲乙丙丁戊己").id == "more"


def test_matcher_segments_each_question_once(matcher: FaqMatcher, monkeypatch: pytest.MonkeyPatch) -> None:
    """What keeps matching cheap: one segmentation per question, whatever the number of entries
    (their keywords are prepared once). A count, not a clock: timings belong in bench/."""
    import nlp.faq as faq

    segmented: list[str] = []
    real = faq.lcut
    monkeypatch.setattr(faq, "lcut", lambda text: segmented.append(text) or real(text))
    questions = ["我爸去世了没留遗嘱，房子怎么分？", "老板拖欠工资三个月不给怎么办", "你好"] * 10
    assert len(matcher.entries) > 3
    matches = [matcher.match(q) for q in questions]
    assert len(segmented) == len(questions)
    assert matches[0] is not None and matches[2] is None  # and it still answers


# ---------------------------------------------------------------- weekly pushes / cases


def test_weekly_counts_and_bounds(weekly: list[PushItem]) -> None:
    assert len(weekly) >= 52
    assert len({p.id for p in weekly}) == len(weekly)
    assert len({p.topic for p in weekly}) >= 20  # broad coverage
    for p in weekly:
        assert CITATION.search(p.law), p.id
        assert len(p.title) <= 20, p.id
        assert 80 <= len(p.text) <= 200, (p.id, len(p.text))
        msg = render_push(p)
        assert msg.startswith("【每周普法】" + p.title)
        assert p.text in msg and p.law in msg
        assert len(msg) <= 600, p.id


def test_cases_counts_and_bounds(cases: list[CaseItem]) -> None:
    assert len(cases) >= 12
    assert len({c.id for c in cases}) == len(cases)
    for c in cases:
        assert CITATION.search(c.law), c.id
        assert 80 <= len(c.case) <= 200, (c.id, len(c.case))
        assert 60 <= len(c.lesson) <= 150, (c.id, len(c.lesson))
        msg = render_case(c)
        assert msg.startswith("【以案释法】" + c.title)
        assert "案例：" in msg and "释法：" in msg and "（依据：" in msg
        assert len(msg) <= 600, c.id


def test_render_formats() -> None:
    p = PushItem(id="x", topic="民法典", title="标题", text="正文" * 50, law="《中华人民共和国民法典》")
    assert render_push(p) == "【每周普法】标题\n" + "正文" * 50 + "\n（依据：《中华人民共和国民法典》）"
    c = CaseItem(id="y", topic="借贷", title="题", case="案" * 80, lesson="法" * 60, law="《某法》第一条")
    assert render_case(c).splitlines() == [
        "【以案释法】题",
        "案例：" + "案" * 80,
        "释法：" + "法" * 60,
        "（依据：《某法》第一条）",
    ]


def test_ids_unique_across_files(faq: list[FaqEntry], weekly: list[PushItem], cases: list[CaseItem]) -> None:
    ids = [e.id for e in faq] + [p.id for p in weekly] + [c.id for c in cases]
    assert len(ids) == len(set(ids))


# ---------------------------------------------------------------- bad data


GOOD_FAQ = """\
- id: ok-entry
  topic: 继承
  keywords: [继承, 遗产, 遗嘱]
  question: 问？
  answer: 答。
  law: 《中华人民共和国民法典》第一千一百二十七条
"""


def _write(tmp_path: Path, text: str, name: str = "data.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_faq_accepts_good_file(tmp_path: Path) -> None:
    entries = load_faq(_write(tmp_path, GOOD_FAQ))
    assert [e.id for e in entries] == ["ok-entry"]
    assert entries[0].keywords == ("继承", "遗产", "遗嘱")


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (GOOD_FAQ.replace("topic: 继承", "topic: 天文"), "unknown topic"),
        (GOOD_FAQ.replace("  law: 《中华人民共和国民法典》第一千一百二十七条\n", "  law: ''\n"), "law"),
        (GOOD_FAQ.replace("answer: 答。", "answer: ''"), "answer"),
        (GOOD_FAQ.replace("answer: 答。", "answer: " + "长" * 151), "chars"),
        (GOOD_FAQ.replace("law: 《中华人民共和国民法典》", "law: 民法典"), "《》"),
        (GOOD_FAQ.replace("keywords: [继承, 遗产, 遗嘱]", "keywords: []"), "keywords"),
    ],
)
def test_load_faq_bad_entry_names_id(tmp_path: Path, bad: str, why: str) -> None:
    bad_entry = bad.replace("ok-entry", "bad-entry")
    with pytest.raises(ValueError, match="bad-entry") as err:
        load_faq(_write(tmp_path, GOOD_FAQ + bad_entry))
    assert why in str(err.value)


def test_load_faq_duplicate_id(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ok-entry.*duplicate"):
        load_faq(_write(tmp_path, GOOD_FAQ + GOOD_FAQ))


def test_load_weekly_bad_item_names_id(tmp_path: Path) -> None:
    text = "正" * 100
    good = f"- id: wk-ok\n  topic: 民法典\n  title: 好标题\n  text: {text}\n  law: 《中华人民共和国民法典》\n"
    assert load_weekly(_write(tmp_path, good))[0].id == "wk-ok"
    too_short = good.replace("wk-ok", "wk-short").replace(text, "太短了")
    with pytest.raises(ContentError, match="wk-short"):
        load_weekly(_write(tmp_path, good + too_short))
    long_title = good.replace("wk-ok", "wk-title").replace("好标题", "标" * 21)
    with pytest.raises(ContentError, match="wk-title"):
        load_weekly(_write(tmp_path, long_title))
    no_law = good.replace("wk-ok", "wk-nolaw").replace("《中华人民共和国民法典》", "民法典")
    with pytest.raises(ContentError, match="wk-nolaw"):
        load_weekly(_write(tmp_path, no_law))


def test_load_cases_bad_item_names_id(tmp_path: Path) -> None:
    case, lesson = "案" * 100, "法" * 80
    good = (
        f"- id: case-ok\n  topic: 借贷\n  title: 题目\n  case: {case}\n"
        f"  lesson: {lesson}\n  law: 《中华人民共和国民法典》第六百八十条\n"
    )
    assert load_cases(_write(tmp_path, good))[0].id == "case-ok"
    bad = good.replace("case-ok", "case-bad").replace(lesson, "法" * 151)
    with pytest.raises(ContentError, match="case-bad"):
        load_cases(_write(tmp_path, good + bad))
    dup = good + good
    with pytest.raises(ContentError, match="case-ok"):
        load_cases(_write(tmp_path, dup))


# ---------------------------------------------------------------- content models, like config

GOOD_PUSH = f"- id: wk-ok\n  topic: 民法典\n  title: 好标题\n  text: {'正' * 100}\n  law: 《中华人民共和国民法典》\n"


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        (GOOD_PUSH.replace("wk-ok", "wk-bad").replace("正" * 100, "太短了"),
         "[1].text: String should have at least 80 characters (entry 'wk-bad')"),
        (GOOD_PUSH.replace("wk-ok", "wk-bad") + "  author: 某人\n", "[1].author: unknown key (entry 'wk-bad')"),
        (GOOD_PUSH.replace("wk-ok", "wk-bad").replace("  topic: 民法典\n", ""),
         "[1].topic: required key is missing (entry 'wk-bad')"),
        (GOOD_PUSH.replace("wk-ok", "wk-bad").replace("topic: 民法典", "topic: 2021"),
         "[1].topic: Input should be a valid string (entry 'wk-bad')"),
        (GOOD_PUSH.replace("wk-ok", "wk-bad").replace("title: 好标题", "title: '   '"),
         "[1].title: String should have at least 1 character (entry 'wk-bad')"),
        (GOOD_PUSH.replace("《中华人民共和国民法典》", "民法典"), "[1].law: Value error, law must name a statute in 《》"),
        (GOOD_PUSH, "[1].id: duplicate id 'wk-ok' (first at [0])"),
        ("- just a line\n", "[1]: Input should be a valid dictionary"),
    ],
)
def test_a_bad_content_entry_is_named_by_file_yaml_path_and_id(tmp_path: Path, bad: str, problem: str) -> None:
    path = _write(tmp_path, GOOD_PUSH + bad, "weekly_pushes.yaml")
    with pytest.raises(ContentError) as err:
        load_weekly(path)
    assert err.value.path == path
    assert len(err.value.problems) == 1 and err.value.problems[0].startswith(problem), err.value.problems
    assert str(err.value).startswith(f"{path}: [1]")


def test_a_content_file_that_is_not_a_list_of_entries(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match=r"\(top level\): expected a list of entries"):
        load_weekly(_write(tmp_path, "id: wk-ok\n"))
    with pytest.raises(ContentError, match="line 2, column .*invalid YAML"):
        load_weekly(_write(tmp_path, GOOD_PUSH.replace("  topic:", "topic:")))
    with pytest.raises(ContentError, match="cannot read file"):
        load_weekly(tmp_path / "missing.yaml")


def test_entries_are_stripped_and_a_rendered_message_is_bounded(tmp_path: Path) -> None:
    item = load_weekly(_write(tmp_path, GOOD_PUSH.replace("title: 好标题", "title: '  好标题  '")))[0]
    assert item.title == "好标题"
    long_law = GOOD_PUSH.replace("《中华人民共和国民法典》", "《中华人民共和国民法典》" + "第一条" * 200)
    with pytest.raises(ContentError, match=r"\[0\]: Value error, rendered message too long .*\(entry 'wk-ok'\)"):
        load_weekly(_write(tmp_path, long_law))


def test_check_config_and_the_start_refuse_a_bad_content_file(tmp_path: Path, monkeypatch, capsys) -> None:
    """The CLI validates the content library like config: exit 2 with one line naming the file and entry."""
    from bot.cli import main
    from schedules import content_library

    assert main(["check-config"]) == 0
    assert "普法内容" in capsys.readouterr().out

    bad = _write(tmp_path, GOOD_PUSH + GOOD_PUSH.replace("wk-ok", "wk-bad").replace("《中华人民共和国民法典》", "民法典"),
                 "weekly_pushes.yaml")
    monkeypatch.setattr(content_library, "DEFAULT_WEEKLY_PATH", bad)
    for argv in (["check-config"], ["run", "--port", "0"]):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"content error in {bad}: [1].law" in err[0] and "'wk-bad'" in err[0], err
