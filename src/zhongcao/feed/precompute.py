"""Batch-ranked candidates: every known user's candidates, scored by the model, computed in one batch.

Ranking a page online costs a few milliseconds of sources, features and four LightGBM predictions, far
more than the rest of a request. Most of that work does not depend on the moment of the request: the
user's vector, history and categories only change when the user does something. So after training,
:func:`rank_users` runs the feed's own candidate sources (``FeedService.sourced``) and the same
features and model (``FeedService.score``, in large batches) for every user the model knows, and keeps
each user's candidates with their scores, source labels and product cards (``ranked.npz`` in the
artifact).

A request uses a user's list when nothing the list depends on has changed since it was made: the user
follows the same accounts (a hash), has liked and bought nothing since the model's window, and enough
of the list is left after removing what was served. Then only live rooms and followed accounts'
content that became available since are scored online; the experience gate, diversity, frequency caps,
exploration, campaign slots and the no-repeat rule apply as on the full path. Otherwise the request
runs the full path. ``tests/test_feed_precompute.py`` checks both paths agree on a fresh list.

This module runs the server's own code (``FeedService``), so it sits above :mod:`zhongcao.feed.service`
and below the trainer that calls it; the lists it makes (:mod:`zhongcao.feed.ranked`) are what the
model and the server read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from zhongcao.feed.cards import label_sources
from zhongcao.feed.features import UserContexts, csr, feed_features
from zhongcao.feed.interactions import Sequences
from zhongcao.feed.model import FeedModel
from zhongcao.feed.ranked import RankedLists, follow_hash
from zhongcao.feed.ranker import UserState
from zhongcao.feed.seen import InMemoryMemory
from zhongcao.feed.service import FeedConfig, FeedService
from zhongcao.feed.sources import Candidates, Source

if TYPE_CHECKING:
    from zhongcao.feed.ann import InnerProductIndex

PRODUCT_CARDS = 24  # product cards kept per user
CHUNK = 512  # users scored together


def deeper(config: FeedConfig, depth: float) -> FeedConfig:
    """``config`` with the ranked sources (collaborative, next items, trending) ``depth`` times as deep:
    a batch can afford more candidates per user than a request can, and a longer list keeps a longer
    session on the fast path. Live rooms and followed accounts are sourced online anyway."""
    return replace(
        config,
        from_collaborative=round(config.from_collaborative * depth),
        from_next_items=round(config.from_next_items * depth),
        from_trending=round(config.from_trending * depth),
    )


def _csr(parts: list[np.ndarray], dtype: type) -> tuple[np.ndarray, np.ndarray]:
    ptr = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum([len(p) for p in parts], out=ptr[1:])
    flat: np.ndarray = np.concatenate(parts).astype(dtype) if ptr[-1] else np.zeros(0, dtype=dtype)
    return ptr, flat


def rank_users(
    service: FeedService,
    follows: dict[int, np.ndarray],
    now_s: int,
    *,
    user_ids: np.ndarray | None = None,
    progress: Callable[[int], object] | None = None,
    threads: int = 2,
) -> RankedLists:
    """Rank the candidates of ``user_ids`` (default: every user the model knows) as of ``now_s``, with
    the service's current model and catalogue (``service.bundle`` must be loaded)."""
    bundle = service.bundle(None)
    if bundle is None:
        raise ValueError("the feed service has no model to rank with")
    model, catalog = bundle.model, bundle.catalog
    users = np.asarray(model.users.user_ids if user_ids is None else np.sort(user_ids), dtype=np.int64)
    weights = service.weights(model)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("codes", "scores", "sources", "because", "banded")}
    product_parts: list[np.ndarray] = []
    product_score_parts: list[np.ndarray] = []
    hashes = np.zeros(len(users), dtype=np.int64)
    empty: set[int] = set()
    for start in range(0, len(users), CHUNK):
        chunk = users[start : start + CHUNK]
        chunk_follows = [follows.get(int(u), np.zeros(0, dtype=np.int64)) for u in chunk]
        inputs = [
            {"follows": np.asarray(sorted(f), dtype=np.int64), "purchased": set(),
             "extra": np.zeros(0, np.int32), "extra_categories": np.zeros(0, np.int64)}
            for f in chunk_follows
        ]  # fmt: skip
        contexts = [service.context(bundle, int(u), inp, now_s) for u, inp in zip(chunk, inputs, strict=True)]
        vectors = np.concatenate([ctx.state.vectors for ctx in contexts])
        collaborative = _batch_search(
            bundle.collaborative.content_index, vectors, service.config.from_collaborative
        )
        products = _batch_search(bundle.collaborative.product_index, vectors, PRODUCT_CARDS)
        for i, inp in enumerate(inputs):
            ids, found = collaborative[0][i], collaborative[1][i]
            ok = ids >= 0
            inp["collaborative"] = Candidates(ids[ok].astype(np.int64), found[ok], Source.collaborative)
        labelled = []
        for ctx, inp in zip(contexts, inputs, strict=True):
            sources, banded = service.sourced(bundle, ctx, inp, empty, now_s)
            labelled.append(label_sources(sources, banded))
        width = max((len(x) for x in labelled), default=0)
        candidates = np.full((len(chunk), max(width, 1)), -1, dtype=np.int64)
        for i, code_source in enumerate(labelled):
            candidates[i, : len(code_source)] = np.fromiter(
                code_source, dtype=np.int64, count=len(code_source)
            )
        batch = _stack(contexts)
        x = feed_features(model.sources, model.stats, catalog, batch, candidates)
        scores = model.objectives.score(x, weights, threads=threads)[0].reshape(candidates.shape)
        for i, code_source in enumerate(labelled):
            n = len(code_source)
            order = np.argsort(-scores[i, :n], kind="stable")
            codes = candidates[i, :n][order]
            labels = [code_source[int(c)] for c in codes.tolist()]
            parts["codes"].append(codes)
            parts["scores"].append(scores[i, :n][order].astype(np.float32))
            parts["sources"].append(np.asarray([int(lab[0]) for lab in labels], dtype=np.int8))
            parts["because"].append(np.asarray([lab[1] for lab in labels], dtype=np.int64))
            parts["banded"].append(np.asarray([lab[2] for lab in labels], dtype=bool))
            ids, found = products[0][i], products[1][i]
            ok = ids >= 0
            product_parts.append(model.product_ids[ids[ok]])
            product_score_parts.append(found[ok].astype(np.float32))
            hashes[start + i] = follow_hash(chunk_follows[i])
        if progress is not None:
            progress(len(chunk))
    ptr, codes = _csr(parts["codes"], np.int32)
    _, scores = _csr(parts["scores"], np.float32)
    _, source_labels = _csr(parts["sources"], np.int8)
    _, because = _csr(parts["because"], np.int64)
    _, banded = _csr(parts["banded"], bool)
    product_ptr, product_ids = _csr(product_parts, np.int64)
    _, product_scores = _csr(product_score_parts, np.float32)
    return RankedLists(
        user_ids=users, follow_hash=hashes, ptr=ptr, codes=codes, scores=scores, sources=source_labels,
        because=because, banded=banded, product_ptr=product_ptr, product_ids=product_ids,
        product_scores=product_scores, as_of_s=int(now_s),
    )  # fmt: skip


