"""Idempotent commands: a client retry with the same ``Idempotency-Key`` never acts twice.

A key belongs to (user, scope, key). The request is fingerprinted by the SHA-256 of its body as
canonical JSON (sorted keys, no whitespace), so the same logical body always hashes the same.

1. The record is inserted *in its own short transaction* and committed before any work starts,
   so a concurrent duplicate finds it (the unique constraint decides who came first).
2. The work runs in a second transaction; its outcome (status code and JSON body) is written to
   the record in that same transaction, so the effect and the stored answer commit together.
3. A later request with the key:

   * same body, finished      -> the stored status and JSON, replayed as they were;
   * same body, still running -> 409 ``idempotency_in_progress``;
   * different body           -> 422 ``idempotency_key_reused``.

2xx and 4xx outcomes are stored (a 4xx is an answer: retrying gives the same answer). On a 5xx
the record is deleted so that a retry may run again.

A record left in flight by a process that died (kill -9, a crash, a lost machine) is taken over by
the client's retry at once, not after a lease:

* on PostgreSQL the request's work transaction holds an advisory lock on the record, which the
  server releases the moment the holder's connection goes away; a retry that can take the lock knows
  nobody is working on the key (after :data:`CLAIM_GRACE`, the gap between the committed claim and
  the work's first statement);
* on the embedded SQLite default (one machine) the record names its holder (host, pid and the
  process's start time), and a retry on that machine checks whether the process still runs.

Only a record from an older version (no holder) or another machine's SQLite process falls back to the
:data:`IN_FLIGHT_LEASE`. A 409 for a key still in progress carries ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.commerce.models import IdempotencyRecord
from zhongcao.commerce.tx import keeps_changes
from zhongcao.db import rows_changed
from zhongcao.errors import Conflict, DomainError, InvalidInput, error_body

log = logging.getLogger("zhongcao.commerce")

HEADER = "Idempotency-Key"
# Printable ASCII without spaces, as in the IETF Idempotency-Key draft's examples (UUIDs, ULIDs...).
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,128}$")
# A record still "in flight" after this long belongs to a request that died; a retry may take over.
# Only when the holder cannot be asked (see the module's docstring).
IN_FLIGHT_LEASE = timedelta(minutes=2)
# PostgreSQL: between the claim's commit and the work's first statement nobody holds the lock; a
# record younger than this is taken to be in that gap (normally well under a millisecond).
CLAIM_GRACE = timedelta(seconds=2)
# What a client is told to wait before retrying a key in progress (seconds).
RETRY_AFTER_SECONDS = 1


def _process_start(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), telling a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "?"
    return stat.rsplit(")", 1)[1].split()[19]  # field 22 (starttime), counted after the comm field


_HOST = socket.gethostname()[:64]


def this_holder() -> str:
    pid = os.getpid()
    return f"{_HOST}:{pid}:{_process_start(pid)}"


def _holder_gone(holder: str | None) -> bool | None:
    """True when the holding process has certainly exited, False when it runs; None when this
    process cannot tell (no holder recorded, or a process on another machine)."""
    if not holder:
        return None
    parts = holder.rsplit(":", 2)
    if len(parts) != 3:
        return None
    host, pid_text, started = parts
    if host != _HOST or not pid_text.isdigit():
        return None
    pid = int(pid_text)
    if started == "?":  # no /proc here: whether the pid exists at all
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    return _process_start(pid) != started  # gone, or the pid now belongs to another process


# The record's advisory-lock key, made by PostgreSQL from the schema and the record's id: the key
# space is the whole database's, and ids restart in every schema (deployments, or tests running side
# by side, may share one database in schemas of their own), so the id alone would collide.
_LOCK_KEY_SQL = "hashtextextended('zhongcao:idempotency:' || current_schema() || ':' || CAST(:id AS text), 0)"
HOLD_LOCK = text(f"SELECT pg_advisory_xact_lock({_LOCK_KEY_SQL})")
TRY_LOCK = text(f"SELECT pg_try_advisory_xact_lock({_LOCK_KEY_SQL})")


def _hold(db: Session, record_id: int) -> None:
    """PostgreSQL: hold the record's lock for the rest of this transaction (the request's work)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(HOLD_LOCK, {"id": record_id})


def _holder_alive(db: Session, record: IdempotencyRecord, now: datetime) -> bool:
    """Whether some request may still be working on an in-flight record."""
    if db.get_bind().dialect.name == "postgresql":
        free = db.scalar(TRY_LOCK, {"id": record.id})
        # Free: no transaction is working on it, unless the claim has only just been committed.
        return not free or now - record.created_at < CLAIM_GRACE
    gone = _holder_gone(record.holder)
    if gone is None:
        return now - record.created_at < IN_FLIGHT_LEASE
    return not gone


@dataclass(frozen=True)
class Outcome:
    status_code: int
    body: Any
    replayed: bool


