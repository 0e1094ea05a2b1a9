"""Learning to rank from the simulated world's search logs: better than BM25 order on held-out searches,
published as an artifact, served by the API with explanations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from zhongcao import artifacts, migrate
from zhongcao.api import create_app
from zhongcao.config import Settings
from zhongcao.db import Database
from zhongcao.events.store import SegmentEventStore
from zhongcao.search import ltr
from zhongcao.search import training as search_training
from zhongcao.search.service import state_for
from zhongcao.world.generate import Scale, WorldSpec
from zhongcao.world.service import build_world

# One worker runs the whole module, so the simulated month and the model are made once, not per worker.
pytestmark = pytest.mark.xdist_group("search_ltr")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Database, SegmentEventStore, Path]:
    root = tmp_path_factory.mktemp("ltr-world")
    database = Database(f"sqlite:///{root / 'world.db'}")
    migrate.upgrade(database.engine)
    store = SegmentEventStore(root / "events")
    build_world(
        database, WorldSpec(scale=Scale.tiny, seed=3, days=30), store=store, world_dir=root, progress=False
    )
    yield database, store, root
    store.close()
    database.dispose()


@pytest.fixture(scope="module")
def trained(world) -> tuple[ltr.TrainingReport, Path]:
    # Training is the slow part: once, shared by the tests that only read the report or serve the model.
    database, store, root = world
    return search_training.train_search(database, store=store, root=root / "models")


def test_training_beats_bm25_order_on_held_out_searches(trained) -> None:
    report, folder = trained
    # Tiny world: ~240 searches, ~70 held out with a click. The shoppers click by position and by their
    # category interests, and buy by price and appeal: features BM25 alone cannot see.
    assert report.test_searches >= 30
    assert report.ndcg_ltr > report.ndcg_bm25
    metadata = artifacts.read_metadata(folder)
    assert metadata["metrics"]["ndcg@10_ltr"] == round(report.ndcg_ltr, 4)
    assert metadata["features"] == list(ltr.FEATURES) and "data_window" in metadata
    ranker = ltr.SearchRanker.load(folder)
    x = np.zeros((3, len(ltr.FEATURES)))
    assert len(ranker.explain(x)[0]) == 3


def test_api_serves_the_newest_model_with_explanations(world, trained) -> None:
    database, _store, root = world
    app = create_app(settings=Settings(database_url=str(database.engine.url)), database=database)
    state = state_for(app)
    state.ranker = artifacts.Newest(ltr.MODEL_NAME, ltr.SearchRanker.load, root=root / "models")
    with TestClient(app) as client:
        body = client.get("/api/search", params={"q": "口红", "explain": "true"}).json()
    assert body["ranking"].startswith("ltr:") and body["items"]
    for item in body["items"]:
        assert len(item["explanation"]) == 3
        assert {c["feature"] for c in item["explanation"]} <= set(ltr.FEATURES)


def test_without_a_model_search_is_bm25_order(world) -> None:
    database, _store, root = world
    app = create_app(settings=Settings(database_url=str(database.engine.url)), database=database)
    state_for(app).ranker = artifacts.Newest(ltr.MODEL_NAME, ltr.SearchRanker.load, root=root / "no-models")
    with TestClient(app) as client:
        body = client.get("/api/search", params={"q": "口红"}).json()
    assert body["ranking"] == "bm25"
    scores = [i["score"] for i in body["items"]]
    assert scores == sorted(scores, reverse=True)
