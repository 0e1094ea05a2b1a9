"""Judged query–title pairs, text-match features and learned relevance models.

Loaders read the Home Depot Kaggle CSV (Latin-1) and a JSON-lines format, one judged pair per line::

    {"query": "...", "title": "...", "label": 2.5, "doc_id": "optional"}

Bad files raise :class:`JudgementsError`, naming the file and line.

Models learn on text-match features only (no behaviour, no per-product label statistics: with a query
split those would still leak the product's popularity with the graders into held-out queries through
products that also appear in training queries). Queries, not pairs, are split with a seeded generator,
so a held-out query was never seen in training. Two LightGBM models: a pointwise regressor (RMSE on the
graded label) and a lambdarank ranker (nDCG@10 per query); both use 2 threads.
"""

from __future__ import annotations

import csv
import html
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zhongcao.search.analysis import TypoCorrector, latin_words, normalize, stem

SPLIT_TEST_SHARE = 0.2
LIGHTGBM_THREADS = 2


class JudgementsError(ValueError):
    """A judgements file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Judgements:
    """Judged pairs in columns: query text, title text, graded label, document id (title-derived if absent)."""

    queries: list[str]
    titles: list[str]
    labels: np.ndarray
    doc_ids: list[str]

    def __len__(self) -> int:
        return len(self.queries)

    def query_ids(self) -> np.ndarray:
        """Dense id per distinct query text, in order of first appearance."""
        ids: dict[str, int] = {}
        return np.array([ids.setdefault(q, len(ids)) for q in self.queries], dtype=np.int64)

    def corpus(self) -> tuple[list[str], list[str]]:
        """Distinct documents (ids, titles): the retrieval corpus."""
        seen: dict[str, str] = {}
        for doc_id, title in zip(self.doc_ids, self.titles, strict=True):
            seen.setdefault(doc_id, title)
        return list(seen), list(seen.values())


def _label(value: object, where: str) -> float:
    if isinstance(value, bool):
        raise JudgementsError(f"{where}: label must be a number, got {value!r}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise JudgementsError(f"{where}: label must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise JudgementsError(f"{where}: label must be finite, got {value!r}")
    return number


def load_homedepot(path: Path) -> Judgements:
    """The Kaggle ``train.csv`` (columns id, product_uid, product_title, search_term, relevance; Latin-1)."""
    queries: list[str] = []
    titles: list[str] = []
    labels: list[float] = []
    doc_ids: list[str] = []
    try:
        with path.open(encoding="latin-1", newline="") as handle:
            reader = csv.DictReader(handle)
            needed = {"product_uid", "product_title", "search_term", "relevance"}
            missing = needed - set(reader.fieldnames or ())
            if missing:
                raise JudgementsError(f"{path}: line 1: missing column(s) {', '.join(sorted(missing))}")
            for row in reader:
                where = f"{path}: line {reader.line_num}"
                query, title = (row["search_term"] or "").strip(), (row["product_title"] or "").strip()
                if not query or not title:
                    raise JudgementsError(f"{where}: empty search_term or product_title")
                queries.append(query)
                titles.append(html.unescape(title))
                labels.append(_label(row["relevance"], where))
                doc_ids.append(row["product_uid"])
    except OSError as exc:
        raise JudgementsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except csv.Error as exc:
        raise JudgementsError(f"{path}: not a valid CSV file: {exc}") from None
    if not queries:
        raise JudgementsError(f"{path}: no judged pairs")
    return Judgements(queries, titles, np.asarray(labels, dtype=np.float64), doc_ids)


def load_jsonl(path: Path) -> Judgements:
    """One JSON object per line with ``query``, ``title``, ``label`` and optional ``doc_id``."""
    queries: list[str] = []
    titles: list[str] = []
    labels: list[float] = []
    doc_ids: list[str] = []
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                where = f"{path}: line {number}"
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise JudgementsError(f"{where}: not valid JSON ({exc.msg})") from None
                if not isinstance(record, dict):
                    raise JudgementsError(f"{where}: expected a JSON object")
                for key in ("query", "title", "label"):
                    if key not in record:
                        raise JudgementsError(f"{where}: missing {key!r}")
                query, title = record["query"], record["title"]
                if not isinstance(query, str) or not query.strip():
                    raise JudgementsError(f"{where}: 'query' must be a non-empty string")
                if not isinstance(title, str) or not title.strip():
                    raise JudgementsError(f"{where}: 'title' must be a non-empty string")
                doc_id = record.get("doc_id")
                if doc_id is not None and not isinstance(doc_id, str | int):
                    raise JudgementsError(f"{where}: 'doc_id' must be a string or an integer")
                queries.append(query.strip())
                titles.append(title.strip())
                labels.append(_label(record["label"], where))
                doc_ids.append(str(doc_id) if doc_id is not None else "t:" + title.strip())
    except UnicodeDecodeError:
        raise JudgementsError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise JudgementsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not queries:
        raise JudgementsError(f"{path}: no judged pairs")
    return Judgements(queries, titles, np.asarray(labels, dtype=np.float64), doc_ids)


LOADERS: dict[str, Callable[[Path], Judgements]] = {"homedepot": load_homedepot, "jsonl": load_jsonl}


def load_judgements(path: Path, format: str) -> Judgements:
    if format not in LOADERS:
        raise JudgementsError(f"unknown format {format!r}; expected one of {', '.join(LOADERS)}")
    if not path.is_file():
        raise JudgementsError(f"{path}: no such file")
    return LOADERS[format](path)


# ---------------------------------------------------------------------------------------------------
# Splits and metrics


def split_queries(query_ids: np.ndarray, seed: int, test_share: float = SPLIT_TEST_SHARE) -> np.ndarray:
    """Boolean mask of held-out rows: a seeded permutation of the distinct queries, ``test_share`` held out."""
    distinct = np.unique(query_ids)
    rng = np.random.default_rng(seed)
    held_out = rng.permutation(distinct)[: max(1, round(len(distinct) * test_share))]
    return np.isin(query_ids, held_out)


def ndcg_at_k(labels: np.ndarray, scores: np.ndarray, k: int = 10) -> float:
    """nDCG@k of one query: gains ``2**label - 1`` in the order of ``scores`` (ties: original order)."""
    order = np.argsort(-scores, kind="stable")[:k]
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    gains = np.power(2.0, labels) - 1.0
    dcg = float((gains[order] * discounts[: len(order)]).sum())
    ideal = np.sort(gains)[::-1][:k]
    idcg = float((ideal * discounts[: len(ideal)]).sum())
    return dcg / idcg if idcg > 0 else 0.0


def mean_ndcg(query_ids: np.ndarray, labels: np.ndarray, scores: np.ndarray, k: int = 10) -> float:
    """Mean nDCG@k over queries (labels shifted so the lowest grade has gain 0).

    Queries whose judged items all have the lowest grade have no ideal order and are left out.
    """
    if len(labels) == 0:
        return float("nan")
    shifted = labels - labels.min()
    values = []
    for rows in group_rows(query_ids).values():
        if shifted[rows].max() > 0:
            values.append(ndcg_at_k(shifted[rows], scores[rows], k))
    return float(np.mean(values)) if values else float("nan")


def rmse(labels: np.ndarray, predictions: np.ndarray) -> float:
    return float(np.sqrt(np.mean((labels - predictions) ** 2)))


def group_rows(query_ids: np.ndarray) -> dict[int, np.ndarray]:
    order = np.argsort(query_ids, kind="stable")
    sorted_ids = query_ids[order]
    bounds = np.flatnonzero(np.diff(sorted_ids)) + 1
    return {int(sorted_ids[chunk[0]]): chunk for chunk in np.split(order, bounds) if len(chunk)}


# ---------------------------------------------------------------------------------------------------
# Text-match features

# Unit spellings folded to one form before matching ("12 in." = "12 inch" = 12"), the usual fix for
# catalogue titles; every rule is a plain regex over normalised (lower-case) text.
_UNIT_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"(\d)\s*(?:inches|inch|in\.|in\b|\")", r"\1 in "),
        (r"(\d)\s*(?:feet|foot|ft\.|ft\b|')", r"\1 ft "),
        (r"(\d)\s*(?:pounds|pound|lbs\.?|lb\.?)", r"\1 lb "),
        (r"(\d)\s*(?:gallons|gallon|gal\.?)", r"\1 gal "),
        (r"(\d)\s*(?:ounces|ounce|oz\.?)", r"\1 oz "),
        (r"(\d)\s*(?:volts|volt|v\b)", r"\1 volt "),
        (r"(\d)\s*(?:watts|watt|w\b)", r"\1 watt "),
        (r"(\d)\s*(?:amps|amp|a\b)", r"\1 amp "),
        (r"(\d)\s*(?:sq\.?\s*ft\.?|square feet)", r"\1 sqft "),
        (r"(\d)\s*(?:cu\.?\s*ft\.?|cubic feet)", r"\1 cuft "),
        (r"(\d)\s*(?:mm|millimeters?)\b", r"\1 mm "),
        (r"(\d)\s*(?:cm|centimeters?)\b", r"\1 cm "),
        (r"(\d)\s*x\s*(?=\d)", r"\1 x "),
        (r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " "),
    )
)
_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")
# Where a catalogue title's product part ends: "X 40 in. single vanity in walnut with top" → "... vanity".
# " in " followed by "." is a unit (28 in.), so it does not cut.
_MAIN_CUT_RE = re.compile(r"\s(?:with|for|in|by|and|includes?)\s|\(|,|\s-\s|\s\|\s")
_UNIT_WORDS = frozenset(
    [
        "in",
        "ft",
        "lb",
        "gal",
        "oz",
        "volt",
        "watt",
        "amp",
        "sqft",
        "cuft",
        "mm",
        "cm",
        "x",
        "pack",
        "pk",
        "piec",
    ]
)
_STOP = frozenset(["a", "an", "the", "of", "for", "and", "or", "in", "on", "with", "to", "by", "from", "x"])


def canonical_text(text: str) -> str:
    """Normalised text with units folded and letters split from digits ("2x4" → "2 x 4")."""
    text = normalize(text)
    for pattern, replacement in _UNIT_RULES:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


@dataclass
class _Analysed:
    words: list[str]
    stems: list[str]
    main_stems: list[str]  # alphabetic stems of the product part, units dropped; the last is the type
    numbers: set[str]
    text: str


def _analyse(text: str) -> _Analysed:
    canon = canonical_text(text)
    words = latin_words(canon)
    stems = [stem(w) if w.isalpha() else w for w in words]
    main = _MAIN_CUT_RE.split(normalize(text), maxsplit=1)[0]
    main_stems = [stem(w) for w in latin_words(main) if w.isalpha() and w not in _UNIT_WORDS]
    numbers = set(_NUMBER_RE.findall(canon))
    return _Analysed(words, stems, main_stems, numbers, canon)


class _Bm25:
    """BM25 (Lucene idf, k1 1.2, b 0.75) of tokens over a fixed corpus, for scoring given pairs."""

    def __init__(self, documents: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.df: Counter[str] = Counter()
        for tokens in documents:
            self.df.update(set(tokens))
        self.n = max(1, len(documents))
        self.avgdl = max(1e-9, sum(len(t) for t in documents) / self.n)

    def idf(self, token: str) -> float:
        df = self.df.get(token, 0)
        return math.log(1.0 + (self.n - df + 0.5) / (df + 0.5))

    def score(self, query: Sequence[str], document: Sequence[str]) -> float:
        tf = Counter(document)
        norm = self.k1 * (1 - self.b + self.b * len(document) / self.avgdl)
        total = 0.0
        for token in set(query):
            freq = tf.get(token, 0)
            if freq:
                total += self.idf(token) * freq * (self.k1 + 1) / (freq + norm)
        return total


def _char_grams(text: str, n: int) -> Counter[str]:
    padded = f" {text} "
    return Counter(padded[i : i + n] for i in range(len(padded) - n + 1))


def _cosine(a: Counter[str], b: Counter[str], idf: Callable[[str], float]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b[k] * idf(k) ** 2 for k, v in a.items() if k in b)
    na = math.sqrt(sum((v * idf(k)) ** 2 for k, v in a.items()))
    nb = math.sqrt(sum((v * idf(k)) ** 2 for k, v in b.items()))
    return dot / (na * nb) if na and nb else 0.0


@dataclass
class FeatureMatrix:
    """Features per pair plus each pair's query type (last content word) and title type (product noun)."""

    values: np.ndarray
    names: list[str]
    query_types: np.ndarray
    title_types: np.ndarray


