"""Scripted conversations: whole chats replayed through the real bot on a frozen clock.

Each file in tests/conversations/ holds a list of conversations written the way residents and
officers really write. A conversation is a list of steps; each step says something (or moves the
clock, or runs a scheduled job) and states what must hold afterwards. The format:

    - name: 煤气味要马上给出燃气安全提示
      config: {tickets.merge_open_tickets: false}   # optional dotted overrides of config.yaml
      steps:
        - as: res-zhang                  # a person id (config people, or anyone: name: 小王)
          in: 3幢1单元楼道群             # room topic or id; "private" for a private chat; default S1
          say: 楼道里好大一股煤气味
          mention: false                 # the message @-mentions the bot
          expect:
            handled: {route: petition, urgent: true}   # subset of the API's "handled" record
            group: [不要开关电器]          # every phrase appears in what the bot posted to groups
            group_not: [远离现场]          # none of these appears in group posts
            first: 110                    # the first message the bot sent in this step contains it
            private: {officer-li: [紧急]}  # every phrase appears in what that person got privately
            private_not: {res-zhang: [..]} # none of these in that person's private messages
            no_private: [res-chen]         # that person got nothing privately
            silent: true                  # the bot sent nothing at all
            group_silent: true            # the bot posted nothing in any group
            tickets: 1                    # tickets in the database
            ticket: {id: 1, status: 已受理, urgent: true, category: 安全隐患, reporters: 2, rating: 满意}
            receipts: {notice: 1, count: 2}
        - after: 3d                       # move the clock: 30m, 2h, 3d, 1w
        - at: 2026-11-26 09:00            # or set it (Asia/Shanghai)
        - job: overdue_check              # run a job of schedules.jobs now, then check `expect`
          expect: {private: {officer-li: [超时]}}

Steps without `say` or `job` may still carry `expect` (checks on the database only).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import Session, select

from bot.config import parse_config
from bot.events import Outgoing
from common.yamlload import UniqueKeyLoader
from storage.models import Receipt, Ticket
from tests.conftest import PG_URL, ROOT, S1

HERE = Path(__file__).resolve().parent / "conversations"
_STEP_KEYS = {"as", "in", "say", "mention", "name", "after", "at", "job", "expect", "note"}
_EXPECT_KEYS = {
    "handled", "group", "group_not", "first", "private", "private_not", "no_private", "silent",
    "group_silent", "tickets", "ticket", "receipts", "mentions",
}


def _load() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(HERE.glob("*.yaml")):
        # libyaml's loader (2,900 conversations: 1 s instead of 6 s in each test worker), and a
        # key written twice in one step is an error rather than silently the last one
        for conv in yaml.load(path.read_text(encoding="utf-8"), Loader=UniqueKeyLoader) or []:
            out.append((f"{path.stem}: {conv['name']}", conv))
    return out


CONVERSATIONS = _load()
MIN_CONVERSATIONS = 60  # issue 10: at least 60 scripted conversations


def test_there_are_enough_conversations():
    assert len(CONVERSATIONS) >= MIN_CONVERSATIONS, len(CONVERSATIONS)
    assert len({name for name, _ in CONVERSATIONS}) == len(CONVERSATIONS), "names must be unique"


def _duration(text: str) -> timedelta:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(m|h|d|w)\s*", str(text))
    if not match:
        raise ValueError(f"bad 'after': {text!r} (use 30m, 2h, 3d, 1w)")
    amount, unit = float(match.group(1)), match.group(2)
    return timedelta(**{{"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[unit]: amount})


def _config(overrides: dict[str, Any] | None):
    if not overrides:
        return None
    data = yaml.load((ROOT / "config.yaml").read_text(encoding="utf-8"), Loader=UniqueKeyLoader)
    for dotted, value in overrides.items():
        node = data
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return parse_config(data, ROOT / "config.yaml")


def _texts(messages: list[Outgoing]) -> str:
    return "\n".join(m.text for m in messages)


def _check(where: str, chat, step: dict[str, Any], sent: list[Outgoing], handled: dict | None) -> None:
    expect = step.get("expect") or {}
    unknown = set(expect) - _EXPECT_KEYS
    assert not unknown, f"{where}: unknown expect keys {unknown}"
    group = [m for m in sent if m.room_id]
    shown = f"\n  sent: {[(m.room_id or 'to:' + str(m.to), m.text) for m in sent]}\n  handled: {handled}"
    if "handled" in expect:
        assert handled is not None, f"{where}: 'handled' needs a 'say' step"
        for key, want in expect["handled"].items():
            assert handled.get(key) == want, f"{where}: handled.{key} = {handled.get(key)!r}, want {want!r}{shown}"
    if expect.get("silent"):
        assert not sent, f"{where}: expected silence{shown}"
    if expect.get("group_silent"):
        assert not group, f"{where}: expected no group post{shown}"
    for phrase in expect.get("group", []):
        assert str(phrase) in _texts(group), f"{where}: group posts lack {phrase!r}{shown}"
    for phrase in expect.get("group_not", []):
        assert str(phrase) not in _texts(group), f"{where}: group posts contain {phrase!r}{shown}"
    if "first" in expect:
        assert sent and str(expect["first"]) in sent[0].text, f"{where}: first message lacks {expect['first']!r}{shown}"
    if "mentions" in expect:
        assert any(expect["mentions"] in m.mentions for m in group), f"{where}: no group post @{expect['mentions']}{shown}"
    for person, phrases in (expect.get("private") or {}).items():
        got = _texts([m for m in sent if m.to == person])
        assert got, f"{where}: nothing private to {person}{shown}"
        for phrase in phrases:
            assert str(phrase) in got, f"{where}: private to {person} lacks {phrase!r}{shown}"
    for person, phrases in (expect.get("private_not") or {}).items():
        got = _texts([m for m in sent if m.to == person])
        for phrase in phrases:
            assert str(phrase) not in got, f"{where}: private to {person} contains {phrase!r}{shown}"
    for person in expect.get("no_private", []):
        assert not [m for m in sent if m.to == person], f"{where}: {person} got a private message{shown}"
    with Session(chat.app.engine) as session:
        if "tickets" in expect:
            count = len(session.exec(select(Ticket)).all())
            assert count == expect["tickets"], f"{where}: {count} tickets, want {expect['tickets']}{shown}"
        if "ticket" in expect:
            want = dict(expect["ticket"])
            ticket = session.get(Ticket, want.pop("id"))
            assert ticket is not None, f"{where}: no such ticket"
            for key, value in want.items():
                assert getattr(ticket, key) == value, f"{where}: ticket.{key} = {getattr(ticket, key)!r}, want {value!r}"
        if "receipts" in expect:
            rows = session.exec(select(Receipt).where(Receipt.notice_id == expect["receipts"]["notice"])).all()
            assert len(rows) == expect["receipts"]["count"], f"{where}: {len(rows)} receipts{shown}"


# Every conversation runs on SQLite; when PostgreSQL is configured (CI), every twentieth one runs there
# too: conversations check behaviour, and the storage tests already cover both databases in full.
# A conversation marked `postgres: true` (one that writes tables of its own) always runs on both.
PG_EVERY = 30  # of ~2,900 conversations about 95 there, plus the marked ones (keeps CI under 20 minutes)
CASES = [
    pytest.param(conv, db, id=f"{name}" + ("" if db == "sqlite" else " [postgres]"))
    for number, (name, conv) in enumerate(CONVERSATIONS)
    for db in (["sqlite", "postgres"] if PG_URL and (number % PG_EVERY == 0 or conv.get("postgres")) else ["sqlite"])
]


@pytest.mark.parametrize("conversation, db_url", CASES, indirect=["db_url"])
async def test_conversation(make_chat, clock, conversation):
    import schedules.jobs as jobs

    cfg = _config(conversation.get("config"))
    chat = await make_chat(cfg) if cfg else await make_chat()
    for number, step in enumerate(conversation["steps"], 1):
        unknown = set(step) - _STEP_KEYS
        assert not unknown, f"step {number}: unknown keys {unknown}"
        where = f"step {number}" + (f" ({step['say']!r})" if "say" in step else "")
        if "at" in step:
            clock.set(datetime.fromisoformat(str(step["at"])))
        if "after" in step:
            clock.advance(seconds=_duration(step["after"]).total_seconds())
        before = len(chat.sent)
        handled = None
        if "say" in step:
            room = step.get("in", S1)
            replies = await chat.say(
                str(step["say"]), sender=step["as"], room=None if room == "private" else room,
                mentions_bot=bool(step.get("mention")), **({"sender_name": step["name"]} if "name" in step else {}),
            )
            handled = replies.handled.as_dict()
        elif "job" in step:
            await getattr(jobs, step["job"])()
            await chat.app.idle()
        _check(where, chat, step, chat.sent[before:], handled)

