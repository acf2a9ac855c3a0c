"""The legal adviser's commands: /咨询 lists open questions, /答复 L5 answers one.

The answer goes where the question was asked (the group, @-ing the resident, or
privately) and closes the record; a sensitive one (violence at home, an inheritance
dispute, debts, anyone's health: see ``sensitive``) goes to the resident privately
unless the adviser writes /答复 L5 公开 …; /答复 L5 私信 … keeps any answer private.
"""
from __future__ import annotations

import re

from sqlmodel import col, select

from bot.commands import command
from bot.context import Context
from bot.permissions import CONSULTATION_ROLES, LEGAL_ROLES
from bot.privacy import mask, mask_flats
from domain import legal_roles
from domain.deadlines import format_due
from storage import directory
from storage.models import AuditEntry, Consultation, Room

_REF = re.compile(r"^\s*[Ll#＃]?\s*(\d{1,9})(?!\d)\s*(.*)$", re.S)
_WHERE = re.compile(r"^(公开|私信|私下)(?:答复)?[\s,，:：]*(.*)$", re.S)  # the adviser overrides
LIST_LIMIT = 15

# What makes an answer sensitive: words of a category ("" = the whole category), and words
# that are sensitive in any category. A false alarm only means a private answer.
VIOLENCE = ("家暴", "暴力", "打我", "打她", "打他", "打人", "被打", "挨打", "动手", "殴打", "虐待", "威胁", "恐吓",
            "打老婆", "打孩子", "保护令", "伤痕", "掐我", "踹我", "性侵", "猥亵", "强奸", "骚扰", "跟踪")
DISPUTE = ("纠纷", "争", "抢", "霸占", "独占", "占着", "一个人占", "没地方住", "独吞", "全归", "全给", "全要", "一分", "没份", "没有份", "分不到", "不分",
           "不给", "不让", "不同意", "不认", "起诉", "打官司", "告他", "告她", "诉讼", "闹", "翻脸", "断绝", "矛盾", "吵",
           "分不均", "不公平", "赶出", "偏心", "归他", "归她", "搬出去", "赶我", "撵", "非说", "非要", "都要分", "都想要")  # "儿子非说房子归他 要我搬出去"
DEBT = ("欠款", "欠债", "欠钱", "欠我", "欠了我", "借钱", "借款", "借条", "借了", "不还", "赖账", "讨债", "要债", "还钱",
        "网贷", "贷款", "催收", "还不上", "信用卡", "债务", "高利贷", "担保", "被骗", "骗了")
HEALTH = ("病", "医院", "住院", "医疗", "医药", "诊断", "手术", "癌", "肿瘤", "抑郁", "精神", "残疾", "伤残", "瘫",
          "怀孕", "流产", "艾滋", "乙肝", "体检", "治疗", "吃药", "受伤", "摔伤", "骨折", "工伤", "伤情", "痴呆", "心理")
MINORS = ("未成年", "抚养", "监护", "探视", "领养", "收养", "辍学", "霸凌", "孩子被", "小孩被", "孩子归", "早恋")
FAMILY_BREAKUP = ("离婚", "出轨", "外遇", "小三", "分居", "私生", "亲子鉴定")
# Family members and inheritance: with a dispute word in the question, a family conflict.
FAMILY = ("我爸", "我妈", "父亲", "母亲", "父母", "爸妈", "老人", "哥哥", "我哥", "姐姐", "我姐", "弟弟", "我弟", "妹妹",
          "我妹", "兄弟", "姐妹", "儿子", "女儿", "儿女", "子女", "老公", "老婆", "丈夫", "妻子", "媳妇", "婆婆", "公公",
          "岳父", "岳母", "丈母娘", "前夫", "前妻", "亲戚", "家里人", "家人", "继母", "继父", "后妈", "爷爷", "奶奶",
          "外公", "外婆", "大伯", "叔叔", "舅舅", "姑姑", "嫂子", "弟媳", "姐夫", "妹夫", "女婿", "儿媳")
INHERITANCE = ("继承", "遗产", "遗嘱", "去世", "过世", "走了", "走后", "身后", "老房子", "分家")
SENSITIVE: dict[str, tuple[str, ...]] = {"婚姻家庭": VIOLENCE + DISPUTE, "继承": DISPUTE, "借贷": ("",)}
SENSITIVE_ANYWHERE = VIOLENCE + DEBT + HEALTH + MINORS + FAMILY_BREAKUP


def _has(text: str, words: tuple[str, ...]) -> bool:
    return any(word in text for word in words)


