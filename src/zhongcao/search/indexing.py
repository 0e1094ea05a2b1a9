"""Building and following the published search index: the job runner's side of search.

Two plain functions for the job worker (one writer; both take a cross-process file lock):

* :func:`build` (full rebuild, e.g. nightly or every few minutes): reads the catalogue, shops, content
  and behaviour through the owning services, writes a new *generation* folder (tantivy indexes for
  products, shops and content; ``state.pkl`` with names, category medians, shop scores, behaviour counts
  and autocomplete; ``follow.json`` with the change-feed watermarks) and publishes it by replacing the
  ``CURRENT`` pointer file atomically. Older generations but the previous one are deleted.
* :func:`follow` (every 0.5 s): applies what changed since the watermarks to the current generation:
  products created, repriced, restocked, sold out or taken off sale (the catalogue's change feed:
  product and SKU rows carry ``updated_at``), new shops and new content; commits, then moves the
  watermarks. A call that finds nothing commits nothing. With no generation yet it builds one.

The index lives in ``<settings.search_index_dir>/<database key>/`` (one folder per database: the key
is a digest of the database URL). API workers (:mod:`zhongcao.search.service`) open the current
generation read-only and pick up a commit or a new generation within ``CHECK_SECONDS`` of it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import pickle
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.campaigns import service as campaigns_service
from zhongcao.catalog import service as catalog_service
from zhongcao.config import Settings
from zhongcao.content import reads as content_reads
from zhongcao.content import service as content_service
from zhongcao.content.models import ContentStatus
from zhongcao.db import Database
from zhongcao.events import service as events_service
from zhongcao.experience import scores as experience_scores
from zhongcao.search import ltr
from zhongcao.search.autocomplete import Autocomplete
from zhongcao.search.facets import TABLE_SECONDS, table_age
from zhongcao.search.index import ProductDocument, ProductIndex
from zhongcao.shops import service as shops_service

log = logging.getLogger("zhongcao.search")

# The change feed re-reads this much before the newest change seen: a transaction that commits late
# still carries its earlier write time.
OVERLAP = timedelta(seconds=5)
POPULAR_QUERY_DAYS = 30
# Generations kept besides the current one (a worker may still be reading the previous one).
KEEP_OLD_GENERATIONS = 1
# One indexing thread with a large heap: few segments, so per-segment facet work is paid once or twice.
BUILD_THREADS = 1
BUILD_HEAP_BYTES = 1_000_000_000
_CHUNK = 5000


@dataclass
class Catalogue:
    """Names and the category tree, as of the last full build (new brands added by :func:`follow`)."""

    top_of_leaf: dict[int, int] = field(default_factory=dict)
    leaves_of_top: dict[int, list[int]] = field(default_factory=dict)
    category_names: dict[int, tuple[str, str]] = field(default_factory=dict)
    brand_names: dict[int, tuple[str, str]] = field(default_factory=dict)


@dataclass
class Published:
    """What a build publishes besides the indexes and the catalogue: what ranking and completion need."""

    medians: dict[int, float] = field(default_factory=dict)  # top category -> median price
    shop_score: dict[int, float | None] = field(default_factory=dict)  # 0..1, None = not scored
    behaviour: ltr.Behaviour = field(default_factory=ltr.Behaviour)
    autocomplete: Autocomplete = field(default_factory=lambda: Autocomplete({}))


# -- where the index lives ------------------------------------------------------------------------------


def index_root(settings: Settings) -> Path:
    """``<search_index_dir>/<database key>``: each database has its own index."""
    key = hashlib.sha256(settings.database_url.encode()).hexdigest()[:16]
    return Path(settings.search_index_dir) / key


def current_generation(root: Path) -> Path | None:
    """The published generation folder, or None before the first build."""
    try:
        name = (root / "CURRENT").read_text().strip()
    except FileNotFoundError:
        return None
    return root / name if name else None


@contextlib.contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    """The single writer's lock (builds and follows of one database, across processes)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "writer.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + f".{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def load_published(generation: Path) -> Published:
    with open(generation / "state.pkl", "rb") as handle:
        published: Published = pickle.load(handle)
    return published


def load_catalogue(generation: Path) -> Catalogue:
    with open(generation / "catalogue.pkl", "rb") as handle:
        catalogue: Catalogue = pickle.load(handle)
    return catalogue


def _save_catalogue(generation: Path, catalogue: Catalogue) -> None:
    _write_atomically(generation / "catalogue.pkl", pickle.dumps(catalogue, protocol=pickle.HIGHEST_PROTOCOL))


# -- documents -------------------------------------------------------------------------------------------


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
    scores = experience_scores.current_scores(db, {r.shop_id for r in rows})
    return ltr.ProductFacts(
        shop_of={r.id: r.shop_id for r in rows},
        top_of={r.id: catalogue.top_of_leaf.get(r.category_id, r.category_id) for r in rows},
        price_of={r.id: r.price_fen for r in rows},
        shop_score={
            s: None if v is None else v / experience_scores.MAX_SCORE_CENTI for s, v in scores.items()
        },
    )


