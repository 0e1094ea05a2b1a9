"""Feed test helpers: a synthetic catalog for engine tests, a tiny simulated world with a trained model."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.world_snapshots import built_once
from zhongcao.db import Database
from zhongcao.events.store import SegmentEventStore
from zhongcao.feed import model as feed_model
from zhongcao.feed.catalog import Catalog
from zhongcao.feed.training import TrainConfig, train
from zhongcao.users import service as users_service
from zhongcao.users.models import TokenKind
from zhongcao.world.generate import WorldSpec
from zhongcao.world.service import build_world

NOW_S = 1_800_000_000


def synthetic_catalog(
    *,
    accounts: list[int],
    shops: list[int],
    categories: list[int],
    prices: list[int] | None = None,
    live: list[bool] | None = None,
    status: list[int] | None = None,
    ages_days: list[float] | None = None,
    anchors: list[list[int]] | None = None,
    shop_scores: dict[int, int | None] | None = None,
    campaign_products: frozenset[int] = frozenset(),
) -> Catalog:
    n = len(accounts)
    anchors = anchors if anchors is not None else [[1000 + i] for i in range(n)]
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum([len(a) for a in anchors], out=ptr[1:])
    return Catalog(
        content_ids=np.arange(1, n + 1, dtype=np.int64),
        account_ids=np.asarray(accounts, dtype=np.int64),
        shop_ids=np.asarray(shops, dtype=np.int64),
        category=np.asarray(categories, dtype=np.int64),
        price_fen=np.asarray(prices or [10_000] * n, dtype=np.int64),
        created_s=NOW_S - (np.asarray(ages_days or [30.0] * n) * 86_400).astype(np.int64),
        is_live=np.asarray(live or [False] * n, dtype=bool),
        status=np.asarray(status or [0] * n, dtype=np.int8),
        anchor_ptr=ptr,
        anchor_products=np.asarray([p for a in anchors for p in a], dtype=np.int64),
        account_followers={a: 10 * a for a in set(accounts)},
        account_names={a: f"account{a}" for a in set(accounts)},
        account_is_shop={a: False for a in set(accounts)},
        category_names=[("美妆", "Beauty"), ("食品", "Food"), ("数码", "Digital")],
        shop_score_centi=shop_scores or {},
        campaign_products=campaign_products,
    )


def _build_tiny_world(database: Database, root: Path, days: int) -> SegmentEventStore:
    store = SegmentEventStore(root / "events")
    build_world(
        database,
        WorldSpec(scale="tiny", days=days),
        store=store,
        world_dir=root / "w",
        progress=False,
    )
    return store


def tiny_world(database: Database, tmp_path: Path, days: int = 5) -> SegmentEventStore:
    """The tiny world simulated for ``days`` days; its events in ``tmp_path / "events"`` (built once per
    test process and backend, then restored: tests/world_snapshots.py)."""

    def build(root: Path) -> None:
        _build_tiny_world(database, root, days).close()

    built_once(database, tmp_path, f"tiny-{days}", build)
    return SegmentEventStore(tmp_path / "events")


def trained(
    database: Database, tmp_path: Path, **config: object
) -> tuple[feed_model.FeedModel, Path, SegmentEventStore]:
    """The tiny world and a feed model trained on it (built once per test process, backend and
    ``config``, then restored: tests/world_snapshots.py)."""

    def build(root: Path) -> Path:
        store = _build_tiny_world(database, root, 5)
        path, _ = train(database, store, TrainConfig(rounds=20, **config), models_root=root / "models")  # type: ignore[arg-type]
        store.close()
        return path.relative_to(root)

    path = tmp_path / built_once(database, tmp_path, f"trained-{sorted(config.items())!r}", build)
    return feed_model.load(path), path, SegmentEventStore(tmp_path / "events")


def token_for(database: Database, user_id: int) -> str:
    with database.session() as db:
        user = users_service.get_user(db, user_id) if hasattr(users_service, "get_user") else None
        if user is None:
            from zhongcao.users.models import User

            user = db.get(User, user_id)
        secret, _ = users_service.issue_token(db, user, kind=TokenKind.api, name="feed-test")
        db.commit()
    return secret