def sensitive(category: str, question: str, answer: str = "") -> bool:
    """Whether an answer should reach only the resident. Judged on the consultation's stored
    question and category (the router may file an inheritance quarrel under 其他法律), and on
    the answer: a sensitive case of its category, a family quarrel or inheritance dispute in
    any category, or violence, money owed, health, minors or a marriage breaking up anywhere."""
    if _has(question, SENSITIVE.get(category, ())):
        return True
    both = question + "\n" + answer
    if _has(question, DISPUTE) and (_has(both, FAMILY) or _has(both, INHERITANCE)):
        return True
    return _has(both, SENSITIVE_ANYWHERE)


def notify_followers(ctx: Context, record: Consultation, people: list, heading: str) -> None:
    """The full (masked) question to whoever now follows it, with how to answer or pass it on."""
    for person in people:
        ctx.private(
            person.id,
            f"【法律咨询 L{record.id}{' 紧急' if record.urgent else ''}】{heading}\n"
            f"问题：{record.text}\n答复请发：/答复 L{record.id} 内容；转交请发：/转交 L{record.id} 法官|检察官|警官|律师",
        )
        ctx.session.add(AuditEntry(at=ctx.now, actor_id=person.id, action="咨询通知", subject=f"L{record.id}"))


def _room(ctx: Context, record: Consultation) -> Room | None:
    return ctx.session.get(Room, record.room_id) if record.room_id else None


def _in_scope(ctx: Context, record: Consultation) -> bool:
    room = _room(ctx, record)
    if room is None:  # a private question belongs to every adviser
        return True
    return ctx.caller.covers(room, CONSULTATION_ROLES)


def _followed_roles(ctx: Context) -> frozenset[str] | None:
    """The legal roles whose consultations the caller follows; None: all (grid worker, admin)."""
    roles = {role for role, _ in ctx.caller.grants}
    if roles & {"grid", "admin"}:
        return None
    return frozenset(roles & LEGAL_ROLES)


def _title(ctx: Context, record: Consultation) -> str:
    """How the one answering signs: the title of the role that follows it, else their own."""
    roles = {role for role, _ in ctx.caller.grants}
    role = record.role if record.role in roles else next((r for r in legal_roles.TITLES if r in roles), "lawyer")
    return legal_roles.TITLES[role]


@command("咨询", roles=CONSULTATION_ROLES, usage="/咨询 [法官|检察官|警官|律师]", help="查看待答复的法律咨询（各角色看自己的）")
async def open_questions(ctx: Context, args: str) -> None:
    wanted = legal_roles.role_of(args) if args.strip() else None
    if args.strip() and wanted is None:
        ctx.reply("可按角色查看：/咨询 法官、/咨询 检察官、/咨询 警官、/咨询 律师", mention=False)
        return
    mine = _followed_roles(ctx)
    stmt = select(Consultation).where(Consultation.status == "待答复").order_by(col(Consultation.id))
    rows = [
        r for r in ctx.session.exec(stmt).all()
        if _in_scope(ctx, r) and (mine is None or r.role in mine) and wanted in (None, r.role)
    ]
    if not rows:
        ctx.reply("目前没有待答复的法律咨询。", mention=False)
        return
    lines = [f"待答复的法律咨询（{len(rows)}件）："]
    for r in rows[:LIST_LIMIT]:
        room = _room(ctx, r)
        urgent = "【急】" if r.urgent else ""
        place = room.topic if room else "私聊"
        lines.append(
            f"L{r.id} {urgent}[{legal_roles.role_label(r.role)}] {r.category} · {place} · {format_due(r.created_at)}\n"
            f"  {r.text[:60]}"
        )
        ctx.session.add(AuditEntry(at=ctx.now, actor_id=ctx.caller.person_id, action="查看咨询", subject=f"L{r.id}"))
    lines.append("答复请发：/答复 L编号 内容；转交请发：/转交 L编号 法官|检察官|警官|律师")
    ctx.reply("\n".join(lines), mention=False)  # a staff command: privately, never to a residents' group


_TRANSFER = re.compile(r"^\s*[Ll#＃]?\s*(\d{1,9})\s*[@＠]?\s*(\S*)")


@command("转交", roles=CONSULTATION_ROLES, usage="/转交 L5 警官", help="把法律咨询转给法官、检察官、警官或律师",
         pattern=r"\d")
