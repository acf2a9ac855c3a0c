"""工单: the tickets in the caller's scope, and one ticket with its history and the chat's actions.

Scope is the chat's (bot.permissions via ``caller.scopes(STAFF)``, filtered in SQL): an officer
sees her stairwell, a grid worker his grid, an admin everything; a ticket outside it is 403.
Opening a ticket is audited like ``/工单 12`` ("查看工单"). The actions (派单, 处理, 办结, 延期)
build the chat command and run it through the dispatcher as the staff member (bot.console.actions),
so the group and the reporters see exactly what they would if it were typed in chat.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web
from sqlmodel import Session, col, select

from bot.clock import SHANGHAI
from bot.console.actions import run_as
from bot.console.auth import checked_form, staff_of
from bot.console.db import audited_read
from bot.console.keys import SESSION, stairwell_of
from bot.console.render import error_page, render
from bot.permissions import STAFF, Caller, caller_from_grants
from handlers.privacy_commands import reachable
from storage import console as logins
from storage import directory, tickets
from storage.models import Person, RoleGrant, Room, Ticket

PAGE_SIZE = 30
OPEN = "未办结"  # the status filter's default: every open status
ALL = "全部"
POSTPONE_SPANS = ("1天", "2天", "3天", "3个工作日", "一周")
MAX_NOTE = 500
FLASH_LIMIT = 1500  # the answers kept for the next page (inside the session cookie)


def setup(app: web.Application) -> None:
    app.router.add_get("/tickets", ticket_list)
    app.router.add_get("/tickets/{number:\\d{1,9}}", ticket_page)
    app.router.add_post("/tickets/{number:\\d{1,9}}/{action:assign|progress|resolve|postpone}", ticket_action)


@dataclass(frozen=True)
class Row:
    ticket: Ticket
    group: str
    assignee: str
    sla: str  # overdue | near | ok | done


def sla(ticket: Ticket, now: datetime) -> str:
    """overdue (red): open past its due time; near (amber): open with under a quarter of its time
    left (at least an hour); ok; done: no longer open."""
    if ticket.status not in tickets.OPEN_STATUSES:
        return "done"
    if ticket.due_at < now:
        return "overdue"
    window = max(ticket.due_at - ticket.created_at, timedelta(0))
    if ticket.due_at - now <= max(window / 4, timedelta(hours=1)):
        return "near"
    return "ok"


def local(at: datetime | None) -> str:
    return at.astimezone(SHANGHAI).strftime("%m-%d %H:%M") if at else ""


def _rooms_in_scope(db: Session, caller: Caller) -> list[Room]:
    return [r for r in directory.rooms(db) if r.kind != "legal" and caller.covers(r, STAFF)]


async def ticket_list(request: web.Request) -> web.StreamResponse:
    caller = await staff_of(request)
    app = stairwell_of(request)
    now = app.clock.now()
    q = request.query
    status = q.get("status", OPEN)
    statuses = tickets.OPEN_STATUSES if status == OPEN else tickets.STATUSES if status == ALL else (status,)
    if not set(statuses) <= set(tickets.STATUSES):
        raise error_page(request, 400, "没有这个状态。")
    try:
        page = max(1, min(int(q.get("page", "1")), 10_000))
    except ValueError:
        page = 1
    scopes = caller.scopes(frozenset(STAFF))
    with Session(app.engine) as db:
        rooms = _rooms_in_scope(db, caller)
        categories, assignee_ids = tickets.facets(db, scopes)
        assignee = q.get("assignee") or None
        found = tickets.list_tickets(
            db,
            statuses=statuses,
            room_id=q.get("group") or None,
            scopes=scopes,
            overdue_at=now if q.get("overdue") == "1" else None,
            category=q.get("category") or None,
            urgent=True if q.get("urgent") == "1" else None,
            assignee_id=("" if assignee == "none" else assignee),
            offset=(page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE + 1,
            newest_first=True,
        )
        topics = {r.id: r.topic for r in directory.rooms(db)}
        names = {pid: directory.person_name(db, pid) for pid in {*assignee_ids, *(t.assignee_id for t in found if t.assignee_id)}}
    rows = [
        Row(t, t.stairwell or topics.get(t.room_id or "", "私聊"), names.get(t.assignee_id or "", ""), sla(t, now))
        for t in found[:PAGE_SIZE]
    ]
    filters = {k: q.get(k, "") for k in ("group", "category", "urgent", "overdue", "assignee")} | {"status": status}
    return render(request, "tickets.html", {
        "rows": rows, "filters": filters, "page": page, "more": len(found) > PAGE_SIZE,
        "rooms": rooms, "categories": categories, "assignees": [(a, names.get(a, a)) for a in assignee_ids],
        "statuses": (OPEN, *tickets.STATUSES, ALL), "local": local,
        "query": {k: v for k, v in filters.items() if v},
    })


def _load(db: Session, request: web.Request, caller: Caller) -> tuple[Ticket, Room | None]:
    """The ticket of the URL if it is in the caller's scope: 404 when there is none, 403 outside it."""
    ticket = db.get(Ticket, int(request.match_info["number"]))
    if ticket is None:
        raise error_page(request, 404, "没有这件工单。")
    room = db.get(Room, ticket.room_id) if ticket.room_id else None
    if not tickets.in_scope(ticket, caller.scopes(frozenset(STAFF)), room):
        raise error_page(request, 403, "这件工单不在您负责的范围内。")
    return ticket, room


