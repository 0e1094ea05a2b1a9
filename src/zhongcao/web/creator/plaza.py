"""The selection plaza (选品广场): search the plans open to me by Chinese or pinyin, filter, sort, and
act on a row: add the product to my showcase, apply to a targeted plan, or ask for a sample.

The page reads through :func:`zhongcao.affiliate.plaza.search` (the same code as
``GET /api/creator/plaza``). Filters are typed the way a person thinks of them (a rate in percent, a
price in yuan, a score like 4.5) and turned into the service's units here; a value that does not
read is shown next to its field and left out of the search. The two forms on a row post to URLs that
carry the page's query string, so a refusal re-renders the same search with the reason, and success
returns to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import Response

from zhongcao.affiliate import plaza as plaza_service
from zhongcao.affiliate import service as affiliate_service
from zhongcao.affiliate import showcase as showcase_service
from zhongcao.affiliate.models import PlanKind
from zhongcao.catalog import service as catalog_service
from zhongcao.errors import DomainError
from zhongcao.fields import MAX_ID
from zhongcao.pagination import PageParams
from zhongcao.search import service as search_service
from zhongcao.web.console import LIST_PAGE, Console, CreatorConsole, IdPath
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form, error_message

router = APIRouter(prefix="/creator")

SORTS = list(plaza_service.SORTS)
KINDS = [k.value for k in PlanKind]
FILTER_FIELDS = (
    "q",
    "category",
    "kind",
    "rate_min",
    "rate_max",
    "price_min",
    "price_max",
    "score_min",
    "sales_min",
    "sort",
)


@dataclass
class Search:
    form: Form
    query: plaza_service.PlazaQuery
    cursor: str | None
    # The page's own query string (no cursor), for links and the row forms' actions.
    qs: str


def _decimal(form: Form, name: str, *, scale: int, low: Decimal, high: Decimal) -> int | None:
    """A number typed as ``12`` or ``12.5`` in ``name``, times ``scale``, as an integer (never float)."""
    raw = form.text(name, max_length=14).replace("¥", "").replace("%", "").replace(",", "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        form.error(name, form.t("console.form.bad_amount"))
        return None
    if not value.is_finite() or not low <= value <= high or (value * scale) % 1:
        form.error(name, form.t("console.form.bad_amount"))
        return None
    return int(value * scale)


def read_search(console: Console) -> Search:
    params = console.page.request.query_params
    form = Form(params, console.t)
    q = form.text("q", max_length=100)
    category = form.integer("category", minimum=1, maximum=MAX_ID)
    kind = form.choice("kind", KINDS, required=False)
    rate_min = _decimal(form, "rate_min", scale=100, low=Decimal("0.01"), high=Decimal(90))
    rate_max = _decimal(form, "rate_max", scale=100, low=Decimal("0.01"), high=Decimal(90))
    price_min = _decimal(form, "price_min", scale=100, low=Decimal(0), high=Decimal(10**9))
    price_max = _decimal(form, "price_max", scale=100, low=Decimal(0), high=Decimal(10**9))
    score_min = _decimal(form, "score_min", scale=100, low=Decimal(0), high=Decimal(5))
    sales_min = form.integer("sales_min", minimum=0, maximum=10**12)
    sort = form.choice("sort", SORTS, required=False)
    if rate_min is not None and rate_max is not None and rate_min > rate_max:
        form.error("rate_min", console.t("creator.plaza.bad_range"))
        rate_min = rate_max = None
    if price_min is not None and price_max is not None and price_min > price_max:
        form.error("price_min", console.t("creator.plaza.bad_range"))
        price_min = price_max = None
    query = plaza_service.PlazaQuery(
        q=q,
        kind=PlanKind(kind) if kind else None,
        category_id=category,
        min_commission_bps=rate_min,
        max_commission_bps=rate_max,
        min_price_fen=price_min,
        max_price_fen=price_max,
        min_shop_score_centi=score_min,
        min_sales=sales_min,
        sort=sort,
    )
    kept = {k: v for k in FILTER_FIELDS if (v := params.get(k)) and k not in form.errors}
    cursor = params.get("cursor")
    return Search(form, query, cursor if cursor and len(cursor) <= 200 else None, urlencode(kept))


# Plain words for each plan type: who may promote, what it pays, what to do.
RULES = {
    PlanKind.open: "creator.plaza.rules.open",
    PlanKind.targeted: "creator.plaza.rules.targeted",
    PlanKind.exclusive: "creator.plaza.rules.exclusive",
}


def render(
    console: Console,
    search: Search,
    *,
    message: str | None = None,
    focus_plan_id: int | None = None,
    status_code: int = 200,
) -> Response:
    assert console.account_id is not None
    db = console.db
    state = search_service.state_for(console.page.request.app) if search.query.q.strip() else None
    try:
        result = plaza_service.search(
            db, state, console.account_id, search.query, PageParams(limit=LIST_PAGE, cursor=search.cursor)
        )
    except DomainError as exc:
        if exc.details.get("field") != "cursor":
            raise
        result = plaza_service.search(
            db, state, console.account_id, search.query, PageParams(limit=LIST_PAGE)
        )
    if message is not None:
        search.form.message = message
    return console.render(
        "creator/plaza.html",
        "plaza",
        status_code=status_code,
        result=result,
        form=search.form if not search.form.ok else None,
        typed=search.form.values,
        qs=search.qs,
        focus_plan_id=focus_plan_id,
        tree=catalog_service.category_tree(db),
        sorts=SORTS,
        kinds=KINDS,
        rules=RULES,
    )


@router.get("/plaza")
def plaza(console: CreatorConsole) -> Response:
    return render(console, read_search(console))


def _back(search: Search) -> str:
    return "/creator/plaza" + (f"?{search.qs}" if search.qs else "")


@router.post("/plaza/showcase")
def add_to_showcase(console: CreatorConsole, data: FormData) -> Response:
    """The row's "add to showcase" button: the page's query string is on the URL, the product in the body."""
    assert console.account_id is not None
    search = read_search(console)
    form = Form(data, console.t)
    product_id = form.integer("product_id", required=True, minimum=1, maximum=MAX_ID)
    if product_id is None:
        return render(console, search, message=console.t("form.fix_errors"), status_code=422)
    try:
        showcase_service.add(console.db, console.account_id, product_id)
    except DomainError as exc:
        console.db.rollback()
        return render(console, search, message=error_message(console.t, exc), status_code=exc.status_code)
    return console.redirect(_back(search), flash="creator.showcase.added")


@router.post("/plaza/{plan_id}/apply")
def apply(console: CreatorConsole, plan_id: IdPath, data: FormData) -> Response:
    assert console.account_id is not None
    search = read_search(console)
    form = Form(data, console.t)
    message = form.text("message", max_length=1000)
    if not form.ok:
        return render(
            console, search, message=console.t("form.fix_errors"), focus_plan_id=plan_id, status_code=422
        )
    try:
        affiliate_service.apply_to_plan(console.db, console.account_id, plan_id, message)
    except DomainError as exc:
        console.db.rollback()
        return render(
            console,
            search,
            message=error_message(console.t, exc),
            focus_plan_id=plan_id,
            status_code=exc.status_code,
        )
    return console.redirect(_back(search), flash="creator.applied")
