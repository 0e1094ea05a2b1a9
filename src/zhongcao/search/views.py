"""Search API: products (filters, sorts, facets, highlights, learned ranking), shops, content,
autocomplete, and the mall home.

Queries are never an error: control characters are dropped, anything past 256 characters is cut (the
response says ``truncated``), SQL or regex syntax is plain text, and a query with nothing searchable
browses. Parameters out of range are ``422 validation_error`` / ``invalid_search`` with ``details.field``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from zhongcao.deps import DbSession, OptionalUser, has_credentials, optional_user
from zhongcao.errors import InvalidInput
from zhongcao.fields import MAX_ID
from zhongcao.pagination import MAX_LIMIT
from zhongcao.search import mall, service
from zhongcao.search.index import SORTS
from zhongcao.search.schemas import (
    Contribution,
    FacetValueOut,
    MallOut,
    ProductHitOut,
    ProductSearchOut,
    SimpleHitOut,
    SimpleSearchOut,
    SuggestionOut,
    SuggestOut,
)
from zhongcao.users.models import Role

router = APIRouter()

# Longer input is accepted and cut by the analyser; beyond this it is not a search box any more.
MAX_QUERY_PARAM = 10_000
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
FenQuery = Annotated[int | None, Query(ge=0, le=10**12)]


def _json(body: ProductSearchOut | SimpleSearchOut) -> Response:
    # The body is built from validated models already: serialised once, not validated again against
    # the response model's union (which cost about as much as the search itself).
    return Response(body.model_dump_json(), media_type="application/json")


def _state(request: Request) -> service.SearchState:
    return service.state_for(request.app)


def _shopper_id(user: object) -> int | None:
    return user.id if user is not None and user.role is Role.shopper else None  # type: ignore[attr-defined]


@router.get("/api/search", response_model=ProductSearchOut | SimpleSearchOut, tags=["search"])
async def search(
    request: Request,
    q: Annotated[str, Query(max_length=MAX_QUERY_PARAM)] = "",
    type: Literal["product", "shop", "content"] = "product",
    category_id: IdQuery = None,
    brand_id: IdQuery = None,
    shop_id: IdQuery = None,
    price_min_fen: FenQuery = None,
    price_max_fen: FenQuery = None,
    in_stock: bool | None = None,
    campaign_id: IdQuery = None,
    sort: Literal["relevance", "sales", "price_asc", "price_desc", "newest"] = "relevance",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    explain: bool = False,
) -> Response:
    """Products (default), shops or content for ``q``. Products take filters, a sort, and with
    ``explain=true`` each item's top ranking features. Signed-in shoppers get personalised ranking."""
    assert sort in SORTS
    if (
        type == "product"
        and price_min_fen is not None
        and price_max_fen is not None
        and price_min_fen > price_max_fen
    ):
        raise InvalidInput(
            "price_min_fen is above price_max_fen", code="invalid_search", field="price_min_fen"
        )
    params = _Params(
        q,
        type,
        service.ProductFilters(
            category_id=category_id,
            brand_id=brand_id,
            shop_id=shop_id,
            price_min_fen=price_min_fen,
            price_max_fen=price_max_fen,
            in_stock=in_stock,
            campaign_id=campaign_id,
        ),
        sort,
        limit,
        cursor,
        explain,
    )
    state = _state(request)
    # Answered on the event loop's own thread, as the feed is (see ``feed.views.get_feed``): a search
    # is one to a few milliseconds of CPU-bound work on the mapped index, which a thread would not
    # overlap with anything (the interpreter lock) but would add hops to, one per sync dependency and
    # one for the call. An anonymous product search opens no database session at all (the index stores
    # every field it shows; shop names are remembered). Only a worker's first search, which opens the
    # index or builds it on a fresh install (seconds), waits in a thread so the loop stays free; a new
    # generation published later is opened here (its pickled state: milliseconds).
    if not state.ready:
        return await run_in_threadpool(_search, request, state, params)
    return _search(request, state, params)


@dataclass(frozen=True)
class _Params:
    q: str
    type: str
    filters: service.ProductFilters
    sort: str
    limit: int
    cursor: str | None
    explain: bool


def _search(request: Request, state: service.SearchState, p: _Params) -> Response:
    # A session only when something needs one: who a token belongs to, or which shops and content
    # left the site since the index was built. Reads on SQLite take microseconds; on PostgreSQL, run
    # more workers than cores (as for the feed).
    db = None
    if p.type != "product" or has_credentials(request):
        db = request.app.state.database.session(read_only=True)
    try:
        if p.type != "product":
            assert db is not None
            hits, total, fallback, next_cursor = service.search_simple(
                db, state, p.type, p.q, limit=p.limit, cursor=p.cursor
            )
            return _json(
                SimpleSearchOut(
                    items=[SimpleHitOut(**h.__dict__) for h in hits],
                    next_cursor=next_cursor,
                    total=total,
                    fallback=fallback,
                )
            )
        user = optional_user(request, db) if db is not None else None
        page = service.search_products(
            db,
            state,
            p.q,
            p.filters,
            sort=p.sort,
            limit=p.limit,
            cursor=p.cursor,
            user_id=_shopper_id(user),
            explain=p.explain,
        )
    finally:
        if db is not None:
            db.close()
    return Response(_product_page_json(page), media_type="application/json")


