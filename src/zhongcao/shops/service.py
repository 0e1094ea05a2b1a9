"""Shops and their staff."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhongcao.errors import NotFound
from zhongcao.shops.models import Shop, ShopStaff


def membership_for_user(db: Session, user_id: int) -> ShopStaff | None:
    return db.scalar(select(ShopStaff).where(ShopStaff.user_id == user_id))


def get_shop(db: Session, shop_id: int) -> Shop:
    shop = db.get(Shop, shop_id)
    if shop is None:
        raise NotFound("shop not found", code="shop_not_found")
    return shop
