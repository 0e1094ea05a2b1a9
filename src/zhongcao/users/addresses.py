"""The address book: a user's saved shipping addresses (issue #17, item 3).

Every address names its province, city and district by GB/T 2260 code and is checked against
:mod:`zhongcao.users.divisions` (the district in the city, the city in the province). A user's first
address is their default; making another the default unsets the old one; deleting the default makes
the newest remaining address the default. Checkout takes a saved address as names
(:func:`shipping_fields`), so orders keep what was shipped to even if the address is later edited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from zhongcao.db import insert_rows
from zhongcao.errors import Conflict, NotFound
from zhongcao.users import divisions
from zhongcao.users.models import UserAddress
from zhongcao.users.schemas import AddressIn, AddressOut, DivisionOut

MAX_ADDRESSES = 20


def list_addresses(db: Session, user_id: int) -> list[UserAddress]:
    """The default first, then the newest."""
    return list(
        db.scalars(
            select(UserAddress)
            .where(UserAddress.user_id == user_id)
            .order_by(UserAddress.is_default.desc(), UserAddress.id.desc())
        )
    )


def get_address(db: Session, user_id: int, address_id: int) -> UserAddress:
    row = db.get(UserAddress, address_id)
    if row is None or row.user_id != user_id:  # another user's address does not exist for you
        raise NotFound("address not found", code="address_not_found")
    return row


def default_address(db: Session, user_id: int) -> UserAddress | None:
    rows = list_addresses(db, user_id)
    return rows[0] if rows else None


def _unset_default(db: Session, user_id: int, keep: int | None = None) -> None:
    query = update(UserAddress).where(UserAddress.user_id == user_id, UserAddress.is_default.is_(True))
    if keep is not None:
        query = query.where(UserAddress.id != keep)
    db.execute(query.values(is_default=False))


def create_address(db: Session, user_id: int, data: AddressIn, *, commit: bool = True) -> UserAddress:
    divisions.check(data.province_code, data.city_code, data.district_code)
    count = db.scalar(select(func.count()).select_from(UserAddress).where(UserAddress.user_id == user_id))
    if (count or 0) >= MAX_ADDRESSES:
        raise Conflict(f"at most {MAX_ADDRESSES} saved addresses", code="too_many_addresses")
    row = UserAddress(user_id=user_id, **data.model_dump(exclude={"is_default"}), is_default=False)
    db.add(row)
    db.flush()
    if data.is_default or not count:
        _unset_default(db, user_id, keep=row.id)
        row.is_default = True
    if commit:
        db.commit()
    return row


def save_first_addresses(
    db: Session, entries: Sequence[tuple[int, AddressIn]], *, commit: bool = True
) -> int:
    """Save each user's address as their default, for the users who have no saved address yet (a
    buyer's first order, written in a batch: the market simulation's night, an import); a user who
    already has an address book, or comes again later in ``entries``, is left as is. Every address
    is checked first (one bad division saves none); one query finds who has an address, one
    multi-row INSERT saves the rest. Returns how many were saved."""
    for _user_id, data in entries:
        divisions.check(data.province_code, data.city_code, data.district_code)
    users = sorted({user_id for user_id, _ in entries})
    if not users:
        return 0
    have = set(db.scalars(select(UserAddress.user_id).where(UserAddress.user_id.in_(users)).distinct()))
    rows = []
    for user_id, data in entries:
        if user_id in have:
            continue
        have.add(user_id)
        rows.append({"user_id": user_id, **data.model_dump(exclude={"is_default"}), "is_default": True})
    insert_rows(db, UserAddress.__table__, rows)
    if commit:
        db.commit()
    return len(rows)


def update_address(
    db: Session, user_id: int, address_id: int, data: AddressIn, *, commit: bool = True
) -> UserAddress:
    row = get_address(db, user_id, address_id)
    divisions.check(data.province_code, data.city_code, data.district_code)
    for name, value in data.model_dump(exclude={"is_default"}).items():
        setattr(row, name, value)
    if data.is_default and not row.is_default:
        _unset_default(db, user_id, keep=row.id)
        row.is_default = True
    if commit:
        db.commit()
    return row


def set_default(db: Session, user_id: int, address_id: int, *, commit: bool = True) -> UserAddress:
    row = get_address(db, user_id, address_id)
    _unset_default(db, user_id, keep=row.id)
    row.is_default = True
    if commit:
        db.commit()
    return row


def delete_address(db: Session, user_id: int, address_id: int, *, commit: bool = True) -> None:
    row = get_address(db, user_id, address_id)
    was_default = row.is_default
    db.delete(row)
    db.flush()
    if was_default:
        newest = db.scalar(
            select(UserAddress).where(UserAddress.user_id == user_id).order_by(UserAddress.id.desc()).limit(1)
        )
        if newest is not None:
            newest.is_default = True
    if commit:
        db.commit()


@dataclass(frozen=True)
class Named:
    """An address with its divisions looked up (for pages and the API)."""

    row: UserAddress
    province: divisions.Division
    city: divisions.Division
    district: divisions.Division

    def line(self, locale: str) -> str:
        return _line(self.province, self.city, self.district, self.row.detail, locale)


def _line(
    province: divisions.Division,
    city: divisions.Division,
    district: divisions.Division,
    detail: str,
    locale: str,
) -> str:
    parts = [d.name(locale) for d in (province, city, district)]
    if city.name_zh == province.name_zh:  # 北京市 北京市 东城区
        parts.pop(1)
    if district.code == city.code:  # 东莞市 has no districts
        parts.pop()
    sep = ", " if locale.startswith("en") else " "
    return sep.join(parts) + sep + detail


def shipping_line(address: dict[str, Any], locale: str) -> str:
    """Where an order ships, in the page's language: the stored 省/市/区 found in the divisions read
    in English on English pages, the street line as typed; names that are not divisions (an address
    typed in through the API may say anything) are shown as stored."""
    names = [str(address.get(k, "")) for k in ("province", "city", "district")]
    found = divisions.by_names(*names)
    detail = str(address.get("line", ""))
    if found is None:
        return " ".join([*names, detail])
    return _line(*found, detail, locale)


def named(row: UserAddress) -> Named:
    p, c, d = divisions.check(row.province_code, row.city_code, row.district_code)
    return Named(row, p, c, d)


def to_out(row: UserAddress) -> AddressOut:
    n = named(row)

    def div(d: divisions.Division) -> DivisionOut:
        return DivisionOut(code=d.code, name_zh=d.name_zh, name_en=d.name_en)

    return AddressOut(
        id=row.id,
        recipient=row.recipient,
        phone=row.phone,
        province=div(n.province),
        city=div(n.city),
        district=div(n.district),
        detail=row.detail,
        is_default=row.is_default,
        created_at=row.created_at,
    )


def shipping_fields(province_code: str, city_code: str, district_code: str) -> dict[str, Any]:
    """The Chinese names checkout stores on an order for three checked codes."""
    p, c, d = divisions.check(province_code, city_code, district_code)
    return {"province": p.name_zh, "city": c.name_zh, "district": d.name_zh}


def shipping_address(db: Session, user_id: int, address_id: int) -> dict[str, str]:
    """A saved address as checkout ships to it (recipient, phone, 省/市/区 names, the detail line);
    another user's is 404 ``address_not_found`` (``details.field``: ``address_id``)."""
    row = db.get(UserAddress, address_id)
    if row is None or row.user_id != user_id:
        raise NotFound("address not found", code="address_not_found", field="address_id")
    return {
        "name": row.recipient,
        "phone": row.phone,
        **shipping_fields(row.province_code, row.city_code, row.district_code),
        "line": row.detail,
    }