def _product_page_json(page: service.ProductSearchPage) -> bytes:
    """The body of :class:`ProductSearchOut` (same fields, order and types), serialised straight from
    the page: the values are already of the schema's types, and building 20 items and ~60 facet
    values as validated models cost a tenth of an uncached search. ``_product_page`` is the model
    form; tests hold the two to the same JSON."""
    items = []
    for hit in page.hits:
        doc = hit.document
        items.append(
            {
                "id": doc.product_id,
                "title_zh": doc.title_zh,
                "title_en": doc.title_en,
                "highlight": hit.highlight,
                "highlight_en": hit.highlight_en,
                "price_fen": doc.price_fen,
                "in_stock": doc.stock > 0,
                "sales": doc.sales,
                "shop_id": int(doc.shop),
                "category_id": int(doc.category),
                "brand_id": int(doc.brand) if doc.brand else None,
                "score": round(float(hit.score), 6),
                "explanation": None
                if hit.explanation is None
                else [{"feature": f, "contribution": float(c)} for f, c in hit.explanation],
            }
        )
    body = {
        "items": items,
        "next_cursor": page.next_cursor,
        "total": page.total,
        "facets": {
            name: [{"key": k, "label": label, "count": c} for k, label, c in values]
            for name, values in page.facets.items()
        },
        "suggestion": page.suggestion,
        "fallback": page.fallback,
        "truncated": page.truncated,
        "ranking": page.ranking,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _product_page(page: service.ProductSearchPage) -> ProductSearchOut:
    items = []
    for hit in page.hits:
        doc = hit.document
        items.append(
            ProductHitOut(
                id=doc.product_id,
                title_zh=doc.title_zh,
                title_en=doc.title_en,
                highlight=hit.highlight,
                highlight_en=hit.highlight_en,
                price_fen=doc.price_fen,
                in_stock=doc.stock > 0,
                sales=doc.sales,
                shop_id=int(doc.shop),
                category_id=int(doc.category),
                brand_id=int(doc.brand) if doc.brand else None,
                score=round(hit.score, 6),
                explanation=None
                if hit.explanation is None
                else [Contribution(feature=f, contribution=c) for f, c in hit.explanation],
            )
        )
    return ProductSearchOut(
        items=items,
        next_cursor=page.next_cursor,
        total=page.total,
        facets={
            name: [FacetValueOut(key=k, label=label, count=c) for k, label, c in values]
            for name, values in page.facets.items()
        },
        suggestion=page.suggestion,
        fallback=page.fallback,
        truncated=page.truncated,
        ranking=page.ranking,
    )


@router.get("/api/search/suggest", response_model=SuggestOut, tags=["search"])
def suggest(
    request: Request,
    db: DbSession,
    q: Annotated[str, Query(max_length=MAX_QUERY_PARAM)] = "",
    limit: Annotated[int, Query(ge=1, le=10)] = 10,
) -> SuggestOut:
    """Completions of a prefix (typed or in pinyin, full or initials): popular queries, then product words."""
    found = service.suggest(db, _state(request), q, limit)
    return SuggestOut(items=[SuggestionOut(text=s.text, source=s.source) for s in found])


def _feed_products(request: Request, db: DbSession, user_id: int | None, k: int = 40) -> list[int] | None:
    """The products the feed's model would show this user (product cards, then the products anchored
    by its videos and live rooms), or ``None`` when there is no model yet or nobody is signed in."""
    if user_id is None:
        return None
    from zhongcao.content import service as content_service
    from zhongcao.errors import DomainError
    from zhongcao.feed.views import feed_service

    try:
        page = feed_service(request).page(db, user_id, limit=min(k, 20))
    except DomainError:  # no trained feed model yet: the mall falls back to best sellers
        return None
    anchored = content_service.anchored_product_ids_by_content(
        db, [item.content_id for item in page.items if item.content_id is not None]
    )
    products: list[int] = []
    for item in page.items:
        if item.product_id is not None:
            products.append(item.product_id)
        elif item.content_id is not None:
            products += anchored.get(item.content_id, [])
    return products


@router.get("/api/mall", response_model=MallOut, tags=["search"])
def mall_home(request: Request, db: DbSession, user: OptionalUser) -> MallOut:
    """The mall home: buy again, campaign zones, category entries, recommended (from the feed's model
    when there is one), new from followed shops."""
    user_id = _shopper_id(user)
    return mall.mall_home(db, _state(request), user_id, _feed_products(request, db, user_id))
