"""The recommender benchmark (benchmarks/recsys/bench_recsys.py): the table, the rows, bad input, on a
small generated file."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.recsys.bench_recsys import Row, is_games_file, main, render, run_model

from zhongcao.feed.evaluation import Protocol, leave_one_out, planted_chain_sequences
from zhongcao.feed.interactions import Sequences


def _write_pairs(path: Path, sequences: Sequences) -> None:
    lines = [
        f"{user + 1} {item + 1}" for user in range(sequences.n_users) for item in sequences.of(user).tolist()
    ]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def small_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sequences, _ = planted_chain_sequences(n_users=300, n_items=120, length=7, seed=3)
    path = tmp_path_factory.mktemp("recsys") / "pairs.txt"
    _write_pairs(path, sequences)
    return path


def test_run_model_rows_for_both_protocols() -> None:
    sequences, _ = planted_chain_sequences(n_users=300, n_items=120, length=7, seed=4)
    split = leave_one_out(sequences)
    sampled = {name: run_model(name, split, Protocol.sampled100, seed=0) for name in ("popularity", "als")}
    assert set(sampled["als"].metrics) == {"HR@10", "NDCG@10"}
    assert sampled["popularity"].train_seconds >= 0 and sampled["popularity"].peak_rss_mib > 0
    full = run_model("popularity", split, Protocol.full, seed=0)
    assert set(full.metrics) == {"HR@10", "NDCG@10", "HR@20", "NDCG@20"}


def test_render_adds_the_published_row_only_for_the_games_file() -> None:
    rows = [Row("als", {"HR@10": 0.5, "NDCG@10": 0.3}, 1.0, 10.0, 100.0, 0.5)]
    with_reference = render(rows, Protocol.sampled100, reference=True, title="t")
    assert with_reference.row_count == 2
    assert render(rows, Protocol.sampled100, reference=False, title="t").row_count == 1


@pytest.mark.slow  # trains three models, each in a spawned process
def test_command_prints_a_table_with_every_model(small_file: Path, capsys: pytest.CaptureFixture) -> None:
    assert main([str(small_file), "--format", "pairs", "--protocol", "sampled100", "--seeds", "0"]) == 0
    out = capsys.readouterr().out
    for label in ("popularity", "ALS", "zhongcao", "HR@10", "NDCG@10"):
        assert label in out
    assert "SASRec" not in out
    assert not is_games_file(small_file)


@pytest.mark.parametrize(
    ("content", "options"),
    [
        ("1 2\n1 x\n", []),
        ("1 2\n2 3\n", []),  # nobody has the three interactions leave-one-out needs
        ("1 2\n1 3\n1 4\n", ["--protocol", "everything"]),
        ("1 2\n1 3\n1 4\n", ["--format", "csv"]),
    ],
)
def test_bad_input_is_a_clear_error(tmp_path: Path, content: str, options: list[str], capsys) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(content)
    try:
        code = main([str(path), *options])
    except SystemExit as exited:  # argparse refuses an unknown choice itself
        code = exited.code
    assert code == 2
    assert "error" in capsys.readouterr().err


def test_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main([str(tmp_path / "nope.txt")]) == 2
    assert "missing" in capsys.readouterr().err
