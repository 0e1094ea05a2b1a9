"""The cart, checkout and payment.

Checkout shows the coupons the shopper holds that apply (a shop coupon per shop, one platform coupon
for everything) and preselects the one that takes the most off; the shopper may pick another or none.
The amounts shown are what ``commerce.checkout`` will take off (the same ``discount_on`` rule), before
campaign subsidies, which the payment page then shows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from zhongcao import flows
from zhongcao.campaigns import coupons as coupons_service
from zhongcao.catalog import lookup
from zhongcao.commerce import cart as cart_service
from zhongcao.commerce import checkout as checkout_service
from zhongcao.commerce import idempotency
from zhongcao.commerce.schemas import CheckoutCreate, CheckoutLineIn, ShippingAddress
from zhongcao.deps import client_address
from zhongcao.devices import device_key
from zhongcao.errors import DomainError, InvalidInput
from zhongcao.fields import MAX_ID
from zhongcao.request_limits import buy_limits_for
from zhongcao.shops import service as shops_service
from zhongcao.users import addresses as address_service
from zhongcao.users.schemas import AddressIn
from zhongcao.warehouse import service as warehouse_service
from zhongcao.web.context import FormData, ShopperPage
from zhongcao.web.forms import Form, error_message
from zhongcao.web.shopper.addresses import picker, read_picker
from zhongcao.web.shopper.common import (
    ADDRESS_FIELDS,
    MAX_QUANTITY,
    PAYMENT_METHODS,
    IdPath,
    ProductTile,
    checked_attribution,
    parse_source,
)

router = APIRouter()


# --- the cart ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    item_id: int | None
    sku_id: int
    product_id: int
    shop_id: int
    title_zh: str
    title_en: str
    attributes: dict[str, Any]
    unit_price_fen: int
    quantity: int
    available: bool

    @property
    def total_fen(self) -> int:
        return self.unit_price_fen * self.quantity

    @property
    def tile(self) -> ProductTile:
        return ProductTile(self.product_id, self.title_zh, self.title_en, self.unit_price_fen)


def _cart_lines(page: Any) -> list[Line]:
    items = cart_service.cart_items(page.db, page.user.id)
    infos = lookup.skus_by_ids(page.db, [i.sku_id for i in items])
    lines = []
    for item in items:
        info = infos.get(item.sku_id)
        if info is None:
            continue
        lines.append(
            Line(
                item_id=item.id,
                sku_id=item.sku_id,
                product_id=info.product_id,
                shop_id=info.shop_id,
                title_zh=info.title_zh,
                title_en=info.title_en,
                attributes=info.attributes,
                unit_price_fen=info.price_fen,
                quantity=item.quantity,
                available=info.for_sale and info.stock >= item.quantity,
            )
        )
    return lines


@dataclass(frozen=True)
class ShopGroup:
    """The cart's lines of one shop (checkout places one order per shop)."""

    shop_id: int
    shop: Any
    lines: list[Line]

    @property
    def subtotal_fen(self) -> int:
        return sum(line.total_fen for line in self.lines if line.available)


def _by_shop(page: Any, lines: list[Line]) -> list[ShopGroup]:
    """The lines grouped by shop, shops in the order their first line was added."""
    shops = shops_service.shops_by_ids(page.db, {line.shop_id for line in lines})
    groups: dict[int, list[Line]] = {}
    for line in lines:
        groups.setdefault(line.shop_id, []).append(line)
    return [ShopGroup(shop_id, shops.get(shop_id), members) for shop_id, members in groups.items()]


def _render_cart(page: Any, error: tuple[int, str] | None = None, status_code: int = 200) -> Response:
    lines = _cart_lines(page)
    return page.render(
        "shopper/cart.html",
        status_code=status_code,
        lines=lines,
        groups=_by_shop(page, lines),
        total_fen=sum(line.total_fen for line in lines if line.available),
        can_check_out=any(line.available for line in lines),
        error=error,
    )


@router.get("/cart")
def cart(page: ShopperPage) -> Response:
    return _render_cart(page)