async def transfer_command(ctx: Context, args: str) -> None:
    match = _TRANSFER.match(args)
    role = legal_roles.role_of(match.group(2)) if match and match.group(2) else None
    if match is None or role is None:
        ctx.reply("请写上咨询编号和转给谁，例如：/转交 L5 警官（可选：法官、检察官、警官、律师）", mention=False)
        return
    number = int(match.group(1))
    record = ctx.session.get(Consultation, number)
    if record is None or not _in_scope(ctx, record):
        ctx.reply(f"没有找到法律咨询 L{number}，请核对编号。", mention=False)
        return
    label = legal_roles.role_label(role)
    if record.status != "待答复":
        ctx.reply(f"L{number} 已经答复过了，无需转交。", mention=False)
        return
    if record.role == role:
        ctx.reply(f"L{number} 已由{label}跟进。", mention=False)
        return
    room = _room(ctx, record)
    people = legal_roles.holders(ctx.session, role, room)
    if not people:
        where = room.grid if room is not None and room.grid else "本社区"
        ctx.reply(f"{where}还没有{label}，无法转交；请管理员先 /授权，或转给其他角色。", mention=False)
        return
    record.role = role
    ctx.session.add(record)
    ctx.session.add(AuditEntry(at=ctx.now, actor_id=ctx.caller.person_id, action="转交咨询", subject=f"L{number} {role}"))
    ctx.handled.consultation = number
    place = room.topic if room else "私聊"
    asker = directory.person_name(ctx.session, record.asker_id) or "居民"
    notify_followers(ctx, record, people, f"{place} · {record.category} · {asker}（{ctx.caller.name}转交）")
    # the resident learns who follows it now: a title, politely, never in the group
    ctx.private(record.asker_id, f"您咨询的问题 L{number} 已转请{legal_roles.TITLES[role]}跟进，请耐心等候答复；"
                                 "着急的话也可拨打12348公共法律服务热线。")
    ctx.reply(f"L{number} 已转交{label}{'、'.join(p.name for p in people)}，已私信告知居民。", mention=False)


@command("答复", roles=LEGAL_ROLES, usage="/答复 L5 内容", help="答复一件法律咨询")
async def answer_command(ctx: Context, args: str) -> None:
    match = _REF.match(args)
    if not match:
        ctx.reply("请写上咨询编号和答复，例如：/答复 L5 可以先协商，协商不成可申请劳动仲裁。", mention=False)
        return
    number, answer = int(match.group(1)), mask(match.group(2).strip())
    override = _WHERE.match(answer)
    if override:
        answer = override.group(2).strip()
    record = ctx.session.get(Consultation, number)
    if record is None or not _in_scope(ctx, record):
        ctx.reply(f"没有找到法律咨询 L{number}，请核对编号。", mention=False)
        return
    wanted = override.group(1) if override else None
    # Answered privately, the adviser may still post a general word in the group: /答复 L5 公开 …
    again = record.status != "待答复"
    if again and wanted != "公开":
        ctx.reply(f"L{number} 已经答复过了。", mention=False)
        return
    if not answer:
        ctx.reply(f"请写上答复内容，例如：/答复 L{number} 内容", mention=False)
        return
    if not again:  # the first answer is the record's; a later public word only goes to the group
        record.status, record.answer = "已答复", answer
        record.answered_by, record.answered_at = ctx.caller.person_id, ctx.now
        ctx.session.add(record)
    ctx.handled.consultation = number
    text = f"您咨询的问题 L{number}，{_title(ctx, record)}{ctx.caller.name}答复：{answer}\n如需进一步帮助，可拨打12348公共法律服务热线。"
    room = _room(ctx, record)
    name = directory.person_name(ctx.session, record.asker_id)
    private = wanted in ("私信", "私下") or (
        wanted is None and (record.urgent or sensitive(record.category, record.text, answer))
    )
    if again:  # a general word for everyone: no @, the private answer stays the resident's own
        where = room or ctx.room
        if where is None:
            ctx.reply("这件咨询是私聊提出的，没有可公开的群；请到群里直接发言。", mention=False)
            return
        ctx.to_room(where, f"{_title(ctx, record)}{ctx.caller.name}提醒：{mask_flats(answer)}\n如需帮助，可拨打12348公共法律服务热线。")
        if ctx.room is None or ctx.room.id != where.id:
            ctx.reply(f"已在{where.topic}公开发布。", mention=False)
        return
    if room is not None and name and not private:
        ctx.to_room(room, f"@{name} {mask_flats(mask(text))}", mentions=(record.asker_id,))
        if ctx.room is not None and ctx.room.id == room.id:
            return  # the adviser sees the answer in the group
        ctx.reply(f"L{number} 已答复，已在群里告知居民。", mention=False)
        return
    ctx.private(record.asker_id, text)
    kept = "（涉及个人隐私，未在群里公开；需要公开时写 /答复 L编号 公开 内容）" if room is not None and wanted is None else ""
    ctx.reply(f"L{number} 已答复，已私信告知居民。{kept}", mention=False)
