"""The shopper's cart: one per user, one line per SKU.

* Adding a SKU already in the cart adds to its quantity; a line holds at most
  :data:`MAX_LINE_QUANTITY` units and a cart at most :data:`MAX_CART_LINES` lines.
* Attribution is last touch: an add that carries attribution replaces the line's; an add without
  it keeps what the line had (it brings no new information about where the buyer came from).
* Nothing is reserved by the cart; stock is taken at checkout.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.campaigns import reservations
from zhongcao.catalog import lookup
from zhongcao.commerce.models import Cart, CartItem, Channel
from zhongcao.commerce.schemas import MAX_LINE_QUANTITY, AttributionIn
from zhongcao.content import attribution as attribution_rules
from zhongcao.errors import Conflict, InvalidInput, NotFound

MAX_CART_LINES = 100


def _cart_for(db: Session, user_id: int, *, create: bool) -> Cart | None:
    cart = db.scalar(select(Cart).where(Cart.user_id == user_id))
    if cart is not None or not create:
        return cart
    try:
        with db.begin_nested():
            cart = Cart(user_id=user_id)
            db.add(cart)
    except IntegrityError:  # a concurrent first add created it
        cart = db.scalar(select(Cart).where(Cart.user_id == user_id))
        assert cart is not None
    return cart


def cart_items(db: Session, user_id: int) -> list[CartItem]:
    cart = _cart_for(db, user_id, create=False)
    if cart is None:
        return []
    return list(db.scalars(select(CartItem).where(CartItem.cart_id == cart.id).order_by(CartItem.id)))


def _get_item(db: Session, user_id: int, item_id: int, *, lock: bool = False) -> CartItem:
    stmt = (
        select(CartItem)
        .join(Cart, Cart.id == CartItem.cart_id)
        .where(CartItem.id == item_id, Cart.user_id == user_id)
    )
    if lock:
        stmt = stmt.with_for_update(of=CartItem).execution_options(populate_existing=True)
    item = db.scalar(stmt)
    if item is None:
        raise NotFound("cart item not found", code="cart_item_not_found")
    return item


def _set_attribution(db: Session, item: CartItem, product_id: int, given: AttributionIn) -> None:
    resolved = attribution_rules.resolve(
        db,
        product_id=product_id,
        channel=given.channel,
        content_id=given.content_id,
        account_id=given.account_id,
    )
    if given.campaign_id is not None and (
        reservations.campaign_for_product(db, given.campaign_id, product_id, clock.now()) is None
    ):
        raise InvalidInput(
            "the campaign is not running for this product",
            code="invalid_attribution",
            field="attribution.campaign_id",
        )
    item.channel = resolved.channel
    item.content_id = resolved.content_id
    item.account_id = resolved.account_id
    item.campaign_id = given.campaign_id


def _check_quantity(info: lookup.SkuInfo, quantity: int) -> None:
    if quantity > MAX_LINE_QUANTITY:
        raise InvalidInput(
            f"a cart line holds at most {MAX_LINE_QUANTITY} units",
            code="quantity_limit",
            field="quantity",
            details={"max": MAX_LINE_QUANTITY},
        )
    if quantity > info.stock:
        raise Conflict(
            "not enough stock for this quantity",
            code="insufficient_stock",
            field="quantity",
            details={"sku_id": info.sku_id, "available": info.stock},
        )


def _add(
    db: Session, user_id: int, sku_id: int, quantity: int, attribution: AttributionIn | None
) -> CartItem:
    info = lookup.sku_for_sale(db, sku_id)
    cart = _cart_for(db, user_id, create=True)
    assert cart is not None
    item = db.scalar(
        select(CartItem)
        .where(CartItem.cart_id == cart.id, CartItem.sku_id == sku_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if item is None:
        lines = db.scalars(
            select(func.count()).select_from(CartItem).where(CartItem.cart_id == cart.id)
        ).one()
        if lines >= MAX_CART_LINES:
            raise Conflict(
                f"a cart holds at most {MAX_CART_LINES} lines",
                code="cart_full",
                details={"max": MAX_CART_LINES},
            )
        _check_quantity(info, quantity)
        item = CartItem(cart_id=cart.id, sku_id=sku_id, quantity=quantity, channel=Channel.other)
        if attribution is not None:
            _set_attribution(db, item, info.product_id, attribution)
        try:
            with db.begin_nested():
                db.add(item)
            return item
        except IntegrityError:  # the same SKU was added concurrently: add to that line instead
            if item in db:
                db.expunge(item)
            item = db.scalar(
                select(CartItem)
                .where(CartItem.cart_id == cart.id, CartItem.sku_id == sku_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            assert item is not None
    _check_quantity(info, item.quantity + quantity)
    item.quantity += quantity
    if attribution is not None:
        _set_attribution(db, item, info.product_id, attribution)
    db.flush()
    return item


def add_to_cart(
    db: Session, user_id: int, *, sku_id: int, quantity: int, attribution: AttributionIn | None = None
) -> CartItem:
    """Put ``quantity`` units of a SKU in the cart (adding to the line if it is there)."""
    if quantity <= 0:
        raise InvalidInput("quantity must be positive", code="invalid_quantity", field="quantity")
    try:
        item = _add(db, user_id, sku_id, quantity, attribution)
    except BaseException:
        db.rollback()
        raise
    db.commit()
    return item


def update_cart_item(db: Session, user_id: int, item_id: int, *, quantity: int) -> CartItem:
    if quantity <= 0:
        raise InvalidInput("quantity must be positive", code="invalid_quantity", field="quantity")
    try:
        item = _get_item(db, user_id, item_id, lock=True)
        info = lookup.skus_by_ids(db, [item.sku_id])[item.sku_id]
        _check_quantity(info, quantity)
        item.quantity = quantity
        db.flush()
    except BaseException:
        db.rollback()
        raise
    db.commit()
    return item


def remove_cart_item(db: Session, user_id: int, item_id: int) -> None:
    try:
        item = _get_item(db, user_id, item_id)
        db.delete(item)
        db.flush()
    except BaseException:
        db.rollback()
        raise
    db.commit()


def remove_skus(db: Session, user_id: int, sku_ids: list[int]) -> None:
    """Drop the lines of these SKUs (they were just checked out). Flushes; the caller commits."""
    cart = _cart_for(db, user_id, create=False)
    if cart is None or not sku_ids:
        return
    for item in db.scalars(select(CartItem).where(CartItem.cart_id == cart.id, CartItem.sku_id.in_(sku_ids))):
        db.delete(item)
    db.flush()
