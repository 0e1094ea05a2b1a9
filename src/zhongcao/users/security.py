"""Password hashing (argon2id) and opaque tokens (only their SHA-256 is stored)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from zhongcao.config import get_settings

TOKEN_PREFIX = "zc_"


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    settings = get_settings()
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# zxcvbn's score (0-4) a new password must reach: 2 is "somewhat guessable", safe against an online
# attacker (fewer than 10^8 guesses), which login throttling holds to a few hundred a day; it refuses
# the common, dictionary, keyboard-walk, repeat and date passwords (``password``, ``12345678``).
MIN_PASSWORD_SCORE = 2
# zxcvbn refuses longer input (its matching slows with length); the rest of a longer password only adds.
_ZXCVBN_MAX = 72


@dataclass(frozen=True)
class PasswordVerdict:
    ok: bool
    score: int
    warning: str
    suggestions: list[str]


def judge_password(password: str, user_inputs: Iterable[str] = ()) -> PasswordVerdict:
    """How guessable ``password`` is, by zxcvbn; ``user_inputs`` (email, name) count as known words."""
    from zxcvbn import zxcvbn

    words = [
        w for text in user_inputs for w in [text, *text.replace("@", " ").replace(".", " ").split()] if w
    ]
    result = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=words[:20])
    feedback = result.get("feedback") or {}
    score = int(result["score"])
    return PasswordVerdict(
        ok=score >= MIN_PASSWORD_SCORE,
        score=score,
        warning=str(feedback.get("warning") or ""),
        suggestions=[str(s) for s in feedback.get("suggestions") or []],
    )


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """Verifying against this when the user does not exist keeps login time the same either way."""
    return hash_password("zhongcao-timing-equaliser")
