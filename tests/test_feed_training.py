"""Training from the event log: an artifact with metadata, loaded and swapped in without downtime."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest
import typer

from tests.feed_helpers import trained
from zhongcao import artifacts
from zhongcao.feed import model as feed_model
from zhongcao.feed.event_log import catch_up
from zhongcao.feed.objectives import OBJECTIVES, ObjectiveWeights
from zhongcao.feed.training import TrainConfig, train, train_feed_command


@pytest.mark.slow  # trains a feed model
def test_train_writes_a_versioned_artifact_with_metadata(database, tmp_path):
    model, path, store = trained(database, tmp_path, weights=ObjectiveWeights(purchase=55))
    metadata = json.loads((path / "metadata.json").read_text())
    assert metadata["name"] == "feed" and metadata["version"] == path.name
    assert (
        metadata["window"]["since"] < metadata["window"]["label_window_since"] < metadata["window"]["until"]
    )
    assert metadata["metrics"]["rows"] > 100 and "auc_complete" in metadata["metrics"]
    assert metadata["weights"]["purchase"] == 55 and model.weights.purchase == 55
    assert metadata["created_at"] and metadata["timings_s"]["total"] > 0
    assert len(model.users.user_ids) > 0 and model.n_content == len(model.catalog)
    assert set(model.objectives.boosters) == set(OBJECTIVES)

    # The server's loader swaps in a newer version without a restart.
    root = tmp_path / "models"
    newest = artifacts.Newest(feed_model.MODEL_NAME, feed_model.load, root=root, poll_seconds=0.0)
    first = newest.get()
    assert first is not None and newest.version == path.name
    second_path, _ = train(database, store, TrainConfig(rounds=5), models_root=root)
    assert newest.get() is not first and newest.version == second_path.name

    # Co-visitation counts take the event stream incrementally.
    before = model.sources.item_to_item.forward.sum()
    added = catch_up(model, store, since=datetime(2000, 1, 1, tzinfo=UTC))  # replay the log as new
    assert added > 0 and model.sources.item_to_item.forward.sum() > before


def test_train_refuses_an_empty_log_and_bad_options(database, tmp_path):
    from zhongcao.events.store import SegmentEventStore

    with pytest.raises(ValueError, match="empty"):
        train(database, SegmentEventStore(tmp_path / "none"), models_root=tmp_path / "m")
    for kwargs in ({"weights": "purchase=-1"}, {"days": -1.0}, {"label_hours": 0.0}, {"max_examples": 5}):
        with pytest.raises(typer.Exit) as exit_info:
            train_feed_command(**kwargs)  # type: ignore[arg-type]
        assert exit_info.value.exit_code == 2
    assert np.isfinite(ObjectiveWeights().vector()).all()
