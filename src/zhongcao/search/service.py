"""The search state of one API worker: it opens the published indexes read-only and serves queries.

The job worker builds and updates the indexes (:mod:`zhongcao.search.indexing`: ``build`` publishes a
new generation, ``follow`` commits the catalogue's changes every 0.5 s). A worker holds no thread of its
own: on the request path, at most every ``CHECK_SECONDS``, it reads the ``CURRENT`` pointer and stats
each index's ``meta.json`` (microseconds); a new generation is opened, a new commit reloaded, so a
product created, repriced or sold out is searchable and correct within about a second of its change
(0.5 s follow interval plus ``CHECK_SECONDS``). With no index at all (a fresh install, a test) the
first search builds one synchronously, under the writer's cross-process lock.

The learned ranker is the newest ``search_ranker`` artifact (:class:`zhongcao.artifacts.Newest`): it
re-orders the top ``RERANK_DEPTH`` BM25 matches; without a model, results are in BM25 order.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from zhongcao import artifacts
from zhongcao.config import Settings
from zhongcao.content import reads as content_reads
from zhongcao.content import service as content_service
from zhongcao.content.models import ContentStatus
from zhongcao.db import Database
from zhongcao.errors import InvalidInput
from zhongcao.pagination import decode_cursor, encode_cursor
from zhongcao.search import facets, indexing, ltr
from zhongcao.search.autocomplete import Autocomplete, Suggestion
from zhongcao.search.index import MAX_OFFSET, ProductDocument, ProductIndex, SearchResult
from zhongcao.search.indexing import Catalogue, Published
from zhongcao.shops import service as shops_service

# How often a worker looks for a new commit or generation (a few stat calls).
CHECK_SECONDS = 0.1
RERANK_DEPTH = 100
SHOP_NAME_SECONDS = 60.0
FACET_LIMIT = 20


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_mtime_ns)


class SearchState:
    """The published indexes and ranking inputs as one worker sees them, for one database.

    ``_lock`` guards opening a generation; searches read the attributes without it (each is replaced
    whole, never changed in place)."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        check_seconds: float = CHECK_SECONDS,
        models_root: Path | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.root = indexing.index_root(settings)
        self.check_seconds = check_seconds
        self._lock = threading.RLock()
        self.generation: Path | None = None
        self.products: ProductIndex | None = None
        self.shops: ProductIndex | None = None
        self.content: ProductIndex | None = None
        self.catalogue = Catalogue()
        self.published = Published()
        self._catalogue_stamp: tuple[int, int] | None = None
        self._checked_at = 0.0
        self._shop_names: dict[int, tuple[str, float]] = {}
        self.ranker = artifacts.Newest(
            ltr.MODEL_NAME, ltr.SearchRanker.load, root=models_root or settings.models_dir, poll_seconds=30
        )

    @property
    def ready(self) -> bool:
        """Whether an index is open: a search then runs in microseconds of stat calls plus the query,
        never a build (a fresh worker's first search may build the index, or open it)."""
        return self.products is not None

    @property
    def autocomplete(self) -> Autocomplete:
        return self.published.autocomplete

    def ensure_fresh(self, db: Session | None = None) -> None:
        """Open the newest generation, or reload a committed change (rate-limited; no thread)."""
        if self.products is not None and time.monotonic() - self._checked_at < self.check_seconds:
            return
        with self._lock:
            if self.products is not None and time.monotonic() - self._checked_at < self.check_seconds:
                return
            generation = indexing.current_generation(self.root)
            if generation is None:
                indexing.build_if_missing(self.database, self.settings)
                generation = indexing.current_generation(self.root)
                assert generation is not None
            if generation != self.generation or self.products is None:
                self._open(generation)
            else:
                for index in (self.products, self.shops, self.content):
                    if index is not None:
                        index.refresh()
                stamp = _stamp(generation / "catalogue.pkl")
                if stamp != self._catalogue_stamp:
                    self._catalogue_stamp, self.catalogue = stamp, indexing.load_catalogue(generation)
            self._checked_at = time.monotonic()

    def _open(self, generation: Path) -> None:
        self.published = indexing.load_published(generation)
        self._catalogue_stamp = _stamp(generation / "catalogue.pkl")
        self.catalogue = indexing.load_catalogue(generation)
        self.shops = ProductIndex.open(generation / "shops")
        self.content = ProductIndex.open(generation / "content")
        self.products = ProductIndex.open(
            generation / "products", result_cache=self.settings.search_result_cache
        )
        self.generation = generation

    def shop_names(self, db: Session | None, shop_ids: list[int]) -> dict[int, str]:
        """Shop names for facet labels, remembered for ``SHOP_NAME_SECONDS`` (a label may trail a
        rename by that long; a page of results no longer reads the shops table every time). Without
        ``db`` (an anonymous API search) a session is opened only when a name is missing."""
        now = time.monotonic()
        cache = self._shop_names
        missing = [s for s in shop_ids if s not in cache or now - cache[s][1] >= SHOP_NAME_SECONDS]
        if missing:
            if len(cache) > 50_000:
                cache.clear()
            if db is None:
                with self.database.session(read_only=True) as session:
                    found = shops_service.shops_by_ids(session, missing)
            else:
                found = shops_service.shops_by_ids(db, missing)
            for shop_id in missing:
                cache[shop_id] = (found[shop_id].name_zh if shop_id in found else "", now)
        return {s: cache[s][0] for s in shop_ids}

    def facts_of(self, documents: list[ProductDocument]) -> ltr.ProductFacts:
        """Ranking facts of the hits, from their stored documents (shop, top category, price)."""
        top_of_leaf = self.catalogue.top_of_leaf
        return ltr.ProductFacts(
            shop_of={d.product_id: int(d.shop) for d in documents if d.shop},
            top_of={
                d.product_id: top_of_leaf.get(int(d.category), int(d.category))
                for d in documents
                if d.category
            },
            price_of={d.product_id: d.price_fen for d in documents},
            shop_score=self.published.shop_score,
        )


