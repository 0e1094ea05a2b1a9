"""Shops and their staff.

A shop is created by a platform operator together with its first owner. A merchant user belongs to
at most one shop (``shop_staff.user_id`` is unique); owners manage the rest of the staff. A shop
always keeps at least one owner: changes that would leave none are refused with ``last_owner``,
and they lock the shop row first so that two owners demoting each other at once cannot both win.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhongcao.errors import Conflict, InvalidInput, NotFound
from zhongcao.pagination import PageParams, paginate_by_id
from zhongcao.shops.models import Shop, ShopStaff, ShopStatus, StaffRole
from zhongcao.users import service as users_service
from zhongcao.users.models import Role, User

MAX_FEE_FEN = 100_000_000


def membership_for_user(db: Session, user_id: int) -> ShopStaff | None:
    return db.scalar(select(ShopStaff).where(ShopStaff.user_id == user_id))


def get_shop(db: Session, shop_id: int) -> Shop:
    shop = db.get(Shop, shop_id)
    if shop is None:
        raise NotFound("shop not found", code="shop_not_found")
    return shop


def get_active_shop(db: Session, shop_id: int) -> Shop:
    """A shop the public may see. Suspended shops are reported as not found."""
    shop = db.get(Shop, shop_id)
    if shop is None or shop.status is not ShopStatus.active:
        raise NotFound("shop not found", code="shop_not_found")
    return shop


def is_shop_active(db: Session, shop_id: int) -> bool:
    shop = db.get(Shop, shop_id)
    return shop is not None and shop.status is ShopStatus.active


def shops_by_ids(db: Session, shop_ids: Iterable[int]) -> dict[int, Shop]:
    """Many shops in one query; unknown ids are simply absent."""
    ids = sorted(set(shop_ids))
    if not ids:
        return {}
    return {shop.id: shop for shop in db.scalars(select(Shop).where(Shop.id.in_(ids)))}


def active_shop_ids(db: Session, shop_ids: Iterable[int]) -> set[int]:
    """Those of ``shop_ids`` that are active (not suspended), in one query."""
    ids = sorted(set(shop_ids))
    if not ids:
        return set()
    return set(db.scalars(select(Shop.id).where(Shop.id.in_(ids), Shop.status == ShopStatus.active)))


def suspended_shop_ids(db: Session) -> frozenset[int]:
    """Every suspended shop (few: the feed's catalogue hides their content)."""
    return frozenset(db.scalars(select(Shop.id).where(Shop.status == ShopStatus.suspended)))


def active_shop_ids_query() -> Select[int]:
    """A sub-select of the ids of active shops, for other domains' listings (``x.in_(...)``)."""
    return select(Shop.id).where(Shop.status == ShopStatus.active)


def list_shops(
    db: Session, params: PageParams, *, status: ShopStatus | None = None
) -> tuple[Sequence[Shop], str | None]:
    """Every shop, newest first (operators)."""
    stmt = select(Shop)
    if status is not None:
        stmt = stmt.where(Shop.status == status)
    return paginate_by_id(db, stmt, Shop.id, params)


def _check_fees(shipping_fee_fen: int | None, free_shipping_threshold_fen: int | None) -> None:
    for field, value in (
        ("shipping_fee_fen", shipping_fee_fen),
        ("free_shipping_threshold_fen", free_shipping_threshold_fen),
    ):
        if value is not None and not (0 <= value <= MAX_FEE_FEN):
            raise InvalidInput(f"{field} must be between 0 and {MAX_FEE_FEN}", field=field)


def _merchant_without_shop(db: Session, user_id: int, *, field: str) -> User:
    """The user who is about to join a shop: an active merchant who belongs to no shop yet."""
    try:
        user = users_service.get_user(db, user_id)
    except NotFound:
        raise NotFound("user not found", code="user_not_found", field=field) from None
    return _check_can_join(db, user, field=field)


def _check_can_join(db: Session, user: User, *, field: str) -> User:
    if user.role is not Role.merchant:
        raise InvalidInput(
            "only users with the role merchant can be shop staff",
            code="not_a_merchant",
            field=field,
            details={"role": user.role.value},
        )
    if not user.is_active:
        raise InvalidInput("this user account is disabled", code="account_disabled", field=field)
    if membership_for_user(db, user.id) is not None:
        raise Conflict("this user already belongs to a shop", code="already_staff", field=field)
    return user


def _insert_staff(db: Session, shop_id: int, user_id: int, role: StaffRole, *, field: str) -> ShopStaff:
    staff = ShopStaff(shop_id=shop_id, user_id=user_id, role=role)
    try:
        # A savepoint, so that losing a race with another shop for the same user leaves the
        # caller's transaction usable (the unique user_id settles who wins).
        with db.begin_nested():
            db.add(staff)
    except IntegrityError:
        raise Conflict("this user already belongs to a shop", code="already_staff", field=field) from None
    return staff


def create_shop(
    db: Session,
    *,
    name_zh: str,
    name_en: str,
    owner_user_id: int,
    description_zh: str = "",
    description_en: str = "",
    shipping_fee_fen: int = 0,
    free_shipping_threshold_fen: int = 0,
    commit: bool = True,
) -> Shop:
    """Open a shop with ``owner_user_id`` as its owner.

    The owner must be an existing, active merchant who belongs to no shop: ``user_not_found`` (404),
    ``not_a_merchant`` (422), ``already_staff`` (409).
    """
    _check_fees(shipping_fee_fen, free_shipping_threshold_fen)
    owner = _merchant_without_shop(db, owner_user_id, field="owner_user_id")
    shop = Shop(
        name_zh=name_zh,
        name_en=name_en,
        description_zh=description_zh,
        description_en=description_en,
        shipping_fee_fen=shipping_fee_fen,
        free_shipping_threshold_fen=free_shipping_threshold_fen,
        status=ShopStatus.active,
    )
    db.add(shop)
    db.flush()
    _insert_staff(db, shop.id, owner.id, StaffRole.owner, field="owner_user_id")
    if commit:
        db.commit()
    return shop


def update_shop(
    db: Session,
    shop_id: int,
    *,
    name_zh: str | None = None,
    name_en: str | None = None,
    description_zh: str | None = None,
    description_en: str | None = None,
    shipping_fee_fen: int | None = None,
    free_shipping_threshold_fen: int | None = None,
) -> Shop:
    """Change a shop's names, descriptions or shipping terms; ``None`` leaves a field unchanged."""
    _check_fees(shipping_fee_fen, free_shipping_threshold_fen)
    shop = get_shop(db, shop_id)
    changes: dict[str, Any] = {
        "name_zh": name_zh,
        "name_en": name_en,
        "description_zh": description_zh,
        "description_en": description_en,
        "shipping_fee_fen": shipping_fee_fen,
        "free_shipping_threshold_fen": free_shipping_threshold_fen,
    }
    for field, value in changes.items():
        if value is not None:
            setattr(shop, field, value)
    db.commit()
    return shop


def set_shop_status(db: Session, shop_id: int, status: ShopStatus) -> Shop:
    """Suspend or reinstate a shop. A suspended shop and its products disappear from public view."""
    shop = get_shop(db, shop_id)
    shop.status = status
    db.commit()
    return shop


# Staff -------------------------------------------------------------------------------------------


def _lock_shop(db: Session, shop_id: int) -> None:
    # Serialises staff changes within one shop (PostgreSQL row lock; SQLite has one writer anyway).
    if db.scalar(select(Shop.id).where(Shop.id == shop_id).with_for_update()) is None:
        raise NotFound("shop not found", code="shop_not_found")


def _get_staff(db: Session, shop_id: int, staff_id: int) -> ShopStaff:
    staff = db.get(ShopStaff, staff_id)
    if staff is None or staff.shop_id != shop_id:
        raise NotFound("staff member not found", code="staff_not_found")
    return staff


def _owner_count(db: Session, shop_id: int) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(ShopStaff)
            .where(ShopStaff.shop_id == shop_id, ShopStaff.role == StaffRole.owner)
        )
        or 0
    )