def _batch_search(
    index: InnerProductIndex | None, vectors: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` per row of ``vectors`` in one ANN call (rows of zeros — no taste yet — find nothing)."""
    n = len(vectors)
    if index is None or n == 0:
        return np.full((n, 0), -1, dtype=np.int32), np.zeros((n, 0), dtype=np.float32)
    saved, index.threads = index.threads, 2
    try:
        ids, scores = index.search(vectors, k)
    finally:
        index.threads = saved
    ids[~np.any(vectors, axis=1)] = -1
    return ids, scores


def _stack(contexts: list[UserContexts]) -> UserContexts:
    """One batch of user contexts from one-user contexts (rows in order)."""
    histories = [
        c.state.history.items[c.state.history.indptr[0] : c.state.history.indptr[1]] for c in contexts
    ]
    indptr, items = csr(histories)
    follow_ptr, follow_accounts = csr([c.follows_of(0) for c in contexts])
    return UserContexts(
        state=UserState(
            Sequences(indptr, items.astype(np.int32), contexts[0].state.history.n_items),
            np.concatenate([c.state.vectors for c in contexts]),
        ),
        follow_ptr=follow_ptr,
        follow_accounts=follow_accounts,
        category_interest=np.concatenate([c.category_interest for c in contexts]),
        price_ref=np.concatenate([c.price_ref for c in contexts]),
        log_impressions=np.concatenate([c.log_impressions for c in contexts]),
        click_rate=np.concatenate([c.click_rate for c in contexts]),
        now_s=np.concatenate([c.now_s for c in contexts]),
    )


def rank_model_users(
    model: FeedModel,
    follows: dict[int, np.ndarray],
    now_s: int,
    progress: Callable[[int], object] | None = None,
    user_ids: np.ndarray | None = None,
    depth: float = 1.0,
) -> RankedLists:
    """Users' candidates ranked by ``model`` with the serving code (``precompute``; default: all), the
    ranked sources ``depth`` times as deep as a request's."""
    service = FeedService(lambda: model, InMemoryMemory(), deeper(FeedConfig(), depth))
    return rank_users(service, follows, now_s, user_ids=user_ids, progress=progress)