@router.post("/cart/items/{item_id}")
def cart_update(page: ShopperPage, item_id: IdPath, data: FormData) -> Response:
    assert page.user is not None
    try:
        if data.get("action") == "remove":
            cart_service.remove_cart_item(page.db, page.user.id, item_id)
            return page.redirect("/cart", flash="cart.removed")
        form = Form(data, page.t)
        quantity = form.integer("quantity", required=True, minimum=1, maximum=MAX_QUANTITY)
        if quantity is None:
            raise InvalidInput(page.t("form.invalid_number"), field="quantity")
        cart_service.update_cart_item(page.db, page.user.id, item_id, quantity=quantity)
    except DomainError as exc:
        return _render_cart(
            page,
            (item_id, error_message(page.t, exc)),
            exc.status_code if exc.status_code < 500 else 409,
        )
    return page.redirect("/cart", flash="cart.updated")


# --- checkout and payment ----------------------------------------------------------------------


@dataclass
class CheckoutPlan:
    lines: list[Line]
    from_cart: bool
    source: str = ""

    @property
    def item_total_fen(self) -> int:
        return sum(line.total_fen for line in self.lines)


def _plan(page: Any, params: Any) -> CheckoutPlan:
    if params.get("from_cart"):
        return CheckoutPlan(lines=[line for line in _cart_lines(page) if line.available], from_cart=True)
    form = Form(params, page.t)
    sku_id = form.integer("sku", minimum=1, maximum=MAX_ID)
    quantity = form.integer("qty", minimum=1, maximum=MAX_QUANTITY) or 1
    info = lookup.skus_by_ids(page.db, [sku_id]).get(sku_id) if sku_id else None
    if info is None or not info.for_sale:
        return CheckoutPlan(lines=[], from_cart=False)
    line = Line(
        None,
        info.sku_id,
        info.product_id,
        info.shop_id,
        info.title_zh,
        info.title_en,
        info.attributes,
        info.price_fen,
        quantity,
        info.stock >= quantity,
    )
    return CheckoutPlan(lines=[line], from_cart=False, source=form.text("from", max_length=40))


def _shipping_preview(page: Any, plan: CheckoutPlan) -> dict[int, tuple[Any, int, int]]:
    """shop id -> (shop, item total, shipping fee) as checkout will charge it (one order per shop)."""
    shops = shops_service.shops_by_ids(page.db, {line.shop_id for line in plan.lines})
    out: dict[int, tuple[Any, int, int]] = {}
    for shop_id, shop in shops.items():
        total = sum(line.total_fen for line in plan.lines if line.shop_id == shop_id)
        free = shop.free_shipping_threshold_fen > 0 and total >= shop.free_shipping_threshold_fen
        out[shop_id] = (shop, total, 0 if free else shop.shipping_fee_fen)
    return out


@dataclass(frozen=True)
class CouponChoice:
    user_coupon_id: int
    coupon: Any
    amount_fen: int  # what it takes off this order (shop) or this checkout (platform)


@dataclass
class CouponPlan:
    shop_choices: dict[int, list[CouponChoice]]  # shop id -> the coupons that apply, best first
    platform_choices: list[CouponChoice]
    shop_selected: dict[int, int | None]  # shop id -> user coupon id (None = no coupon)
    platform_selected: int | None

    def shop_discount_fen(self, shop_id: int) -> int:
        chosen = self.shop_selected.get(shop_id)
        return next(
            (c.amount_fen for c in self.shop_choices.get(shop_id, []) if c.user_coupon_id == chosen), 0
        )

    def platform_discount_fen(self, item_total_fen: int) -> int:
        """The platform coupon never takes off more than what is left after the shop coupons."""
        chosen = next((c for c in self.platform_choices if c.user_coupon_id == self.platform_selected), None)
        left = item_total_fen - sum(self.shop_discount_fen(shop_id) for shop_id in self.shop_choices)
        return min(chosen.amount_fen, left) if chosen is not None else 0


def _choices(held: list[Any], goods_fen: int) -> list[CouponChoice]:
    out = [
        CouponChoice(h.user_coupon_id, h.coupon, coupons_service.coupon_discount(h.coupon, goods_fen))
        for h in held
    ]
    return sorted(
        (c for c in out if c.amount_fen > 0),
        key=lambda c: (-c.amount_fen, c.coupon.ends_at, c.user_coupon_id),
    )


