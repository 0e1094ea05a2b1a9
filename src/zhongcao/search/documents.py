"""What the product index holds per product: the document, its tantivy form and schema, and a hit.

A product is one tantivy document: our analysis tokens (:mod:`zhongcao.search.analysis`) as one
whitespace-separated text field, the facet values as raw text and (decimal ids) integer columns, price,
stock, sales, creation time and campaigns as fast fields, and the product itself stored as a JSON
array, so a hit needs no database read. A hit reads its product lazily: from its segment's page store
(:mod:`zhongcao.search.page_store`) when there is one, else from tantivy's document store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import datetime
from typing import Any

import tantivy

from zhongcao.search import facets as facet_engine
from zhongcao.search.analysis import analyze_for_index
from zhongcao.search.highlight import Highlighter
from zhongcao.search.page_store import FOLD_ELSEWHERE, PageReader

FACET_FIELDS = facet_engine.FACET_FIELDS


@dataclass(frozen=True)
class ProductDocument:
    """What the index knows of a product; text fields may be empty, money is integer fen."""

    product_id: int
    title_zh: str = ""
    title_en: str = ""
    brand: str = ""
    category: str = ""
    shop: str = ""
    price_fen: int = 0
    stock: int = 0
    sales: int = 0
    created_at: datetime | float = 0.0
    campaign_ids: tuple[int, ...] = ()
    # Searchable words besides the titles. None: the brand and category fields are themselves the
    # words (names); a caller that keeps ids in those fields (for filters) passes the names here.
    keywords: str | None = None

    @property
    def title(self) -> str:
        return self.title_zh or self.title_en

    def text(self) -> str:
        extra = (self.brand, self.category) if self.keywords is None else (self.keywords,)
        return " ".join(p for p in (self.title_zh, self.title_en, *extra) if p)

    def to_json(self) -> bytes:
        """The stored form: a JSON array of the fields in order (about twice as fast to read back as
        an object), the creation time as a timestamp."""
        fields = [getattr(self, name) for name in _DOCUMENT_FIELDS]
        fields[_CREATED] = timestamp(self.created_at)
        return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> ProductDocument:
        # A page reads 20 of these per search: the decoder on the decoded text skips
        # json.loads' encoding detection, and filling the instance's dict skips the frozen dataclass's
        # per-field object.__setattr__ (together about half the cost; the fields are ours, in order).
        fields = _decode_json(data.decode())[0]
        fields[_CAMPAIGNS] = tuple(fields[_CAMPAIGNS])
        document = object.__new__(cls)
        document.__dict__.update(zip(_DOCUMENT_FIELDS, fields, strict=True))
        return document


_DOCUMENT_FIELDS = tuple(f.name for f in dataclass_fields(ProductDocument))
_decode_json = json.JSONDecoder().raw_decode
_CREATED = _DOCUMENT_FIELDS.index("created_at")
_CAMPAIGNS = _DOCUMENT_FIELDS.index("campaign_ids")


class SearchHit:
    """One hit. Its stored product, coverage and highlights are read when first asked for: a caller
    that fetches 100 hits to re-rank them shows (and highlights) only a page. Plain attributes filled
    on first use (not ``cached_property``: a page asks for four of them per hit)."""

    __slots__ = (
        "product_id",
        "score",
        "_pages",
        "_address",
        "_highlighter",
        "_typed",
        "_document",
        "_folded",
        "_highlight",
        "_highlight_en",
        "_coverage",
    )

    def __init__(
        self,
        product_id: int,
        score: float,
        pages: PageReader,
        address: Any,
        highlighter: Highlighter,
        typed: frozenset[str],
    ) -> None:
        self.product_id = product_id
        self.score = score
        self._pages = pages
        self._address = address
        self._highlighter = highlighter
        self._typed = typed
        self._document: ProductDocument | None = None
        self._folded: bytes | None = None
        self._highlight: str | None = None
        self._highlight_en: str | None = None
        self._coverage: float | None = None

    @property
    def document(self) -> ProductDocument:
        """The stored product, so a caller needs no second lookup."""
        if self._document is None:
            data, self._folded = self._pages.record(self._address)
            self._document = ProductDocument.from_json(data)
        return self._document

    @property
    def coverage(self) -> float:
        """Share of the typed query tokens the product's text contains (a text-match feature)."""
        if self._coverage is None:
            if not self._typed:
                self._coverage = 0.0
            else:
                # The stored tokens (a long text) are read only here: a page not re-ranked never asks.
                stored = self._pages.searcher.doc(self._address)
                tokens = str(stored.get_first("tokens") or "").split()
                self._coverage = len(self._typed.intersection(tokens)) / len(self._typed)
        return self._coverage

    @property
    def highlight(self) -> str:
        """The title (Chinese, else English), HTML-escaped, query matches wrapped in <em>...</em>."""
        if self._highlight is None:
            title = self.document.title
            folded = self._folded
            if folded is None or folded == FOLD_ELSEWHERE:  # not stored: the highlighter folds it
                self._highlight = self._highlighter.highlight(title)
            else:
                self._highlight = self._highlighter.highlight(
                    title, (folded.decode() if folded else title.lower(), None)
                )
        return self._highlight

    @property
    def highlight_en(self) -> str:
        """The English title likewise when the product has both titles, else ""."""
        if self._highlight_en is None:
            document = self.document
            self._highlight_en = self._highlighter.highlight(document.title_en) if document.title_zh else ""
        return self._highlight_en


