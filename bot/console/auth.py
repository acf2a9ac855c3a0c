"""Who is using the console: login (one-time link or password), the session, CSRF, logout.

- ``/登录`` in a private chat sends ``<web.public_url>/staff/login/<token>`` (storage.console: random,
  stored hashed, 10 minutes, single use, bound to the person). Opening the link shows a button;
  only the button's POST uses the token (link previews fetching the URL log nobody in).
- A password form, for staff given one with ``python -m bot staff set-password <person_id>``.
- Sessions: aiohttp_session's EncryptedCookieStorage (Fernet: encrypted and signed, expiring after
  ``web.session_hours``), HttpOnly, SameSite=Lax, Secure when ``web.public_url`` is https. The
  key comes from the environment variable ``web.session_key_env`` (STAIRWELL_SESSION_KEY); unset,
  each start makes a random one (logins then end with the process) and logs one WARNING.
- Every session has a CSRF token; every POST form sends it as ``csrf`` (``checked_form``).
- Failed logins are limited per client address and per person (LIMIT in WINDOW, then 429), counted
  in the database: every process sees them and a restart forgets none.
- ``staff_of`` re-reads the person's grants from the database on every request.
"""
from __future__ import annotations

import asyncio
import hmac
import logging
import os
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp_session import get_session, new_session
from aiohttp_session import setup as setup_sessions
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet
from multidict import MultiDictProxy
from sqlmodel import Session

from bot.console import passwords
from bot.console.keys import CALLER, SESSION, stairwell_of
from bot.console.render import error_page, render
from bot.permissions import Caller, caller_from_grants
from storage import console as logins
from storage import directory
from storage.models import Person

if TYPE_CHECKING:
    from bot.config import WebConfig

log = logging.getLogger("stairwell.console")

COOKIE = "stairwell_staff"
LIMIT = 5  # failed logins per client address, and per person, within WINDOW
WINDOW = timedelta(minutes=10)
HOME = "/staff/tickets"


def _blocked(request: web.Request, *keys: str) -> bool:
    app = stairwell_of(request)
    now = app.clock.now()
    with Session(app.engine) as db:
        return any(logins.failed_logins(db, key, now - WINDOW) >= LIMIT for key in keys)


def _failed(request: web.Request, *keys: str) -> None:
    app = stairwell_of(request)
    now = app.clock.now()
    with Session(app.engine) as db:
        logins.record_failed_login(db, list(keys), now, now - WINDOW)
        db.commit()


def _forget(request: web.Request, key: str) -> None:
    app = stairwell_of(request)
    with Session(app.engine) as db:
        logins.clear_failed_logins(db, key)
        db.commit()


def session_key(settings: "WebConfig") -> str:
    """The cookie key from the environment (a Fernet key: 32 bytes, urlsafe base64), or a random one."""
    value = os.environ.get(settings.session_key_env, "").strip()
    if not value:
        log.warning("%s is not set: console logins end when the bot restarts (set a key: README 员工后台)",
                    settings.session_key_env)
        return Fernet.generate_key().decode()
    try:
        Fernet(value.encode())
    except ValueError:
        raise ValueError(f"{settings.session_key_env} must be 32 bytes in urlsafe base64 (README 员工后台)") from None
    return value


def setup(app: web.Application, settings: "WebConfig") -> None:
    """Sessions, the CSRF token on every request, the login and logout routes."""
    storage = EncryptedCookieStorage(
        session_key(settings),
        cookie_name=COOKIE,
        path="/staff",
        httponly=True,
        samesite="Lax",
        secure=settings.base_url().startswith("https://"),
        max_age=int(settings.session_hours * 3600),
    )
    setup_sessions(app, storage)
    app.middlewares.append(load_session)
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", password_login)
    app.router.add_get("/login/{token}", link_page)
    app.router.add_post("/login/{token}", link_login)
    app.router.add_post("/logout", logout)


@web.middleware
async def load_session(request: web.Request, handler) -> web.StreamResponse:
    """The session on the request (``request[SESSION]``), with a CSRF token from the first visit."""
    session = await get_session(request)
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    request[SESSION] = session
    return await handler(request)


def csrf_token(request: web.Request) -> str:
    """This session's CSRF token: put it in every form as the hidden field ``csrf``."""
    return request[SESSION]["csrf"]


