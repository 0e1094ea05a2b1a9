"""What the three consoles (merchant, creator, operator) share: who may open them, their side
navigation, the analytics window, and small readers for forms and lists.

A console page takes one dependency that both signs the caller in and scopes them:

* :data:`MerchantConsole` -- a merchant account and the one shop it works for (``shop_id``); every
  read and write of the merchant pages goes through a service call that takes this shop id, so
  another shop's order, case or conversation is "not found" (tenant isolation). Writes to the
  catalog and shipping need the shop role owner or operator, as in the JSON API.
* :data:`CreatorConsole` -- a creator account and its publishing account (``account_id``).
* :data:`OperatorConsole` -- a platform operator.

Anyone else gets the 403 page; nobody signed in is sent to the login page.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from typing import Annotated, Any

from fastapi import Depends, Path, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from zhongcao import clock
from zhongcao.compass import service as compass_service
from zhongcao.content import service as content_service
from zhongcao.deps import SHOP_MANAGERS
from zhongcao.errors import DomainError, Forbidden, InvalidInput
from zhongcao.fields import MAX_ID
from zhongcao.pagination import PageParams
from zhongcao.shops import service as shops_service
from zhongcao.shops.models import StaffRole
from zhongcao.support import chat as support_chat
from zhongcao.users.models import Role
from zhongcao.web.context import WebContext, require_page_role, unread_badge
from zhongcao.web.forms import Form, error_message

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
CursorQuery = Annotated[str | None, Query(max_length=200)]
LIST_PAGE = 20
# The analytics windows a console offers (days, today included); 30 unless the page is asked for another.
WINDOWS = (7, 30, 90)
DaysQuery = Annotated[int, Query(ge=1, le=365)]

# Where each console's account lands after signing in (views.HOME_BY_ROLE merges this).
HOMES = {Role.merchant: "/merchant", Role.creator: "/creator", Role.operator: "/operator"}

# (href, key, message key) per console; ``key`` is what a page passes as ``active``.
NAV: dict[str, list[tuple[str, list[tuple[str, str, str]]]]] = {
    "merchant": [
        (
            "console.group.shop",
            [
                ("/merchant", "home", "console.nav.home"),
                ("/merchant/products", "products", "console.nav.products"),
                ("/merchant/orders", "orders", "console.nav.orders"),
                ("/merchant/warehouse", "warehouse", "console.nav.warehouse"),
                ("/merchant/flash-sales", "flash_sales", "console.nav.flash_sales"),
                ("/merchant/after-sales", "after_sales", "console.nav.after_sales"),
                ("/merchant/inbox", "inbox", "console.nav.inbox"),
                ("/merchant/content", "studio", "console.nav.studio"),
                ("/merchant/finance", "finance", "console.nav.finance"),
                ("/merchant/staff", "staff", "console.nav.staff"),
                ("/merchant/notifications", "notifications", "console.nav.notifications"),
                ("/merchant/integrity", "integrity", "console.nav.my_integrity"),
            ],
        ),
        (
            "console.group.marketing",
            [
                ("/merchant/coupons", "coupons", "console.nav.coupons"),
                ("/merchant/campaigns", "campaigns", "console.nav.campaigns"),
            ],
        ),
        (
            "console.group.compass",
            [
                ("/merchant/compass", "compass", "console.nav.trends"),
                ("/merchant/compass/funnels", "funnels", "console.nav.funnels"),
                ("/merchant/compass/content", "content", "console.nav.content"),
                ("/merchant/compass/audience", "audience", "console.nav.audience"),
                ("/merchant/compass/search", "search", "console.nav.search"),
                ("/merchant/members", "members", "console.nav.members"),
                ("/merchant/score", "score", "console.nav.score"),
            ],
        ),
        (
            "console.group.alliance",
            [
                ("/merchant/alliance", "alliance", "console.nav.alliance_plans"),
                ("/merchant/creator-match", "creator_match", "console.nav.creator_match"),
                (
                    "/merchant/alliance/applications",
                    "alliance_applications",
                    "console.nav.alliance_applications",
                ),
                ("/merchant/alliance/samples", "alliance_samples", "console.nav.alliance_samples"),
                ("/merchant/alliance/creators", "alliance_creators", "console.nav.alliance_creators"),
            ],
        ),
    ],
    "creator": [
        (
            "console.group.creator",
            [
                ("/creator", "home", "console.nav.my_content"),
                ("/creator/data", "data", "console.nav.creator_data"),
                ("/creator/commissions", "commissions", "console.nav.earnings"),
                ("/creator/statement", "statement", "console.nav.statement"),
                ("/creator/notifications", "notifications", "console.nav.notifications"),
                ("/creator/integrity", "integrity", "console.nav.my_integrity"),
            ],
        ),
        (
            "console.group.selection",
            [
                ("/creator/plaza", "plaza", "console.nav.plaza"),
                ("/creator/recommended", "recommended", "console.nav.recommended"),
                ("/creator/showcase", "showcase", "console.nav.showcase"),
                ("/creator/plans", "plans", "console.nav.plans"),
                ("/creator/samples", "samples", "console.nav.samples"),
            ],
        ),
    ],
    "operator": [
        (
            "console.group.workbench",
            [
                ("/operator/workbench", "workbench", "console.nav.workbench"),
                ("/operator/shop-applications", "shop_applications", "console.nav.shop_applications"),
                ("/operator/after-sales", "after_sales", "console.nav.escalated"),
                ("/operator/complaints", "complaints", "console.nav.complaints"),
                ("/operator/warehouse", "warehouse", "console.nav.warehouse_desk"),
                ("/operator/moderation", "moderation", "console.nav.moderation"),
                ("/operator/moderation/reports", "moderation_reports", "console.nav.content_reports"),
                ("/operator/moderation/appeals", "moderation_appeals", "console.nav.content_appeals"),
                ("/operator/integrity", "integrity", "console.nav.integrity"),
                ("/operator/integrity/appeals", "integrity_appeals", "console.nav.integrity_appeals"),
                ("/operator/shops", "shops", "console.nav.shops"),
                ("/operator/users", "users", "console.nav.users"),
                ("/operator/audit", "audit", "console.nav.audit"),
            ],
        ),
        (
            "console.group.platform",
            [
                ("/operator", "home", "console.nav.nps"),
                ("/operator/gmv", "gmv", "console.nav.gmv"),
                ("/operator/scores", "scores", "console.nav.scores"),
                ("/operator/campaigns", "campaigns", "console.nav.campaigns"),
                ("/operator/jobs", "jobs", "console.nav.jobs"),
                ("/operator/notifications", "notifications", "console.nav.notifications"),
            ],
        ),
    ],
}
MANAGERS = SHOP_MANAGERS
# The shop's money and its commission terms: not in a service agent's navigation (the page is a 403).
MANAGER_PAGES = {"finance", "creator_match"}
OWNER_PAGES = {"staff"}  # staff and invitations: owners only (a 403 page for the other roles)


@dataclass
class Console:
    """A console page: the web context plus whose console it is."""

    page: WebContext
    kind: str  # merchant | creator | operator
    title: str  # the shop's or the account's name; the platform for operators
    shop_id: int | None = None
    staff_role: StaffRole | None = None
    account_id: int | None = None

    @property
    def db(self) -> Any:
        return self.page.db

    @property
    def user_id(self) -> int:
        assert self.page.user is not None
        return self.page.user.id

    def t(self, key: str, **params: object) -> str:
        return self.page.t(key, **params)

    def tn(self, key: str, plural_key: str, num: int, **params: object) -> str:
        return self.page.tn(key, plural_key, num, **params)

    @property
    def nav(self) -> list[tuple[str, list[tuple[str, str, str]]]]:
        if self.kind != "merchant" or self.is_owner:
            return NAV[self.kind]
        hidden = OWNER_PAGES if self.can_manage else OWNER_PAGES | MANAGER_PAGES
        return [(group, [link for link in links if link[1] not in hidden]) for group, links in NAV[self.kind]]

    def inbox_unread(self) -> int:
        """Unread customer messages in the shop's open conversations (the Inbox link's badge)."""
        if self.shop_id is None:
            return 0
        shop_id = self.shop_id
        return unread_badge(self.page.request, lambda db: support_chat.shop_unread_total(db, shop_id))

    @property
    def can_manage(self) -> bool:
        """Whether the merchant may change the catalog and ship (shop owner or operator)."""
        return self.staff_role in MANAGERS

    @property
    def is_owner(self) -> bool:
        """Whether the merchant may manage the shop's staff and invitations."""
        return self.staff_role is StaffRole.owner

    def require_owner(self) -> None:
        if not self.is_owner:
            raise Forbidden("this needs the shop role owner", code="wrong_shop_role")

    def require_manager(self) -> None:
        if not self.can_manage:
            raise Forbidden("this needs the shop role owner or operator", code="wrong_shop_role")

    def render(self, template: str, active: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return self.page.render(template, status_code=status_code, console=self, active=active, **context)

    def redirect(self, url: str, *, flash: str | None = None) -> RedirectResponse:
        return self.page.redirect(url, flash=flash)

    def decide(
        self,
        form: Form,
        act: Callable[[], object],
        *,
        refused: Callable[[Form, int], Response],
        done: str,
        flash: str,
    ) -> Response:
        """Carry out a decision taken on a form (an operator's verdict, an action with its reason):
        on success go to ``done`` with ``flash``; a refusal is rolled back and shown on the form by
        ``refused(form, status)`` (next to its field, else above the form), and a 404 stays a 404."""
        try:
            act()
        except DomainError as exc:
            self.db.rollback()
            if exc.status_code == 404:
                raise
            form.add_domain_error(exc)
            if form.ok:  # a refusal about the whole record (decided already, not allowed now)
                form.message = error_message(self.t, exc)
            return refused(form, exc.status_code)
        return self.redirect(done, flash=flash)


def _merchant(page: Annotated[WebContext, Depends(require_page_role(Role.merchant))]) -> Console:
    assert page.user is not None
    membership = shops_service.membership_for_user(page.db, page.user.id)
    if membership is None:
        raise Forbidden("this merchant account belongs to no shop", code="no_shop")
    shop = shops_service.get_shop(page.db, membership.shop_id)
    title = shop.name_zh if page.locale == "zh" else (shop.name_en or shop.name_zh)
    return Console(page, "merchant", title, shop_id=shop.id, staff_role=membership.role)


def _creator(page: Annotated[WebContext, Depends(require_page_role(Role.creator))]) -> Console:
    assert page.user is not None
    account = content_service.creator_account_for_user(page.db, page.user.id)
    if account is None:
        raise Forbidden("this creator has no publishing account yet", code="no_creator_account")
    return Console(page, "creator", account.name, account_id=account.id)


def _operator(page: Annotated[WebContext, Depends(require_page_role(Role.operator))]) -> Console:
    return Console(page, "operator", page.t("console.platform"))


MerchantConsole = Annotated[Console, Depends(_merchant)]
CreatorConsole = Annotated[Console, Depends(_creator)]
OperatorConsole = Annotated[Console, Depends(_operator)]


# --- reading lists and forms ---------------------------------------------------------------------


def page_of(fetch: Any, cursor: str | None, limit: int = LIST_PAGE) -> tuple[Any, str | None]:
    """``fetch(PageParams)`` at ``cursor``; a cursor that does not decode starts at the first page
    (an old or edited link is not worth an error page)."""
    try:
        return fetch(PageParams(limit=limit, cursor=cursor))
    except InvalidInput:
        return fetch(PageParams(limit=limit))


def yuan_to_fen(form: Form, name: str, *, required: bool = False, minimum_fen: int = 0) -> int | None:
    """A yuan amount typed as ``12`` or ``12.5`` or ``12.50`` as integer fen (never through float)."""
    raw = form.text(name, required=required, max_length=14)
    if not raw:
        return None
    whole, _, cents = raw.replace("¥", "").replace(",", "").strip().partition(".")
    if not whole.isdigit() or (cents and (not cents.isdigit() or len(cents) > 2)):
        form.error(name, form.t("console.form.bad_amount"))
        return None
    fen = int(whole) * 100 + int((cents + "00")[:2])
    if fen < minimum_fen:
        form.error(name, form.t("console.form.bad_amount"))
        return None
    return fen


# --- the analytics window ------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    days: int
    first: date
    last: date

    @property
    def previous_first(self) -> date:
        return self.first - timedelta(days=self.days)

    @property
    def previous_last(self) -> date:
        return self.first - timedelta(days=1)


def window(days: int) -> Window:
    """The last ``days`` days (UTC, today included): Compass's periods."""
    days = days if days in WINDOWS else 30
    today = clock.now().astimezone(UTC).date()
    return Window(days, today - timedelta(days=days - 1), today)


def compass_engine(console: Console) -> Any:
    """The DuckDB engine over the newest analytics snapshot (built now only when there is none)."""
    state = console.page.request.app.state
    return compass_service.current_engine(state.database, state.settings)


# Platform-wide reads (the global NPS report, the score distribution) scan every answer or every shop:
# an operator page keeps each for this long per server process instead of recomputing per request.
PLATFORM_READ_TTL_S = 60.0
_memo_lock = threading.Lock()


def memo(
    console: Console, key: tuple[Any, ...], compute: Callable[[], Any], ttl_s: float = PLATFORM_READ_TTL_S
) -> Any:
    """``compute()``, remembered for ``ttl_s`` seconds on the app (so one app's numbers never serve
    another's database, and a test's fresh app starts empty)."""
    state = console.page.request.app.state
    with _memo_lock:
        store = getattr(state, "console_memo", None)
        if store is None:
            store = state.console_memo = {}
        hit = store.get(key)
    now = time.monotonic()
    if hit is not None and now - hit[0] < ttl_s:
        return hit[1]
    value = compute()
    with _memo_lock:
        store[key] = (now, value)
    return value


def ratio(part: int | None, whole: int | None) -> float | None:
    return part / whole if part is not None and whole else None


def change(now: int | float | None, before: int | float | None) -> float | None:
    if now is None or not before:
        return None
    return (now - before) / before
