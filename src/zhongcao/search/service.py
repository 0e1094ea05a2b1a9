"""The search state of one API worker: product, shop and content indexes, autocomplete, the ranker.

Workers are stateless and each keeps its own in-memory indexes, built lazily on the first search from
other domains' services (catalogue, brands, categories, shops, content, campaign registrations, shop
experience scores) and the event log (popularity, popular queries). They stay fresh by polling the
catalogue's change feed (``catalog_service.products_changed_since``: product rows and SKU rows carry
``updated_at``) at most every ``POLL_SECONDS`` when a search comes in, applying ``upsert``/``remove``:
a product created, repriced or sold out is searchable and correct on the next search after the poll
interval. The poll re-reads a window of ``OVERLAP`` before the newest change seen (a transaction that
commits late still carries its earlier write time) and skips documents that did not change. Everything
the feed does not cover (shop suspensions, renames, campaign registrations, scores, popularity) is
picked up by a full rebuild every ``FULL_REFRESH_SECONDS``.

The learned ranker is the newest ``search_ranker`` artifact (:class:`zhongcao.artifacts.Newest`): it
re-orders the top ``RERANK_DEPTH`` BM25 matches; without a model, results are in BM25 order.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from zhongcao import artifacts, clock
from zhongcao.campaigns import service as campaigns_service
from zhongcao.catalog import service as catalog_service
from zhongcao.content import service as content_service
from zhongcao.content.models import ContentStatus
from zhongcao.db import Database
from zhongcao.errors import InvalidInput
from zhongcao.events import service as events_service
from zhongcao.experience import service as experience_service
from zhongcao.pagination import decode_cursor, encode_cursor
from zhongcao.search import ltr
from zhongcao.search.autocomplete import Autocomplete, Suggestion
from zhongcao.search.index import MAX_OFFSET, ProductDocument, ProductIndex, SearchResult
from zhongcao.shops import service as shops_service

log = logging.getLogger("zhongcao.search")

POLL_SECONDS = 0.5
OVERLAP = timedelta(seconds=5)
FULL_REFRESH_SECONDS = 300.0
RERANK_DEPTH = 100
POPULAR_QUERY_DAYS = 30
FACET_LIMIT = 20
_CHUNK = 5000


@dataclass
class Catalogue:
    """Names and the category tree, as of the last full build."""

    top_of_leaf: dict[int, int] = field(default_factory=dict)
    leaves_of_top: dict[int, list[int]] = field(default_factory=dict)
    category_names: dict[int, tuple[str, str]] = field(default_factory=dict)
    brand_names: dict[int, tuple[str, str]] = field(default_factory=dict)


def read_catalogue(db: Session) -> tuple[Catalogue, list[catalog_service.SearchableProduct]]:
    """Category tree and names, every product on sale, and the names of their brands."""
    catalogue = Catalogue()
    for top, leaves in catalog_service.category_tree(db):
        catalogue.category_names[top.id] = (top.name_zh, top.name_en)
        catalogue.leaves_of_top[top.id] = [leaf.id for leaf in leaves]
        for leaf in leaves:
            catalogue.top_of_leaf[leaf.id] = top.id
            catalogue.category_names[leaf.id] = (leaf.name_zh, leaf.name_en)
    rows = catalog_service.searchable_products(db)
    brands = catalog_service.brands_by_ids(db, {r.brand_id for r in rows if r.brand_id})
    catalogue.brand_names = {b.id: (b.name_zh, b.name_en) for b in brands.values()}
    return catalogue, rows


def product_facts(
    db: Session, rows: list[catalog_service.SearchableProduct], catalogue: Catalogue
) -> ltr.ProductFacts:
    """Shop, top category, price and shop experience score (0..1) of the products, for ranking."""
    scores = experience_service.current_scores(db, {r.shop_id for r in rows})
    return ltr.ProductFacts(
        shop_of={r.id: r.shop_id for r in rows},
        top_of={r.id: catalogue.top_of_leaf.get(r.category_id, r.category_id) for r in rows},
        price_of={r.id: r.price_fen for r in rows},
        shop_score={
            s: None if v is None else v / experience_service.MAX_SCORE_CENTI for s, v in scores.items()
        },
    )


def _campaigns_of(db: Session, product_ids: list[int]) -> dict[int, tuple[int, ...]]:
    out: dict[int, tuple[int, ...]] = {}
    for start in range(0, len(product_ids), _CHUNK):
        found = campaigns_service.open_campaigns_for_products(db, product_ids[start : start + _CHUNK])
        out.update({pid: tuple(c.id for c in campaigns) for pid, campaigns in found.items()})
    return out


def _document(
    row: catalog_service.SearchableProduct, catalogue: Catalogue, campaigns: tuple[int, ...]
) -> ProductDocument:
    brand = catalogue.brand_names.get(row.brand_id or 0, ("", ""))
    leaf = catalogue.category_names.get(row.category_id, ("", ""))
    return ProductDocument(
        product_id=row.id,
        title_zh=row.title_zh,
        title_en=row.title_en,
        brand=str(row.brand_id) if row.brand_id else "",
        category=str(row.category_id),
        shop=str(row.shop_id),
        price_fen=row.price_fen,
        stock=row.stock,
        sales=row.sold,
        created_at=row.created_at,
        campaign_ids=campaigns,
        keywords=" ".join(p for p in (*brand, *leaf) if p),
    )


@dataclass
class _Built:
    """Everything a full build makes, installed at once by :meth:`SearchState._install`."""

    since: Any
    catalogue: Catalogue
    products: ProductIndex
    facts: ltr.ProductFacts
    shops: ProductIndex
    content: ProductIndex
    behaviour: ltr.Behaviour
    autocomplete: Autocomplete
    newest_shop: int
    newest_content: int


def _shop_document(shop: Any, product_count: int) -> ProductDocument:
    return ProductDocument(
        product_id=shop.id,
        title_zh=shop.name_zh,
        title_en=shop.name_en,
        sales=product_count,
        created_at=shop.created_at,
        keywords=shop.description_zh[:200],
    )


def _content_document(item: Any) -> ProductDocument:
    return ProductDocument(
        product_id=item.id,
        title_zh=item.title_zh,
        title_en=item.title_en,
        created_at=item.created_at,
        keywords=item.topic or "",
    )


class SearchState:
    """Indexes and models of one process, for one database. Thread-safe.

    ``_lock`` guards the indexes: searches, the change-feed poll (a few milliseconds) and the swap of a
    new index. The slow work, the periodic full rebuild (about 70 s at a million products) and the
    compaction of a product index whose delta segment grew, runs on one background thread at a time
    and never holds the lock while it works: searches answer from the old index meanwhile, and the
    new one is swapped in under the lock, then caught up with the change feed from the moment its
    build began (the poll re-reads from there), so nothing written during the build is lost. Only the
    very first build runs in the request, which has nothing else to answer from.
    """

    def __init__(
        self,
        database: Database,
        *,
        poll_seconds: float = POLL_SECONDS,
        full_refresh_seconds: float = FULL_REFRESH_SECONDS,
        models_root: Path | None = None,
    ) -> None:
        self.database = database
        self.poll_seconds = poll_seconds
        self.full_refresh_seconds = full_refresh_seconds
        self._lock = threading.RLock()
        self.products: ProductIndex | None = None
        self.shops = ProductIndex()
        self.content = ProductIndex()
        self.autocomplete = Autocomplete({})
        self.catalogue = Catalogue()
        self.facts = ltr.ProductFacts({}, {}, {})
        self.behaviour = ltr.Behaviour()
        self.medians: dict[int, float] = {}
        self._since = clock.now()
        self._built_at = 0.0
        self._polled_at = 0.0
        self._newest_shop = 0
        self._newest_content = 0
        self._worker: threading.Thread | None = None
        self.ranker = artifacts.Newest(
            ltr.MODEL_NAME, ltr.SearchRanker.load, root=models_root, poll_seconds=30
        )

    # -- freshness ---------------------------------------------------------------------------------

    def ensure_fresh(self, db: Session) -> None:
        if self.products is None:
            with self._lock:
                if self.products is None:
                    self.rebuild(db)
                    return
        now = time.monotonic()
        if now - self._built_at >= self.full_refresh_seconds:
            self._in_background(self._rebuild_in_background)
        if now - self._polled_at >= self.poll_seconds:
            with self._lock:
                if time.monotonic() - self._polled_at >= self.poll_seconds:
                    self.poll(db)
        products = self.products
        if products is not None and products.needs_compaction():
            self._in_background(self._compact_in_background)

    def rebuilding(self) -> bool:
        """Whether a background rebuild or compaction is under way."""
        worker = self._worker
        return worker is not None and worker.is_alive()

    def wait_for_background(self, timeout: float | None = None) -> None:
        """Wait for the background rebuild or compaction, if any (for tests and shutdown)."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)

    def _in_background(self, work: Any) -> None:
        with self._lock:
            if self.rebuilding():
                return
            self._worker = threading.Thread(
                target=self._guarded, args=(work,), name="search-build", daemon=True
            )
            self._worker.start()

    def _guarded(self, work: Any) -> None:
        try:
            work()
        except Exception:  # keep serving the old index; the next refresh tries again
            log.exception("search: background %s failed", getattr(work, "__name__", "work"))
            self._built_at = time.monotonic()

    def _rebuild_in_background(self) -> None:
        db = self.database.session(read_only=True)
        try:
            built = self._build(db)
            db.rollback()  # a fresh transaction for the catch-up poll, which must see newer writes
            with self._lock:
                self._install(built)
                self.poll(db)
        finally:
            db.close()

    def _compact_in_background(self) -> None:
        with self._lock:
            index, since = self.products, self._since
            assert index is not None
            snapshot = index.snapshot()
        compacted = ProductIndex.from_snapshot(snapshot)
        db = self.database.session(read_only=True)
        try:
            with self._lock:
                if self.products is not index:  # a rebuild replaced it meanwhile
                    return
                # Changes polled since the snapshot went to the old index: re-read them from there.
                self.products, self._since = compacted, min(self._since, since)
                self.poll(db)
        finally:
            db.close()

    def rebuild(self, db: Session) -> None:
        """Full build in this thread (the first one), installed at once."""
        with self._lock:
            self._install(self._build(db))

    def _build(self, db: Session) -> _Built:
        """Read everything and build every index; touches no state, holds no lock."""
        since = clock.now()
        catalogue, rows = read_catalogue(db)
        campaigns = _campaigns_of(db, [r.id for r in rows])
        products = ProductIndex(
            (_document(r, catalogue, campaigns.get(r.id, ())) for r in rows), auto_compact=False
        )
        facts = product_facts(db, rows, catalogue)
        shops, content, newest_shop, newest_content = self._build_shops_and_content(db, facts)
        behaviour, autocomplete = self._build_behaviour_and_autocomplete(rows, facts)
        return _Built(
            since,
            catalogue,
            products,
            facts,
            shops,
            content,
            behaviour,
            autocomplete,
            newest_shop,
            newest_content,
        )

    def _install(self, built: _Built) -> None:
        with self._lock:
            self.catalogue = built.catalogue
            self.products = built.products
            self.facts = built.facts
            self.medians = built.facts.category_medians()
            self.shops, self.content = built.shops, built.content
            self._newest_shop, self._newest_content = built.newest_shop, built.newest_content
            self.behaviour, self.autocomplete = built.behaviour, built.autocomplete
            self._since = built.since
            self._built_at = self._polled_at = time.monotonic()

    def _build_shops_and_content(
        self, db: Session, facts: ltr.ProductFacts
    ) -> tuple[ProductIndex, ProductIndex, int, int]:
        snapshot = content_service.content_snapshot(db)
        visible = [
            cid
            for cid, status in zip(snapshot.content_ids, snapshot.statuses, strict=True)
            if status is not ContentStatus.removed
        ]
        content_docs = []
        for start in range(0, len(visible), _CHUNK):
            for item in content_service.content_by_ids(db, visible[start : start + _CHUNK]).values():
                content_docs.append(_content_document(item))
        content = ProductIndex(content_docs, auto_compact=False)
        shop_ids = set(facts.shop_of.values()) | {
            s for s in content_service.account_shop_ids(db, sorted(set(snapshot.account_ids))).values() if s
        }
        found = shops_service.shops_by_ids(db, shop_ids)
        active = shops_service.active_shop_ids(db, list(found))
        product_counts = Counter(facts.shop_of.values())
        shops = ProductIndex(
            (
                _shop_document(shop, product_counts.get(shop.id, 0))
                for shop in found.values()
                if shop.id in active
            ),
            auto_compact=False,
        )
        # Watermarks for the change feed: shops and content with higher ids are new since this build.
        # (The snapshot lists content that is not removed; a removed newest item is simply re-read.)
        newest_shop = max(found, default=0)
        newest_content = max(snapshot.content_ids, default=0)
        return shops, content, newest_shop, newest_content

    def _build_behaviour_and_autocomplete(
        self, rows: list[catalog_service.SearchableProduct], facts: ltr.ProductFacts
    ) -> tuple[ltr.Behaviour, Autocomplete]:
        popular: list[tuple[str, int]] = []
        behaviour = ltr.Behaviour()
        try:
            store = events_service.get_store(database=self.database)
            con = store.connect()
            try:
                behaviour = ltr.behaviour_from(ltr.behaviour_events(con), facts)
                since = clock.now() - timedelta(days=POPULAR_QUERY_DAYS)
                popular = [
                    (str(q), int(n))
                    for q, n in con.execute(
                        "SELECT query, count(*) FROM events WHERE type = 'search' AND query IS NOT NULL "
                        "AND ts >= ? GROUP BY query ORDER BY 2 DESC LIMIT 20000",
                        [since],
                    ).fetchall()
                ]
            finally:
                con.close()
        except Exception:  # no event store yet, or an empty one: rank and complete without behaviour
            log.warning("search: events unavailable; ranking without behaviour", exc_info=True)
        autocomplete = Autocomplete.build(popular, (r.title_zh for r in rows), (r.title_en for r in rows))
        return behaviour, autocomplete

    def poll(self, db: Session) -> int:
        """Apply catalogue changes since the last poll, and new shops and content; returns how many
        documents changed."""
        with self._lock:
            assert self.products is not None
            self._polled_at = time.monotonic()
            changed = self._poll_shops_and_content(db)
            ids, newest = catalog_service.products_changed_since(db, self._since - OVERLAP)
            if not ids:
                return changed
            rows = catalog_service.searchable_products(db, ids)
            missing = {
                r.brand_id for r in rows if r.brand_id and r.brand_id not in self.catalogue.brand_names
            }
            for brand in catalog_service.brands_by_ids(db, missing).values():
                self.catalogue.brand_names[brand.id] = (brand.name_zh, brand.name_en)
            campaigns = _campaigns_of(db, [r.id for r in rows if r.on_sale])
            for row in rows:
                if not row.on_sale:
                    changed += self.products.remove(row.id)
                    continue
                document = _document(row, self.catalogue, campaigns.get(row.id, ()))
                if self.products.get(row.id) != document:
                    self.products.upsert(document)
                    self.facts.shop_of[row.id] = row.shop_id
                    self.facts.top_of[row.id] = self.catalogue.top_of_leaf.get(
                        row.category_id, row.category_id
                    )
                    self.facts.price_of[row.id] = row.price_fen
                    changed += 1
            self._since = max(self._since, newest)
            return changed

    def _poll_shops_and_content(self, db: Session) -> int:
        """New shops and content (ids above the watermarks; each read is a primary-key range probe).
        Renames, suspensions and removals carry no change time in their tables, so the index learns
        them at the full rebuild; :func:`search_simple` drops suspended shops and removed content from
        each page it serves meanwhile."""
        changed = 0
        shops = shops_service.shops_created_after(db, self._newest_shop)
        if shops:
            active = shops_service.active_shop_ids(db, [s.id for s in shops])
            counts = Counter(self.facts.shop_of.values())
            for shop in shops:
                if shop.id in active:
                    self.shops.upsert(_shop_document(shop, counts.get(shop.id, 0)))
                    changed += 1
            self._newest_shop = shops[-1].id
        items = content_service.content_created_after(db, self._newest_content)
        if items:
            for item in items:
                if item.status is not ContentStatus.removed:
                    self.content.upsert(_content_document(item))
                    changed += 1
            self._newest_content = items[-1].id
        return changed


