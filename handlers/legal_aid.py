"""Legal aid intake (法律援助): the conditions and documents in plain Chinese, a short private
interview (what happened, income, which documents), an application A<n> for the legal adviser
with a checklist, the adviser's status updates and the resident's /进度 A3.

Everything about a resident's means and matter stays private: the group sees one line.
The interview's state is a persistent flag per resident (it survives restarts), dropped after
INTAKE_HOURS or when the resident writes 取消.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlmodel import col, select

from bot.commands import command
from bot.context import Context
from bot.permissions import ADVISERS
from bot.privacy import mask
from content.legal_aid import AidContent, aid_content
from domain import legal_roles
from handlers import notices
from storage import directory
from storage.models import AidApplication, AuditEntry, Room
from storage.state import clear_flag, get_flag, set_flag

# What asking about legal aid sounds like; with a question or a wish, not a mention in passing.
CUES = ("法律援助", "法援", "请不起律师", "没钱请律师", "请律师太贵", "免费律师", "免费的律师", "援助律师")
WISH = re.compile(r"想|要|申请|请不起|没钱|怎么|能不能|可以")
START = re.compile(r"^\s*(我要|我想)?\s*申请(法律援助)?\s*[。!！]?\s*$|^\s*(开始|好的?，?申请)\s*$")
CANCEL = re.compile(r"^\s*(取消|不申请了|算了|退出)\s*[。!！]?\s*$")
INTAKE_HOURS = 24
MAX_MATTER_CHARS = 300
OPEN = ("待受理", "已受理", "补材料")
# the adviser's words -> the status (and whether a note is needed)
UPDATES = {"受理": "已受理", "补材料": "补材料", "办结": "已办结", "不予受理": "不予受理"}


def _flag(person_id: str) -> str:
    return f"aid:{person_id}"


def asks_about_aid(text: str) -> bool:
    return any(cue in text for cue in CUES) and bool(WISH.search(text) or notices.QUESTION.search(text))


def conditions_text(aid: AidContent) -> str:
    """What a resident gets privately: who may apply, what to bring, where, how to start."""
    lines = [f"法律援助申请须知（依据{aid.law}）："]
    lines += [f"{n}. {c.text}（第{c.law.removeprefix('第')}）" for n, c in enumerate(aid.conditions, 1)]
    lines.append("需要准备的材料：")
    lines += [f"· {d.label}" for d in aid.documents]
    lines.append(f"到哪里申请：{aid.where}（{aid.where_law}）")
    lines.append("想申请的话，直接回复“申请”，我问您三个小问题，再交给社区法律顾问帮您办；回复“取消”随时停止。")
    return "\n".join(lines)


def _income_question(aid: AidContent) -> str:
    options = "\n".join(f"{n} {i.label}" for n, i in enumerate(aid.incomes, 1))
    return f"第2问：您家的经济情况属于哪一种？请回复数字：\n{options}"


def _documents_question(aid: AidContent) -> str:
    options = "\n".join(f"{n} {d.label}" for n, d in enumerate(aid.documents, 1))
    return f"第3问：这些材料您手头已经有哪些？可以回复几个数字（如：1 3），都没有请回复 0：\n{options}"


MATTER_QUESTION = "第1问：请简单说说是什么事？（比如：公司拖欠我三个月工资；儿女不给赡养费）"


async def on_aid_question(ctx: Context) -> tuple[str, str | None]:
    """A question about legal aid in a group or privately: the conditions privately, one line here."""
    aid = aid_content()
    ctx.private(ctx.caller.person_id, conditions_text(aid))
    set_flag(ctx.session, _flag(ctx.caller.person_id),
             {"step": "offered", "room": ctx.room.id if ctx.room else None, "at": ctx.now.isoformat()}, ctx.now)
    if ctx.room is not None:
        ctx.reply("法律援助的申请条件和要准备的材料已私信发给您，想申请可以私信回复“申请”。也可拨打12348咨询。")
    return "legal_aid", None


def _fresh(flag: dict, now: datetime) -> bool:
    return "at" in flag and now - datetime.fromisoformat(flag["at"]) < timedelta(hours=INTAKE_HOURS)


async def on_private_reply(ctx: Context, text: str) -> tuple[str, str] | None:
    """A private message while an interview is offered or under way; None when none is."""
    key = _flag(ctx.caller.person_id)
    flag = get_flag(ctx.session, key)
    if not flag or "step" not in flag:
        return None
    if not _fresh(flag, ctx.now):
        clear_flag(ctx.session, key)
        return None
    step = flag["step"]
    if CANCEL.match(text) and step != "offered":
        clear_flag(ctx.session, key)
        ctx.reply("好的，已取消这次法律援助申请，需要时再告诉我。")
        return "legal_aid", "取消"
    aid = aid_content()
    if step == "offered":
        if not START.match(text):
            return None  # something else: let the other steps act
        flag.update(step="matter", at=ctx.now.isoformat())
        ctx.reply(MATTER_QUESTION)
    elif step == "matter":
        matter = mask(text.strip())[:MAX_MATTER_CHARS]
        if len(matter) < 2:
            ctx.reply(MATTER_QUESTION)
            return "legal_aid", "第1问"
        flag.update(step="income", matter=matter, at=ctx.now.isoformat())
        ctx.reply(_income_question(aid))
    elif step == "income":
        choice = re.fullmatch(r"\s*(\d)\s*", text)
        if not choice or not 1 <= int(choice.group(1)) <= len(aid.incomes):
            ctx.reply(f"请回复 1 到 {len(aid.incomes)} 中的一个数字。\n" + _income_question(aid))
            return "legal_aid", "第2问"
        flag.update(step="documents", income=aid.incomes[int(choice.group(1)) - 1].id, at=ctx.now.isoformat())
        ctx.reply(_documents_question(aid))
    elif step == "documents":
        numbers = re.findall(r"\d", text)
        if not numbers or re.search(r"[^\d\s,，、和]", text) or any(int(n) > len(aid.documents) for n in numbers):
            ctx.reply(f"请回复 0 到 {len(aid.documents)} 的数字，几个数字用空格隔开。\n" + _documents_question(aid))
            return "legal_aid", "第3问"
        have = sorted({aid.documents[int(n) - 1].id for n in numbers if n != "0"})
        clear_flag(ctx.session, key)
        return _record(ctx, aid, flag, have)
    else:
        clear_flag(ctx.session, key)
        return None
    set_flag(ctx.session, key, flag, ctx.now)
    return "legal_aid", step


def _record(ctx: Context, aid: AidContent, flag: dict, have: list[str]) -> tuple[str, str]:
    room = ctx.session.get(Room, flag["room"]) if flag.get("room") else None
    matter = aid.matter_of(flag["matter"])
    row = AidApplication(
        asker_id=ctx.caller.person_id, grid=room.grid if room else None, matter=flag["matter"],
        matter_kind=matter.label if matter else "其他", income=flag["income"], documents=" ".join(have),
        created_at=ctx.now, updated_at=ctx.now,
    )
    advisers = legal_roles.holders(ctx.session, legal_roles.LAWYER, room)
    row.adviser_id = advisers[0].id if advisers else None
    ctx.session.add(row)
    ctx.session.flush()
    missing = [d.label for d in aid.documents if d.id not in have and d.id != "agent"]
    adviser = f"法律顾问{advisers[0].name}" if advisers else "社区法律顾问"
    lines = [f"已登记您的法律援助申请 A{row.id}，交给{adviser}帮您办理，会尽快联系您。"]
    if missing:
        lines.append("还需要准备：" + "；".join(missing) + "。")
    lines.append(f"随时可以发 /进度 A{row.id} 查看进度。")
    ctx.reply("\n".join(lines))
    for person in advisers:
        ctx.private(person.id, checklist(aid, row, directory.person_name(ctx.session, row.asker_id), room))
        ctx.session.add(AuditEntry(at=ctx.now, actor_id=person.id, action="援助申请通知", subject=f"A{row.id}"))
    return "legal_aid", f"A{row.id}"


def checklist(aid: AidContent, row: AidApplication, name: str, room: Room | None) -> str:
    """The adviser's view: matter with its article, the income answer, each document ✓ or ✗."""
    matter = next((m for m in aid.matters if m.label == row.matter_kind), None)
    income = next((i for i in aid.incomes if i.id == row.income), None)
    have = set(row.documents.split())
    lines = [
        f"【法律援助申请 A{row.id}】{name} · {room.topic if room else '私聊'}",
        f"事项：{row.matter}",
        f"归类：{row.matter_kind}" + (f"（{aid.law}{matter.law}）" if matter else "（请核对是否属于第三十一条的事项）"),
    ]
    if income is not None:
        check = "免予核查经济困难状况，需有证明材料" if income.exempt else "需核查经济困难状况（可个人诚信承诺）"
        lines.append(f"经济状况：{income.label} → {check}（{income.law}）")
    lines.append("材料：" + "；".join(f"{'✓' if d.id in have else '✗'} {d.label}" for d in aid.documents))
    lines.append(f"处理请发：/援助 A{row.id} 受理 | /援助 A{row.id} 补材料 缺什么 | /援助 A{row.id} 办结 说明")
    return "\n".join(lines)


