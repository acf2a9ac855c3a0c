"""The staff console's logins: one-time links (/登录) and passwords.

A link's token is random (``secrets.token_urlsafe``) and only its SHA-256 is stored: a copy of the
database logs nobody in. A token logs in its own person once, before it expires; redeeming is one
conditional UPDATE, so two requests racing with the same link cannot both succeed.
Passwords arrive here already hashed (argon2id, bot.console.passwords).
"""
from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from storage.models import AuditEntry, ConsolePassword, ConsoleToken
from storage.state import StateFlag, clear_flag, set_flag

TOKEN_LIFETIME = timedelta(minutes=10)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, person_id: str, now: datetime, lifetime: timedelta = TOKEN_LIFETIME) -> str:
    """A new one-time token for ``person_id`` (the caller commits); the token itself is not stored."""
    token = secrets.token_urlsafe(32)
    session.add(ConsoleToken(token_hash=token_hash(token), person_id=person_id, created_at=now, expires_at=now + lifetime))
    return token


def redeem_token(session: Session, token: str, now: datetime) -> str | None:
    """The person ``token`` logs in, marking it used; None when it is unknown, used or expired."""
    if not token or len(token) > 128:
        return None
    digest = token_hash(token)
    result = session.execute(
        update(ConsoleToken)
        .where(col(ConsoleToken.token_hash) == digest, col(ConsoleToken.used_at).is_(None), col(ConsoleToken.expires_at) > now)
        .values(used_at=now)
    )
    if getattr(result, "rowcount", 0) != 1:
        return None
    return session.exec(select(ConsoleToken.person_id).where(ConsoleToken.token_hash == digest)).first()


def set_password_hash(session: Session, person_id: str, password_hash: str, now: datetime) -> None:
    row = session.get(ConsolePassword, person_id)
    if row is None:
        row = ConsolePassword(person_id=person_id, password_hash=password_hash, set_at=now)
    else:
        row.password_hash, row.set_at = password_hash, now
    session.add(row)


def password_hash(session: Session, person_id: str) -> str | None:
    row = session.get(ConsolePassword, person_id)
    return row.password_hash if row is not None else None


def audit(session: Session, at: datetime, actor_id: str, action: str, subject: str) -> None:
    """One row of the audit log (个人信息保护法), as chat commands write it."""
    session.add(AuditEntry(at=at, actor_id=actor_id, action=action, subject=subject))


# Failed logins, per client address and per person, kept in state_flags (one row a key, its recent
# times): every process behind one database counts the same attempts, and a restart forgets none.
FAILED_LOGINS = "login-failed:"


def _failed_at(session: Session, key: str, since: datetime) -> list[str]:
    row = session.get(StateFlag, FAILED_LOGINS + key)
    times = json.loads(row.value).get("at", []) if row else []
    return [t for t in times if datetime.fromisoformat(t) > since]


def failed_logins(session: Session, key: str, since: datetime) -> int:
    """How many times ``key`` ("ip:1.2.3.4", "person:grid-zhao") failed to log in after ``since``."""
    return len(_failed_at(session, key, since))


def record_failed_login(session: Session, keys: list[str], now: datetime, since: datetime) -> None:
    """One more failure for each key, the ones before ``since`` forgotten (the caller commits)."""
    for key in keys:
        times = _failed_at(session, key, since)[-49:] + [now.isoformat()]
        set_flag(session, FAILED_LOGINS + key, {"at": times}, now)


def clear_failed_logins(session: Session, key: str) -> None:
    clear_flag(session, FAILED_LOGINS + key)


def forget_failed_logins(session: Session, before: datetime) -> int:
    """Rows of keys that have not failed since ``before`` (a flood of addresses leaves no trace)."""
    result = session.execute(
        delete(StateFlag).where(col(StateFlag.name).startswith(FAILED_LOGINS), col(StateFlag.set_at) < before)
    )
    return int(getattr(result, "rowcount", 0) or 0)
