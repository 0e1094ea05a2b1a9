"""Autocomplete: prefix and pinyin prefix over popular queries and product vocabulary; bad input."""

from __future__ import annotations

import pytest

from zhongcao.search.autocomplete import Autocomplete


@pytest.fixture(scope="module")
def complete() -> Autocomplete:
    titles_zh = [
        "花西子 玫瑰 雕花口红",
        "花西子 正红 雕花口红",
        "完美日记 豆沙 口红",
        "碎花 连衣裙",
        "吊带 连衣裙",
    ] * 3
    titles_en = ["Florasis Rose Carved Lipstick", "Perfect Diary Lipstick", "Floral Dress"] * 3
    return Autocomplete.build([("连衣裙", 40), ("口红 推荐", 25), ("lipstick", 10)], titles_zh, titles_en)


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("连", "连衣裙"),
        ("lian", "连衣裙"),
        ("lianyiq", "连衣裙"),
        ("lyq", "连衣裙"),
        ("連衣", "连衣裙"),
        ("口", "口红 推荐"),
        ("kouhong", "口红 推荐"),
        ("lip", "lipstick"),
        ("FLOR", "florasis"),
        ("diao", "雕花口红"),
    ],
)
def test_prefix_and_pinyin_prefix(complete: Autocomplete, prefix: str, expected: str) -> None:
    assert expected in [s.text for s in complete.suggest(prefix)]


def test_popular_queries_rank_first(complete: Autocomplete) -> None:
    found = complete.suggest("连")
    assert found[0].text == "连衣裙" and found[0].source == "query"


@pytest.mark.parametrize("prefix", ["", " ", "😀", "\x00\x1b", "a" * 10_000, ".*[", "'; --"])
def test_bad_prefixes_are_empty_or_clean(complete: Autocomplete, prefix: str) -> None:
    assert all(isinstance(s.text, str) for s in complete.suggest(prefix))
