"""``zhongcao bench search PATH [--format homedepot|jsonl]``: relevance of four rankers, side by side.

Rows: plain BM25 (bm25s defaults: Lucene BM25, k1 1.5, b 0.75, with CJK split into characters, or cut by
jieba; Latin text as bm25s' default word pattern in both), tantivy's default BM25 (its default tokenizer),
and zhongcao (the product index's analyser and typo expansion for retrieval; text features + LightGBM
for ranking and the pointwise grade). Only held-out queries are scored, for every row, so the numbers
compare; the learned parts train on the other queries (seeded split, 20 % held out).

* nDCG@10: per held-out query, its judged titles ordered by each ranker, gains ``2**(label-min) - 1``.
* recall@100: per held-out query with at least one well-judged title (label in the top quarter of the
  file's scale, 2.5+ on Home Depot's 1–3), the share of those found in the top 100 of the whole corpus.
* RMSE of the pointwise model on held-out pairs, beside predicting the training mean and, for Home Depot,
  the Kaggle 3rd place (private leaderboard, with descriptions and attributes that this file lacks).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from zhongcao.search.analysis import is_cjk
from zhongcao.search.relevance import (
    Judgements,
    JudgementsError,
    TextFeatures,
    group_rows,
    load_judgements,
    mean_ndcg,
    split_queries,
    train_and_evaluate,
)

KAGGLE_THIRD_PLACE_RMSE = 0.43248
RECALL_DEPTH = 100
# bm25s' default token pattern (scikit-learn's): words of two or more word characters.
_BM25S_WORD_RE = re.compile(r"(?u)\b\w\w+\b")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR_OR_OTHER_RE = re.compile(f"[{_CJK}]|[^{_CJK}]+")


def char_tokens(text: str) -> list[str]:
    """bm25s' default word pattern, with every CJK character its own token."""
    tokens: list[str] = []
    for word in _BM25S_WORD_RE.findall(text.lower()):
        if any(is_cjk(ch) for ch in word):
            tokens.extend(_CJK_CHAR_OR_OTHER_RE.findall(word))
        else:
            tokens.append(word)
    return tokens


def jieba_tokens(text: str) -> list[str]:
    """jieba's accurate mode for CJK runs, bm25s' default word pattern otherwise."""
    from zhongcao.search.analysis import _jieba

    tokens: list[str] = []
    for word in _BM25S_WORD_RE.findall(text.lower()):
        if any(is_cjk(ch) for ch in word):
            tokens.extend(t for t in _jieba().cut(word) if t.strip())
        else:
            tokens.append(word)
    return tokens


class _Evaluation:
    """Held-out queries, their judged rows and the corpus positions of judged documents."""

    def __init__(self, judgements: Judgements, seed: int) -> None:
        self.judgements = judgements
        self.query_ids = judgements.query_ids()
        self.test = split_queries(self.query_ids, seed)
        self.doc_ids, self.corpus = judgements.corpus()
        position = {doc_id: i for i, doc_id in enumerate(self.doc_ids)}
        self.doc_position = np.array([position[d] for d in judgements.doc_ids], dtype=np.int64)
        labels = judgements.labels
        low, high = float(labels.min()), float(labels.max())
        self.good_threshold = low + 0.75 * (high - low) if high > low else low
        self.test_groups = group_rows(np.where(self.test, self.query_ids, -1))
        self.test_groups.pop(-1, None)

    def ndcg(self, scores: np.ndarray) -> float:
        rows = self.test
        return mean_ndcg(self.query_ids[rows], self.judgements.labels[rows], scores[rows])

    def recall(self, top: Callable[[str], Sequence[int]], progress: Callable[[int], None]) -> float:
        labels = self.judgements.labels
        values = []
        for rows in self.test_groups.values():
            good = {int(self.doc_position[r]) for r in rows if labels[r] >= self.good_threshold}
            progress(1)
            if not good:
                continue
            found = set(top(self.judgements.queries[rows[0]])[:RECALL_DEPTH])
            values.append(len(good & found) / len(good))
        return float(np.mean(values)) if values else float("nan")