def staff_user_ids(db: Session, shop_id: int, roles: Sequence[StaffRole] | None = None) -> list[int]:
    """Ids of the users who work for a shop, optionally only those with the given roles."""
    stmt = select(ShopStaff.user_id).where(ShopStaff.shop_id == shop_id)
    if roles:
        stmt = stmt.where(ShopStaff.role.in_(list(roles)))
    return list(db.scalars(stmt.order_by(ShopStaff.id)))


def list_staff(
    db: Session, shop_id: int, params: PageParams, *, role: StaffRole | None = None
) -> tuple[list[tuple[ShopStaff, User]], str | None]:
    """A page of a shop's staff, each with its user, optionally only those with ``role``."""
    stmt = select(ShopStaff).where(ShopStaff.shop_id == shop_id)
    if role is not None:
        stmt = stmt.where(ShopStaff.role == role)
    rows, next_cursor = paginate_by_id(db, stmt, ShopStaff.id, params)
    users = users_service.users_by_ids(db, [row.user_id for row in rows])
    return [(row, users[row.user_id]) for row in rows], next_cursor


def attach_staff(db: Session, *, shop_id: int, user_id: int, role: StaffRole) -> ShopStaff:
    """Make an existing merchant user who belongs to no shop staff of ``shop_id``; flushes only.

    ``shop_not_found``/``user_not_found`` (404), ``not_a_merchant`` (422), ``already_staff`` (409).
    """
    get_shop(db, shop_id)
    user = _merchant_without_shop(db, user_id, field="user_id")
    return _insert_staff(db, shop_id, user.id, role, field="user_id")