def campaigns_of(db: Session, product_ids: list[int]) -> dict[int, tuple[int, ...]]:
    out: dict[int, tuple[int, ...]] = {}
    for start in range(0, len(product_ids), _CHUNK):
        found = campaigns_service.open_campaigns_for_products(db, product_ids[start : start + _CHUNK])
        out.update({pid: tuple(c.id for c in campaigns) for pid, campaigns in found.items()})
    return out


def product_document(
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
        # A timestamp, as the index stores it: a re-read unchanged product compares equal.
        created_at=row.created_at.timestamp(),
        campaign_ids=campaigns,
        keywords=" ".join(p for p in (*brand, *leaf) if p),
    )


def shop_document(shop: Any, product_count: int) -> ProductDocument:
    return ProductDocument(
        product_id=shop.id,
        title_zh=shop.name_zh,
        title_en=shop.name_en,
        sales=product_count,
        created_at=shop.created_at.timestamp(),
        keywords=shop.description_zh[:200],
    )


def content_document(item: Any) -> ProductDocument:
    return ProductDocument(
        product_id=item.id,
        title_zh=item.title_zh,
        title_en=item.title_en,
        created_at=item.created_at.timestamp(),
        keywords=item.topic or "",
    )


# -- full build ---------------------------------------------------------------------------------------


def build(database: Database, settings: Settings) -> dict[str, int]:
    """Build every index from the database and publish it (the job runner's full rebuild)."""
    root = index_root(settings)
    with writer_lock(root):
        return _build(database, root)


def build_if_missing(database: Database, settings: Settings) -> bool:
    """Build and publish unless a generation exists (a fresh install's first search; another process
    building meanwhile is waited for). Whether this call built."""
    root = index_root(settings)
    if current_generation(root) is not None:
        return False
    with writer_lock(root):
        if current_generation(root) is not None:
            return False
        _build(database, root)
        return True


def _build(database: Database, root: Path) -> dict[str, int]:
    began = time.monotonic()
    generation = root / f"g{time.time_ns():x}"
    generation.mkdir(parents=True)
    db = database.session(read_only=True)
    try:
        since = clock.now()
        catalogue, rows = read_catalogue(db)
        campaigns = campaigns_of(db, [r.id for r in rows])
        products = ProductIndex(
            (product_document(r, catalogue, campaigns.get(r.id, ())) for r in rows),
            path=generation / "products",
            threads=BUILD_THREADS,
            heap_bytes=BUILD_HEAP_BYTES,
        )
        products.close_writer()
        products.publish_facet_table()
        products.publish_page_stores()
        facts = product_facts(db, rows, catalogue)
        newest_shop, newest_content, counts = _build_shops_and_content(db, facts, generation)
        behaviour, autocomplete = _behaviour_and_autocomplete(database, rows, facts)
    finally:
        db.rollback()
        db.close()
    published = Published(facts.category_medians(), facts.shop_score, behaviour, autocomplete)
    _save_catalogue(generation, catalogue)
    _write_atomically(generation / "state.pkl", pickle.dumps(published, protocol=pickle.HIGHEST_PROTOCOL))
    _write_watermarks(generation, since, newest_shop, newest_content)
    _write_atomically(root / "CURRENT", generation.name.encode())
    _delete_old_generations(root, generation)
    log.info("search: built %s (%d products) in %.1f s", generation.name, len(rows), time.monotonic() - began)
    return {"products": len(rows), **counts, "seconds": round(time.monotonic() - began)}


def _delete_old_generations(root: Path, current: Path) -> None:
    older = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("g") and p != current)
    for stale in older[: max(0, len(older) - KEEP_OLD_GENERATIONS)]:
        shutil.rmtree(stale, ignore_errors=True)


def _build_shops_and_content(
    db: Session, facts: ltr.ProductFacts, generation: Path
) -> tuple[int, int, dict[str, int]]:
    snapshot = content_reads.content_snapshot(db)
    visible = [
        cid
        for cid, status in zip(snapshot.content_ids, snapshot.statuses, strict=True)
        if status is not ContentStatus.removed
    ]
    content_docs = []
    for start in range(0, len(visible), _CHUNK):
        for item in content_service.content_by_ids(db, visible[start : start + _CHUNK]).values():
            content_docs.append(content_document(item))
    ProductIndex(content_docs, path=generation / "content").close_writer()
    shop_ids = set(facts.shop_of.values()) | {
        s for s in content_reads.account_shop_ids(db, sorted(set(snapshot.account_ids))).values() if s
    }
    found = shops_service.shops_by_ids(db, shop_ids)
    active = shops_service.active_shop_ids(db, list(found))
    product_counts = Counter(facts.shop_of.values())
    shop_docs = [shop_document(s, product_counts.get(s.id, 0)) for s in found.values() if s.id in active]
    ProductIndex(shop_docs, path=generation / "shops").close_writer()
    # Watermarks for the change feed: shops and content with higher ids are new since this build.
    # (The snapshot lists content that is not removed; a removed newest item is simply re-read.)
    return (
        max(found, default=0),
        max(snapshot.content_ids, default=0),
        {"shops": len(shop_docs), "content": len(content_docs)},
    )


