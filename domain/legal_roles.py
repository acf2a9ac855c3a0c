"""三官一律: which of the grid's judge, prosecutor, police officer or legal adviser follows a
legal consultation, by its words and urgency, with the legal adviser as the fallback."""
from __future__ import annotations

from sqlmodel import Session

from bot.config import ROLE_NAMES
from storage import directory
from storage.models import Person, Room

LAWYER = "lawyer"
# Checked in this order; the first role whose words appear follows the consultation. Minors come
# first (a child defrauded is the prosecutor's), then fraud, threats and public order, then court.
CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("prosecutor", ("未成年", "未满十八", "未满18", "孩子被", "小孩被", "学生被", "霸凌", "留守儿童", "虐童", "童工",
                    "公益诉讼", "公共利益", "环境污染", "偷排", "排污", "食品安全", "国有资产")),
    ("police", ("诈骗", "被骗", "骗子", "骗了", "电诈", "刷单", "冒充", "安全账户", "威胁", "恐吓", "扬言", "敲诈",
                "勒索", "报警", "打架", "斗殴", "寻衅", "滋事", "治安", "被偷", "偷了", "盗窃", "小偷", "扰乱",
                "赌博", "吸毒", "偷拍", "跟踪")),
    ("judge", ("起诉", "立案", "开庭", "判决", "判了", "上诉", "强制执行", "申请执行", "执行款", "老赖", "失信",
               "调解协议", "司法确认", "诉讼", "打官司", "法院", "传票", "保护令")),
)
# What residents are told: a title, never an officer's name (they may be a police officer).
TITLES = {"lawyer": "法律顾问", "judge": "社区法官", "prosecutor": "社区检察官", "police": "社区警官"}


def routed_role(text: str, urgent: bool) -> str:
    """The role a consultation goes to: danger under way (fraud, violence) is the police's."""
    if urgent:
        return "police"
    return next((role for role, words in CUES if any(w in text for w in words)), LAWYER)


def holders(session: Session, role: str, room: Room | None) -> list[Person]:
    """Who holds ``role`` for this room's grid (a private question: anyone holding it)."""
    people = directory.people_with_roles(session, {role}, room)
    if not people and role == LAWYER and room is not None:  # a stairwell group: any adviser
        people = directory.people_with_roles(session, {role}, None)
    return people


def followers(session: Session, role: str, room: Room | None) -> tuple[str, list[Person]]:
    """(the role that follows, its people): the legal adviser when ``role`` is empty there."""
    people = holders(session, role, room)
    if people or role == LAWYER:
        return role, people
    return LAWYER, holders(session, LAWYER, room)


def role_of(word: str) -> str | None:
    """'@警官', '检察官', '律师', 'police' -> the legal role, or None."""
    from bot.config import ROLE_BY_CHINESE

    key = ROLE_BY_CHINESE.get(word.lstrip("@＠").strip(), word.lstrip("@＠").strip())
    return key if key in TITLES else None


def role_label(role: str) -> str:
    return ROLE_NAMES.get(role, role)
