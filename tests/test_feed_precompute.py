"""Batch-ranked candidates (``feed/precompute.py``): made at training, saved in the artifact, and served
only while they still describe the user; the served page is the full path's page when they do."""

from __future__ import annotations

import numpy as np
import pytest

from tests.feed_helpers import trained
from zhongcao.feed import model as feed_model
from zhongcao.feed.precompute import deeper, rank_users
from zhongcao.feed.ranked import RankedLists, follow_hash
from zhongcao.feed.seen import InMemoryMemory, UserMemory
from zhongcao.feed.service import FeedConfig, FeedService
from zhongcao.feed.training import TrainConfig

# Every test trains a feed model on a simulated world first (seconds each): slow.
pytestmark = [pytest.mark.xdist_group("feed_precompute"), pytest.mark.slow]


@pytest.fixture
def model_and_path(database, tmp_path):
    model, path, _store = trained(database, tmp_path)
    return model, path


def _now(model: feed_model.FeedModel) -> int:
    return int(model.ranked.as_of_s) if model.ranked is not None else 0


def _page(service: FeedService, model, user_id: int, follows: list[int], memory: UserMemory | None = None):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return service.page(
        None,
        user_id,
        10,
        now=datetime.fromtimestamp(_now(model), tz=UTC),
        rng=np.random.default_rng(7),
        memory=memory or UserMemory(),
        follows=follows,
        purchases=[],
    )


def test_training_ranks_active_users_and_the_artifact_round_trips(model_and_path):
    model, path = model_and_path
    ranked = model.ranked
    assert ranked is not None and len(ranked.user_ids) > 0
    assert np.isin(ranked.user_ids, model.users.user_ids).all()
    assert (np.diff(ranked.user_ids) > 0).all()
    row = ranked.ranked(0)
    assert len(row.codes) > 0 and (np.diff(row.scores) <= 1e-6).all()  # best first
    assert ((row.codes >= 0) & (row.codes < model.n_content)).all()
    again = RankedLists.load(path)
    assert again is not None
    np.testing.assert_array_equal(again.codes, ranked.codes)
    np.testing.assert_array_equal(again.follow_hash, ranked.follow_hash)
    assert again.as_of_s == ranked.as_of_s
    # The ANN graphs are built once at training and mapped back in, not rebuilt on load.
    loaded = feed_model.load(path)
    assert loaded.collaborative is not None and (path / "ann_content.usearch").exists()
    vector = model.sources.als.user_factors[0]
    built = model.collaborative.content(vector, 20)
    mapped = loaded.collaborative.content(vector, 20)
    np.testing.assert_array_equal(built.codes, mapped.codes)


def test_a_fresh_list_serves_the_same_page_as_the_full_path(model_and_path, database):
    model, _ = model_and_path
    ranked = model.ranked
    follows_of = {}
    from zhongcao.feed.training import follows_at

    follows_of = follows_at(database)
    fast = FeedService(lambda: model, InMemoryMemory())
    # The batch sources deeper than a request (``TrainConfig.rank_depth``): the same page as the full
    # path sourcing as deep.
    full = FeedService(
        lambda: model, InMemoryMemory(), deeper(FeedConfig(use_ranked=False), TrainConfig().rank_depth)
    )
    compared = 0
    for row in range(min(len(ranked.user_ids), 12)):
        user_id = int(ranked.user_ids[row])
        follows = sorted(int(a) for a in follows_of.get(user_id, []))
        # The list was made with these follows (the hash says so), so the fast path is taken.
        assert int(ranked.follow_hash[row]) == follow_hash(np.asarray(follows, dtype=np.int64))
        a = _page(fast, model, user_id, follows)
        b = _page(full, model, user_id, follows)
        assert [(i.content_id, i.product_id) for i in a.items] == [
            (i.content_id, i.product_id) for i in b.items
        ]
        np.testing.assert_allclose(
            [i.score for i in a.items], [i.score for i in b.items], rtol=1e-5, atol=1e-6
        )
        compared += 1
    assert compared > 0


def test_the_list_is_not_used_once_it_no_longer_describes_the_user(model_and_path, database):
    model, _ = model_and_path
    ranked = model.ranked
    service = FeedService(lambda: model, InMemoryMemory())
    bundle = service.bundle(None)
    user_id = int(ranked.user_ids[0])
    from zhongcao.feed.training import follows_at

    follows = sorted(int(a) for a in follows_at(database).get(user_id, []))
    base = {
        "follows": np.asarray(follows, dtype=np.int64),
        "purchased": set(),
        "extra": np.zeros(0, np.int32),
        "extra_categories": np.zeros(0, np.int64),
    }
    assert service.ranked_row(bundle, user_id, base, set(), 10) is not None
    # A new follow: the list was made for other follows.
    other = int(model.catalog.account_ids[0])
    followed_more = {**base, "follows": np.asarray(sorted({*follows, other, 10**9}), dtype=np.int64)}
    assert service.ranked_row(bundle, user_id, followed_more, set(), 10) is None
    # A like or purchase since the model's window changes the user's context.
    liked = {**base, "extra": np.asarray([0], dtype=np.int32), "extra_categories": np.asarray([-1])}
    assert service.ranked_row(bundle, user_id, liked, set(), 10) is None
    # Most of the list already served: the full path finds more.
    row = ranked.ranked(0)
    almost_all = set(row.codes[: max(len(row.codes) - 5, 0)].tolist())
    assert service.ranked_row(bundle, user_id, base, almost_all, 10) is None
    # A user the batch did not rank.
    assert service.ranked_row(bundle, -1, base, set(), 10) is None


def test_served_items_never_come_back_on_the_fast_path(model_and_path, database):
    model, _ = model_and_path
    service = FeedService(lambda: model, InMemoryMemory())
    user_id = int(model.ranked.user_ids[0])
    from zhongcao.feed.training import follows_at

    follows = sorted(int(a) for a in follows_at(database).get(user_id, []))
    memory = UserMemory()
    seen: list[int] = []
    for _ in range(3):
        page = _page(service, model, user_id, follows, memory)
        ids = [i.content_id if i.content_id is not None else -int(i.product_id or 0) for i in page.items]
        assert not set(ids) & set(seen)
        seen.extend(ids)
        memory = page.memory


def test_rank_users_ranks_only_the_users_asked(model_and_path):
    model, _ = model_and_path
    service = FeedService(lambda: model, InMemoryMemory())
    users = model.users.user_ids[:3]
    ranked = rank_users(service, {}, int(model.ranked.as_of_s), user_ids=users[::-1])
    np.testing.assert_array_equal(ranked.user_ids, np.sort(users))
    assert len(ranked.ptr) == len(users) + 1


def test_deeper_batch_lists_last_longer(model_and_path, database):
    """The batch sources each ranked source ``rank_depth`` times as deep as a request can afford, so a
    user's list covers more pages before the request falls back to the full path."""
    from zhongcao.feed.precompute import rank_model_users
    from zhongcao.feed.training import follows_at

    model, _ = model_and_path
    users = model.ranked.user_ids[:20]
    follows = follows_at(database)
    shallow = rank_model_users(model, follows, _now(model), user_ids=users, depth=1.0)
    deep = rank_model_users(model, follows, _now(model), user_ids=users, depth=2.0)
    assert np.diff(deep.ptr).sum() > np.diff(shallow.ptr).sum()
    assert (np.diff(deep.ptr) >= np.diff(shallow.ptr)).all()
    np.testing.assert_array_equal(deep.ranked(0).codes, model.ranked.ranked(0).codes)  # what training made
