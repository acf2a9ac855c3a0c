"""三官一律: routing words, role names in config and chat, and the monthly figures per role."""
from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
import yaml
from sqlmodel import Session, select

from bot.cli import report_command
from bot.clock import SHANGHAI
from bot.config import ConfigError, parse_config
from domain.legal_roles import role_of, routed_role
from storage.models import Consultation
from tests.conftest import ROOT

LEGAL = "幸福里法润民生群"


@pytest.mark.parametrize("text, urgent, role", [
    ("有人冒充公安让我转账到安全账户", True, "police"),
    ("邻居扬言要砍我，这算威胁吗", False, "police"),
    ("法院判了他不还钱，怎么申请强制执行", False, "judge"),
    ("调解协议签了对方不履行怎么办", False, "judge"),
    ("孩子在学校被霸凌怎么办", False, "prosecutor"),
    ("未成年的孩子被骗了钱", False, "prosecutor"),  # minors first, even when it is a fraud
    ("公司拖欠工资怎么办", False, "lawyer"),
])
def test_routing_words(text, urgent, role):
    assert routed_role(text, urgent) == role


def test_role_names_as_people_write_them():
    assert [role_of(w) for w in ("@警官", "民警", "法官", "检察官", "律师", "法律顾问", "厨师")] == [
        "police", "police", "judge", "prosecutor", "lawyer", "lawyer", None]


def _config(**roles: str):
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    for pid, role in roles.items():
        data["people"].append({"id": pid, "name": pid, "rooms": [LEGAL], "roles": [{"role": role, "scope": "网格A"}]})
    return parse_config(data, ROOT / "config.yaml")


def test_config_takes_the_three_roles_in_chinese_and_rejects_others():
    cfg = _config(j="法官", p="检察官", c="警官", w="律师")
    roles = {p.id: p.roles[0].role for p in cfg.people if p.id in "jpcw"}
    assert roles == {"j": "judge", "p": "prosecutor", "c": "police", "w": "lawyer"}
    with pytest.raises(ConfigError, match=r"people\[6\]\.roles\[0\]\.role"):
        _config(x="法警")


async def test_monthly_report_counts_consultations_per_role(make_chat, db_url, clock):
    chat = await make_chat(_config(**{"police-liu": "警官", "judge-sun": "法官"}))
    await chat.say("有人打电话冒充公安让我把钱转到安全账户，我该怎么办", sender="res-zhang", room=LEGAL)
    await chat.say("法院判了对方还钱，他就是不执行，怎么申请强制执行", sender="res-chen", room=LEGAL)
    await chat.say("公司拖欠我三个月工资，怎么办", sender="res-chen", room=LEGAL)
    clock.advance(seconds=2 * 3600)
    await chat.say("/答复 L2 可以向作出判决的法院申请强制执行，带上判决书和身份证", sender="judge-sun", room=None)
    with Session(chat.app.engine) as session:
        roles = {c.id: (c.role, c.status) for c in session.exec(select(Consultation)).all()}
    assert roles == {1: ("police", "待答复"), 2: ("judge", "已答复"), 3: ("lawyer", "待答复")}

    now = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)
    md = io.StringIO()
    assert report_command("2026-11", "md", None, db_url, md, now=now) == 0
    text = md.getvalue()
    assert "## 法律咨询（三官一律）" in text
    assert "| 法律顾问 | 1 | 0 | 1 | 0 | — |" in text
    assert "| 法官 | 1 | 1 | 0 | 0 | 2.0小时 |" in text
    assert "| 警官 | 1 | 0 | 1 | 1 | — |" in text
    assert "安全账户" not in text and "张阿姨" not in text  # figures only
    out = io.StringIO()
    assert report_command("2026-11", "csv", None, db_url, out, now=now) == 0
    rows = [r for r in csv.reader(io.StringIO(out.getvalue())) if r[0] == "法律咨询"]
    assert [r[1:3] for r in rows] == [["法律顾问", "1"], ["法官", "1"], ["警官", "1"]]
    empty = io.StringIO()
    assert report_command("2026-10", "md", None, db_url, empty, now=now) == 0
    assert "本月没有法律咨询。" in empty.getvalue()
