"""The staff console's logins: one-time links (/登录) and passwords.

A link's token is random (``secrets.token_urlsafe``) and only its SHA-256 is stored: a copy of the
database logs nobody in. A token logs in its own person once, before it expires; redeeming is one
conditional UPDATE, so two requests racing with the same link cannot both succeed.
Passwords arrive here already hashed (argon2id, bot.console.passwords).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.models import AuditEntry, ConsolePassword, ConsoleToken

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
