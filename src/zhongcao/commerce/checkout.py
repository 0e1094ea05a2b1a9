"""Checkout: price a basket into one order per shop, hold what it needs, take one payment.

Placing a checkout (all in one transaction; any refusal rolls all of it back):

1. every line is checked: the SKU exists (404 ``sku_not_found``) and is on sale (409
   ``not_for_sale``); its attribution is checked and completed (``content.attribution``);
2. lines are grouped into one order per shop; coupons are checked (422 ``coupon_not_applicable``);
3. stock is reserved line by line with ``catalog.stock.try_reserve`` in SKU id order (so
   concurrent checkouts lock rows in the same order); a shortfall is 409 ``insufficient_stock``;
4. money, in this order (see docs/money.md):

   a. the shop coupon of each order, spread over its lines by line total;
   b. the campaign subsidy of each line, ``subsidy_per_item × quantity`` capped at what is left of
      the line, reserved from the campaign budget (one conditional UPDATE; if it does not fit
      the line gets no subsidy);
   c. the platform coupon, spread over the orders by item total and within an order over its
      lines by line total, never more than what is left to pay on a line;
   d. shipping per order, the platform fee and the affiliate commission per line;

5. coupons are reserved for the checkout; the checkout expires after
   ``settings.payment_timeout_minutes``.

Paying captures one payment for all orders of the checkout, marks them paid, freezes each item's
attribution, counts the units as sold and spends the coupons. An unpaid checkout is cancelled as a
whole (by the buyer, or when it expires), which gives back stock, coupons and campaign budget.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from zhongcao import clock, signals
from zhongcao.affiliate import resolution
from zhongcao.campaigns import reservations
from zhongcao.campaigns.models import CouponFunder
from zhongcao.catalog import lookup, stock
from zhongcao.commerce import cart as cart_service
from zhongcao.commerce import states, tx
from zhongcao.commerce.locking import cancel_unpaid as cancel_unpaid  # re-exported, as below
from zhongcao.commerce.locking import expire_unpaid_checkouts as expire_unpaid_checkouts
from zhongcao.commerce.locking import get_checkout_for_buyer as get_checkout_for_buyer
from zhongcao.commerce.locking import items_of as items_of
from zhongcao.commerce.locking import lock_checkout as lock_checkout
from zhongcao.commerce.locking import locked_orders as locked_orders
from zhongcao.commerce.locking import payments_of as payments_of
from zhongcao.commerce.locking import release_items as release_items
from zhongcao.commerce.models import (
    Channel,
    Checkout,
    CheckoutStatus,
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentStatus,
)
from zhongcao.commerce.payments import ProviderRejected, ProviderUnavailable, get_provider
from zhongcao.commerce.schemas import AttributionIn, CheckoutCreate
from zhongcao.config import Settings, get_settings
from zhongcao.content import attribution as attribution_rules
from zhongcao.errors import Conflict, InvalidInput, NotFound
from zhongcao.events import purchases
from zhongcao.money import allocate_capped as allocate_capped  # re-exported: its home was here
from zhongcao.money import apply_bps
from zhongcao.realtime.outbox import publish_after_commit
from zhongcao.realtime.service import live_channel
from zhongcao.shops import service as shops_service
from zhongcao.users import addresses

if TYPE_CHECKING:
    from zhongcao.shops.models import Shop


# --- pricing -------------------------------------------------------------------------------------


@dataclass
class _LineSpec:
    field: str  # where the line is in the request, e.g. "items[2]"
    sku_id: int
    quantity: int
    attribution: AttributionIn | None
    # Cart lines were checked when added; what no longer holds (a campaign that ended, an anchor
    # taken down) is dropped at checkout instead of failing it.
    from_cart: bool = False


@dataclass
class _Line:
    spec: _LineSpec
    info: lookup.SkuInfo
    attribution: attribution_rules.ResolvedAttribution
    offer: reservations.CampaignOffer | None
    fee_bps: int
    terms: resolution.CommissionTerms
    shop_discount: int = 0
    campaign_subsidy: int = 0
    platform_discount: int = 0

    @property
    def line_total(self) -> int:
        return self.info.price_fen * self.spec.quantity

    @property
    def left_to_pay(self) -> int:
        return self.line_total - self.shop_discount - self.campaign_subsidy - self.platform_discount

    @property
    def fee_base(self) -> int:
        """Platform fee and commission are charged on what the goods sold for after the shop's
        own discount; platform-funded discounts do not lower them."""
        return self.line_total - self.shop_discount


@dataclass
class _ShopOrder:
    shop: Shop
    lines: list[_Line] = field(default_factory=list)
    shop_coupon: reservations.UserCouponInfo | None = None
    platform_coupon_share: int = 0

    @property
    def item_total(self) -> int:
        return sum(line.line_total for line in self.lines)

    @property
    def left_to_pay(self) -> int:
        return sum(line.left_to_pay for line in self.lines)


def _line_specs(db: Session, user_id: int, request: CheckoutCreate) -> list[_LineSpec]:
    if request.from_cart and request.items:
        raise InvalidInput(
            "send either items or from_cart, not both", code="items_or_cart", field="from_cart"
        )
    if request.from_cart:
        rows = cart_service.cart_items(db, user_id)
        if not rows:
            raise InvalidInput("the cart is empty", code="cart_empty", field="from_cart")
        return [
            _LineSpec(
                field=f"items[{i}]",
                sku_id=row.sku_id,
                quantity=row.quantity,
                attribution=AttributionIn(
                    channel=row.channel,
                    content_id=row.content_id,
                    account_id=row.account_id,
                    campaign_id=row.campaign_id,
                ),
                from_cart=True,
            )
            for i, row in enumerate(rows)
        ]
    if not request.items:
        raise InvalidInput("items is required unless from_cart is true", code="items_required", field="items")
    specs = [
        _LineSpec(field=f"items[{i}]", sku_id=it.sku_id, quantity=it.quantity, attribution=it.attribution)
        for i, it in enumerate(request.items)
    ]
    seen: set[int] = set()
    for spec in specs:
        if spec.quantity <= 0:
            raise InvalidInput(
                "quantity must be positive", code="invalid_quantity", field=f"{spec.field}.quantity"
            )
        if spec.sku_id in seen:
            raise InvalidInput(
                "each SKU may appear once; add up the quantities",
                code="duplicate_sku",
                field=f"{spec.field}.sku_id",
                details={"sku_id": spec.sku_id},
            )
        seen.add(spec.sku_id)
    return specs


def _resolve_lines(db: Session, specs: list[_LineSpec], settings: Settings, now: datetime) -> list[_Line]:
    infos = lookup.skus_by_ids(db, [s.sku_id for s in specs])
    for spec in specs:
        info = infos.get(spec.sku_id)
        if info is None:
            raise NotFound(
                "no such SKU",
                code="sku_not_found",
                field=f"{spec.field}.sku_id",
                details={"sku_id": spec.sku_id},
            )
        lookup.ensure_for_sale(info, field=f"{spec.field}.sku_id")
    fee_rates = lookup.platform_fee_bps_by_category(db, [i.category_id for i in infos.values()], settings)
    lines = []
    for spec in specs:
        info = infos[spec.sku_id]
        given = spec.attribution
        resolved = attribution_rules.NO_ATTRIBUTION
        if given is not None:
            try:
                resolved = attribution_rules.resolve(
                    db,
                    product_id=info.product_id,
                    channel=given.channel,
                    content_id=given.content_id,
                    account_id=given.account_id,
                    field_prefix=f"{spec.field}.attribution",
                )
            except InvalidInput:
                if not spec.from_cart:
                    raise
                resolved = replace(attribution_rules.NO_ATTRIBUTION, channel=given.channel)
        offer = None
        if given is not None and given.campaign_id is not None:
            offer = reservations.campaign_for_product(db, given.campaign_id, info.product_id, now)
            if offer is None and not spec.from_cart:
                raise InvalidInput(
                    "the campaign is not running for this product",
                    code="invalid_attribution",
                    field=f"{spec.field}.attribution.campaign_id",
                )
        if offer is None:
            offer = reservations.best_campaign_for_product(db, info.product_id, now)
        lines.append(
            _Line(
                spec=spec,
                info=info,
                attribution=resolved,
                offer=offer,
                fee_bps=fee_rates[info.category_id],
                terms=resolution.terms_for(
                    db, product_id=info.product_id, creator_account_id=resolved.creator_account_id
                ),
            )
        )
    return lines


def _group_by_shop(db: Session, lines: list[_Line]) -> list[_ShopOrder]:
    shops = shops_service.shops_by_ids(db, [line.info.shop_id for line in lines])
    groups: dict[int, _ShopOrder] = {}
    for line in lines:
        shop_id = line.info.shop_id
        if shop_id not in groups:
            groups[shop_id] = _ShopOrder(shop=shops[shop_id])
        groups[shop_id].lines.append(line)
    return [groups[k] for k in sorted(groups)]


def _coupon_error(field_name: str, reason: str, message: str) -> InvalidInput:
    return InvalidInput(message, code="coupon_not_applicable", field=field_name, details={"reason": reason})


def _check_coupons(
    db: Session, user_id: int, request: CheckoutCreate, orders: list[_ShopOrder], now: datetime
) -> reservations.UserCouponInfo | None:
    """Attach each shop coupon to its order; return the platform coupon. Nothing is written."""
    wanted = list(request.shop_coupon_ids)
    if request.platform_coupon_id is not None:
        wanted.append(request.platform_coupon_id)
    mine = reservations.user_coupons(db, user_id, wanted)
    by_shop = {o.shop.id: o for o in orders}
    seen: set[int] = set()
    for i, uc_id in enumerate(request.shop_coupon_ids):
        where = f"shop_coupon_ids[{i}]"
        info = mine.get(uc_id)
        if info is None:
            raise _coupon_error(where, "not_found", "no such coupon among yours")
        if uc_id in seen or uc_id == request.platform_coupon_id:
            raise _coupon_error(where, "duplicate", "a coupon can be used once")
        seen.add(uc_id)
        if info.funded_by is not CouponFunder.shop:
            raise _coupon_error(where, "not_a_shop_coupon", "this is not a shop coupon")
        if not info.usable_at(now):
            raise _coupon_error(
                where, "not_usable", "this coupon is used, held by another checkout, or not valid now"
            )
        order = by_shop.get(info.shop_id or 0)
        if order is None:
            raise _coupon_error(
                where, "shop_not_in_checkout", "nothing from this coupon's shop is being bought"
            )
        if order.shop_coupon is not None:
            raise _coupon_error(where, "one_per_shop", "one shop coupon per order")
        if order.item_total < info.threshold_fen:
            raise _coupon_error(where, "below_threshold", "the order does not reach this coupon's threshold")
        order.shop_coupon = info
    if request.platform_coupon_id is None:
        return None
    where = "platform_coupon_id"
    info = mine.get(request.platform_coupon_id)
    if info is None:
        raise _coupon_error(where, "not_found", "no such coupon among yours")
    if info.funded_by is not CouponFunder.platform:
        raise _coupon_error(where, "not_a_platform_coupon", "this is not a platform coupon")
    if not info.usable_at(now):
        raise _coupon_error(
            where, "not_usable", "this coupon is used, held by another checkout, or not valid now"
        )
    if sum(o.item_total for o in orders) < info.threshold_fen:
        raise _coupon_error(where, "below_threshold", "the checkout does not reach this coupon's threshold")
    return info


def _reserve_stock(db: Session, lines: list[_Line]) -> None:
    for line in sorted(lines, key=lambda ln: ln.info.sku_id):
        if not stock.try_reserve(db, line.info.sku_id, line.spec.quantity):
            raise Conflict(
                "not enough stock",
                code="insufficient_stock",
                field=f"{line.spec.field}.quantity",
                details={"sku_id": line.info.sku_id, "requested": line.spec.quantity},
            )


def _apply_shop_coupons(orders: list[_ShopOrder]) -> None:
    for order in orders:
        if order.shop_coupon is None:
            continue
        amount = min(order.shop_coupon.discount_on(order.item_total), order.left_to_pay)
        parts = allocate_capped(
            amount, [ln.line_total for ln in order.lines], [ln.left_to_pay for ln in order.lines]
        )
        for line, part in zip(order.lines, parts, strict=True):
            line.shop_discount += part


MemberRates = Callable[[Sequence[int]], dict[int, int]]


def _apply_member_prices(orders: list[_ShopOrder], rates: dict[int, int]) -> None:
    """A member's discount in a shop (basis points of the goods, rounded down), shop-funded like a
    shop coupon and taken after it: it lowers the lines' ``shop_discount`` (so the fee base too)."""
    for order in orders:
        bps = rates.get(order.shop.id, 0)
        amount = min(order.item_total * bps // 10_000, order.left_to_pay)
        if amount <= 0:
            continue
        parts = allocate_capped(
            amount, [ln.line_total for ln in order.lines], [ln.left_to_pay for ln in order.lines]
        )
        for line, part in zip(order.lines, parts, strict=True):
            line.shop_discount += part


def _reserve_subsidies(db: Session, lines: list[_Line]) -> None:
    # In campaign id order, so concurrent checkouts lock campaign rows in the same order.
    wanted = [(ln, ln.offer) for ln in lines if ln.offer is not None and ln.offer.subsidy_per_item_fen > 0]
    for line, offer in sorted(wanted, key=lambda pair: (pair[1].campaign_id, pair[0].info.sku_id)):
        amount = min(offer.subsidy_per_item_fen * line.spec.quantity, line.left_to_pay)
        if amount > 0 and reservations.reserve_budget(db, offer.campaign_id, amount):
            line.campaign_subsidy = amount


def _apply_platform_coupon(orders: list[_ShopOrder], coupon: reservations.UserCouponInfo | None) -> None:
    if coupon is None:
        return
    amount = min(coupon.discount_on(sum(o.item_total for o in orders)), sum(o.left_to_pay for o in orders))
    if amount <= 0:
        raise _coupon_error("platform_coupon_id", "nothing_to_discount", "nothing is left to pay to discount")
    shares = allocate_capped(amount, [o.item_total for o in orders], [o.left_to_pay for o in orders])
    for order, share in zip(orders, shares, strict=True):
        order.platform_coupon_share = share
        parts = allocate_capped(
            share, [ln.line_total for ln in order.lines], [ln.left_to_pay for ln in order.lines]
        )
        for line, part in zip(order.lines, parts, strict=True):
            line.platform_discount += part


def _shipping_fen(order: _ShopOrder) -> int:
    shop = order.shop
    if shop.free_shipping_threshold_fen > 0 and order.item_total >= shop.free_shipping_threshold_fen:
        return 0
    return shop.shipping_fee_fen


def _order_item(line: _Line) -> OrderItem:
    info = line.info
    base = line.fee_base
    fee = apply_bps(base, line.fee_bps)
    # The shop never pays out more than the goods earned it: commission is capped at what the
    # platform fee leaves of the fee base (only reachable with fee + commission rates over 100%).
    commission = min(apply_bps(base, line.terms.commission_bps), base - fee)
    campaign_id = line.offer.campaign_id if line.offer is not None else None
    return OrderItem(
        shop_id=info.shop_id,
        product_id=info.product_id,
        sku_id=info.sku_id,
        title_zh=info.title_zh,
        title_en=info.title_en,
        sku_attributes=dict(info.attributes),
        unit_price_fen=info.price_fen,
        quantity=line.spec.quantity,
        line_total_fen=line.line_total,
        shop_discount_fen=line.shop_discount,
        platform_discount_fen=line.platform_discount,
        campaign_subsidy_fen=line.campaign_subsidy,
        paid_fen=line.left_to_pay,
        platform_fee_bps=line.fee_bps,
        platform_fee_fen=fee,
        affiliate_plan_id=line.terms.plan_id,
        commission_bps=line.terms.commission_bps,
        commission_fen=commission,
        carrier=attribution_rules.carrier_for(
            line.attribution, shop_id=info.shop_id, campaign_applied=campaign_id is not None
        ),
        channel=line.attribution.channel,
        content_id=line.attribution.content_id,
        account_id=line.attribution.account_id,
        campaign_id=campaign_id,
    )


def _build_order(checkout: Checkout, user_id: int, shop_order: _ShopOrder, address: dict[str, str]) -> Order:
    items = [_order_item(line) for line in shop_order.lines]
    item_total = sum(i.line_total_fen for i in items)
    shop_discount = sum(i.shop_discount_fen for i in items)
    platform_discount = sum(i.platform_discount_fen for i in items)
    subsidy = sum(i.campaign_subsidy_fen for i in items)
    shipping = _shipping_fen(shop_order)
    paid = item_total - shop_discount - platform_discount - subsidy + shipping
    fee = sum(i.platform_fee_fen for i in items)
    commission = sum(i.commission_fen for i in items)
    return Order(
        checkout=checkout,
        user_id=user_id,
        shop_id=shop_order.shop.id,
        status=OrderStatus.created,
        item_total_fen=item_total,
        shop_discount_fen=shop_discount,
        platform_discount_fen=platform_discount,
        campaign_subsidy_fen=subsidy,
        shipping_fen=shipping,
        paid_fen=paid,
        platform_fee_fen=fee,
        commission_fen=commission,
        shop_settlement_fen=paid + platform_discount + subsidy - fee - commission,
        shipping_address=address,
        shop_coupon_id=shop_order.shop_coupon.user_coupon_id if shop_order.shop_coupon else None,
        items=items,
    )


def _shipping_address(db: Session, user_id: int, request: CheckoutCreate) -> dict[str, str]:
    """What the orders ship to: the address typed in, or the buyer's saved address ``address_id``
    as names (the order keeps them if the saved address is later edited or deleted)."""
    if request.address_id is not None and request.shipping_address is not None:
        raise InvalidInput(
            "send either shipping_address or address_id, not both",
            code="address_or_saved_address",
            field="address_id",
        )
    if request.shipping_address is not None:
        return request.shipping_address.model_dump()
    if request.address_id is None:
        raise InvalidInput(
            "shipping_address or address_id is required", code="address_required", field="shipping_address"
        )
    return addresses.shipping_address(db, user_id, request.address_id)


def _place(
    db: Session,
    user_id: int,
    request: CheckoutCreate,
    settings: Settings,
    now: datetime,
    member_rates: MemberRates | None = None,
) -> Checkout:
    specs = _line_specs(db, user_id, request)
    lines = _resolve_lines(db, specs, settings, now)
    orders = _group_by_shop(db, lines)
    platform_coupon = _check_coupons(db, user_id, request, orders, now)

    _reserve_stock(db, lines)
    _apply_shop_coupons(orders)
    if member_rates is not None:
        _apply_member_prices(orders, member_rates([o.shop.id for o in orders]))
    _reserve_subsidies(db, lines)
    _apply_platform_coupon(orders, platform_coupon)

    checkout = Checkout(
        user_id=user_id,
        status=CheckoutStatus.pending_payment,
        total_fen=0,
        expires_at=now + timedelta(minutes=settings.payment_timeout_minutes),
        created_at=now,
    )
    address = _shipping_address(db, user_id, request)
    built = [_build_order(checkout, user_id, o, address) for o in orders]
    for order, shop_order in zip(built, orders, strict=True):
        order.created_at = now
        if platform_coupon is not None and shop_order.platform_coupon_share > 0:
            order.platform_coupon_id = platform_coupon.user_coupon_id
    checkout.total_fen = sum(o.paid_fen for o in built)
    db.add(checkout)
    db.add_all(built)
    db.flush()

    held = [(f"shop_coupon_ids[{i}]", uc) for i, uc in enumerate(request.shop_coupon_ids)]
    if platform_coupon is not None:
        held.append(("platform_coupon_id", platform_coupon.user_coupon_id))
    for where, uc_id in held:
        if not reservations.reserve_coupon(
            db, user_coupon_id=uc_id, user_id=user_id, checkout_id=checkout.id
        ):
            raise _coupon_error(where, "not_usable", "this coupon was just used by another checkout")
    if request.from_cart:
        cart_service.remove_skus(db, user_id, [s.sku_id for s in specs])
    db.flush()
    return checkout


def place_checkout(
    db: Session,
    user_id: int,
    request: CheckoutCreate,
    *,
    settings: Settings | None = None,
    commit: bool = True,
    member_rates: MemberRates | None = None,
) -> Checkout:
    """Create a checkout and its orders (one per shop), holding stock, budget and coupons.
    ``member_rates(shop_ids)`` says in which shops the buyer is a member and at what discount (bps):
    the workflow layer reads memberships (``flows.member_rates``); commerce does not.

    With ``commit=False`` the work is only flushed (the idempotency layer commits it together
    with the stored response)."""
    settings = settings or get_settings()
    return tx.run(db, commit, lambda: _place(db, user_id, request, settings, clock.now(), member_rates))


# --- paying --------------------------------------------------------------------------------------


def provider_key(purpose: str, object_id: int, client_key: str) -> str:
    """A provider idempotency key bound to our object and the client's key (bounded length)."""
    digest = hashlib.sha256(client_key.encode()).hexdigest()[:48]
    return f"{purpose}:{object_id}:{digest}"


def _pay(
    db: Session,
    user_id: int,
    checkout_id: int,
    payment_method: str,
    client_key: str,
    now: datetime,
    device_key: int | None,
) -> Checkout:
    checkout = lock_checkout(db, checkout_id, user_id)
    if checkout.status is not CheckoutStatus.pending_payment:
        raise Conflict(
            f"this checkout is {checkout.status.value} and cannot be paid",
            code="checkout_not_payable",
            details={"status": checkout.status.value},
        )
    if now >= checkout.expires_at:
        cancel_unpaid(db, checkout, now, "payment_timeout")
        raise tx.CheckoutExpired(
            "the time to pay ran out; the checkout has been cancelled",
            code="checkout_expired",
            details={"expires_at": checkout.expires_at.isoformat()},
        )
    provider = get_provider()
    try:
        auth = provider.authorize(
            db,
            amount_fen=checkout.total_fen,
            payment_method=payment_method,
            idempotency_key=provider_key("pay", checkout.id, client_key),
        )
    except ProviderUnavailable as exc:
        raise tx.ServiceUnavailable(
            "the payment provider is unavailable; nothing was charged, try again",
            code="payment_provider_unavailable",
        ) from exc
    # A Payment may already name this authorisation only when the provider replayed it.
    payment = None if auth.fresh else db.scalar(select(Payment).where(Payment.provider_ref == auth.ref))
    if payment is None:
        # Added to the session once its status is known: one INSERT instead of an INSERT and an UPDATE.
        payment = Payment(
            checkout_id=checkout.id,
            user_id=user_id,
            amount_fen=checkout.total_fen,
            status=PaymentStatus.authorized if auth.approved else PaymentStatus.failed,
            provider=provider.name,
            provider_ref=auth.ref,
            failure_code=auth.decline_code,
            created_at=now,
            device_key=device_key,
        )
    if not auth.approved:
        db.add(payment)
        db.flush()
        raise tx.PaymentDeclined(
            "the payment was declined",
            code="payment_failed",
            details={"decline_code": auth.decline_code, "payment_id": payment.id},
        )
    try:
        provider.capture(db, ref=auth.ref, amount_fen=checkout.total_fen)
    except ProviderUnavailable as exc:
        raise tx.ServiceUnavailable(
            "the payment provider is unavailable; try again", code="payment_provider_unavailable"
        ) from exc
    except ProviderRejected as exc:
        provider.void(db, ref=auth.ref)
        payment.status = PaymentStatus.failed
        payment.failure_code = exc.code
        db.add(payment)
        db.flush()
        raise tx.PaymentDeclined(
            "the payment could not be captured",
            code="payment_failed",
            details={"decline_code": exc.code, "payment_id": payment.id},
        ) from exc
    payment.status = PaymentStatus.captured
    payment.captured_at = now
    db.add(payment)
    checkout.status = CheckoutStatus.paid
    checkout.paid_at = now
    orders = locked_orders(db, checkout.id)
    for order in orders:
        states.move(order, OrderStatus.paid, now)
    items = items_of(db, [o.id for o in orders])
    for item in items:
        item.attribution_frozen_at = now
    for item in sorted(items, key=lambda i: (i.sku_id, i.id)):
        stock.record_sale(db, item.sku_id, item.quantity)
    _attach(checkout, orders, items)
    if any(o.shop_coupon_id is not None or o.platform_coupon_id is not None for o in orders):
        # Only a checkout placed with coupons holds any (place_checkout names them on its orders).
        reservations.use_checkout_coupons(db, checkout.id, now)
    db.flush()
    _announce_live_sales(db, items)
    for order in orders:  # the shop's staff hear of it (flows: notifications), committed with the payment
        signals.emit(
            db,
            "order_paid",
            order_id=order.id,
            shop_id=order.shop_id,
            user_id=order.user_id,
            paid_fen=order.paid_fen,
        )
    purchases.record_after_commit(
        db,
        [
            purchases.Purchase(
                event_id=f"order:{item.id}",
                ts=now,
                user_id=checkout.user_id,
                product_id=item.product_id,
                shop_id=item.shop_id,
                value_fen=item.paid_fen,
                content_id=item.content_id,
                channel=item.channel.value,
            )
            for item in items
        ],
    )
    return checkout


def _attach(checkout: Checkout, orders: Sequence[Order], items: Sequence[OrderItem]) -> None:
    """Give the checkout its orders and each order its items as just read under lock, so that whoever
    presents them (the API's answer) does not read them again."""
    by_order: dict[int, list[OrderItem]] = defaultdict(list)
    for item in items:
        by_order[item.order_id].append(item)
    for order in orders:
        set_committed_value(order, "items", by_order[order.id])
    set_committed_value(checkout, "orders", list(orders))


def _announce_live_sales(db: Session, items: Sequence[OrderItem]) -> None:
    """Tell the live rooms these paid lines are attributed to (their tickers), once the payment commits."""
    by_room: dict[int, list[int]] = defaultdict(list)
    for item in items:
        if item.content_id is not None and item.channel == Channel.live:
            by_room[item.content_id].append(item.id)
    for content_id, item_ids in by_room.items():
        publish_after_commit(db, live_channel(content_id), {"type": "sale", "item_ids": sorted(item_ids)})


def pay_checkout(
    db: Session,
    user_id: int,
    checkout_id: int,
    *,
    payment_method: str,
    client_key: str,
    device_key: int | None = None,
    commit: bool = True,
) -> Checkout:
    """Charge the checkout's total and mark its orders paid.

    ``client_key`` is the client's Idempotency-Key; the provider's key is derived from it and the
    checkout id, so a retried request can never charge twice. Declines (402) keep a failed
    Payment row and leave the checkout payable; an expired checkout is cancelled (409).
    ``device_key``: the hash of the device paying (:func:`zhongcao.devices.device_key`), kept on the
    payment for integrity's order detectors."""
    return tx.run(
        db,
        commit,
        lambda: _pay(db, user_id, checkout_id, payment_method, client_key, clock.now(), device_key),
    )