# ---- commands ------------------------------------------------------------------------------

@command("法律援助", aliases=("援助申请",), usage="/法律援助", help="法律援助的申请条件、材料，并可私聊申请")
async def aid_info_command(ctx: Context, args: str) -> None:
    await on_aid_question(ctx)


def _in_scope(ctx: Context, row: AidApplication) -> bool:
    if row.grid is None or ctx.caller.sees_everything:
        return True
    return any(scope in ("*", row.grid) for scope in ctx.caller.scopes(ADVISERS))


_REF = re.compile(r"^\s*[Aa]\s*(\d{1,9})\s*(\S*)\s*(.*)$", re.S)
USAGE = "/援助 A3 受理 | /援助 A3 补材料 缺什么 | /援助 A3 办结 说明"


@command("援助", roles=ADVISERS, usage=USAGE, help="法律援助申请：查看、受理、要求补材料、办结")
async def aid_command(ctx: Context, args: str) -> None:
    if not args.strip():
        _list(ctx)
        return
    match = _REF.match(args)
    status = UPDATES.get(match.group(2)) if match else None
    if match is None or status is None:
        ctx.reply(f"用法：{USAGE}", mention=False)
        return
    number, note = int(match.group(1)), mask(match.group(3).strip())
    row = ctx.session.get(AidApplication, number)
    if row is None or not _in_scope(ctx, row):
        ctx.reply(f"没有找到法律援助申请 A{number}，请核对编号。", mention=False)
        return
    if status in ("补材料", "不予受理") and not note:
        ctx.reply(f"请写上{'要补的材料' if status == '补材料' else '原因'}，例如：/援助 A{number} {match.group(2)} …", mention=False)
        return
    row.status, row.note, row.updated_at, row.adviser_id = status, note, ctx.now, ctx.caller.person_id
    ctx.session.add(row)
    ctx.session.add(AuditEntry(at=ctx.now, actor_id=ctx.caller.person_id, action=f"援助{status}", subject=f"A{number}"))
    ctx.private(row.asker_id, _progress_line(row, ctx.caller.name))
    ctx.reply(f"A{number} 已更新为“{status}”，已私信告知申请人。", mention=False)