_states_lock = threading.Lock()


def state_for(app: Any) -> SearchState:
    """The search state of a FastAPI app (one per app, i.e. per worker process), made on first use."""
    state = getattr(app.state, "search", None)
    if state is None:
        with _states_lock:
            state = getattr(app.state, "search", None)
            if state is None:
                state = app.state.search = SearchState(app.state.database)
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


def _user_followed_shops(db: Session, user_id: int | None) -> set[int]:
    if user_id is None:
        return set()
    accounts = content_service.followed_account_ids(db, user_id)
    return {s for s in content_service.account_shop_ids(db, accounts).values() if s}


def search_products(
    db: Session,
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
    state.ensure_fresh(db)
    offset = _offset(cursor)
    followed = _user_followed_shops(db, user_id)
    with state._lock:
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
            "facet_limit": FACET_LIMIT,  # the page shows that many values a field (ties kept)
        }
        ranker = state.ranker.get()
        ranking = "bm25"
        if sort == "relevance" and offset < RERANK_DEPTH:
            result = index.search(q, RERANK_DEPTH, sort=sort, **kwargs)
            hits = result.hits
            order = np.arange(len(hits))
            x = None
            if result.fallback is None and hits:
                ids = [h.product_id for h in hits]
                x = ltr.features(
                    ids,
                    np.asarray([h.score for h in hits]),
                    np.asarray([h.coverage for h in hits]),
                    state.facts,
                    state.behaviour,
                    user_id,
                    followed,
                    state.medians,
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
                    document=index.get(hits[p].product_id),  # type: ignore[arg-type]
                    score=float(hits[p].score),
                    highlight=hits[p].highlight,
                    highlight_en=hits[p].highlight_en,
                    explanation=explanations[i] if explanations is not None else None,
                )
                for i, p in enumerate(page_positions)
            ]
        else:
            result = index.search(q, limit, offset=offset, sort=sort, **kwargs)
            ranked = [
                RankedHit(index.get(h.product_id), h.score, h.highlight, h.highlight_en)  # type: ignore[arg-type]
                for h in result.hits
            ]
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