def check_key(key: str | None) -> str:
    if key is None or key == "":
        raise InvalidInput(
            f"the {HEADER} header is required for this request",
            code="idempotency_key_required",
            field=HEADER,
        )
    if not KEY_PATTERN.fullmatch(key):
        raise InvalidInput(
            f"the {HEADER} header must be 1 to 128 printable ASCII characters without spaces",
            code="invalid_idempotency_key",
            field=HEADER,
        )
    return key


def request_hash(body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _find(db: Session, user_id: int, scope: str, key: str) -> IdempotencyRecord | None:
    return db.scalar(
        select(IdempotencyRecord)
        .where(
            IdempotencyRecord.user_id == user_id,
            IdempotencyRecord.scope == scope,
            IdempotencyRecord.key == key,
        )
        .execution_options(populate_existing=True)
    )


def _claim(db: Session, user_id: int, scope: str, key: str, digest: str) -> int | Outcome:
    """Insert the in-flight record (committed at once), or answer from the one already there."""
    if db.in_transaction() and (db.new or db.dirty or db.deleted):
        # Keep what the request wrote so far whatever becomes of the claim. What it only read (the
        # auth lookup, which commits its own last-use write) simply commits with the claim: one
        # transaction, and one round trip, fewer per request.
        db.commit()
    for _ in range(3):
        record = IdempotencyRecord(
            user_id=user_id, scope=scope, key=key, request_hash=digest, holder=this_holder()
        )
        db.add(record)
        try:
            db.commit()
            return record.id
        except IntegrityError:
            db.rollback()
        existing = _find(db, user_id, scope, key)
        if existing is None:  # the holder failed with a 5xx and let go in between: try again
            db.rollback()
            continue
        if existing.request_hash != digest:
            db.rollback()
            raise InvalidInput(
                "this Idempotency-Key was used for a different request",
                code="idempotency_key_reused",
                field=HEADER,
            )
        if existing.status_code is not None:
            outcome = Outcome(status_code=existing.status_code, body=existing.response, replayed=True)
            db.rollback()
            return outcome
        started = existing.created_at
        now = clock.now()
        if _holder_alive(db, existing, now):
            db.rollback()
            raise _in_progress()
        # The holder is gone: take the record over (one retry wins: the update is conditional).
        taken = rows_changed(
            db.execute(
                update(IdempotencyRecord)
                .where(
                    IdempotencyRecord.id == existing.id,
                    IdempotencyRecord.status_code.is_(None),
                    IdempotencyRecord.created_at == started,
                )
                .values(created_at=now, holder=this_holder())
                .execution_options(synchronize_session=False)
            )
        )
        db.commit()
        if taken == 1:
            return existing.id
        raise _in_progress()
    raise _in_progress()


def _in_progress() -> Conflict:
    error = Conflict(
        "a request with this Idempotency-Key is still being processed: retry shortly",
        code="idempotency_in_progress",
    )
    error.headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return error


def _store(db: Session, record_id: int, status_code: int, body: Any) -> None:
    db.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record_id)
        .values(status_code=status_code, response=body)
        .execution_options(synchronize_session=False)
    )


def _release(db: Session, record_id: int) -> None:
    """Forget the key after a 5xx so the client's retry runs the request again."""
    try:
        db.rollback()
        db.execute(
            delete(IdempotencyRecord)
            .where(IdempotencyRecord.id == record_id)
            .execution_options(synchronize_session=False)
        )
        db.commit()
    except Exception:  # the original error matters more; the lease frees the key later
        db.rollback()
        log.exception("could not release idempotency record %s", record_id)


def execute(
    db: Session,
    *,
    user_id: int,
    scope: str,
    key: str | None,
    body: Any,
    action: Callable[[], tuple[int, Any]],
) -> Outcome:
    """Run ``action`` at most once per (user, scope, key).

    ``action`` does its work WITHOUT committing and returns ``(status_code, json_body)``; it may
    raise a :class:`DomainError`. The record and the work are committed together here.
    A DomainError is re-raised after its 4xx answer is stored (so the normal error handler
    renders it, identically to the stored body).
    """
    key = check_key(key)
    claim = _claim(db, user_id, scope, key, request_hash(body))
    if isinstance(claim, Outcome):
        return claim
    record_id = claim
    try:
        _hold(db, record_id)
        status_code, payload = action()
    except DomainError as exc:
        if exc.status_code >= 500:
            _release(db, record_id)
            raise
        try:
            if not keeps_changes(exc):
                db.rollback()
            _store(db, record_id, exc.status_code, error_body(exc.code, exc.message, exc.details))
            db.commit()
        except BaseException:
            _release(db, record_id)
            raise
        raise
    except BaseException:
        _release(db, record_id)
        raise
    try:
        _store(db, record_id, status_code, payload)
        db.commit()
    except BaseException:
        _release(db, record_id)
        raise
    return Outcome(status_code=status_code, body=payload, replayed=False)
