"""One feature code path: the server's per-request features equal the offline (training) ones."""

from __future__ import annotations

import numpy as np
import pytest

from tests.feed_helpers import trained
from zhongcao import clock
from zhongcao.feed.contexts import contexts_from_table
from zhongcao.feed.features import FEATURE_NAMES, feed_features
from zhongcao.feed.seen import InMemoryMemory
from zhongcao.feed.service import FeedService
from zhongcao.feed.training import follows_at

# Trains a feed model on a simulated world first: slow.
pytestmark = pytest.mark.slow


def test_online_features_equal_offline_features(database, db, tmp_path):
    model, _path, _store = trained(database, tmp_path)
    service = FeedService(lambda: model, InMemoryMemory())
    bundle = service.bundle(db)
    catalog = bundle.catalog
    users = model.users.user_ids[:: max(1, len(model.users.user_ids) // 8)][:8]
    follows = follows_at(database)
    now_s = int(clock.now().timestamp())
    rng = np.random.default_rng(0)
    candidates = rng.integers(0, len(catalog), size=(len(users), 40))
    # Offline: the training path, a batch of users from the model's tables.
    offline_ctx = contexts_from_table(
        model.sources,
        model.users,
        np.asarray([model.users.row(int(u)) for u in users]),
        [follows.get(int(u), np.zeros(0, np.int64)) for u in users],
        np.full(len(users), now_s),
        catalog.n_categories,
    )
    offline = feed_features(model.sources, model.stats, catalog, offline_ctx, candidates)
    # Online: what a request does, one user at a time, reading the platform through the session.
    for i, user in enumerate(users.tolist()):
        inputs = service.context_inputs(db, int(user), service.memory.read(None, int(user)), bundle, now_s)
        online_ctx = service.context(bundle, int(user), inputs, now_s)
        online = feed_features(model.sources, model.stats, catalog, online_ctx, candidates[i : i + 1])
        rows = slice(i * 40, (i + 1) * 40)
        assert online.shape == (40, len(FEATURE_NAMES))
        np.testing.assert_allclose(online, offline[rows], rtol=1e-6, atol=1e-6)
    assert np.nansum(np.abs(offline)) > 0  # NaN = unknown (no price, shop not scored), equal on both sides
