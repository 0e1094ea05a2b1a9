"""The search policy interface: the substring baseline (equal to a full scan) and the BM25 index."""

from __future__ import annotations

import numpy as np
import pytest

from zhongcao.search.policy import Bm25Search, ProductCorpus, ProductSearch, SubstringSearch, get_policy

TITLES = [
    ("花西子 玫瑰 雕花口红", "Florasis Rose Carved Lipstick"),
    ("优衣库 黑色 连衣裙", "Uniqlo Black Dress"),
    ("优衣库 白色 T恤", "Uniqlo White T-shirt"),
    ("李宁 黑色 跑步鞋", "Li-Ning Black Running Shoes"),
    ("小米 充电宝", "Xiaomi Power Bank"),
]


def _corpus(titles: list[tuple[str, str]], sales: list[int] | None = None) -> ProductCorpus:
    return ProductCorpus(
        product_ids=np.arange(1, len(titles) + 1, dtype=np.int64),
        titles_zh=[zh for zh, _ in titles],
        titles_en=[en for _, en in titles],
        sales=np.asarray(sales or [0] * len(titles), dtype=np.int64),
    )


def test_registered_by_name_and_implements_the_interface() -> None:
    for name in ("substring", "bm25"):
        assert isinstance(get_policy(name), ProductSearch)
    with pytest.raises(ValueError, match="unknown search policy"):
        get_policy("nope")


def test_substring_matches_every_term_in_either_language_best_sellers_first() -> None:
    search = SubstringSearch()
    search.fit(_corpus(TITLES, sales=[5, 1, 9, 3, 0]))
    assert search.search("优衣库", 10).tolist() == [3, 2]  # more sales first
    assert search.search("BLACK", 10).tolist() == [4, 2]
    assert search.search("优衣库 black", 10).tolist() == [2]
    assert search.search("连衣", 10).tolist() == [2]  # a substring, not a word
    assert search.search("口", 10).tolist() == [1]  # one character
    assert search.search("   ", 10).tolist() == []
    assert search.search("nothing like it", 10).tolist() == []
    assert search.search("优衣库", 1).tolist() == [3]


def test_substring_index_gives_exactly_what_a_full_scan_gives() -> None:
    rng = np.random.default_rng(3)
    alphabet = list("abcde口红连衣裙黑白 ")
    titles = [("".join(rng.choice(alphabet, 12)), "".join(rng.choice(alphabet, 10))) for _ in range(300)]
    sales = rng.integers(0, 5, 300).tolist()
    search = SubstringSearch()
    search.fit(_corpus(titles, sales))
    for query in ["ab", "口红", "a b", "连衣 裙", "e", "黑白 c", "zz", "de 口"]:
        terms = query.casefold().split()
        expected = [
            i + 1 for i, (zh, en) in enumerate(titles) if all(t in f"{zh}\n{en}".casefold() for t in terms)
        ]
        expected.sort(key=lambda pid: (-sales[pid - 1], -pid))
        assert search.search(query, 1000).tolist() == expected, query


def test_bm25_policy_finds_sub_words_and_pinyin() -> None:
    search = Bm25Search()
    search.fit(_corpus(TITLES))
    assert 2 in search.search("连衣", 5).tolist()
    assert 2 in search.search("lianyiqun", 5).tolist()
    assert search.search("", 5).tolist() == []
