"""``zhongcao train search``: the search logs and the catalogue -> a learnt ranker -> an artifact.

The learning itself is :mod:`zhongcao.search.ltr` (features, training set, LightGBM lambdarank); this
module is the job around it, reading the catalogue through the search service, which in turn serves
with the ranker. It sits above both, so neither imports back.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from zhongcao import artifacts
from zhongcao.db import Database
from zhongcao.events import service as events_service
from zhongcao.search import service as search_service
from zhongcao.search.ltr import (
    FEATURES,
    MODEL_NAME,
    TrainingReport,
    behaviour_events,
    logged_searches,
    train_ranker,
    training_set,
)

# -- the training job ------------------------------------------------------------------------------------


def train_search(
    database: Any,
    *,
    store: Any = None,
    root: Path | None = None,
    seed: int = 7,
    progress: Any = None,
) -> tuple[TrainingReport, Path]:
    """Train on the event log of ``store`` (default: the configured one) and the catalogue of
    ``database``; publish a ``search_ranker`` artifact. Returns the report and the version folder.

    ``progress(step_name)`` is called before each step, for the command's progress display."""
    step = progress or (lambda _name: None)
    began = time.perf_counter()
    step("reading the catalogue")
    with database.session(read_only=True) as db:
        index, facts, follows = search_service.training_inputs(db)
    step("reading the search logs")
    store = store or events_service.get_store(database=database)
    con = store.connect()
    try:
        searches = logged_searches(con)
        events = behaviour_events(con)
    finally:
        con.close()
    step("computing features")
    data = training_set(searches, events, facts, index, follows)
    step("training lambdarank")
    ranker, report = train_ranker(data, seed=seed)
    step("publishing the model")
    metadata = {
        "features": list(FEATURES),
        "data_window": {"first_search": report.window[0], "last_search": report.window[1]},
        "searches": report.searches,
        "train_searches": report.train_searches,
        "test_searches": report.test_searches,
        "metrics": {
            "ndcg@10_ltr": round(report.ndcg_ltr, 4),
            "ndcg@10_bm25": round(report.ndcg_bm25, 4),
            "ndcg@10_logged_order": round(report.ndcg_logged, 4),
        },
        "feature_importance_gain": report.importance,
        "training_seconds": round(time.perf_counter() - began, 2),
        "seed": seed,
    }
    with artifacts.new_version(MODEL_NAME, metadata, root=root) as folder:
        ranker.save(folder)
    published = artifacts.newest(MODEL_NAME, root)
    assert published is not None
    return report, published


def train_search_command(seed: int = 7) -> None:
    """``zhongcao train search``: learn the search ranker from the search logs of the event store."""
    console = Console()
    database = Database()
    try:
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
        ) as bar:
            task = bar.add_task("starting", total=None)
            report, folder = train_search(
                database, seed=seed, progress=lambda name: bar.update(task, description=name)
            )
    except ValueError as exc:
        console.print(f"[red]cannot train the search ranker:[/red] {exc}")
        raise typer.Exit(1) from None
    finally:
        database.dispose()
    console.print(
        f"search ranker {folder.name}: nDCG@10 on {report.test_searches} held-out searches "
        f"LTR {report.ndcg_ltr:.4f} vs BM25 {report.ndcg_bm25:.4f} (logged order {report.ndcg_logged:.4f}); "
        f"{report.train_searches} training searches from {report.window[0]} to {report.window[1]}"
    )