def _bm25s_row(
    evaluation: _Evaluation, tokenize: Callable[[str], list[str]], tick: Callable[[int], None]
) -> tuple[float, float]:
    import bm25s

    retriever = bm25s.BM25()
    retriever.index([tokenize(t) or ["\x00"] for t in evaluation.corpus], show_progress=False)
    scores = np.zeros(len(evaluation.judgements))
    cache: dict[str, np.ndarray] = {}

    def all_scores(query: str) -> np.ndarray:
        if query not in cache:
            tokens = tokenize(query)
            # A query with no tokens for this tokenizer ("a": bm25s' pattern wants two characters)
            # matches nothing; bm25s itself would fail on the empty list.
            cache[query] = retriever.get_scores(tokens) if tokens else np.zeros(len(evaluation.corpus))
        return cache[query]

    for rows in evaluation.test_groups.values():
        full = all_scores(evaluation.judgements.queries[rows[0]])
        scores[rows] = full[evaluation.doc_position[rows]]

    def top(query: str) -> list[int]:
        full = all_scores(query)
        best = np.argpartition(-full, min(RECALL_DEPTH, len(full) - 1))[:RECALL_DEPTH]
        best = best[full[best] > 0]
        return best[np.argsort(-full[best], kind="stable")].tolist()

    recall = evaluation.recall(top, tick)
    return evaluation.ndcg(scores), recall


def _tantivy_row(evaluation: _Evaluation, tick: Callable[[int], None]) -> tuple[float, float]:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("title", stored=False)
    builder.add_unsigned_field("slot", stored=True, indexed=True, fast=True)
    schema = builder.build()
    index = tantivy.Index(schema)  # in memory
    writer = index.writer(heap_size=50_000_000, num_threads=1)
    for slot, title in enumerate(evaluation.corpus):
        document = tantivy.Document()
        document.add_text("title", title)
        document.add_unsigned("slot", slot)
        writer.add_document(document)
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    searcher = index.searcher()

    def parse(query: str):  # type: ignore[no-untyped-def]
        parsed, _errors = index.parse_query_lenient(query, ["title"])
        return parsed

    scores = np.zeros(len(evaluation.judgements))
    for rows in evaluation.test_groups.values():
        slots = evaluation.doc_position[rows]
        restrict = tantivy.Query.term_set_query(schema, "slot", [int(s) for s in set(slots.tolist())])
        query = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, parse(evaluation.judgements.queries[rows[0]])),
                (tantivy.Occur.Must, tantivy.Query.const_score_query(restrict, 0.0)),
            ]
        )
        found = {}
        for score, address in searcher.search(query, len(rows) + 1).hits:
            found[searcher.doc(address)["slot"][0]] = score
        scores[rows] = [found.get(int(s), 0.0) for s in slots]

    def top(query: str) -> list[int]:
        hits = searcher.search(parse(query), RECALL_DEPTH).hits
        return [searcher.doc(address)["slot"][0] for _score, address in hits]

    return evaluation.ndcg(scores), evaluation.recall(top, tick)


def _zhongcao_recall(evaluation: _Evaluation, tick: Callable[[int], None]) -> float:
    from zhongcao.search.index import ProductDocument, ProductIndex

    index = ProductIndex(
        ProductDocument(slot, title_en=title) for slot, title in enumerate(evaluation.corpus)
    )

    def top(query: str) -> list[int]:
        result = index.search(query, RECALL_DEPTH)
        return [] if result.fallback else result.ids

    return evaluation.recall(top, tick)