class TextFeatures:
    """Query–title match features; ``fit`` learns corpus statistics from titles only (no labels).

    Per pair: lengths; exact, stemmed and fuzzy (one edit) term overlap, as counts and shares, weighted
    by idf; BM25 of stems, of words and of character 3/4-grams; character-gram TF-IDF cosine and
    Jaccard; latent semantic (SVD of title TF-IDF) cosine; first/last query word and the title's head
    (text before " in", " with", "(" ...); number matches; phrase and word-bigram matches; the query
    words unknown to the corpus and their typo corrections. Per query, over its candidate titles: each
    key score's rank, gap to the best and share of the best, because a grader judges a title against
    what else the query could mean.
    """

    def __init__(self, lsa_dims: int = 64, seed: int = 0) -> None:
        self.lsa_dims = lsa_dims
        self.seed = seed
        self.names: list[str] = []

    def fit(self, titles: Sequence[str]) -> TextFeatures:
        analysed = [_analyse(t) for t in titles]
        self._stem_bm25 = _Bm25([a.stems for a in analysed])
        self._word_bm25 = _Bm25([a.words for a in analysed])
        self._gram_bm25 = _Bm25([list(_char_grams(a.text, 4).elements()) for a in analysed], k1=1.2, b=0.5)
        self._gram3_df: Counter[str] = Counter()
        for a in analysed:
            self._gram3_df.update(_char_grams(a.text, 3).keys())
        word_counts: Counter[str] = Counter()
        for a in analysed:
            word_counts.update(set(a.words))
        self._corrector = TypoCorrector(word_counts, min_length=4)
        # Brand-like words: a stem that starts at least 3 titles and is a title's first word at least half
        # the time it occurs ("delta", "behr"); a query naming another brand than the title's is a miss.
        first: Counter[str] = Counter(a.stems[0] for a in analysed if a.stems and a.stems[0].isalpha())
        self._brands = {s for s, n in first.items() if n >= 3 and n >= 0.5 * self._stem_bm25.df.get(s, 0)}
        self._fit_lsa([a.stems for a in analysed])
        return self

    def _gram3_idf(self, gram: str) -> float:
        return math.log(1.0 + self._stem_bm25.n / (1 + self._gram3_df.get(gram, 0)))

    def _fit_lsa(self, documents: list[list[str]]) -> None:
        from scipy.sparse import csr_matrix
        from scipy.sparse.linalg import svds

        vocabulary: dict[str, int] = {}
        rows, cols, values = [], [], []
        for row, tokens in enumerate(documents):
            for token, count in Counter(tokens).items():
                rows.append(row)
                cols.append(vocabulary.setdefault(token, len(vocabulary)))
                values.append((1 + math.log(count)) * self._stem_bm25.idf(token))
        matrix = csr_matrix((values, (rows, cols)), shape=(len(documents), len(vocabulary)))
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        matrix = csr_matrix(matrix.multiply(1.0 / norms[:, None]))
        dims = max(1, min(self.lsa_dims, min(matrix.shape) - 1))
        rng = np.random.default_rng(self.seed)
        v0 = rng.standard_normal(min(matrix.shape))
        _, _, vt = svds(matrix, k=dims, v0=v0)
        self._lsa_vocab = vocabulary
        self._lsa_terms = vt.T  # vocabulary × dims

    def _lsa_vector(self, tokens: Sequence[str]) -> np.ndarray:
        vector = np.zeros(self._lsa_terms.shape[1])
        for token, count in Counter(tokens).items():
            column = self._lsa_vocab.get(token)
            if column is not None:
                vector += (1 + math.log(count)) * self._stem_bm25.idf(token) * self._lsa_terms[column]
        return vector

    def transform(
        self,
        queries: Sequence[str],
        titles: Sequence[str],
        query_ids: np.ndarray,
        progress: Callable[[int], None] | None = None,
    ) -> FeatureMatrix:
        """Features of each pair; ``query_ids`` groups the pairs for the per-query features."""
        cache_q: dict[str, tuple[_Analysed, _Analysed, np.ndarray]] = {}
        cache_t: dict[str, tuple[_Analysed, np.ndarray]] = {}
        rows: list[list[float]] = []
        query_types: list[str] = []
        title_types: list[str] = []
        for number, (query, title) in enumerate(zip(queries, titles, strict=True)):
            if progress is not None and number % 1000 == 999:
                progress(1000)
            if query not in cache_q:
                q = _analyse(query)
                corrected = " ".join(self._corrector.fix(q.words))
                qc = _analyse(corrected)
                cache_q[query] = (q, qc, self._lsa_vector(qc.stems))
            if title not in cache_t:
                t = _analyse(title)
                cache_t[title] = (t, self._lsa_vector(t.stems))
            q, qc, q_lsa = cache_q[query]
            t, t_lsa = cache_t[title]
            rows.append(self._pair(q, qc, q_lsa, t, t_lsa))
            q_alpha = [s for s in qc.stems if s.isalpha() and s not in _STOP]
            query_types.append(q_alpha[-1] if q_alpha else "")
            title_types.append(t.main_stems[-1] if t.main_stems else "")
        features = np.asarray(rows, dtype=np.float64).reshape(len(rows), -1)
        values = self._add_query_relative(features, query_ids)
        return FeatureMatrix(values, list(self.all_names), np.array(query_types), np.array(title_types))

    def _pair(
        self, q: _Analysed, qc: _Analysed, q_lsa: np.ndarray, t: _Analysed, t_lsa: np.ndarray
    ) -> list[float]:
        from rapidfuzz import fuzz

        names: list[str] = []
        values: list[float] = []

        def put(name: str, value: float) -> None:
            names.append(name)
            values.append(float(value))

        t_stems, t_words = set(t.stems), set(t.words)
        q_content = [s for s in qc.stems if s not in _STOP] or qc.stems
        idf = self._stem_bm25.idf
        put("q_words", len(q.words))
        put("q_chars", len(q.text))
        put("t_words", len(t.words))
        put("q_unknown", sum(1 for w in q.words if w.isalpha() and w not in self._corrector))
        put("q_corrected", sum(1 for a, b in zip(q.words, qc.words, strict=False) if a != b))
        for tag, query in (("raw", q), ("fix", qc)):
            stems = [s for s in query.stems if s not in _STOP] or query.stems
            hits = [s for s in stems if s in t_stems]
            put(f"{tag}_stem_hits", len(hits))
            put(f"{tag}_stem_share", len(hits) / max(1, len(stems)))
            total_idf = sum(idf(s) for s in stems)
            put(f"{tag}_stem_idf_share", sum(idf(s) for s in hits) / total_idf if total_idf else 0.0)
            put(f"{tag}_bm25_stem", self._stem_bm25.score(query.stems, t.stems))
        put("word_share", sum(1 for w in qc.words if w in t_words) / max(1, len(qc.words)))
        put("bm25_word", self._word_bm25.score(qc.words, t.words))
        q4, t4 = _char_grams(qc.text, 4), _char_grams(t.text, 4)
        put("bm25_gram4", self._gram_bm25.score(list(q4.elements()), list(t4.elements())))
        q3, t3 = _char_grams(qc.text, 3), _char_grams(t.text, 3)
        put("gram3_cos", _cosine(q3, t3, self._gram3_idf))
        put("gram3_contain", sum(1 for g in q3 if g in t3) / max(1, len(q3)))
        put("gram3_jaccard", len(q3.keys() & t3.keys()) / max(1, len(q3.keys() | t3.keys())))
        # Fuzzy: each query word's best partial match against the title (typos, split/joined words).
        fuzzy = [max((fuzz.ratio(w, tw) for tw in t_words), default=0.0) for w in q.words if len(w) > 2]
        put("fuzzy_mean", float(np.mean(fuzzy)) if fuzzy else 0.0)
        put("fuzzy_min", float(np.min(fuzzy)) if fuzzy else 0.0)
        put("fuzzy_share", sum(1 for v in fuzzy if v >= 80) / max(1, len(fuzzy)))
        put("partial_ratio", fuzz.partial_ratio(qc.text, t.text))
        put("token_set_ratio", fuzz.token_set_ratio(qc.text, t.text))
        put("phrase_in_title", float(len(qc.text) > 0 and qc.text in t.text))
        q_bigrams = set(zip(qc.stems, qc.stems[1:], strict=False))
        t_bigrams = set(zip(t.stems, t.stems[1:], strict=False))
        put("bigram_share", len(q_bigrams & t_bigrams) / max(1, len(q_bigrams)))
        put("first_word_hit", float(bool(q_content) and q_content[0] in t_stems))
        put("last_word_hit", float(bool(q_content) and q_content[-1] in t_stems))
        q_set = set(qc.stems)
        main = t.main_stems
        q_alpha = [s for s in q_content if s.isalpha()]
        q_type = q_alpha[-1] if q_alpha else ""
        put("type_equal", float(bool(main) and main[-1] == q_type))
        put("type_in_query", float(bool(main) and main[-1] in q_set))
        put("q_type_in_tail", float(q_type in main[-3:]))
        put("q_type_in_main", float(q_type in main))
        put("main_share", sum(1 for s in q_content if s in set(main)) / max(1, len(q_content)))
        put("main_covered", sum(1 for s in main if s in q_set) / max(1, len(main)))
        brands = [s for s in q_alpha if s in self._brands]
        title_lead = set(t.stems[:2])
        put("q_brands", len(brands))
        put("brand_match", float(any(s in title_lead for s in brands)))
        put("brand_mismatch", float(bool(brands) and not any(s in title_lead for s in brands)))
        put("first_title_word_hit", float(bool(t.stems) and t.stems[0] in set(qc.stems)))
        put("q_numbers", len(q.numbers))
        put("number_hits", len(q.numbers & t.numbers))
        put("number_misses", len(q.numbers - t.numbers))
        positions = [i for i, s in enumerate(t.stems) if s in set(q_content)]
        put("first_hit_pos", positions[0] / max(1, len(t.stems)) if positions else 1.0)
        put("hit_span", (positions[-1] - positions[0] + 1) / max(1, len(q_content)) if positions else 0.0)
        norm = float(np.linalg.norm(q_lsa) * np.linalg.norm(t_lsa))
        put("lsa_cos", float(q_lsa @ t_lsa) / norm if norm else 0.0)
        put("q_idf_mean", float(np.mean([idf(s) for s in q_content])) if q_content else 0.0)
        put("q_idf_max", max((idf(s) for s in q_content), default=0.0))
        if not self.names:
            self.names = names
        return values

    _RELATIVE = (
        "fix_bm25_stem",
        "fix_stem_idf_share",
        "bm25_gram4",
        "gram3_cos",
        "lsa_cos",
        "fuzzy_mean",
        "main_share",
    )

    def _add_query_relative(self, features: np.ndarray, query_ids: np.ndarray) -> np.ndarray:
        if not self.names:  # no pairs yet: the names come from the first pair
            return features
        columns = [self.names.index(name) for name in self._RELATIVE]
        extra = np.zeros((len(features), 3 * len(columns) + 1))
        for rows in group_rows(query_ids).values():
            extra[rows, -1] = len(rows)
            for j, column in enumerate(columns):
                values = features[rows, column]
                best = values.max()
                extra[rows, 3 * j] = best - values
                extra[rows, 3 * j + 1] = values / best if best > 0 else 0.0
                ranks = np.argsort(np.argsort(-values, kind="stable"), kind="stable")
                extra[rows, 3 * j + 2] = ranks / max(1, len(rows) - 1)
        relative_names = [f"{n}_{kind}" for n in self._RELATIVE for kind in ("gap", "of_best", "rank")]
        self.all_names = [*self.names, *relative_names, "query_candidates"]
        return np.hstack([features, extra])


