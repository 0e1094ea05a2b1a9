"""Judged-pair loaders, metrics, the query split, text features, the learned models and the bench command."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pytest
import typer
from benchmarks.search_relevance.relevance_rows import (
    bench_search_command,
    char_tokens,
    jieba_tokens,
    run_benchmark,
)

from zhongcao.search.relevance import (
    Judgements,
    JudgementsError,
    TextFeatures,
    canonical_text,
    load_judgements,
    mean_ndcg,
    ndcg_at_k,
    split_queries,
    train_and_evaluate,
)

TYPES = ["dress", "drill", "hammer", "lamp", "sofa", "faucet", "door", "连衣裙", "手机壳", "台灯"]
COLORS = ["red", "blue", "white", "black", "红色", "白色"]
BRANDS = ["acme", "zenith", "apex", "nova"]


def _pairs(seed: int = 0, queries: int = 80) -> list[dict[str, object]]:
    """Judged pairs whose grade follows the text: type match +1, colour match +0.5, plus noise."""
    rng = random.Random(seed)
    titles = [
        f"{brand} {color} {kind} {rng.randint(1, 60)} in."
        for kind in TYPES
        for color in COLORS
        for brand in rng.sample(BRANDS, 2)
    ]
    rows = []
    for number in range(queries):
        kind, color = rng.choice(TYPES), rng.choice(COLORS)
        query = f"{color} {kind}" if number % 2 else kind
        same_kind = [t for t in titles if f" {kind} " in t]
        for title in rng.sample(same_kind, 3) + rng.sample(titles, 3):
            grade = 1.0 + (f" {kind} " in title) + 0.5 * (number % 2 == 1 and f" {color} " in title)
            grade = min(3.0, max(1.0, grade + rng.choice((-0.33, 0.0, 0.0, 0.33))))
            rows.append(
                {"query": query, "title": title, "label": round(grade, 2), "doc_id": str(titles.index(title))}
            )
    return rows


def _write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_load_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    path.write_text(
        '{"query": "red dress", "title": "Red summer dress", "label": 3, "doc_id": "a1"}\n'
        "\n"
        '{"query": "red dress", "title": "Blue jeans", "label": "1.5"}\n'
        '{"query": "连衣裙", "title": "红色连衣裙", "label": 2, "doc_id": 7}\n',
        encoding="utf-8",
    )
    judgements = load_judgements(path, "jsonl")
    assert judgements.queries == ["red dress", "red dress", "连衣裙"]
    assert judgements.labels.tolist() == [3.0, 1.5, 2.0]
    assert judgements.doc_ids == ["a1", "t:Blue jeans", "7"]
    assert judgements.query_ids().tolist() == [0, 0, 1]
    assert judgements.corpus() == (
        ["a1", "t:Blue jeans", "7"],
        ["Red summer dress", "Blue jeans", "红色连衣裙"],
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "line 2: not valid JSON"),
        ("[1, 2]", "line 2: expected a JSON object"),
        ('{"query": "q", "title": "t"}', "line 2: missing 'label'"),
        ('{"query": "", "title": "t", "label": 1}', "line 2: 'query' must be a non-empty string"),
        ('{"query": "q", "title": 5, "label": 1}', "line 2: 'title' must be a non-empty string"),
        ('{"query": "q", "title": "t", "label": "high"}', "line 2: label must be a number"),
        ('{"query": "q", "title": "t", "label": true}', "line 2: label must be a number"),
        ('{"query": "q", "title": "t", "label": NaN}', "line 2: label must be finite"),
        ('{"query": "q", "title": "t", "label": 1, "doc_id": [1]}', "line 2: 'doc_id' must be"),
    ],
)
def test_bad_jsonl_names_the_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"query": "q", "title": "t", "label": 1}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(JudgementsError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_judgements(path, "jsonl")


def test_load_homedepot_csv_latin1(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_bytes(
        b'"id","product_uid","product_title","search_term","relevance"\n'
        b'2,100001,"Simpson Strong-Tie 12-Gauge Angle","angle bracket",3\n'
        b'3,100001,"Simpson Strong-Tie 12-Gauge Angle","l bracket",2.5\n'
        b'9,100002,"Steves &amp; Sons Caf\xe9 Door","cafe door",2.33\n'
    )
    judgements = load_judgements(path, "homedepot")
    assert judgements.titles[2] == "Steves & Sons Café Door"
    assert judgements.doc_ids == ["100001", "100001", "100002"]
    assert judgements.labels.tolist() == [3.0, 2.5, 2.33]


def test_bad_homedepot_files(tmp_path: Path) -> None:
    header = '"id","product_uid","product_title","search_term","relevance"\n'
    bad_label = tmp_path / "bad_label.csv"
    bad_label.write_text(
        header + '1,2,"A title","a query",3\n2,3,"B title","b query",high\n', encoding="latin-1"
    )
    with pytest.raises(JudgementsError, match="line 3: label must be a number"):
        load_judgements(bad_label, "homedepot")
    missing = tmp_path / "missing.csv"
    missing.write_text('"id","title"\n1,"x"\n', encoding="latin-1")
    with pytest.raises(JudgementsError, match="line 1: missing column"):
        load_judgements(missing, "homedepot")
    empty_query = tmp_path / "empty.csv"
    empty_query.write_text(header + '1,2,"A title","",3\n', encoding="latin-1")
    with pytest.raises(JudgementsError, match="line 2: empty search_term"):
        load_judgements(empty_query, "homedepot")
    with pytest.raises(JudgementsError, match="no judged pairs"):
        (tmp_path / "header_only.csv").write_text(header, encoding="latin-1")
        load_judgements(tmp_path / "header_only.csv", "homedepot")
    with pytest.raises(JudgementsError, match="no such file"):
        load_judgements(tmp_path / "absent.csv", "homedepot")
    with pytest.raises(JudgementsError, match="unknown format"):
        load_judgements(bad_label, "xml")


def test_ndcg() -> None:
    labels = np.array([0.0, 1.0, 2.0])
    assert ndcg_at_k(labels, np.array([0.1, 0.2, 0.3])) == pytest.approx(1.0)
    worst = (1 / math.log2(2) + 3 / math.log2(4)) and (0 + 1 / math.log2(3) + 3 / math.log2(4))
    best = 3 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at_k(labels, np.array([0.3, 0.2, 0.1])) == pytest.approx(worst / best)
    # Queries whose items all share the lowest grade have no ideal order and do not count.
    query_ids = np.array([0, 0, 1, 1])
    assert mean_ndcg(query_ids, np.array([1.0, 3.0, 1.0, 1.0]), np.array([0.0, 1.0, 5.0, 0.0])) == 1.0


def test_split_is_by_query_seeded_and_about_a_fifth() -> None:
    query_ids = np.repeat(np.arange(100), 5)
    held_out = split_queries(query_ids, seed=3)
    assert held_out.tolist() == split_queries(query_ids, seed=3).tolist()
    assert held_out.tolist() != split_queries(query_ids, seed=4).tolist()
    assert len(np.unique(query_ids[held_out])) == 20
    assert not set(query_ids[held_out]) & set(query_ids[~held_out])


def test_canonical_units_and_baseline_tokenisers() -> None:
    assert canonical_text('Door 36 in. x 80" 2x4 12ft') == "door 36 in x 80 in 2 x 4 12 ft"
    assert char_tokens("红色连衣裙 Summer DRESS") == ["红", "色", "连", "衣", "裙", "summer", "dress"]
    assert jieba_tokens("红色连衣裙 Summer DRESS") == ["红色", "连衣裙", "summer", "dress"]


def test_features_are_finite_and_match_names() -> None:
    rows = _pairs(queries=20)
    judgements = Judgements(
        [r["query"] for r in rows],
        [r["title"] for r in rows],
        np.array([r["label"] for r in rows]),
        [r["doc_id"] for r in rows],
    )
    features = TextFeatures(lsa_dims=8).fit(judgements.corpus()[1])
    matrix = features.transform(judgements.queries, judgements.titles, judgements.query_ids())
    assert matrix.values.shape == (len(rows), len(matrix.names))
    assert np.isfinite(matrix.values).all()
    first = matrix.values[0]
    share = first[matrix.names.index("fix_stem_share")]
    assert 0.0 <= share <= 1.0
    assert matrix.title_types[0] != ""


def test_models_beat_the_mean_on_held_out_queries() -> None:
    rows = _pairs(queries=120)
    judgements = Judgements(
        [r["query"] for r in rows],
        [r["title"] for r in rows],
        np.array([r["label"] for r in rows]),
        [r["doc_id"] for r in rows],
    )
    query_ids = judgements.query_ids()
    features = (
        TextFeatures(lsa_dims=8)
        .fit(judgements.corpus()[1])
        .transform(judgements.queries, judgements.titles, query_ids)
    )
    test = split_queries(query_ids, seed=0)
    report = train_and_evaluate(features, judgements.labels, query_ids, test, seed=0, rounds=60)
    assert report.test_queries + report.train_queries == len(set(judgements.queries))
    assert report.rmse < report.rmse_mean_baseline
    assert report.ndcg_ranker > 0.8 and report.ndcg_pointwise > 0.8
    assert len(report.ranker_scores) == report.test_pairs


@pytest.mark.slow  # the whole relevance benchmark: three BM25 baselines and a trained model
def test_run_benchmark_rows(tmp_path: Path) -> None:
    judgements = load_judgements(_write_jsonl(tmp_path / "pairs.jsonl", _pairs(queries=60)), "jsonl")
    results = run_benchmark(judgements, seed=0)
    assert list(results) == [
        "bm25s, character tokens",
        "bm25s, jieba tokens",
        "tantivy default BM25",
        "zhongcao",
    ]
    for row in results.values():
        assert 0.0 <= row["ndcg"] <= 1.0
        assert 0.0 <= row["recall"] <= 1.0
    assert results["zhongcao"]["rmse"] < results["zhongcao"]["rmse_mean"]


@pytest.mark.slow  # runs the whole relevance benchmark, as above
def test_bench_command_prints_a_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write_jsonl(tmp_path / "pairs.jsonl", _pairs(queries=40))
    bench_search_command(path, "jsonl", 1)
    out = capsys.readouterr().out
    for row in (
        "bm25s, character tokens",
        "bm25s, jieba tokens",
        "tantivy default BM25",
        "zhongcao",
        "nDCG@10",
        "recall@100",
    ):
        assert row in out


def test_bench_command_bad_file_exits_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"query": "q", "title": "t", "label": 1}\n{"query": "q"\n', encoding="utf-8")
    with pytest.raises(typer.Exit) as caught:
        bench_search_command(path, "jsonl", 0)
    assert caught.value.exit_code == 2
    assert "line 2" in capsys.readouterr().out
    with pytest.raises(typer.Exit):
        bench_search_command(tmp_path / "nothing.csv", "homedepot", 0)
    one_query = _write_jsonl(tmp_path / "one.jsonl", [{"query": "q", "title": "t", "label": 1}])
    with pytest.raises(typer.Exit):
        bench_search_command(one_query, "jsonl", 0)


def test_queries_with_no_tokens_for_a_baseline_do_not_crash_any_row(tmp_path: Path) -> None:
    """One-character and punctuation-only queries give bm25s' tokenisers (two-character words) no
    tokens; every row scores them as matching nothing instead of failing, under every split."""
    pairs = [
        {"query": query, "title": title, "label": label}
        for query in ("a", "裙", "!", "x", "red dress", "连衣裙")
        for title, label in (("a red dress", 3), ("blue skirt", 1), ("连衣裙 red", 2), ("蓝色 裤子", 1))
    ]
    judgements = load_judgements(_write_jsonl(tmp_path / "short.jsonl", pairs), "jsonl")
    for seed in range(4):
        results = run_benchmark(judgements, seed=seed)
        assert len(results) == 4 and all(0.0 <= row["ndcg"] <= 1.0 for row in results.values())


def test_cli_bench_search_runs_a_one_character_query(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from zhongcao.cli import app

    pairs = [
        {"query": query, "title": title, "label": label}
        for query in ("a", "裙", "red dress")
        for title, label in (("a red dress", 3), ("blue skirt", 1), ("连衣裙 red", 2))
    ]
    path = _write_jsonl(tmp_path / "short.jsonl", pairs)
    result = CliRunner().invoke(app, ["bench", "search", str(path), "--format", "jsonl", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "tantivy default BM25" in result.output