def _behaviour_and_autocomplete(
    database: Database, rows: list[catalog_service.SearchableProduct], facts: ltr.ProductFacts
) -> tuple[ltr.Behaviour, Autocomplete]:
    popular: list[tuple[str, int]] = []
    behaviour = ltr.Behaviour()
    try:
        store = events_service.get_store(database=database)
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


# -- incremental updates -----------------------------------------------------------------------------


def _write_watermarks(generation: Path, since: datetime, newest_shop: int, newest_content: int) -> None:
    marks = {"since": since.isoformat(), "newest_shop": newest_shop, "newest_content": newest_content}
    _write_atomically(generation / "follow.json", json.dumps(marks).encode())


def follow(database: Database, settings: Settings) -> dict[str, int]:
    """Apply the changes since the last call to the published index and commit (every 0.5 s); builds
    the first generation when there is none. Returns how many documents changed, per index."""
    root = index_root(settings)
    with writer_lock(root):
        generation = current_generation(root)
        if generation is None:
            return _build(database, root)
        marks = json.loads((generation / "follow.json").read_text())
        since = datetime.fromisoformat(marks["since"])
        db = database.session(read_only=True)
        try:
            try:
                products, newest, catalogue = _follow_products(db, generation, since)
            except _OutdatedIndex:  # written by an older release: rebuilt in today's shape instead
                db.rollback()
                db.close()
                return _build(database, root)
            shops, newest_shop = _follow_shops(db, generation, int(marks["newest_shop"]))
            content, newest_content = _follow_content(db, generation, int(marks["newest_content"]))
        finally:
            db.rollback()
            db.close()
        if catalogue is not None:  # new brands: their names, for labels
            _save_catalogue(generation, catalogue)
        if (newest, newest_shop, newest_content) != (since, marks["newest_shop"], marks["newest_content"]):
            _write_watermarks(generation, newest, newest_shop, newest_content)
        return {"products": products, "shops": shops, "content": content}


def _follow_products(
    db: Session, generation: Path, since: datetime
) -> tuple[int, datetime, Catalogue | None]:
    ids, newest = catalog_service.products_changed_since(db, since - OVERLAP)
    if not ids:
        return 0, since, None
    index = ProductIndex.open(generation / "products", writable=True)
    if index.outdated:
        raise _OutdatedIndex(generation)
    rows = catalog_service.searchable_products(db, ids)
    catalogue = load_catalogue(generation)
    missing = {r.brand_id for r in rows if r.brand_id and r.brand_id not in catalogue.brand_names}
    new_brands = {b.id: (b.name_zh, b.name_en) for b in catalog_service.brands_by_ids(db, missing).values()}
    catalogue.brand_names.update(new_brands)
    campaigns = campaigns_of(db, [r.id for r in rows if r.on_sale])
    changed = 0
    try:
        for row in rows:
            if not row.on_sale:
                changed += index.remove(row.id)
                continue
            document = product_document(row, catalogue, campaigns.get(row.id, ()))
            if index.get(row.id) != document:
                index.upsert(document)
                changed += 1
        index.commit()
        # Browse queries' facet counts, republished at most every TABLE_SECONDS (readers count them
        # with aggregations while the table is of an older commit).
        if not index.facet_table_current() and table_age(generation / "products") >= TABLE_SECONDS:
            index.publish_facet_table()
    finally:
        index.close_writer()
    # What the new segment's hits show (a few products), once tantivy's merges after the commit are done.
    index.publish_page_stores()
    return changed, max(since, newest), catalogue if new_brands else None


class _OutdatedIndex(Exception):
    """The generation's product index has another schema than this release writes."""


def _follow_shops(db: Session, generation: Path, newest: int) -> tuple[int, int]:
    shops = shops_service.shops_created_after(db, newest)
    if not shops:
        return 0, newest
    active = shops_service.active_shop_ids(db, [s.id for s in shops])
    index = ProductIndex.open(generation / "shops", writable=True)
    changed = 0
    try:
        for shop in shops:
            if shop.id in active:
                index.upsert(shop_document(shop, 0))
                changed += 1
        index.commit()
    finally:
        index.close_writer()
    return changed, shops[-1].id


def _follow_content(db: Session, generation: Path, newest: int) -> tuple[int, int]:
    items = content_reads.content_created_after(db, newest)
    if not items:
        return 0, newest
    index = ProductIndex.open(generation / "content", writable=True)
    changed = 0
    try:
        for item in items:
            if item.status is not ContentStatus.removed:
                index.upsert(content_document(item))
                changed += 1
        index.commit()
    finally:
        index.close_writer()
    return changed, items[-1].id
