"""Text analysis: normalisation, Chinese segmentation, n-grams, pinyin, stemming, typos, synonyms."""

from __future__ import annotations

from zhongcao.search.analysis import (
    MAX_QUERY_CHARS,
    PINYIN_PREFIX,
    SynonymDictionary,
    TypoCorrector,
    analyze_document,
    analyze_query,
    expand_query,
    normalize,
    pinyin_forms,
    to_simplified,
)


def _tokens(query: str) -> set[str]:
    return {term.token for term in analyze_query(query)}


def test_normalize_folds_width_case_controls_and_traditional() -> None:
    assert normalize("ＡＢＣ １２３") == "abc 123"
    assert normalize("red\x00\x07\u202edress\t\n") == "red dress"
    assert normalize("連衣裙") == "连衣裙"
    assert to_simplified("髮型 漢語") == "发型 汉语"
    assert to_simplified("plain ascii") == "plain ascii"


def test_document_tokens_cover_words_subwords_ngrams_and_pinyin() -> None:
    tokens = set(analyze_document("红色连衣裙"))
    assert {"连衣裙", "连衣", "红色"} <= tokens  # jieba search mode
    assert {"衣裙", "色连", "裙"} <= tokens  # character bigrams and unigrams
    assert {PINYIN_PREFIX + "lianyiqun", PINYIN_PREFIX + "lyq", PINYIN_PREFIX + "hongse"} <= tokens


def test_sub_word_pinyin_and_traditional_queries_share_tokens_with_the_title() -> None:
    title = set(analyze_document("夏季红色连衣裙"))
    for query in ("连衣", "lianyiqun", "lyq", "連衣裙", "衣裙"):
        assert _tokens(query) & title, query


def test_english_is_stemmed_and_numbers_kept() -> None:
    assert analyze_document("Running Shoes 2.5 cm") == ["run", "shoe", "2.5", "cm"]
    assert {"dress", PINYIN_PREFIX + "dresses"} <= _tokens("Dresses")


def test_pinyin_forms() -> None:
    assert pinyin_forms("连衣裙") == ("lianyiqun", "lyq")
    assert pinyin_forms("abc") == ("", "")


def test_typo_corrector() -> None:
    corrector = TypoCorrector({"bracket": 10, "dress": 5, "dresser": 1, "deck": 3, "over": 8})
    assert corrector.correct("brakcet") == "bracket"  # a swap is one edit
    assert corrector.correct("dresss") == "dress"
    assert corrector.correct("dress") is None  # known
    assert corrector.correct("xyz") is None  # too short to guess
    assert corrector.correct("qqqqqqqq") is None
    assert corrector.split("deckover") == ("deck", "over")
    assert corrector.fix(["deckover", "brakcet"]) == ["deck", "over", "bracket"]


def test_synonyms_from_text_and_query_expansion() -> None:
    synonyms = SynonymDictionary.from_text("# phones\n手机, cellphone, mobile phone\ntv, 電視\n\nlonely\n")
    assert synonyms.groups == [("手机", "cellphone", "mobile phone"), ("tv", "电视")]
    assert synonyms.expansions("苹果手机") == ["cellphone", "mobile phone"]
    assert synonyms.expansions("smart TV") == ["电视"]
    assert synonyms.expansions("tvs") == []  # whole words only for Latin phrases
    terms, corrections = expand_query(
        "手机 brakcet", corrector=TypoCorrector({"bracket": 3}), synonyms=synonyms
    )
    by_token = {t.token: t for t in terms}
    assert by_token["cellphon"].source == "synonym" and by_token["cellphon"].weight < 1
    assert by_token["bracket"].source == "typo"
    assert corrections == {"brakcet": "bracket"}


def test_bad_queries_analyse_cleanly() -> None:
    assert analyze_query("") == []
    assert analyze_query("😀🎉") == []
    assert analyze_query("\x00\x01\x7f") == []
    assert [t.token for t in analyze_query("' OR 1=1; --")] == ["or", PINYIN_PREFIX + "or", "1", "1"]
    assert {t.token for t in analyze_query(".*[a-z]+(?=x)")} == {
        "a",
        "z",
        "x",
        *{PINYIN_PREFIX + c for c in "azx"},
    }
    long_query = analyze_query("dress " * 10_000)
    assert 0 < len(long_query) <= MAX_QUERY_CHARS
