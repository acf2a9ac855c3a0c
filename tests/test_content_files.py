"""Content files for everyday questions (便民) and legal aid: they load, they match what
residents ask and nothing else, and a bad file is refused naming the file and the entry."""
from __future__ import annotations

from pathlib import Path

import pytest

from content import BIANMIN, LEGAL_AID, validate_all
from content.legal_aid import load_aid
from nlp.faq import EverydayEntry, FaqMatcher, bianmin_faq, load_entries


@pytest.fixture(scope="module")
def matcher() -> FaqMatcher:
    return FaqMatcher(bianmin_faq())


@pytest.mark.parametrize("text, entry", [
    ("物业电话是多少", "wuye-phone"),
    ("请问物业的电话多少啊", "wuye-phone"),
    ("社区办事大厅几点下班", "hall-hours"),
    ("老年卡怎么办", "elder-card"),
    ("老年卡在哪里办理", "elder-card"),
    ("垃圾分类几点投放", "garbage-times"),
    ("快递柜在哪", "express-locker"),
    ("居住证怎么办", "residence-permit"),
])
def test_everyday_questions_find_their_answer(matcher, text, entry):
    found = matcher.match(text)
    assert found is not None and found.id == entry


@pytest.mark.parametrize("text", [
    "你在哪里？", "这个事情怎么办理啊", "你几点下班", "电话多少", "社区食堂几点开门", "超市几点开门", "几点了", "要带什么材料",
])
def test_other_questions_find_nothing(matcher, text):
    assert matcher.match(text) is None


def test_all_content_validates():
    validate_all()
    assert all(isinstance(e, EverydayEntry) for e in bianmin_faq())


def _bad(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / source.name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize("old, new, why", [
    ("  keywords: [快递柜, 丰巢, 丰巢柜, 快递驿站, 菜鸟驿站, 在哪]\n", "  keywords: []\n", "keywords"),
    ("  question: 快递柜在哪？\n", "  question: ''\n", "question"),
    ("  question: 快递柜在哪？\n", "  question: 快递柜在哪？\n  answre: 打错的键\n", "answre"),
])
def test_a_bad_everyday_entry_is_named(tmp_path, old, new, why):
    with pytest.raises(ValueError, match=r"bianmin\.yaml: FAQ entry 'express-locker'") as err:
        load_entries(_bad(tmp_path, BIANMIN, old, new), EverydayEntry)
    assert why in str(err.value)


def test_an_everyday_answer_too_long_is_named(tmp_path):
    path = tmp_path / "b.yaml"
    path.write_text(f"- {{id: long-one, keywords: [a, b], question: 问？, answer: {'长' * 201}}}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="long-one.*201 chars"):
        load_entries(path, EverydayEntry)


def test_legal_aid_cites_the_articles_residents_need():
    aid = load_aid()
    laws = [c.law for c in aid.conditions]
    assert {"第三十一条", "第四十一条", "第四十二条"} <= set(laws)
    assert aid.matter_of("公司拖欠我三个月工资").law == "第三十一条第五项"
    assert aid.matter_of("儿女不给赡养费").law == "第三十一条第四项"
    assert aid.matter_of("邻居吵架") is None
    assert [i.exempt for i in aid.incomes] == [True, True, True, False, False]


@pytest.mark.parametrize("old, new, where", [
    ("law: 第四十一条、第四十二条", "law: 41条", "documents[1] ('hardship').law"),
    ("  - {id: state, label: 国家赔偿, law: 第三十一条第一项, words: [国家赔偿, 冤枉, 错判]}\n",
     "  - {id: state, label: 国家赔偿, law: 第三十一条第一项, words: []}\n", "matters[4] ('state').words"),
    ("    law: 第四十二条\n", "    law: 第四十条\n", "conditions must cite 第四十二条"),
    ("law: 《中华人民共和国法律援助法》\n", "law: 《法律援助条例》\n", "law must be"),
])
def test_a_bad_legal_aid_entry_is_named(tmp_path, old, new, where):
    with pytest.raises(ValueError, match="legal_aid.yaml") as err:
        load_aid(_bad(tmp_path, LEGAL_AID, old, new))
    assert where in str(err.value)


def test_a_bad_content_file_stops_the_start_with_one_line(tmp_path, monkeypatch, capsys):
    import content
    from bot.cli import main

    def bad() -> None:
        load_entries(_bad(tmp_path, BIANMIN, "  question: 快递柜在哪？\n", "  question: ''\n"), EverydayEntry)

    monkeypatch.setattr(content, "validate_all", bad)
    with pytest.raises(SystemExit) as exit_:
        main(["check-config"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "content error: bianmin.yaml: FAQ entry 'express-locker': question" in err and "Traceback" not in err