def run_benchmark(
    judgements: Judgements, *, seed: int = 0, console: Console | None = None
) -> dict[str, dict[str, float]]:
    """All rows' metrics; prints progress to ``console`` when given."""
    evaluation = _Evaluation(judgements, seed)
    queries = len(evaluation.test_groups)
    results: dict[str, dict[str, float]] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=console is None,
        transient=True,
    ) as progress:

        def step(description: str, total: int) -> Callable[[int], None]:
            task = progress.add_task(description, total=total)
            return lambda n: progress.advance(task, n)

        for name, tokenize in (
            ("bm25s, character tokens", char_tokens),
            ("bm25s, jieba tokens", jieba_tokens),
        ):
            started = time.perf_counter()
            ndcg, recall = _bm25s_row(evaluation, tokenize, step(name, queries))
            results[name] = {"ndcg": ndcg, "recall": recall, "seconds": time.perf_counter() - started}
        started = time.perf_counter()
        ndcg, recall = _tantivy_row(evaluation, step("tantivy default BM25", queries))
        results["tantivy default BM25"] = {
            "ndcg": ndcg,
            "recall": recall,
            "seconds": time.perf_counter() - started,
        }

        started = time.perf_counter()
        recall = _zhongcao_recall(evaluation, step("zhongcao retrieval", queries))
        features_step = step("zhongcao features", len(judgements))
        extractor = TextFeatures(seed=seed).fit(evaluation.corpus)
        features = extractor.transform(
            judgements.queries, judgements.titles, evaluation.query_ids, features_step
        )
        progress.add_task("zhongcao models (LightGBM, 2 threads)", total=None)
        report = train_and_evaluate(
            features, judgements.labels, evaluation.query_ids, evaluation.test, seed=seed
        )
        results["zhongcao"] = {
            "ndcg": report.ndcg_ranker,
            "ndcg_pointwise": report.ndcg_pointwise,
            "recall": recall,
            "rmse": report.rmse,
            "rmse_mean": report.rmse_mean_baseline,
            "seconds": time.perf_counter() - started,
            "train_queries": report.train_queries,
            "test_queries": report.test_queries,
            "test_pairs": report.test_pairs,
        }
    return results


def bench_search_command(
    path: Path = typer.Argument(..., help="Judged pairs: Home Depot train.csv or JSON lines."),
    format: str = typer.Option("homedepot", "--format", help="homedepot (Kaggle CSV, Latin-1) or jsonl."),
    seed: int = typer.Option(0, "--seed", help="Seed of the query split (20 % of queries held out)."),
) -> None:
    """Relevance benchmark: BM25 peers and zhongcao's ranking on held-out queries."""
    console = Console()
    try:
        judgements = load_judgements(Path(path), format)
        if len(set(judgements.queries)) < 2:
            raise JudgementsError(f"{path}: need at least two distinct queries to hold some out")
    except JudgementsError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    results = run_benchmark(judgements, seed=seed, console=console)
    ours = results["zhongcao"]
    table = Table(
        title=f"Search relevance — {Path(path).name} ({format}), held-out queries: "
        f"{ours['test_queries']} ({ours['test_pairs']} pairs), trained on {ours['train_queries']}, seed {seed}"
    )
    table.add_column("ranker")
    table.add_column("nDCG@10", justify="right")
    table.add_column("recall@100", justify="right")
    table.add_column("RMSE", justify="right")
    table.add_column("seconds", justify="right")
    for name, row in results.items():
        label = "zhongcao (lambdarank; pointwise RMSE)" if name == "zhongcao" else name
        rmse_cell = f"{row['rmse']:.4f}" if "rmse" in row else "—"
        table.add_row(label, f"{row['ndcg']:.4f}", f"{row['recall']:.4f}", rmse_cell, f"{row['seconds']:.1f}")
    table.add_row(
        "zhongcao pointwise regressor", f"{ours['ndcg_pointwise']:.4f}", "—", f"{ours['rmse']:.4f}", ""
    )
    table.add_row("predict the training mean", "—", "—", f"{ours['rmse_mean']:.4f}", "")
    if format == "homedepot":
        table.add_row(
            "Kaggle 3rd place (private LB; +descriptions, attributes)",
            "—",
            "—",
            f"{KAGGLE_THIRD_PLACE_RMSE:.5f}",
            "",
        )
    console.print(table)