# ---------------------------------------------------------------------------------------------------
# Learned models


class TypeEncoder:
    """Smoothed mean label of the query's type word, the title's product noun, and the pair of both.

    A learned translation table ("bracket" queries vs "angle" titles grade 2.6 on average). Fitted on
    training rows only; training rows get out-of-fold values (query folds), so the model never sees a
    value computed from its own label.
    """

    names = (
        "type_q_mean",
        "type_q_count",
        "type_t_mean",
        "type_t_count",
        "type_pair_mean",
        "type_pair_count",
    )

    def __init__(self, smoothing: float = 10.0, folds: int = 5, seed: int = 0) -> None:
        self.smoothing, self.folds, self.seed = smoothing, folds, seed

    @staticmethod
    def _keys(features: FeatureMatrix, rows: np.ndarray) -> list[np.ndarray]:
        q, t = features.query_types[rows], features.title_types[rows]
        return [q, t, np.char.add(np.char.add(q, "|"), t)]

    def _stats(
        self, keys: list[np.ndarray], labels: np.ndarray
    ) -> list[tuple[dict[str, float], dict[str, int]]]:
        tables = []
        for key in keys:
            sums: dict[str, float] = defaultdict(float)
            counts: dict[str, int] = defaultdict(int)
            for k, y in zip(key.tolist(), labels.tolist(), strict=True):
                sums[k] += y
                counts[k] += 1
            tables.append((dict(sums), dict(counts)))
        return tables

    def _apply(
        self, tables: list[tuple[dict[str, float], dict[str, int]]], keys: list[np.ndarray]
    ) -> np.ndarray:
        out = np.zeros((len(keys[0]), 2 * len(keys)))
        w, prior = self.smoothing, self.prior
        for j, ((sums, counts), key) in enumerate(zip(tables, keys, strict=True)):
            for i, k in enumerate(key.tolist()):
                n = counts.get(k, 0)
                out[i, 2 * j] = (sums.get(k, 0.0) + w * prior) / (n + w)
                out[i, 2 * j + 1] = n
        return out

    def fit_transform(
        self, features: FeatureMatrix, train: np.ndarray, labels: np.ndarray, query_ids: np.ndarray
    ) -> np.ndarray:
        """Fit on ``train`` rows; return out-of-fold values for those rows (zeros elsewhere)."""
        train_rows = np.flatnonzero(train)
        self.prior = float(labels[train_rows].mean())
        self._tables = self._stats(self._keys(features, train_rows), labels[train_rows])
        queries = np.unique(query_ids[train_rows])
        rng = np.random.default_rng(self.seed + 1)
        fold_of_query = dict(
            zip(
                rng.permutation(queries).tolist(),
                (np.arange(len(queries)) % self.folds).tolist(),
                strict=True,
            )
        )
        fold = np.array([fold_of_query[q] for q in query_ids[train_rows].tolist()])
        out = np.zeros((len(labels), 2 * 3))
        for f in range(self.folds):
            fit_rows, apply_rows = train_rows[fold != f], train_rows[fold == f]
            tables = self._stats(self._keys(features, fit_rows), labels[fit_rows])
            values = self._apply(tables, self._keys(features, apply_rows))
            values[:, 1::2] *= self.folds / (self.folds - 1)  # counts on the scale of the full fit
            out[apply_rows] = values
        return out

    def transform(self, features: FeatureMatrix, rows: np.ndarray) -> np.ndarray:
        return self._apply(self._tables, self._keys(features, rows))