def _label_facets(
    db: Session, state: SearchState, result: SearchResult
) -> dict[str, list[tuple[str, str, int]]]:
    out: dict[str, list[tuple[str, str, int]]] = {}
    for name, counts in result.facets.items():
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:FACET_LIMIT]
        if name == "category":
            labels = {k: state.catalogue.category_names.get(int(k), ("", ""))[0] for k, _ in top}
        elif name == "brand":
            labels = {k: state.catalogue.brand_names.get(int(k), ("", ""))[0] for k, _ in top}
        elif name == "shop":
            shops = shops_service.shops_by_ids(db, [int(k) for k, _ in top])
            labels = {k: shops[int(k)].name_zh if int(k) in shops else "" for k, _ in top}
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
    with state._lock:
        index = state.shops if kind == "shop" else state.content
        sort = "relevance" if q.strip() else ("sales" if kind == "shop" else "newest")
        result = index.search(q, limit, offset=offset, sort=sort, facets=False)
        hidden = _hidden_since_build(db, kind, result.ids)
        for hidden_id in hidden:  # and out of the index until the next build
            index.remove(hidden_id)
        hits = []
        for h in result.hits:
            doc = index.get(h.product_id)
            if doc is None:
                continue
            hits.append(SimpleHit(doc.product_id, doc.title_zh, doc.title_en, h.highlight, h.score))
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
    with state._lock:
        return state.autocomplete.suggest(prefix, limit)


# -- training (zhongcao train search) -----------------------------------------------------------------


def training_inputs(db: Session) -> tuple[ProductIndex, ltr.ProductFacts, dict[int, set[int]]]:
    """The product index, product facts and each user's followed shops, through the owning services."""
    catalogue, rows = read_catalogue(db)
    index = ProductIndex(_document(r, catalogue, ()) for r in rows)
    facts = product_facts(db, rows, catalogue)
    users, accounts = content_service.follow_pairs(db)
    shop_of_account = content_service.account_shop_ids(db, sorted(set(accounts)))
    follows: dict[int, set[int]] = {}
    for user, account in zip(users, accounts, strict=True):
        shop = shop_of_account.get(account)
        if shop:
            follows.setdefault(user, set()).add(shop)
    return index, facts, follows
