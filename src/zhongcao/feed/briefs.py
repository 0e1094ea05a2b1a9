"""The product briefs feed cards show (titles, cheapest selling price, on sale), held by the server.

Reading a page's anchored products from the database cost more than ranking the page. The feed's
background refresher keeps every anchored and recommendable product's brief in memory instead: loaded
once, then brought up to date on each refresh from the catalogue's change feed
(``catalog_service.products_changed_since``: product and SKU rows carry ``updated_at``), so a card's
price or on-sale flag lags a merchant's change by at most one refresh interval (10 s). Product pages and
checkout read prices live. A product the store does not hold yet is read from the database.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.catalog import service as catalog_service

OVERLAP = timedelta(seconds=5)  # re-read changes this far back: a write may commit after a later one
CHUNK = 5000


class ProductBriefs:
    def __init__(self) -> None:
        self._briefs: dict[int, catalog_service.ProductBrief] = {}
        self._known: set[int] = set()  # ids asked for (a missing brief: the product does not exist)
        self._since: Any = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._briefs)

    def refresh(self, db: Session, product_ids: Iterable[int]) -> int:
        """Load the briefs of ``product_ids`` not held yet and re-read those changed since the last
        refresh; returns how many were (re)read."""
        wanted = set(int(p) for p in product_ids)
        if self._since is None:
            started = clock.now()
            changed: list[int] = []
            newest = started
        else:
            changed, newest = catalog_service.products_changed_since(db, self._since - OVERLAP)
            started = None
        todo = sorted((wanted - self._known) | (set(changed) & self._known))
        fresh: dict[int, catalog_service.ProductBrief] = {}
        for i in range(0, len(todo), CHUNK):
            fresh.update(catalog_service.product_briefs(db, todo[i : i + CHUNK]))
        with self._lock:
            briefs = dict(self._briefs)
            for pid in todo:
                briefs.pop(pid, None)
            briefs.update(fresh)
            self._briefs = briefs  # swapped whole: readers never see a half-updated dict
            self._known |= set(todo)
        self._since = started if started is not None else newest
        return len(todo)

    def get(self, db: Session, product_ids: Iterable[int]) -> dict[int, catalog_service.ProductBrief]:
        briefs = self._briefs
        ids = set(product_ids)
        out = {p: briefs[p] for p in ids if p in briefs}
        missing = [p for p in ids if p not in briefs and p not in self._known]
        if missing:
            out.update(catalog_service.product_briefs(db, missing))
        return out