_states_lock = threading.Lock()


def state_for(app: Any) -> SearchState:
    """The search state of a FastAPI app (one per app, i.e. per worker process), made on first use."""
    state = getattr(app.state, "search", None)
    if state is None:
        with _states_lock:
            state = getattr(app.state, "search", None)
            if state is None:
                state = app.state.search = SearchState(app.state.database, app.state.settings)
    return state


# -- queries ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductFilters:
    category_id: int | None = None
    brand_id: int | None = None
    shop_id: int | None = None
    price_min_fen: int | None = None
    price_max_fen: int | None = None
    in_stock: bool | None = None
    campaign_id: int | None = None


@dataclass
class RankedHit:
    document: ProductDocument
    score: float
    highlight: str
    highlight_en: str
    explanation: list[tuple[str, float]] | None = None


@dataclass
class ProductSearchPage:
    hits: list[RankedHit]
    total: int
    facets: dict[str, list[tuple[str, str, int]]]  # field -> (key, label, count)
    suggestion: str | None
    fallback: str | None
    truncated: bool
    ranking: str
    next_cursor: str | None


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    value = decode_cursor(cursor)
    if not isinstance(value, dict) or type(value.get("o")) is not int or not 0 <= value["o"] <= MAX_OFFSET:
        raise InvalidInput("cursor is not valid", code="invalid_cursor", field="cursor")
    return int(value["o"])


def _user_followed_shops(db: Session | None, user_id: int | None) -> set[int]:
    if user_id is None:
        return set()
    assert db is not None, "a signed-in shopper's search reads their follows"
    accounts = content_service.followed_account_ids(db, user_id)
    return {s for s in content_reads.account_shop_ids(db, accounts).values() if s}


def search_products(
    db: Session | None,
    state: SearchState,
    q: str,
    filters: ProductFilters,
    *,
    sort: str = "relevance",
    limit: int = 20,
    cursor: str | None = None,
    user_id: int | None = None,
    explain: bool = False,
) -> ProductSearchPage:
    """A page of products for ``q``. ``db`` may be None for an anonymous shopper (``user_id`` None):
    the index answers alone, and a session is opened only for a facet's shop names not yet known."""
    state.ensure_fresh()
    offset = _offset(cursor)
    followed = _user_followed_shops(db, user_id)
    index = state.products
    assert index is not None
    category: list[str] | None = None
    if filters.category_id is not None:
        leaves = state.catalogue.leaves_of_top.get(filters.category_id)
        category = [str(c) for c in (leaves if leaves else [filters.category_id])]
    kwargs: dict[str, Any] = {
        "category": category,
        "brand": None if filters.brand_id is None else str(filters.brand_id),
        "shop": None if filters.shop_id is None else str(filters.shop_id),
        "price_min_fen": filters.price_min_fen,
        "price_max_fen": filters.price_max_fen,
        "in_stock": filters.in_stock,
        "campaign": filters.campaign_id,
        "facet_limit": FACET_LIMIT,  # the page shows that many values a field
    }
    ranker = state.ranker.get()
    ranking = "bm25"
    if sort == "relevance" and offset < RERANK_DEPTH:
        result = index.search(q, RERANK_DEPTH, sort=sort, **kwargs)
        hits = result.hits
        order = np.arange(len(hits))
        x = None
        # The features read every hit's stored product: only when a model ranks or someone asks why.
        if result.fallback is None and hits and (ranker is not None or explain):
            ids = [h.product_id for h in hits]
            x = ltr.features(
                ids,
                np.asarray([h.score for h in hits]),
                np.asarray([h.coverage for h in hits]),
                state.facts_of([h.document for h in hits]),
                state.published.behaviour,
                user_id,
                followed,
                state.published.medians,
            )
            if ranker is not None:
                scores = ranker.score(x)
                order = np.lexsort((np.arange(len(hits)), -scores))
                ranking = f"ltr:{state.ranker.version}"
        page_positions = order[offset : offset + limit].tolist()
        explanations: list[list[tuple[str, float]]] | None = None
        if explain and x is not None and page_positions:
            if ranker is not None:
                explanations = ranker.explain(x[page_positions])
            else:
                explanations = [[("bm25", round(float(x[p, 0]), 4))] for p in page_positions]
        ranked = [
            RankedHit(
                document=hits[p].document,
                score=float(hits[p].score),
                highlight=hits[p].highlight,
                highlight_en=hits[p].highlight_en,
                explanation=explanations[i] if explanations is not None else None,
            )
            for i, p in enumerate(page_positions)
        ]
    else:
        result = index.search(q, limit, offset=offset, sort=sort, **kwargs)
        ranked = [RankedHit(h.document, h.score, h.highlight, h.highlight_en) for h in result.hits]
        if explain:
            for hit in ranked:
                hit.explanation = [("bm25", round(hit.score, 4))]
    facets = _label_facets(db, state, result)
    end = offset + len(ranked)
    next_cursor = encode_cursor({"o": end}) if end < min(result.total, MAX_OFFSET) and ranked else None
    return ProductSearchPage(
        hits=ranked,
        total=result.total,
        facets=facets,
        suggestion=result.suggestion,
        fallback=result.fallback,
        truncated=result.truncated,
        ranking=ranking,
        next_cursor=next_cursor,
    )