def _assignees(db: Session, ticket: Ticket, room: Room | None) -> list[Person]:
    """Who may follow the ticket up (as /派单 allows): staff whose grants cover its place."""
    where = tickets.place(ticket, room)
    grants: dict[str, list[RoleGrant]] = {}
    for grant in db.exec(select(RoleGrant).order_by(col(RoleGrant.person_id))).all():
        grants.setdefault(grant.person_id, []).append(grant)
    people = []
    for person_id, own in grants.items():
        person = db.get(Person, person_id)
        if person is not None and not person.deleted and caller_from_grants(person_id, person.name, own).covers(where, STAFF):
            people.append(person)
    return people


async def ticket_page(request: web.Request) -> web.StreamResponse:
    caller = await staff_of(request)
    app = stairwell_of(request)
    now = app.clock.now()

    def read(db: Session):
        ticket, room = _load(db, request, caller)
        assert ticket.id is not None
        reporter_ids = tickets.reporter_ids(db, ticket.id)
        named = [p for p in (reachable(db, pid, ticket) for pid in reporter_ids) if p is not None]
        hidden = set(reporter_ids) - {p.id for p in named}  # asked for deletion: never named
        history = []
        for event in tickets.history(db, ticket.id):
            shown = event.actor_id not in hidden and directory.person_name(db, event.actor_id)
            actor = "系统" if event.actor_id == tickets.SYSTEM else (shown or "居民")
            history.append((local(event.at), event.action, actor, event.note))
        people = _assignees(db, ticket, room)
        assignee = directory.person_name(db, ticket.assignee_id) if ticket.assignee_id else ""
        logins.audit(db, now, caller.person_id, "查看工单", f"#{ticket.id}")  # every read of the full text
        return ticket, room, named, history, people, assignee

    ticket, room, named, history, people, assignee = await audited_read(app, read)
    flash = request[SESSION].pop("flash", None)
    return render(request, "ticket.html", {
        "t": ticket, "group": room.topic if room else "私聊", "reporters": [p.name for p in named],
        "assignee": assignee, "history": history, "people": people, "sla": sla(ticket, now), "local": local,
        "open": ticket.status in tickets.OPEN_STATUSES, "spans": POSTPONE_SPANS, "flash": flash,
        "nonce": secrets.token_urlsafe(12),
    })


def _note(form, field: str = "note") -> str:
    return " ".join(str(form.get(field, "")).split())[:MAX_NOTE]


async def ticket_action(request: web.Request) -> web.StreamResponse:
    form = await checked_form(request)
    caller = await staff_of(request)
    app = stairwell_of(request)
    with Session(app.engine) as db:
        ticket, room = _load(db, request, caller)
        people = {p.id: p.name for p in _assignees(db, ticket, room)}
    number, action = ticket.id, request.match_info["action"]
    mentions: tuple[str, ...] = ()
    if action == "assign":
        person_id = str(form.get("person", ""))
        if person_id not in people:
            raise error_page(request, 400, "请从列表中选择跟进人。")
        text, mentions = f"/派单 {number} @{people[person_id]}", (person_id,)
    elif action == "postpone":
        span = str(form.get("span", ""))
        if span not in POSTPONE_SPANS:
            raise error_page(request, 400, "请选择延期多久。")
        text = f"/延期 {number} {span} {_note(form)}"
    else:
        text = f"/{'处理' if action == 'progress' else '办结'} {number} {_note(form)}"
    outcome = await run_as(app, caller, text.strip(), mention_ids=mentions, nonce=str(form.get("nonce", ""))[:40] or None)
    if not outcome.duplicate:
        request[SESSION]["flash"] = "\n".join(outcome.answers)[:FLASH_LIMIT] or "已提交。"
    raise web.HTTPSeeOther(f"/staff/tickets/{number}")
