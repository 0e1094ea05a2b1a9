"""User contexts (recent items, vectors, category interest, price and click habits, follows) from a
model's user table: the one way they are made, offline (training, parity checks) and online (the
server), so the features the model learned from are the features it is served with."""

from __future__ import annotations

import numpy as np

from zhongcao.feed.collaborative import fold_in
from zhongcao.feed.features import UserContexts, csr
from zhongcao.feed.interactions import Sequences
from zhongcao.feed.model import TAIL, UserTable
from zhongcao.feed.ranker import Sources, UserState


def contexts_from_table(
    sources: Sources,
    table: UserTable,
    rows: np.ndarray,
    follows: list[np.ndarray],
    now_s: np.ndarray,
    n_categories: int,
    extra: list[np.ndarray] | None = None,
    extra_categories: list[np.ndarray] | None = None,
) -> UserContexts:
    """The one way user contexts are made, offline (training, parity) and online (the server).

    ``rows`` index ``table`` (-1: a user the model does not know). ``extra`` are joint codes of what
    each user did since the table was made (likes, purchases), appended to their recent items;
    ``extra_categories`` are those items' categories, which shift the user's category interest."""
    n = len(rows)
    histories = []
    interest = np.zeros((n, max(n_categories, 1)), dtype=np.float32)
    price_ref = np.full(n, np.nan, dtype=np.float32)
    log_impressions = np.zeros(n, dtype=np.float32)
    click_rate = np.full(n, table.median_click_rate, np.float32)
    vectors = np.zeros((n, sources.als.item_factors.shape[1]), dtype=np.float32)
    for i, row in enumerate(rows.tolist()):
        tail = table.tail(row) if row >= 0 else np.zeros(0, dtype=np.int32)
        added = extra[i] if extra is not None else np.zeros(0, dtype=np.int32)
        if len(added):
            tail = np.concatenate([tail, np.asarray(added, dtype=np.int32)])[-TAIL:]
        histories.append(tail)
        if row >= 0:
            interest[i] = table.category_interest[row]
            price_ref[i] = table.price_ref[row]
            log_impressions[i] = table.log_impressions[row]
            click_rate[i] = table.click_rate[row]
        if extra_categories is not None and len(extra_categories[i]):
            cats = np.asarray(extra_categories[i], dtype=np.int64)
            cats = cats[(cats >= 0) & (cats < interest.shape[1])]
            if len(cats):
                bump = np.bincount(cats, minlength=interest.shape[1]).astype(np.float32)
                interest[i] = (
                    0.7 * interest[i] + 0.3 * bump / bump.sum() if interest[i].sum() else bump / bump.sum()
                )
        als_row = table.als_row[row] if row >= 0 else -1
        if als_row >= 0 and not len(added):
            vectors[i] = sources.als.user_factors[als_row]
        elif als_row >= 0:
            # What the user just did moves their vector toward it (as a fold-in step would).
            vectors[i] = sources.als.user_factors[als_row] + fold_in(
                sources.als.item_factors, np.asarray(added)
            )
        else:
            vectors[i] = fold_in(sources.als.item_factors, tail)
    lengths = np.asarray([len(h) for h in histories], dtype=np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    items = np.concatenate(histories).astype(np.int32) if lengths.sum() else np.zeros(0, dtype=np.int32)
    history = Sequences(indptr, items, len(sources.als.item_factors))
    follow_ptr, follow_accounts = csr([np.sort(np.asarray(f, dtype=np.int64)) for f in follows])
    return UserContexts(
        state=UserState(history, vectors),
        follow_ptr=follow_ptr,
        follow_accounts=follow_accounts,
        category_interest=interest,
        price_ref=price_ref,
        log_impressions=log_impressions,
        click_rate=click_rate,
        now_s=np.asarray(now_s, dtype=np.int64),
    )