def add_staff(db: Session, shop_id: int, *, user_id: int, role: StaffRole, commit: bool = True) -> ShopStaff:
    """:func:`attach_staff`, committed unless ``commit=False``."""
    staff = attach_staff(db, shop_id=shop_id, user_id=user_id, role=role)
    if commit:
        db.commit()
    return staff


def add_staff_by_email(db: Session, shop_id: int, *, email: str, role: StaffRole) -> tuple[ShopStaff, User]:
    """An owner adds a colleague by email; the colleague's merchant account must already exist."""
    get_shop(db, shop_id)
    user = users_service.get_by_email(db, email)
    if user is None:
        raise NotFound("no user has this email", code="user_not_found", field="email")
    _check_can_join(db, user, field="email")
    staff = _insert_staff(db, shop_id, user.id, role, field="email")
    db.commit()
    return staff, user


def change_staff_role(db: Session, shop_id: int, staff_id: int, role: StaffRole) -> tuple[ShopStaff, User]:
    """Give a staff member another role. Demoting the shop's last owner is refused (``last_owner``)."""
    _lock_shop(db, shop_id)
    staff = _get_staff(db, shop_id, staff_id)
    if staff.role is StaffRole.owner and role is not StaffRole.owner and _owner_count(db, shop_id) <= 1:
        db.rollback()
        raise Conflict("a shop must keep at least one owner", code="last_owner", field="role")
    staff.role = role
    db.commit()
    return staff, users_service.get_user(db, staff.user_id)


def remove_staff(db: Session, shop_id: int, staff_id: int) -> None:
    """Take a staff member off the shop (their user account stays). The last owner cannot go."""
    _lock_shop(db, shop_id)
    staff = _get_staff(db, shop_id, staff_id)
    if staff.role is StaffRole.owner and _owner_count(db, shop_id) <= 1:
        db.rollback()
        raise Conflict("a shop must keep at least one owner", code="last_owner")
    db.delete(staff)
    db.commit()


def shops_created_after(db: Session, after_id: int) -> list[Shop]:
    """Shops with an id above ``after_id``, by id: the new shops since a reader last looked (ids only
    grow, so this is one primary-key range probe; the search index polls it every second)."""
    return list(db.scalars(select(Shop).where(Shop.id > after_id).order_by(Shop.id)))