def _lightgbm_params(objective: str, seed: int) -> dict[str, object]:
    return {
        "objective": objective,
        "learning_rate": 0.03,
        "num_leaves": 31,
        "min_data_in_leaf": 50,
        "feature_fraction": 0.7,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "num_threads": LIGHTGBM_THREADS,
        "deterministic": True,
        "verbose": -1,
        "seed": seed,
    }


@dataclass
class RelevanceReport:
    """Held-out metrics of the learned models; ``ranker_scores`` holds the ranker's held-out scores."""

    rmse: float
    rmse_mean_baseline: float
    ndcg_pointwise: float
    ndcg_ranker: float
    train_queries: int
    test_queries: int
    test_pairs: int
    ranker_scores: np.ndarray
    regressor_predictions: np.ndarray
    feature_names: list[str]


def train_and_evaluate(
    features: FeatureMatrix,
    labels: np.ndarray,
    query_ids: np.ndarray,
    test: np.ndarray,
    *,
    seed: int = 0,
    rounds: int = 400,
) -> RelevanceReport:
    """Train the pointwise regressor and the lambdarank ranker on non-``test`` rows, score ``test`` rows."""
    import lightgbm as lgb

    train = ~test
    if not train.any() or not test.any():
        raise JudgementsError("need at least two distinct queries to hold some out")
    encoder = TypeEncoder(seed=seed)
    encoded = encoder.fit_transform(features, train, labels, query_ids)
    encoded[test] = encoder.transform(features, np.flatnonzero(test))
    matrix = np.hstack([features.values, encoded])
    names = [*features.names, *TypeEncoder.names]

    regressor = lgb.train(
        _lightgbm_params("regression", seed),
        lgb.Dataset(matrix[train], labels[train]),
        num_boost_round=rounds,
    )
    low, high = float(labels.min()), float(labels.max())
    predictions = np.clip(regressor.predict(matrix[test]), low, high)

    # lambdarank wants integer grades: the file's distinct labels in order, gains 2**label - 1 as in nDCG.
    levels = np.unique(np.round(labels, 2))
    grades = np.searchsorted(levels, np.round(labels, 2))
    train_rows = np.flatnonzero(train)
    train_rows = train_rows[np.argsort(query_ids[train_rows], kind="stable")]
    _, group_sizes = np.unique(query_ids[train_rows], return_counts=True)
    ranker_params = _lightgbm_params("lambdarank", seed)
    ranker_params.update(
        {"label_gain": (np.power(2.0, levels - levels.min()) - 1).tolist(), "lambdarank_truncation_level": 20}
    )
    ranker = lgb.train(
        ranker_params,
        lgb.Dataset(matrix[train_rows], grades[train_rows], group=group_sizes),
        num_boost_round=rounds,
    )
    ranker_scores = np.asarray(ranker.predict(matrix[test]))

    test_labels, test_queries = labels[test], query_ids[test]
    return RelevanceReport(
        rmse=rmse(test_labels, predictions),
        rmse_mean_baseline=rmse(test_labels, np.full(len(test_labels), labels[train].mean())),
        ndcg_pointwise=mean_ndcg(test_queries, test_labels, predictions),
        ndcg_ranker=mean_ndcg(test_queries, test_labels, ranker_scores),
        train_queries=len(np.unique(query_ids[train])),
        test_queries=len(np.unique(test_queries)),
        test_pairs=int(test.sum()),
        ranker_scores=ranker_scores,
        regressor_predictions=predictions,
        feature_names=names,
    )