async def checked_form(request: web.Request) -> MultiDictProxy:
    """The POSTed form, once its ``csrf`` field matches the session's token (else 403)."""
    form = await request.post()
    sent = form.get("csrf")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), csrf_token(request).encode()):
        raise error_page(request, 403, "表单已过期或来源不明，请刷新页面后重试。")
    return form


async def staff_of(request: web.Request) -> Caller:
    """The logged-in staff member, with grants as the database has them now. Not logged in: a
    redirect to the login page; a person with no staff role: 403."""
    person_id = request[SESSION].get("person")
    if not person_id:
        raise web.HTTPFound(f"/staff/login?next={request.rel_url.path_qs if request.method == 'GET' else HOME}")
    app = stairwell_of(request)
    with Session(app.engine) as db:
        person = db.get(Person, person_id)
        grants = directory.grants_for(db, person_id)
        caller = caller_from_grants(person_id, person.name, grants) if person is not None and not person.deleted else None
    if caller is None:
        request[SESSION].invalidate()
        raise web.HTTPFound("/staff/login")
    request[CALLER] = caller
    if not caller.is_staff:
        raise error_page(request, 403, "员工后台仅限工作人员使用。")
    return caller


def _next(target: str | None) -> str:
    """Where to go after logging in: a console path only (never another site)."""
    if target and target.startswith("/staff/") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME


def _address(request: web.Request) -> str:
    return f"ip:{request.remote or '?'}"


async def _log_in(request: web.Request, person_id: str, how: str, target: str | None = None) -> web.StreamResponse:
    """A fresh session (never the one from before the login) for ``person_id``."""
    session = await new_session(request)
    session["person"] = person_id
    session["csrf"] = secrets.token_urlsafe(32)
    request[SESSION] = session
    log.info("console login person=%s via=%s", person_id, how)
    raise web.HTTPSeeOther(_next(target))


async def login_page(request: web.Request) -> web.StreamResponse:
    if request[SESSION].get("person"):
        raise web.HTTPFound(_next(request.query.get("next")))
    return render(request, "login.html", {"next": _next(request.query.get("next")), "error": None})


async def password_login(request: web.Request) -> web.StreamResponse:
    form = await checked_form(request)
    person_id = str(form.get("person", "")).strip()[:64]
    password = str(form.get("password", ""))[:256]
    target = str(form.get("next", ""))
    who = f"person:{person_id}"
    if _blocked(request, _address(request), who):
        raise error_page(request, 429, "登录尝试过多，请10分钟后再试，或在私聊中发送 /登录 获取登录链接。")
    app = stairwell_of(request)
    with Session(app.engine) as db:
        stored = logins.password_hash(db, person_id) if person_id else None
    if await asyncio.to_thread(passwords.verify, stored, password):
        _forget(request, who)
        return await _log_in(request, person_id, "password", target)
    _failed(request, _address(request), who)
    log.info("console login failed person=%s via=password", person_id or "-")
    return render(request, "login.html", {"next": _next(target), "error": "登录名或密码不对。"}, status=403)


async def link_page(request: web.Request) -> web.StreamResponse:
    """The link from /登录: a button that logs in (the token is used by the POST only)."""
    return render(request, "login_link.html", {"token": request.match_info["token"]})


async def link_login(request: web.Request) -> web.StreamResponse:
    await checked_form(request)
    if _blocked(request, _address(request)):
        raise error_page(request, 429, "登录尝试过多，请10分钟后再试。")
    app = stairwell_of(request)
    with Session(app.engine) as db:
        person_id = logins.redeem_token(db, request.match_info["token"], app.clock.now())
        db.commit()
    if person_id is None:
        _failed(request, _address(request))
        log.info("console login failed via=link")
        raise error_page(request, 403, "登录链接无效、已用过或已过期（10分钟内有效，只能用一次）。请在私聊中重新发送 /登录。")
    return await _log_in(request, person_id, "link")


async def logout(request: web.Request) -> web.StreamResponse:
    await checked_form(request)
    person_id = request[SESSION].get("person")
    request[SESSION].invalidate()
    if person_id:
        log.info("console logout person=%s", person_id)
    raise web.HTTPSeeOther("/staff/login")