def matching_product_ids(state: SearchState, q: str, *, limit: int = 2000) -> list[int]:
    """Ids of the products on sale whose text matches ``q`` (the product search's analysis: Chinese
    words and sub-words, pinyin and initials, typos, synonyms), best match first, at most ``limit``.
    For listings that keep some of them (the affiliate plaza): nothing matching is an empty list."""
    state.ensure_fresh()
    assert state.products is not None
    return state.products.match_ids(q, limit)


def _label_facets(
    db: Session | None, state: SearchState, result: SearchResult
) -> dict[str, list[tuple[str, str, int]]]:
    out: dict[str, list[tuple[str, str, int]]] = {}
    for name, counts in result.facets.items():
        top = sorted(counts.items(), key=facets.rank)[:FACET_LIMIT]
        if name == "category":
            labels = {k: state.catalogue.category_names.get(int(k), ("", ""))[0] for k, _ in top}
        elif name == "brand":
            labels = {k: state.catalogue.brand_names.get(int(k), ("", ""))[0] for k, _ in top}
        elif name == "shop":
            names = state.shop_names(db, [int(k) for k, _ in top])
            labels = {k: names.get(int(k), "") for k, _ in top}
        else:
            labels = {k: k for k, _ in top}
        out[name] = [(k, labels[k], c) for k, c in top]
    return out


@dataclass
class SimpleHit:
    id: int
    title_zh: str
    title_en: str
    highlight: str
    score: float


def search_simple(
    db: Session, state: SearchState, kind: str, q: str, *, limit: int = 20, cursor: str | None = None
) -> tuple[list[SimpleHit], int, str | None, str | None]:
    """Shops or content by name/title: hits, total, fallback, next cursor."""
    state.ensure_fresh(db)
    offset = _offset(cursor)
    index = state.shops if kind == "shop" else state.content
    assert index is not None
    sort = "relevance" if q.strip() else ("sales" if kind == "shop" else "newest")
    result = index.search(q, limit, offset=offset, sort=sort, facets=False)
    # Suspended shops and removed content leave the page at once, the index at the next build.
    hidden = _hidden_since_build(db, kind, result.ids)
    hits = [
        SimpleHit(h.product_id, h.document.title_zh, h.document.title_en, h.highlight, h.score)
        for h in result.hits
        if h.product_id not in hidden
    ]
    end = offset + len(hits)
    total = max(0, result.total - len(hidden))
    next_cursor = encode_cursor({"o": end}) if end < min(total, MAX_OFFSET) and hits else None
    return hits, total, result.fallback, next_cursor


def _hidden_since_build(db: Session, kind: str, ids: list[int]) -> set[int]:
    """Of a page of shop or content hits, those suspended or removed since the index was built: one
    primary-key read of at most a page of rows, so no one sees them while the rebuild is pending."""
    if not ids:
        return set()
    if kind == "shop":
        return set(ids) - shops_service.active_shop_ids(db, ids)
    found = content_service.content_by_ids(db, ids)
    return {i for i in ids if i not in found or found[i].status is ContentStatus.removed}


def suggest(db: Session, state: SearchState, prefix: str, limit: int = 10) -> list[Suggestion]:
    state.ensure_fresh(db)
    return state.autocomplete.suggest(prefix, limit)


# -- training (zhongcao train search) -----------------------------------------------------------------


def training_inputs(db: Session) -> tuple[ProductIndex, ltr.ProductFacts, dict[int, set[int]]]:
    """The product index, product facts and each user's followed shops, through the owning services."""
    catalogue, rows = indexing.read_catalogue(db)
    index = ProductIndex(indexing.product_document(r, catalogue, ()) for r in rows)
    facts = indexing.product_facts(db, rows, catalogue)
    users, accounts = content_reads.follow_pairs(db)
    shop_of_account = content_reads.account_shop_ids(db, sorted(set(accounts)))
    follows: dict[int, set[int]] = {}
    for user, account in zip(users, accounts, strict=True):
        shop = shop_of_account.get(account)
        if shop:
            follows.setdefault(user, set()).add(shop)
    return index, facts, follows