def _picked(values: Any, name: str, choices: list[CouponChoice]) -> int | None:
    raw = values.get(name)
    wanted = int(raw) if isinstance(raw, str) and raw.isdigit() else None
    return wanted if any(c.user_coupon_id == wanted for c in choices) else None


def _coupon_plan(page: Any, plan: CheckoutPlan, chosen: Any = None) -> CouponPlan:
    """The coupons that apply; the best preselected, or what the shopper ``chosen`` (a posted form)."""
    held = coupons_service.usable_user_coupons(page.db, page.user.id) if plan.lines else []
    shop_choices: dict[int, list[CouponChoice]] = {}
    for shop_id in sorted({line.shop_id for line in plan.lines}):
        goods = sum(line.total_fen for line in plan.lines if line.shop_id == shop_id)
        shop_choices[shop_id] = _choices([h for h in held if h.coupon.shop_id == shop_id], goods)
    platform_choices = _choices([h for h in held if h.coupon.shop_id is None], plan.item_total_fen)
    if chosen is None:
        shop_selected = {sid: (cs[0].user_coupon_id if cs else None) for sid, cs in shop_choices.items()}
        platform_selected = platform_choices[0].user_coupon_id if platform_choices else None
    else:
        shop_selected = {sid: _picked(chosen, f"shop_coupon_{sid}", cs) for sid, cs in shop_choices.items()}
        platform_selected = _picked(chosen, "platform_coupon", platform_choices)
    return CouponPlan(shop_choices, platform_choices, shop_selected, platform_selected)


def _saved(page: Any) -> list[address_service.Named]:
    return [address_service.named(a) for a in address_service.list_addresses(page.db, page.user.id)]