@dataclass
class SearchResult:
    hits: list[SearchHit]
    total: int
    facets: dict[str, dict[str, int]]
    query: str
    suggestion: str | None = None
    # None, or why the hits are not plain matches: "popular_in_filters" / "popular" when nothing matched.
    fallback: str | None = None
    truncated: bool = False
    corrections: dict[str, str] = field(default_factory=dict)

    @property
    def ids(self) -> list[int]:
        return [hit.product_id for hit in self.hits]


def timestamp(value: datetime | float) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def product_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("id", indexed=True, fast=True)
    # Our analysed tokens, whitespace-separated; stored, for the coverage feature of each hit.
    builder.add_text_field("tokens", stored=True, tokenizer_name="whitespace", index_option="freq")
    # The Latin words as typed (not stemmed): the typo corrector's vocabulary, with document counts.
    builder.add_text_field("words", tokenizer_name="whitespace", index_option="basic")
    for name in FACET_FIELDS:
        builder.add_text_field(name, fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("price", indexed=True, fast=True)
    builder.add_integer_field("stock", indexed=True, fast=True)
    builder.add_integer_field("sales", fast=True)
    builder.add_float_field("created", fast=True)
    builder.add_unsigned_field("campaign", indexed=True)
    builder.add_bytes_field("doc", stored=True)
    # For the facets (search/facets.py): a facet value that is a decimal id (as the catalogue's are)
    # also as an integer column, which tantivy counts about twice as fast as a text column's terms;
    # a document with any other value is marked, and its index counts the text columns instead.
    for name in FACET_FIELDS:
        builder.add_unsigned_field(name + facet_engine.NUMERIC_SUFFIX, fast=True)
    builder.add_unsigned_field(facet_engine.TEXT_KEYS, indexed=True)
    # 1 in stock, 0 sold out: the in-stock filter is one term and its facet a terms count, where a
    # range over ``stock`` walks a posting list for every stock level.
    builder.add_unsigned_field(facet_engine.IN_STOCK, indexed=True, fast=True)
    return builder.build()


def tantivy_document(doc: ProductDocument) -> tantivy.Document:
    tokens, words = analyze_for_index(doc.text())
    out = tantivy.Document()
    out.add_unsigned("id", doc.product_id)
    out.add_text("tokens", " ".join(tokens))
    out.add_text("words", " ".join(set(words)))
    text_keys = False
    for name in FACET_FIELDS:
        value = getattr(doc, name)
        if value:
            out.add_text(name, value)
            number = facet_engine.numeric_key(value)
            if number is None:
                text_keys = True
            else:
                out.add_unsigned(name + facet_engine.NUMERIC_SUFFIX, number)
    if text_keys:
        out.add_unsigned(facet_engine.TEXT_KEYS, 1)
    out.add_integer("price", int(doc.price_fen))
    out.add_integer("stock", int(doc.stock))
    out.add_unsigned(facet_engine.IN_STOCK, 1 if doc.stock > 0 else 0)
    out.add_integer("sales", int(doc.sales))
    out.add_float("created", timestamp(doc.created_at))
    for campaign in doc.campaign_ids:
        out.add_unsigned("campaign", int(campaign))
    out.add_bytes("doc", doc.to_json())
    return out


def product_bytes(stored: tantivy.Document) -> bytes:
    data = stored.get_first("doc")
    assert isinstance(data, bytes)
    return data
