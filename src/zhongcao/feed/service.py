"""Serving the feed: a page for a user from the trained model and what the platform knows right now.

``FeedService.page`` runs: the user's context (the model's user table + what they did since: follows
and orders from the platform tables, likes and "not interested" from the feed memory) -> candidate
sources (collaborative ANN, next items, followed, live now, trending) -> features (the same
``feed_features`` training used) -> multi-objective score -> re-ranking (experience gate and boost,
diversity, frequency caps, integrity hook) -> exploration and campaign slots -> reasons. Nothing in
the user's recently served list comes back. ``record`` then writes what was served (in a write
session of its own: GET requests read in read-only sessions).

The feed is three modules: this one serves; :mod:`zhongcao.feed.refreshing` keeps the model, its
catch-up state and the catalogue current (what jobs publish, picked up on the request path when due);
:mod:`zhongcao.feed.cards` builds the items and their reasons.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.commerce import service as commerce_service
from zhongcao.content import reads as content_reads
from zhongcao.content import service as content_service
from zhongcao.errors import DomainError, InvalidInput
from zhongcao.feed.campaign_slots import campaign_candidates
from zhongcao.feed.cards import SOURCE_OF, FeedItem, item_card, label_sources, product_cards
from zhongcao.feed.catalog import Catalog
from zhongcao.feed.contexts import contexts_from_table
from zhongcao.feed.event_log import window_end
from zhongcao.feed.exploration import explore, slots
from zhongcao.feed.features import UserContexts, feed_features
from zhongcao.feed.followed import followed_candidates
from zhongcao.feed.interactions import Sequences
from zhongcao.feed.live import live_candidates
from zhongcao.feed.model import FeedModel
from zhongcao.feed.next_items import next_item_candidates
from zhongcao.feed.objectives import ObjectiveWeights
from zhongcao.feed.ranked import RankedRow, follow_hash
from zhongcao.feed.refreshing import Bundle, FeedConfig, Refreshing
from zhongcao.feed.rerank import integrity_hook, rerank
from zhongcao.feed.seen import FeedMemory, UserMemory
from zhongcao.feed.sources import Candidates, Source
from zhongcao.pagination import decode_cursor, encode_cursor

# Kept importable from here (the service's public names before the split into three modules).
__all__ = ["MAX_LIMIT", "PURCHASE_DAYS", "FeedConfig", "FeedItem", "FeedPage", "FeedService", "label_sources"]
_Bundle = Bundle

MAX_LIMIT = 50
PURCHASE_DAYS = 30  # a product bought this recently is not advertised back to the buyer


@dataclass(frozen=True)
class FeedPage:
    user_id: int
    request_id: str
    page: int
    items: list[FeedItem]
    next_cursor: str | None
    memory: UserMemory
    model_version: str | None
    catalog: Catalog


class FeedService(Refreshing):
    """The feed of one API worker: serving here, refreshing inherited (:class:`Refreshing`)."""

    def __init__(
        self,
        model: Callable[[], FeedModel | None],
        memory: FeedMemory,
        config: FeedConfig | None = None,
        *,
        version: Callable[[], str | None] | None = None,
        weights: ObjectiveWeights | None = None,
        exists: Callable[[], bool] | None = None,
        catch_up_folder: Callable[[], Path | None] | None = None,
    ) -> None:
        super().__init__(model, config, version=version, exists=exists, catch_up_folder=catch_up_folder)
        self.memory = memory
        self.weights_override = weights

    def close(self) -> None:
        """Write what the memory still holds (a worker's shutdown)."""
        close = getattr(self.memory, "close", None)
        if close is not None:
            close()

    def weights(self, model: FeedModel) -> ObjectiveWeights:
        return self.weights_override or ObjectiveWeights.from_env(model.weights)

    # --- what the user did -----------------------------------------------------------------------

    @staticmethod
    def recent_purchases(db: Session, user_id: int, since: datetime) -> list[tuple[int, int]]:
        """(product id, epoch s) of the user's paid orders since ``since``, oldest first."""
        rows = commerce_service.recent_purchases(db, user_id, since)
        return [(p, int(at.timestamp())) for p, at in rows]

    def context_inputs(
        self, db: Session | None, user_id: int, memory: UserMemory, bundle: Bundle, now_s: int,
        follows: list[int] | None = None, purchases: list[tuple[int, int]] | None = None,
    ) -> dict:  # fmt: skip
        model, catalog = bundle.model, bundle.catalog
        if follows is None:
            follows = content_service.followed_account_ids(db, user_id) if db is not None else []
        if purchases is None:
            since = datetime.fromtimestamp(now_s - PURCHASE_DAYS * 86_400, tz=UTC)
            purchases = self.recent_purchases(db, user_id, since) if db is not None else []
        # What the user did since the model's window, in time order: likes (content) and purchases.
        window = window_end(model)
        until_s = int(window.timestamp()) if window else 0
        done: list[tuple[int, int, int]] = []  # (epoch s, joint code, category)
        for content_id, _account, at in memory.feedback_of("like"):
            code = catalog.code_of.get(content_id, -1)
            if 0 <= code < model.n_content:
                done.append((at, code, int(catalog.category[code])))
        product_category: dict[int, int] = {}
        for product_id, at in purchases:
            if at < until_s:
                continue
            joint = int(model.product_code([product_id])[0])
            if joint >= 0:
                done.append((at, joint, product_category.get(product_id, -1)))
        done.sort()
        return {
            "follows": np.asarray(sorted(follows), dtype=np.int64),
            "purchased": {p for p, _ in purchases},
            "extra": np.asarray([d[1] for d in done], dtype=np.int32),
            "extra_categories": np.asarray([d[2] for d in done], dtype=np.int64),
        }

    def context(self, bundle: Bundle, user_id: int, inputs: dict[str, Any], now_s: int) -> UserContexts:
        model = bundle.model
        row = model.users.row(user_id)
        return contexts_from_table(
            model.sources,
            model.users,
            np.asarray([row], dtype=np.int64),
            [inputs["follows"]],
            np.asarray([now_s], dtype=np.int64),
            bundle.catalog.n_categories,
            extra=[inputs["extra"]],
            extra_categories=[inputs["extra_categories"]],
        )

    # --- a page ----------------------------------------------------------------------------------

    def page(
        self,
        db: Session | None,
        user_id: int,
        limit: int = 10,
        cursor: str | None = None,
        *,
        now: datetime | None = None,
        rng: np.random.Generator | None = None,
        memory: UserMemory | None = None,
        follows: list[int] | None = None,
        purchases: list[tuple[int, int]] | None = None,
    ) -> FeedPage:
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
        request_id, page_no = secrets.token_hex(8), 0
        if cursor:
            state = decode_cursor(cursor)
            if not isinstance(state, dict) or not isinstance(state.get("p"), int):
                raise InvalidInput("cursor is not valid", code="invalid_cursor", field="cursor")
            page_no = int(state["p"])
        now_s = int((now or clock.now()).timestamp())
        rng = rng or np.random.default_rng()
        memory = memory if memory is not None else self.memory.read(db, user_id)
        bundle = self.bundle(db)
        if bundle is None:
            raise ModelNotReady()
        catalog = bundle.catalog
        inputs = self.context_inputs(db, user_id, memory, bundle, now_s, follows, purchases)
        contexts = self.context(bundle, user_id, inputs, now_s)
        seen = memory.served_ids(now_s)
        hidden = memory.feedback_of("not_interested")
        hidden_accounts = np.asarray(sorted({a for _, a, _ in hidden if a > 0}), dtype=np.int64)
        excluded_ids = seen | {c for c, _, _ in hidden}
        excluded_codes = catalog.codes(np.fromiter(excluded_ids, dtype=np.int64, count=len(excluded_ids)))
        excluded = set(excluded_codes[excluded_codes >= 0].tolist())
        inputs["ranked"] = self.ranked_row(bundle, user_id, inputs, excluded, limit)
        items = self._rank(bundle, contexts, inputs, excluded, hidden_accounts, memory, now_s, limit, rng)
        gone = self.taken_down(db, items)
        if gone:  # removed since the catalogue was read: rank again without them
            gone_codes = catalog.codes(np.fromiter(gone, dtype=np.int64, count=len(gone)))
            excluded |= set(gone_codes[gone_codes >= 0].tolist())
            inputs["ranked"] = self.ranked_row(bundle, user_id, inputs, excluded, limit)
            items = self._rank(bundle, contexts, inputs, excluded, hidden_accounts, memory, now_s, limit, rng)
            items = [it for it in items if it.content_id not in gone]
        if page_no == 0:  # a room on air opens the page even if it was served before; not if hidden
            hidden_ids = np.fromiter((c for c, _, _ in hidden), dtype=np.int64)
            not_wanted = set(catalog.codes(hidden_ids).tolist()) - {-1}
            if len(hidden_accounts):
                not_wanted |= set(catalog.items_of_accounts(hidden_accounts).tolist())
            items = self.live_first(
                bundle, items, contexts.category_interest[0], inputs["follows"], not_wanted, limit
            )
        served_ids = [
            it.content_id if it.content_id is not None else -int(it.product_id or 0) for it in items
        ]
        next_cursor = encode_cursor({"p": page_no + 1}) if items else None
        return FeedPage(
            user_id=user_id,
            request_id=request_id,
            page=page_no,
            items=items,
            next_cursor=next_cursor,
            memory=memory.with_served(served_ids, now_s),
            model_version=bundle.version,
            catalog=catalog,
        )

    def anonymous_page(
        self,
        db: Session | None,
        limit: int = 10,
        cursor: str | None = None,
        *,
        rng: np.random.Generator | None = None,
    ) -> FeedPage:
        """A page for a signed-out visitor: trending content (newest after it), diversified, past the
        experience gate and the integrity hook, with the exploration share of new content and shops.
        Nothing is stored: the cursor carries where the list stopped and what exploration showed, so
        the pages of one visit never repeat."""
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
        position, page_no = 0, 0
        explored: list[int] = []
        if cursor:
            state = decode_cursor(cursor)
            ok = (
                isinstance(state, dict)
                and isinstance(state.get("p"), int)
                and isinstance(state.get("a"), int)
            )
            shown = state.get("x", []) if ok else None
            if not ok or not isinstance(shown, list) or not all(isinstance(x, int) for x in shown):
                raise InvalidInput("cursor is not valid", code="invalid_cursor", field="cursor")
            explored = shown
            page_no, position = int(state["p"]), max(int(state["a"]), 0)
        rng = rng or np.random.default_rng()
        bundle = self.bundle(db)
        if bundle is None:
            raise ModelNotReady()
        catalog, c = bundle.catalog, self.config
        n_explore = slots(c.exploration.share, limit, rng)
        taken = {catalog.code_of[x] for x in explored if x in catalog.code_of}
        main: list[int] = []
        per_account: dict[int, int] = {}
        order = bundle.anonymous_order
        while position < len(order) and len(main) < limit - n_explore:
            code = int(order[position])
            position += 1
            account = int(catalog.account_ids[code])
            if not (catalog.available[code] and bundle.eligible[code]) or code in taken:
                continue
            if per_account.get(account, 0) >= c.rerank.per_account:
                continue  # diversity: skipped for this page and not shown later (the list moves on)
            per_account[account] = per_account.get(account, 0) + 1
            main.append(code)
        uniform = np.ones(max(catalog.n_categories, 1), dtype=np.float32)
        # Exploration draws only from what the list has not passed yet (what it passed was shown).
        pool = bundle.cold[bundle.anonymous_rank[bundle.cold] >= position]
        exploring = explore(catalog, pool, uniform, n_explore, rng, taken | set(main)).codes.tolist()
        items = [item_card(catalog, code, Source.trending, -1, False, 0.0, np.zeros(0)) for code in main]
        for code in exploring:
            spot = int(rng.integers(0, len(items) + 1))
            items.insert(spot, item_card(catalog, code, Source.exploration, -1, False, 0.0, np.zeros(0)))
        gone = self.taken_down(db, items)
        items = [it for it in items if it.content_id not in gone]
        if page_no == 0:
            items = self.live_first(bundle, items, uniform, np.zeros(0, dtype=np.int64), set(), limit)
        explored = (explored + [int(catalog.content_ids[x]) for x in exploring])[-100:]
        more = position < len(order)
        next_cursor = (
            encode_cursor({"p": page_no + 1, "a": position, "x": explored}) if items and more else None
        )
        return FeedPage(
            user_id=0,
            request_id=secrets.token_hex(8),
            page=page_no,
            items=items[:limit],
            next_cursor=next_cursor,
            memory=UserMemory(),
            model_version=bundle.version,
            catalog=catalog,
        )

    def live_first(
        self,
        bundle: Bundle,
        items: list[FeedItem],
        interest: np.ndarray,
        follows: np.ndarray,
        excluded: set[int],
        limit: int,
    ) -> list[FeedItem]:
        """The first page opens on a room on air: of those the experience gate lets through and the
        user has not hidden, the one the live source scores highest (interest in its category, its
        audience, x3 when followed). It moves to the top if the page has it, else takes the top and
        the page's last item gives way."""
        if not self.config.live_first:
            return items
        catalog = bundle.catalog
        rooms = live_candidates(catalog, interest, follows, len(catalog.live_codes))
        for code, score in zip(rooms.codes.tolist(), rooms.scores.tolist(), strict=True):
            if code in excluded or not (catalog.available[code] and bundle.eligible[code]):
                continue
            content_id = int(catalog.content_ids[code])
            first = item_card(catalog, code, Source.live, int(catalog.category[code]), False, score, follows)
            rest = [it for it in items if it.content_id != content_id]
            return [first, *rest][:limit]
        return items

    def taken_down(self, db: Session | None, items: list[FeedItem]) -> set[int]:
        """Of a page's content, what was removed (an operator's take-down, the owner's removal) after
        the catalogue was read: one primary-key read per page, so removed content leaves the feed at
        once rather than at the next catalogue refresh, which is then due at the next request."""
        if db is None:
            return set()
        gone = content_reads.removed_among(db, [it.content_id for it in items if it.content_id is not None])
        if gone:
            self.expire()
        return gone

    def ranked_row(
        self, bundle: Bundle, user_id: int, inputs: dict, excluded: set[int], limit: int
    ) -> RankedRow | None:
        """The user's batch-ranked list when it still describes them (``precompute``), else None."""
        ranked = bundle.model.ranked
        if ranked is None or not self.config.use_ranked or len(inputs["extra"]):
            return None  # no list, or the user liked or bought something since the model's window
        row = ranked.row(user_id)
        if row < 0 or int(ranked.follow_hash[row]) != follow_hash(inputs["follows"]):
            return None
        listed = ranked.ranked(row)
        left = len(listed.codes) - (
            int(_member(listed.codes, excluded, len(bundle.catalog)).sum()) if excluded else 0
        )
        return listed if left >= self.config.ranked_min_left * limit else None

    def record(self, db: Session | None, page: FeedPage) -> None:
        self.memory.write(db, page.user_id, page.memory)

    def _rank(
        self,
        bundle: Bundle,
        contexts: UserContexts,
        inputs: dict[str, Any],
        excluded: set[int],
        hidden_accounts: np.ndarray,
        memory: UserMemory,
        now_s: int,
        limit: int,
        rng: np.random.Generator,
    ) -> list[FeedItem]:
        c = self.config
        catalog = bundle.catalog
        interest = contexts.category_interest[0]
        follows = inputs["follows"]
        ranked = inputs.get("ranked")
        if ranked is not None:  # the batch-ranked list, plus what became available since, scored now
            codes, scores, code_source = self._from_ranked(
                bundle, contexts, inputs, ranked, excluded, hidden_accounts, now_s
            )
        else:
            codes, scores, code_source = self.scored_candidates(
                bundle, contexts, inputs, excluded, hidden_accounts, now_s
            )
        # Followed accounts keep a floor share of the page when they have something new.
        n_explore = slots(c.exploration.share, limit, rng)
        campaign_positions = [p for p in c.campaign.positions if p < limit]
        product_positions = (
            [p for p in range(c.product_card_every - 1, limit, c.product_card_every)]
            if c.product_card_every
            else []
        )
        n_main = max(limit - n_explore - len(campaign_positions) - len(product_positions), 0)
        recent = [
            catalog.code_of[cid]
            for cid, _ in memory.served[-c.rerank.recent_window :]
            if cid in catalog.code_of
        ]
        main_codes, main_scores = rerank(catalog, codes, scores, n_main, c.rerank, recent, integrity_hook())
        main = list(zip(main_codes.tolist(), main_scores.tolist(), strict=True))
        followed_pool = [
            (int(code), float(s)) for code, s in zip(codes.tolist(), scores.tolist(), strict=True)
            if code_source[code][0] is Source.followed
        ]  # fmt: skip
        floor = min(math.ceil(c.followed_min_share * n_main), len(followed_pool)) if follows.size else 0
        have = sum(1 for code, _ in main if code_source[code][0] is Source.followed)
        if have < floor:
            chosen = {code for code, _ in main}
            extra = [p for p in sorted(followed_pool, key=lambda p: -p[1]) if p[0] not in chosen][
                : floor - have
            ]
            keep = [m for m in main if code_source[m[0]][0] is not Source.followed]
            keep = keep[: max(n_main - have - len(extra), 0)]
            main = sorted(
                [m for m in main if code_source[m[0]][0] is Source.followed] + keep + extra,
                key=lambda p: -p[1],
            )
        taken = excluded | {code for code, _ in main}
        if len(hidden_accounts):  # "not interested" in an account holds for the fixed slots too
            taken |= set(catalog.items_of_accounts(hidden_accounts).tolist())
        campaign = campaign_candidates(
            catalog, interest, bundle.trending_scores, bundle.eligible, len(campaign_positions), taken
        )
        taken |= set(campaign.codes.tolist())
        exploring = explore(
            catalog,
            bundle.cold,
            interest,
            n_explore,
            rng,
            taken,
        )
        # Assemble: fixed slots first, then the main list fills the rest in order.
        slots_filled: dict[int, FeedItem] = {}
        for pos, code in zip(campaign_positions, campaign.codes.tolist(), strict=False):
            slots_filled[pos] = item_card(catalog, code, Source.campaign, -1, False, 0.0, follows)
        free = [p for p in range(limit) if p not in slots_filled and p not in product_positions]
        if len(exploring):
            spots = sorted(rng.choice(free, size=min(len(exploring), len(free)), replace=False).tolist())
            for pos, code in zip(spots, exploring.codes.tolist(), strict=False):
                slots_filled[pos] = item_card(catalog, code, Source.exploration, -1, False, 0.0, follows)
        products = product_cards(bundle, contexts, inputs, memory, len(product_positions))
        for pos, (product_id, score) in zip(product_positions, products, strict=False):
            slots_filled[pos] = FeedItem(-1, None, product_id, "product", Source.collaborative, "similar_taste",
                                         "和你口味相近的人也买了", "People with your taste bought this", score)  # fmt: skip
        out: list[FeedItem] = []
        queue = iter(main)
        for pos in range(limit):
            if pos in slots_filled:
                out.append(slots_filled[pos])
                continue
            nxt = next(queue, None)
            if nxt is None:
                continue
            code, score = nxt
            source, because, in_band = code_source[code]
            out.append(item_card(catalog, code, source, because, in_band, score, follows))
        for nxt in queue:  # slots that could not be filled leave room for the main list
            if len(out) >= limit:
                break
            code, score = nxt
            source, because, in_band = code_source[code]
            out.append(item_card(catalog, code, source, because, in_band, score, follows))
        return out[:limit]

    def sourced(
        self, bundle: Bundle, contexts: UserContexts, inputs: dict[str, Any], excluded: set[int], now_s: int
    ) -> tuple[list[Candidates], np.ndarray]:
        """Every candidate source's answer for one user, and the trending source's in-price-band flags."""
        c = self.config
        catalog, model = bundle.catalog, bundle.model
        interest = contexts.category_interest[0]
        follows = inputs["follows"]
        history = Sequences(
            contexts.state.history.indptr, contexts.state.history.items, contexts.state.history.n_items
        )
        sources: list[Candidates] = [
            inputs.get("collaborative")  # answered for a whole batch of users at once (``precompute``)
            or bundle.collaborative.content(contexts.state.vectors[0], c.from_collaborative, excluded),
            next_item_candidates(
                model.sources.item_to_item, history, model.n_content, c.from_next_items, excluded
            ),
            followed_candidates(catalog, follows, now_s, c.from_followed),
            live_candidates(catalog, interest, follows, c.from_live),
        ]
        trending, banded = bundle.trending.candidates(
            interest, float(contexts.price_ref[0]), c.from_trending, excluded
        )
        sources.append(trending)
        return sources, banded

    def scored_candidates(
        self,
        bundle: Bundle,
        contexts: UserContexts,
        inputs: dict[str, Any],
        excluded: set[int],
        hidden_accounts: np.ndarray,
        now_s: int,
    ) -> tuple[np.ndarray, np.ndarray, dict[int, tuple[Source, int, bool]]]:
        """The union of the sources that may be shown, scored by the model: (codes, scores, per code
        its source label)."""
        sources, banded = self.sourced(bundle, contexts, inputs, excluded, now_s)
        code_source = label_sources(sources, banded)
        codes = np.fromiter(code_source, dtype=np.int64, count=len(code_source))
        codes = codes[self._allowed(bundle.catalog, codes, excluded, hidden_accounts, inputs["purchased"])]
        return codes, self.score(bundle, contexts, codes), code_source

    def score(self, bundle: Bundle, contexts: UserContexts, codes: np.ndarray) -> np.ndarray:
        if not len(codes):
            return np.zeros(0)
        model = bundle.model
        x = feed_features(model.sources, model.stats, bundle.catalog, contexts, codes[None, :])
        return model.objectives.score(x, self.weights(model))[0]

    def _from_ranked(
        self,
        bundle: Bundle,
        contexts: UserContexts,
        inputs: dict[str, Any],
        ranked: RankedRow,
        excluded: set[int],
        hidden_accounts: np.ndarray,
        now_s: int,
    ) -> tuple[np.ndarray, np.ndarray, dict[int, tuple[Source, int, bool]]]:
        """The user's batch-ranked candidates (scored by the same model and features when the batch
        ran), plus live rooms and followed accounts' content that became available since, scored now."""
        c = self.config
        catalog = bundle.catalog
        follows = inputs["follows"]
        labels = zip(
            map(SOURCE_OF.__getitem__, ranked.sources.tolist()), ranked.because.tolist(), ranked.banded.tolist(),
            strict=True,
        )  # fmt: skip
        code_source = dict(zip(ranked.codes.tolist(), labels, strict=True))
        fresh = [
            live_candidates(catalog, contexts.category_interest[0], follows, c.from_live),
            followed_candidates(catalog, follows, now_s, c.from_followed),
        ]
        new_codes: list[int] = []
        for cand in fresh:
            for j, code in enumerate(cand.codes.tolist()):
                if code not in code_source and code not in excluded:
                    because = int(cand.because[j]) if cand.because is not None else -1
                    code_source[code] = (cand.source, because, False)
                    new_codes.append(code)
        new = np.asarray(new_codes, dtype=np.int64)
        purchased = inputs["purchased"]
        new = new[self._allowed(catalog, new, excluded, hidden_accounts, purchased)]
        old = ranked.codes.astype(np.int64)
        keep = self._allowed(catalog, old, excluded, hidden_accounts, purchased)
        codes = np.concatenate([old[keep], new])
        scores = np.concatenate([ranked.scores[keep].astype(np.float64), self.score(bundle, contexts, new)])
        return codes, scores, code_source

    @staticmethod
    def _allowed(
        catalog: Catalog,
        codes: np.ndarray,
        excluded: set[int],
        hidden_accounts: np.ndarray,
        purchased: set[int],
    ) -> np.ndarray:
        ok = catalog.available[codes]
        if excluded:
            ok &= ~_member(codes, excluded, len(catalog))
        if len(hidden_accounts):
            ok &= ~np.isin(catalog.account_ids[codes], hidden_accounts)
        if purchased:  # an item whose anchored products were all bought lately is not advertised back
            ok &= ~_all_anchors_in(catalog, codes, np.fromiter(purchased, dtype=np.int64))
        return ok

    # --- feedback --------------------------------------------------------------------------------

    def feedback(self, db: Session | None, user_id: int, content_id: int, action: str, catalog: Catalog | None = None, memory: UserMemory | None = None) -> UserMemory:  # fmt: skip
        """Remember a like / "not interested" (the next page reads it); returns the new memory."""
        memory = memory if memory is not None else self.memory.read(db, user_id)
        account = 0
        bundle = self._bundle
        catalog = catalog or (bundle.catalog if bundle else None)
        if catalog is not None and content_id in catalog.code_of:
            account = int(catalog.account_ids[catalog.code_of[content_id]])
        elif db is not None:
            content = content_service.content_by_ids(db, [content_id]).get(content_id)
            account = content.account_id if content is not None else 0
        updated = memory.with_feedback(action, content_id, account, int(clock.now().timestamp()))
        self.memory.write(db, user_id, updated)
        return updated


def _all_anchors_in(catalog: Catalog, codes: np.ndarray, products: np.ndarray) -> np.ndarray:
    """Per code: it anchors at least one product and every one of them is in ``products``."""
    starts, counts = catalog.anchor_ptr[codes], np.diff(catalog.anchor_ptr)[codes]
    out = np.zeros(len(codes), dtype=bool)
    has = counts > 0
    if not has.any():
        return out
    starts, counts = starts[has], counts[has]
    first = np.cumsum(counts) - counts  # where each code's anchors begin in the gathered list
    gathered = np.repeat(starts - first, counts) + np.arange(int(counts.sum()))
    hits = np.isin(catalog.anchor_products[gathered], products).astype(np.int64)
    out[has] = np.add.reduceat(hits, first) == counts
    return out


def _member(codes: np.ndarray, members: set[int], n_codes: int) -> np.ndarray:
    """Which ``codes`` are in ``members`` (catalogue codes below ``n_codes``): a lookup table over the
    catalogue costs a few microseconds where ``np.isin`` sorts both sides."""
    table = np.zeros(n_codes, dtype=bool)
    table[np.fromiter(members, dtype=np.int64, count=len(members))] = True
    return table[codes]


class ModelNotReady(DomainError):
    """No feed model has been trained yet (``zhongcao train feed``)."""

    status_code = 503
    code = "feed_model_not_ready"

    def __init__(self) -> None:
        super().__init__("the feed has no trained model yet: run `zhongcao train feed`")
