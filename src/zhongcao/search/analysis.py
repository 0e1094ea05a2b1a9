"""Text analysis for product search: one normaliser, one document analyser, one query analyser.

Chinese and English are analysed together because real titles mix them ("Apple iPhone 15 手机壳"):

* normalisation: NFKC (full-width → half-width), control characters dropped, traditional → simplified
  (OpenCC ``t2s``, dictionaries shipped in the ``opencc`` wheel), lower case;
* CJK runs: jieba search-mode words (``rjieba``, the Rust port: no start-up dictionary build, no log
  lines, initialised once per process) plus character bigrams and unigrams, so a sub-word still matches
  (连衣 finds 连衣裙); pinyin of every word and of the whole run, full and initials (``lianyiqun`` and
  ``lyq`` find 连衣裙), as ``py:``-prefixed tokens so they never collide with English words;
* Latin runs: lower-cased words, Snowball English stems (PyStemmer), numbers kept whole ("2.5");
* typo tolerance: :class:`TypoCorrector` maps an unknown query word to the closest frequent word of the
  index vocabulary (Levenshtein, rapidfuzz), used both for query expansion and the spelling suggestion;
* synonyms: :class:`SynonymDictionary`, groups of equivalent phrases, configurable per deployment.

Document and query analysis differ on purpose: documents carry unigrams and pinyin, queries only carry
the forms a person types, so a two-character query does not match every title sharing one character.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

PINYIN_PREFIX = "py:"
# Longest query the analyser looks at; longer input is cut (a search box, not a document).
MAX_QUERY_CHARS = 256

_CJK_RANGES = (
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x2EBEF),
)
# A run of CJK ideographs, or a Latin/digit token: letters, or a number with an optional decimal part.
_TOKEN_RE = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]+|[a-z]+|\d+(?:\.\d+)?"
)
_TOKEN_KIND_RE = re.compile(
    r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]+)|([a-z]+)|(\d+(?:\.\d+)?)"
)
_LATIN_WORD_RE = re.compile(r"[a-z]+|\d+(?:\.\d+)?")
_CJK_CHAR_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]")


def is_cjk(char: str) -> bool:
    code = ord(char)
    return any(lo <= code <= hi for lo, hi in _CJK_RANGES)


@lru_cache(maxsize=1)
def _opencc_t2s():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


def _strip_controls(text: str) -> str:
    # Control, format, surrogate and unassigned code points become spaces (a NUL or a bidi override in a
    # query must not reach the tokeniser); emoji and symbols stay and are simply not tokens.
    if text.isprintable():  # the common case, checked in C: nothing to strip
        return text
    return "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese (OpenCC t2s); other scripts pass through unchanged."""
    if _CJK_CHAR_RE.search(text) is None:
        return text
    return _opencc_t2s().convert(text)