def _render_checkout(
    page: Any, plan: CheckoutPlan, form: Form | None, status_code: int = 200, chosen: Any = None
) -> Response:
    saved = _saved(page)
    if form is not None:
        values = form.values
    else:  # the default saved address preselected; a new one offered to be saved when there is none
        values = {"address_id": str(saved[0].row.id) if saved else "new", "save_address": not saved}
    preview = _shipping_preview(page, plan)
    coupons = _coupon_plan(page, plan, chosen)
    shop_discount = sum(coupons.shop_discount_fen(shop_id) for shop_id in preview)
    platform_discount = coupons.platform_discount_fen(plan.item_total_fen)
    shipping = sum(fee for _, _, fee in preview.values())
    # The member price, as checkout takes it: after the shop's coupon, on what is left of the goods.
    rates = flows.member_rates(page.db, page.user.id)(sorted(preview))
    member_off = {
        shop_id: (
            rates[shop_id],
            min(total * rates[shop_id] // 10_000, total - coupons.shop_discount_fen(shop_id)),
        )
        for shop_id, (_, total, _) in preview.items()
        if shop_id in rates
    }
    member_off_fen = sum(off for _, off in member_off.values())
    # A shop's order whose every line ships from one platform warehouse gets the faster promise.
    from_warehouse = {
        shop_id: where
        for shop_id in preview
        if (
            where := warehouse_service.shared_warehouse(
                page.db, [line.sku_id for line in plan.lines if line.shop_id == shop_id]
            )
        )
        is not None
    }
    return page.render(
        "shopper/checkout.html",
        status_code=status_code,
        plan=plan,
        shops=preview,
        coupons=coupons,
        shop_discount_fen=shop_discount,
        platform_discount_fen=platform_discount,
        member_off=member_off,
        member_off_fen=member_off_fen,
        from_warehouse=from_warehouse,
        promise_days=warehouse_service.PROMISE_DAYS,
        total_fen=plan.item_total_fen - shop_discount - platform_discount - member_off_fen + shipping,
        shipping_fen=shipping,
        values=values,
        form=form,
        idempotency_key=uuid.uuid4().hex,
        address_fields=ADDRESS_FIELDS,
        saved_addresses=saved,
        picker=picker(values),
    )


@router.get("/checkout")
def checkout(page: ShopperPage, request: Request) -> Response:
    return _render_checkout(page, _plan(page, request.query_params), None)


@router.post("/checkout")
def place_order(page: ShopperPage, request: Request, data: FormData) -> Response:
    assert page.user is not None
    plan = _plan(page, data)
    form = Form(data, page.t)
    if not data.get("pick"):  # placing the order: the same rate limits as POST /api/checkout
        try:
            buy_limits_for(request.app).spend("checkout", page.user.id, client_address(request))
        except DomainError as exc:
            form.message = error_message(page.t, exc)
            return _render_checkout(page, plan, form, status_code=exc.status_code, chosen=data)
    if data.get("pick"):  # no JavaScript: refill the province/city/district lists, nothing placed
        for name in ("address_id", "name", "phone", "province_code", "city_code", "district_code", "line"):
            form.text(name)
        form.values["save_address"] = data.get("save_address") == "on"
        return _render_checkout(page, plan, form, chosen=data)
    ship_to, new_address = _read_address(page, form, data)
    key = form.text("idempotency_key", max_length=128)
    if not plan.lines:
        form.message = page.t("checkout.nothing")
    if not form.ok or ship_to is None:
        return _render_checkout(page, plan, form, status_code=422, chosen=data)
    coupons = _coupon_plan(page, plan, data)
    chosen_coupons: dict[str, Any] = {
        "shop_coupon_ids": [uc for uc in coupons.shop_selected.values() if uc is not None],
        "platform_coupon_id": coupons.platform_selected,
    }
    if plan.from_cart:
        body = CheckoutCreate(from_cart=True, **ship_to, **chosen_coupons)
    else:
        line = plan.lines[0]
        attribution = checked_attribution(page.db, line.product_id, parse_source(plan.source))
        body = CheckoutCreate(
            items=[CheckoutLineIn(sku_id=line.sku_id, quantity=line.quantity, attribution=attribution)],
            **ship_to,
            **chosen_coupons,
        )
    settings = request.app.state.settings
    user_id = page.user.id

    def action() -> tuple[int, Any]:
        placed = checkout_service.place_checkout(
            page.db,
            user_id,
            body,
            settings=settings,
            commit=False,
            member_rates=flows.member_rates(page.db, user_id),
        )
        return 201, {"checkout_id": placed.id}

    try:
        outcome = idempotency.execute(
            page.db,
            user_id=user_id,
            scope="web-checkout",
            key=key or None,
            body=body.model_dump(mode="json"),
            action=action,
        )
    except DomainError as exc:
        form.add_domain_error(exc, {f"shipping_address.{n}": n for n in ADDRESS_FIELDS})
        return _render_checkout(
            page, plan, form, status_code=exc.status_code if exc.status_code < 500 else 503, chosen=data
        )
    if outcome.status_code >= 400:  # the same form sent twice after a refusal: the same answer
        form.message = (outcome.body or {}).get("error", {}).get("message") or page.t("error.other.body")
        return _render_checkout(page, plan, form, status_code=outcome.status_code, chosen=data)
    if new_address is not None:  # "save to my address book" (a full book is not worth refusing the order)
        try:
            address_service.create_address(page.db, user_id, new_address)
        except DomainError:
            page.db.rollback()
    return page.redirect(f"/checkouts/{outcome.body['checkout_id']}/pay")


def _read_address(page: Any, form: Form, data: Any) -> tuple[dict[str, Any] | None, AddressIn | None]:
    """Where to ship, as the checkout request takes it: a saved address (``{"address_id": …}``, which
    checkout reads from the address book as the API does) or the one typed with the picker, checked
    (division codes turned into names); with the one typed, what to save when ``save_address`` is on."""
    chosen = form.text("address_id") or "new"
    form.values["save_address"] = data.get("save_address") == "on"
    if chosen != "new":
        if not chosen.isdigit() or not 0 < int(chosen) < 2**63:
            form.error("address_id", page.t("form.required"))
            return None, None
        return {"address_id": int(chosen)}, None
    name = form.text("name", required=True, max_length=40)
    phone = form.text("phone", required=True, max_length=20)
    codes = read_picker(form)
    line = form.text("line", required=True, max_length=200)
    picked = not any(n in form.errors for n in ("province_code", "city_code", "district_code"))
    names = (
        address_service.shipping_fields(*codes) if picked else {"province": "-", "city": "-", "district": "-"}
    )
    shipping = None
    try:
        shipping = ShippingAddress.model_validate({"name": name, "phone": phone, "line": line, **names})
    except ValidationError as exc:  # every bad field at once, not one per submit
        for err in exc.errors():
            field = str(err["loc"][0]) if err.get("loc") else ""
            form.error(field, page.t("form.invalid_phone") if field == "phone" else page.t("form.required"))
    if not form.ok or shipping is None:
        return None, None
    if not form.values["save_address"]:
        return {"shipping_address": shipping}, None
    try:
        saved = AddressIn(
            recipient=name,
            phone=phone,
            province_code=codes[0],
            city_code=codes[1],
            district_code=codes[2],
            detail=line,
            is_default=not address_service.list_addresses(page.db, page.user.id),
        )
    except ValidationError:  # a phone checkout takes but the address book does not (not a mobile)
        form.error("phone", page.t("address.mobile_only"))
        return None, None
    return {"shipping_address": shipping}, saved


# What a shopper reads for each of the payment provider's decline codes (never the code itself).
DECLINE_CODES = ("card_declined", "insufficient_funds", "expired_card")


def decline_message(t: Any, code: str | None) -> str:
    """A sentence in the page language for a declined payment: one per known code, a general one
    for any other (a capture the provider refused)."""
    return t(f"checkout.decline.{code}" if code in DECLINE_CODES else "checkout.decline.other")


def _render_pay(
    page: Any,
    checkout_id: int,
    error: str | None = None,
    status_code: int = 200,
    method: str = PAYMENT_METHODS[0],
) -> Response:
    placed = checkout_service.get_checkout_for_buyer(page.db, page.user.id, checkout_id)
    orders = list(placed.orders)
    items = checkout_service.items_of(page.db, [o.id for o in orders])
    shops = shops_service.shops_by_ids(page.db, {o.shop_id for o in orders})
    # Which orders carry a member's price (taken into the shop discount when the checkout was placed).
    member_rates = flows.member_rates(page.db, page.user.id)(sorted(shops))
    return page.render(
        "shopper/pay.html",
        member_rates=member_rates,
        status_code=status_code,
        checkout=placed,
        orders=[(o, shops.get(o.shop_id), [i for i in items if i.order_id == o.id]) for o in orders],
        payable=placed.status.value == "pending_payment",
        paid=placed.status.value == "paid",
        error=error,
        method=method,
        methods=PAYMENT_METHODS,
        idempotency_key=uuid.uuid4().hex,
    )


@router.get("/checkouts/{checkout_id}/pay")
def pay_page(page: ShopperPage, checkout_id: IdPath) -> Response:
    return _render_pay(page, checkout_id)


@router.post("/checkouts/{checkout_id}/pay")
def pay(page: ShopperPage, checkout_id: IdPath, data: FormData) -> Response:
    assert page.user is not None
    form = Form(data, page.t)
    method = form.choice("payment_method", list(PAYMENT_METHODS)) or PAYMENT_METHODS[0]
    key = form.text("idempotency_key", max_length=128)
    user_id = page.user.id

    def action() -> tuple[int, Any]:
        paid = checkout_service.pay_checkout(
            page.db,
            user_id,
            checkout_id,
            payment_method=method,
            client_key=key,
            device_key=device_key(page.device_id),
            commit=False,
        )
        return 200, {"order_ids": [o.id for o in paid.orders]}

    try:
        outcome = idempotency.execute(
            page.db,
            user_id=user_id,
            scope=f"web-pay:{checkout_id}",
            key=key or None,
            body={"payment_method": method},
            action=action,
        )
    except DomainError as exc:
        if exc.code == "payment_failed":
            message = decline_message(page.t, exc.details.get("decline_code"))
        else:
            message = error_message(page.t, exc)
        return _render_pay(
            page, checkout_id, message, exc.status_code if exc.status_code < 500 else 503, method
        )
    if outcome.status_code >= 400:
        return _render_pay(page, checkout_id, page.t("checkout.not_payable"), outcome.status_code, method)
    order_ids = outcome.body["order_ids"]
    target = f"/orders/{order_ids[0]}" if len(order_ids) == 1 else "/orders"
    return page.redirect(target, flash="checkout.paid")


# --- orders ------------------------------------------------------------------------------------
