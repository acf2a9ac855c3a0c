"""Console passwords: argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile)."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
_HASHER = PasswordHasher()
_DUMMY: list[str] = []  # verified against for an unknown person: a wrong name costs the same time


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; None (no password set) is always False."""
    if password_hash is None:
        if not _DUMMY:
            _DUMMY.append(_HASHER.hash("\x00 nobody's password"))
        _check(_DUMMY[0], password)
        return False
    return _check(password_hash, password)


def _check(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def weak(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 个字符 / at least {MIN_LENGTH} characters"
    if password.strip() != password:
        return "密码首尾不能有空格 / no spaces at either end"
    return None