def normalize(text: str) -> str:
    """NFKC, control characters removed, traditional → simplified, lower case, single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = _strip_controls(text)
    text = to_simplified(text)
    return " ".join(text.lower().split())


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    # Cached: titles repeat words, and indexing a million of them stems the same few thousand words.
    return _stemmer().stemWord(word)


@lru_cache(maxsize=1)
def _jieba():  # type: ignore[no-untyped-def]
    # rjieba builds its default dictionary once, in Rust, silently; the cache makes "once" explicit.
    import rjieba

    rjieba.cut("预热")
    return rjieba


def cut_for_search(text: str) -> list[str]:
    """jieba search-mode segmentation (long words and their dictionary sub-words)."""
    return [token for token in _jieba().cut_for_search(text) if token.strip()]


@lru_cache(maxsize=100_000)
def pinyin_forms(text: str) -> tuple[str, str]:
    """Full pinyin without tones and the initials of ``text`` (CJK characters only): 连衣裙 → lianyiqun, lyq.

    Cached: highlighting and autocomplete ask for the same words over and over."""
    from pypinyin import Style, lazy_pinyin

    syllables = [s for s in lazy_pinyin(text, style=Style.NORMAL, errors="ignore") if s.isalpha()]
    return "".join(syllables), "".join(s[0] for s in syllables)


def char_ngrams(text: str, n: int) -> list[str]:
    return [text[i : i + n] for i in range(len(text) - n + 1)]


@lru_cache(maxsize=200_000)
def _cjk_document_tokens(run: str) -> tuple[str, ...]:
    # Cached per run of ideographs: segmentation and pinyin are the slow part of indexing, and the
    # runs of a catalogue's titles (brands, attributes, product types) repeat across products.
    words = cut_for_search(run)
    seen = set(words)
    tokens = list(words)
    for gram in (*char_ngrams(run, 2), *run):
        if gram not in seen:
            tokens.append(gram)
    for phrase in {*(w for w in words if len(w) >= 2), run}:
        full, initials = pinyin_forms(phrase)
        if full:
            tokens.append(PINYIN_PREFIX + full)
            if len(initials) >= 2:
                tokens.append(PINYIN_PREFIX + initials)
    return tuple(tokens)


def _cjk_query_tokens(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    words = cut_for_search(run)
    seen = set(words)
    return words + [gram for gram in char_ngrams(run, 2) if gram not in seen]


def analyze_document(text: str) -> list[str]:
    """Index-side tokens of a title or any product text (already-normalised or raw)."""
    return analyze_for_index(text)[0]


def analyze_for_index(text: str) -> tuple[list[str], list[str]]:
    """Index-side tokens of a text and its Latin words as typed (the typo corrector's vocabulary),
    normalising once; the regex's groups say what each piece is, so no character is looked at twice."""
    tokens: list[str] = []
    words: list[str] = []
    for cjk, letters, number in _TOKEN_KIND_RE.findall(normalize(text)):
        if cjk:
            tokens.extend(_cjk_document_tokens(cjk))
        elif letters:
            tokens.append(stem(letters))
            words.append(letters)
        else:
            tokens.append(number)
            words.append(number)
    return tokens, words


@dataclass(frozen=True)
class QueryTerm:
    """One query token with its weight; ``source`` says where it came from (shown in debug output)."""

    token: str
    weight: float = 1.0
    source: str = "query"


def latin_words(text: str) -> list[str]:
    """Lower-case Latin words and numbers of an already-normalised text."""
    return _LATIN_WORD_RE.findall(text)


def analyze_query(text: str) -> list[QueryTerm]:
    """Query-side terms, weight 1: stems for English words plus a pinyin reading of each Latin word."""
    terms: list[QueryTerm] = []
    for match in _TOKEN_RE.finditer(normalize(text[: MAX_QUERY_CHARS * 4])[:MAX_QUERY_CHARS]):
        piece = match.group()
        if is_cjk(piece[0]):
            terms.extend(QueryTerm(token) for token in _cjk_query_tokens(piece))
        elif piece.isalpha():
            terms.append(QueryTerm(stem(piece)))
            # The same letters may be pinyin ("lianyiqun", "lyq"); documents carry py:-tokens for that.
            terms.append(QueryTerm(PINYIN_PREFIX + piece, source="pinyin"))
        else:
            terms.append(QueryTerm(piece))
    return terms


class TypoCorrector:
    """Closest known word for an unknown Latin query word, by edit distance (OSA: a swap of two letters is one edit) over the index vocabulary.

    ``vocabulary`` maps raw lower-case words to document frequency. Words of 3 characters or fewer
    are never corrected (too many neighbours); 4-8 characters allow one edit, longer words two. Among
    equally close candidates the most frequent wins.
    """

    def __init__(self, vocabulary: Mapping[str, int] | None = None, *, min_length: int = 4) -> None:
        self.min_length = min_length
        self._frequency: dict[str, int] = {}
        self._words: list[str] = []
        self._dirty = False
        if vocabulary:
            self.add(vocabulary)

    def add(self, vocabulary: Mapping[str, int]) -> None:
        for word, count in vocabulary.items():
            if word.isalpha():
                self._frequency[word] = self._frequency.get(word, 0) + count
        self._dirty = True

    def __contains__(self, word: str) -> bool:
        return word in self._frequency

    def correct(self, word: str) -> str | None:
        """The correction for ``word``, or ``None`` when it is known, too short or nothing is close."""
        if len(word) < self.min_length or not word.isalpha() or word in self._frequency:
            return None
        if self._dirty:
            self._words = sorted(self._frequency)
            self._dirty = False
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        max_edits = 1 if len(word) <= 8 else 2
        candidates = process.extract(word, self._words, scorer=OSA.distance, score_cutoff=max_edits, limit=20)
        if not candidates:
            return None
        best = min(candidates, key=lambda c: (c[1], -self._frequency[c[0]], c[0]))
        return best[0]

    def split(self, word: str, min_part: int = 3) -> tuple[str, str] | None:
        """Two known words that ``word`` is glued from ("deckover" → deck, over), the most frequent pair."""
        if len(word) < 2 * min_part or not word.isalpha() or word in self._frequency:
            return None
        options = [
            (word[:i], word[i:])
            for i in range(min_part, len(word) - min_part + 1)
            if word[:i] in self._frequency and word[i:] in self._frequency
        ]
        if not options:
            return None
        return max(options, key=lambda p: min(self._frequency[p[0]], self._frequency[p[1]]))

    def fix(self, words: Sequence[str]) -> list[str]:
        """Words with typos corrected, glued words split and split words glued when the result is known."""
        fixed: list[str] = []
        i = 0
        while i < len(words):
            word = words[i]
            if (
                i + 1 < len(words)
                and word not in self._frequency
                or (i + 1 < len(words) and words[i + 1] not in self._frequency)
            ):
                joined = word + words[i + 1]
                if joined in self._frequency and len(word) > 1 and len(words[i + 1]) > 1:
                    fixed.append(joined)
                    i += 2
                    continue
            parts = self.split(word)
            if parts is not None:
                fixed.extend(parts)
            else:
                fixed.append(self.correct(word) or word)
            i += 1
        return fixed


@dataclass
class SynonymDictionary:
    """Groups of equivalent phrases; a query containing one member also searches the others.

    Phrases are normalised (so 連衣裙 and 连衣裙 are the same entry). Build it from a list of groups
    or from text with one group per line, members separated by commas (``#`` starts a comment).
    """

    groups: list[tuple[str, ...]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_phrase: dict[str, tuple[str, ...]] = {}
        normalised = [
            tuple(dict.fromkeys(normalize(p) for p in group if normalize(p))) for group in self.groups
        ]
        self.groups = [g for g in normalised if len(g) >= 2]
        for group in self.groups:
            for phrase in group:
                self._by_phrase[phrase] = group

    @classmethod
    def from_text(cls, text: str) -> SynonymDictionary:
        groups = []
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                groups.append(tuple(p.strip() for p in line.split(",") if p.strip()))
        return cls(groups)

    def expansions(self, query: str) -> list[str]:
        """Other members of every group whose phrase occurs in the normalised query."""
        text = normalize(query)
        words = set(latin_words(text))
        found: list[str] = []
        for phrase, group in self._by_phrase.items():
            present = phrase in words if phrase.isascii() and phrase.isalnum() else phrase in text
            if present:
                found.extend(p for p in group if p != phrase and p not in found)
        return found


def expand_query(
    query: str,
    *,
    corrector: TypoCorrector | None = None,
    synonyms: SynonymDictionary | None = None,
    typo_weight: float = 0.7,
    synonym_weight: float = 0.8,
) -> tuple[list[QueryTerm], dict[str, str]]:
    """Query terms with typo corrections and synonyms added at lower weight.

    Returns the terms and the corrections made (unknown word → known word), which the caller turns into
    a "did you mean" suggestion.
    """
    terms = analyze_query(query)
    corrections: dict[str, str] = {}
    if corrector is not None:
        for word in latin_words(normalize(query[: MAX_QUERY_CHARS * 4])[:MAX_QUERY_CHARS]):
            fixed = corrector.correct(word)
            if fixed is not None:
                corrections[word] = fixed
                terms.append(QueryTerm(stem(fixed), typo_weight, "typo"))
    if synonyms is not None:
        for phrase in synonyms.expansions(query[: MAX_QUERY_CHARS * 4]):
            terms.extend(QueryTerm(t.token, synonym_weight, "synonym") for t in analyze_query(phrase))
    return merge_terms(terms), corrections


def merge_terms(terms: Iterable[QueryTerm]) -> list[QueryTerm]:
    """One term per token, keeping the highest weight (a repeated word does not count twice)."""
    best: dict[str, QueryTerm] = {}
    for term in terms:
        if term.token not in best or term.weight > best[term.token].weight:
            best[term.token] = term
    return list(best.values())


def simple_english_tokens(text: str) -> list[str]:
    """Stemmed English words and numbers, for the relevance features (no CJK or pinyin work)."""
    return [stem(w) if w.isalpha() else w for w in latin_words(normalize(text))]


def tokens_of(texts: Sequence[str]) -> list[list[str]]:
    return [analyze_document(t) for t in texts]
