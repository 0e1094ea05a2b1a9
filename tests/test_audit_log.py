"""The operators' audit log: entries are written with the change, searchable, and never editable."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from tests.factories import make_user
from zhongcao.audit import service as audit
from zhongcao.audit.models import AuditEntry
from zhongcao.errors import InvalidInput
from zhongcao.pagination import PageParams
from zhongcao.users.models import Role


def test_record_and_search(db) -> None:
    operator = make_user(db, Role.operator)
    audit.record(
        db,
        actor_user_id=operator.id,
        action="shop.suspend",
        target_kind="shop",
        target_id=7,
        reason="counterfeit goods reported three times",
        before={"status": "active"},
        after={"status": "suspended"},
    )
    audit.record(
        db, actor_user_id=operator.id, action="user.disable", target_kind="user", target_id=9, reason="spam"
    )
    db.commit()
    rows, cursor = audit.entries_page(db, PageParams(limit=10), q="counterfeit")
    assert [r.action for r in rows] == ["shop.suspend"] and cursor is None
    assert rows[0].before == {"status": "active"} and rows[0].after == {"status": "suspended"}
    rows, _ = audit.entries_page(db, PageParams(limit=10), target_kind="user")
    assert [r.target_id for r in rows] == [9]
    rows, _ = audit.entries_page(db, PageParams(limit=1))
    assert [r.action for r in rows] == ["user.disable"]
    assert [e.action for e in audit.entries_for(db, "shop", 7)] == ["shop.suspend"]


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_reason_is_required(reason) -> None:
    with pytest.raises(InvalidInput) as caught:
        audit.require_reason(reason)
    assert caught.value.code == "reason_required" and caught.value.details["field"] == "reason"


def test_the_database_refuses_edits_and_deletions(db) -> None:
    audit.record(db, actor_user_id=None, action="x.y", target_kind="t", target_id=1, reason="why")
    db.commit()
    for statement in (
        update(AuditEntry).values(reason="rewritten"),
        delete(AuditEntry),
    ):
        with pytest.raises(DBAPIError):
            db.execute(statement)
            db.flush()
        db.rollback()
    assert db.scalar(text("SELECT reason FROM audit_entries")) == "why"
