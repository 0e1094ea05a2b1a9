"""Publishing accounts, follows, short videos and live sessions."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhongcao.content.models import Account, AccountKind


def creator_account_for_user(db: Session, user_id: int) -> Account | None:
    return db.scalar(select(Account).where(Account.kind == AccountKind.creator, Account.user_id == user_id))