def _progress_line(row: AidApplication, adviser: str) -> str:
    said = {
        "待受理": "已登记，等待法律顾问受理",
        "已受理": "法律顾问已受理，正在帮您准备和递交",
        "补材料": "还需要补充材料",
        "已办结": "已办结",
        "不予受理": "未能受理",
    }[row.status]
    note = f"：{row.note}" if row.note else "。"
    who = f"（法律顾问{adviser}）" if adviser else ""
    return f"您的法律援助申请 A{row.id}{said}{note}{who}\n如有疑问可拨打12348公共法律服务热线。"


def _list(ctx: Context) -> None:
    stmt = select(AidApplication).where(col(AidApplication.status).in_(OPEN)).order_by(col(AidApplication.id))
    rows = [r for r in ctx.session.exec(stmt).all() if _in_scope(ctx, r)]
    if not rows:
        ctx.reply("目前没有待办的法律援助申请。", mention=False)
        return
    lines = [f"待办的法律援助申请（{len(rows)}件）："]
    lines += [f"A{r.id} {r.status} · {r.matter_kind} · {directory.person_name(ctx.session, r.asker_id)}" for r in rows]
    lines.append(USAGE)
    ctx.reply("\n".join(lines), mention=False)


@command("进度", usage="/进度 A3", help="查询我的法律援助申请", pattern=r"^\s*[Aa]\s*\d")
async def aid_progress(ctx: Context, args: str) -> None:
    match = re.match(r"^\s*[Aa]\s*(\d{1,9})", args)
    row = ctx.session.get(AidApplication, int(match.group(1))) if match else None
    if row is None or row.asker_id != ctx.caller.person_id:  # only one's own; never says whose it is
        ctx.reply(f"没有找到您的法律援助申请 A{match.group(1) if match else ''}，请核对编号。", mention=False)
        return
    ctx.answer_privately = True  # about one's means: never in the group
    ctx.reply(_progress_line(row, directory.person_name(ctx.session, row.adviser_id)), mention=False)
