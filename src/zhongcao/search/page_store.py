"""Page stores: what a hit shows, kept beside each tantivy segment and read without tantivy's store.

Reading a page of hits from tantivy's document store decompresses a 16 KiB block per hit (the stored
tokens make blocks hold few products) and builds a tantivy document: about 13 µs a hit; the top 100
matches of a re-rank also read two fast fields each. A tantivy segment never changes once written (an
update deletes the old document and adds the new one to a new segment), so what its documents show
can be written beside it once, keyed by the segment's id:

* ``page-store/<segment>.columns.npy``: per document its product id, its sales (the re-rank's
  tie-break) and the offset of its record; memory-mapped, so the API workers share the pages;
* ``page-store/<segment>.records``: per document the stored product (the JSON array tantivy stores),
  a zero byte, and the title (Chinese, else English) as the highlighter folds it (NFKC, traditional to
  simplified, lower case) when that differs from the title in lower case: the folding, an OpenCC call
  per title, is done once here instead of per page. ``\\x01`` marks a title whose folding changes its
  length (the highlighter then folds it itself).

The job worker writes the stores of every segment that lacks one after each build and each follow's
commit (a follow's segment holds a few products; a build's million are read once, about 3 µs each)
and deletes those whose segment left the index. A reader uses a store only for the segment it was
written for: the segment ids that ``meta.json`` lists before and after the reader's reload are the
same, and the store has that segment's document count and its product ids at sampled documents; a
segment without such a store (not written yet, a merge racing the reload) is read from tantivy as
before. Deletions do not matter: a store is only read for hits, and hits are live documents.
"""

from __future__ import annotations

import json
import mmap
import os
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tantivy

from zhongcao.search.analysis import to_simplified

STORE_DIR = "page-store"
SAMPLES = 16
_ID, _SALES, _OFFSET = 0, 1, 2
_TITLE_ZH, _TITLE_EN = 1, 2  # positions in the stored JSON array (ProductDocument's field order)
# The title's folding changes its length: the highlighter folds it itself.
FOLD_ELSEWHERE = b"\x01"


def segments_of(meta: bytes | None) -> tuple[tuple[str, int], ...] | None:
    """(segment id, documents) of each segment in a ``meta.json``, in the order readers open them."""
    if meta is None:
        return None
    try:
        listed = json.loads(meta)["segments"]
        return tuple((str(s["segment_id"]).replace("-", ""), int(s["max_doc"])) for s in listed)
    except (KeyError, TypeError, ValueError):
        return None


def fold_titles(titles: Sequence[str]) -> list[bytes]:
    """Each title's stored folding (see the module's docstring): one OpenCC call for all of them."""
    out = [b""] * len(titles)
    wanted = [i for i, t in enumerate(titles) if not t.isascii() and "\n" not in t]
    if wanted:
        joined = to_simplified(unicodedata.normalize("NFKC", "\n".join(titles[i] for i in wanted)))
        pieces = joined.lower().split("\n")
        if len(pieces) != len(wanted):  # NFKC made a line break of something: fold one by one
            pieces = [to_simplified(unicodedata.normalize("NFKC", titles[i])).lower() for i in wanted]
        for i, folded in zip(wanted, pieces, strict=True):
            title = titles[i]
            if len(folded) != len(title):
                out[i] = FOLD_ELSEWHERE
            elif folded != title.lower():
                out[i] = folded.encode()
    for i, title in enumerate(titles):
        if "\n" in title and not title.isascii():
            out[i] = FOLD_ELSEWHERE
    return out


def write(searcher: tantivy.Searcher, ordinal: int, segment: str, documents: int, folder: Path) -> bool:
    """Write the store of the segment at ``ordinal`` of ``searcher`` (``segment``, ``documents``
    documents). Whether it did (a segment whose documents lack an id or sales gets none)."""
    addresses = [tantivy.DocAddress(ordinal, d) for d in range(documents)]
    ids = searcher.fast_field_values("id", addresses)
    sales = searcher.fast_field_values("sales", addresses)
    if any(v is None for v in ids) or any(v is None for v in sales):
        return False
    stored: list[bytes] = []
    for address in addresses:
        data = searcher.doc(address).get_first("doc")
        if not isinstance(data, bytes):
            return False
        stored.append(data)
    fields = json.loads(b"[" + b",".join(stored) + b"]") if stored else []
    folded = fold_titles([f[_TITLE_ZH] or f[_TITLE_EN] for f in fields])
    columns = np.zeros((3, documents + 1), dtype=np.int64)
    columns[_ID, :documents] = np.asarray(ids, dtype=np.int64)
    columns[_SALES, :documents] = np.asarray(sales, dtype=np.int64)
    records = [data + b"\x00" + fold for data, fold in zip(stored, folded, strict=True)]
    columns[_OFFSET, 1:] = np.cumsum([len(r) for r in records], dtype=np.int64)
    folder.mkdir(exist_ok=True)
    suffix = f".{os.getpid()}.tmp"
    (folder / f"{segment}.records{suffix}").write_bytes(b"".join(records))
    with open(folder / f"{segment}.columns.npy{suffix}", "wb") as handle:
        np.save(handle, columns)
    # The records first: a reader takes the columns file as the sign that both are complete.
    os.replace(folder / f"{segment}.records{suffix}", folder / f"{segment}.records")
    os.replace(folder / f"{segment}.columns.npy{suffix}", folder / f"{segment}.columns.npy")
    return True


def publish(searcher: tantivy.Searcher, segments: Sequence[tuple[str, int]], index_path: Path) -> int:
    """Write the missing stores of a reader's segments (``segments``: its commit's list, see
    :func:`segments_of`) and delete those of segments no longer listed; how many it wrote."""
    folder = index_path / STORE_DIR
    written = 0
    for ordinal, (segment, documents) in enumerate(segments):
        if not (folder / f"{segment}.columns.npy").exists():
            written += write(searcher, ordinal, segment, documents, folder)
    listed = {segment for segment, _ in segments}
    if folder.exists():
        for path in folder.iterdir():
            if path.name.split(".", 1)[0] not in listed:
                path.unlink(missing_ok=True)
    return written


class SegmentStore:
    """One segment's store, mapped."""

    def __init__(self, columns: np.ndarray, records: mmap.mmap | bytes) -> None:
        self.ids = columns[_ID]
        self.sales = columns[_SALES]
        self.offsets = columns[_OFFSET]
        self._records = records

    @classmethod
    def load(cls, folder: Path, segment: str, documents: int) -> SegmentStore | None:
        try:
            columns = np.load(folder / f"{segment}.columns.npy", mmap_mode="r")
            with open(folder / f"{segment}.records", "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                records = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        except (FileNotFoundError, ValueError, OSError):
            return None
        if columns.shape != (3, documents + 1) or int(columns[_OFFSET, -1]) != size:
            return None
        # A plain array over the mapped pages: numpy's memmap subclass makes every index a Python call.
        return cls(columns.view(np.ndarray), records)

    def matches(self, searcher: tantivy.Searcher, ordinal: int) -> bool:
        """Whether this store is of the segment at ``ordinal``: its product ids at sampled documents."""
        documents = len(self.ids) - 1
        if documents == 0:
            return True
        sampled = sorted({int(d) for d in np.linspace(0, documents - 1, SAMPLES)})
        found = searcher.fast_field_values("id", [tantivy.DocAddress(ordinal, d) for d in sampled])
        return [int(v) if v is not None else None for v in found] == self.ids[sampled].tolist()

    def record(self, doc: int) -> tuple[bytes, bytes]:
        """The stored product JSON and the title's folding (b"": the title in lower case)."""
        start, end = self.offsets[doc : doc + 2].tolist()
        data = self._records[start:end]
        stored, _, folded = data.partition(b"\x00")
        return stored, folded


class PageReader:
    """The page stores of one reader's segments (None where a segment has none)."""

    def __init__(
        self,
        searcher: tantivy.Searcher,
        stores: Sequence[SegmentStore | None],
        folder: Path | None = None,
        segments: Sequence[tuple[str, int]] = (),
    ) -> None:
        self.searcher = searcher
        self.stores = list(stores)
        self.complete = bool(self.stores) and all(s is not None for s in self.stores)
        # A store missing at the reload (the job worker writes a follow's store just after its commit)
        # is looked for at its segment's hits until it is there.
        self._folder = folder
        self._segments = list(segments)
        self._retried: set[int] = set()

    @classmethod
    def open(
        cls,
        searcher: tantivy.Searcher,
        index_path: Path | None,
        segments: Sequence[tuple[str, int]] | None,
        known: dict[str, SegmentStore],
    ) -> PageReader:
        """The stores for a reader at the commit whose segments are ``segments`` (None: unknown, so
        none); ``known`` keeps the stores already mapped, by segment id (updated in place)."""
        if index_path is None or segments is None or len(segments) != searcher.num_segments:
            return cls(searcher, [])
        folder = index_path / STORE_DIR
        stores: list[SegmentStore | None] = []
        for ordinal, (segment, documents) in enumerate(segments):
            store = known.get(segment)
            if store is None:
                store = SegmentStore.load(folder, segment, documents)
                if store is not None and not store.matches(searcher, ordinal):
                    store = None
                if store is not None:
                    known[segment] = store
            stores.append(store)
        for segment in set(known) - {s for s, _ in segments}:
            del known[segment]
        return cls(searcher, stores, folder, segments)

    def _retry(self, ordinal: int) -> SegmentStore | None:
        if self._folder is None:
            return None
        segment, documents = self._segments[ordinal]
        if not (self._folder / f"{segment}.columns.npy").exists():  # not yet: one stat a hit
            return None
        self._retried.add(ordinal)  # there: loaded now, or never (it is not this segment's)
        store = SegmentStore.load(self._folder, segment, documents)
        if store is None or not store.matches(self.searcher, ordinal):
            return None
        self.stores[ordinal] = store
        self.complete = all(s is not None for s in self.stores)
        return store

    def ids_and_sales(self, addresses: Sequence[Any]) -> tuple[list[int], list[int]]:
        """Product ids and sales of hits, from the stores (else tantivy's fast fields)."""
        if self.complete:
            if len(self.stores) == 1:
                docs = [a.doc for a in addresses]
                store = self.stores[0]
                assert store is not None
                return store.ids[docs].tolist(), store.sales[docs].tolist()
            ids, sales = [], []
            for address in addresses:
                store = self.stores[address.segment_ord]
                assert store is not None
                ids.append(int(store.ids[address.doc]))
                sales.append(int(store.sales[address.doc]))
            return ids, sales
        found_ids = self.searcher.fast_field_values("id", list(addresses))
        found_sales = self.searcher.fast_field_values("sales", list(addresses))
        return [int(v) for v in found_ids], [int(v) for v in found_sales]  # type: ignore[arg-type]

    def ids(self, addresses: Sequence[Any]) -> list[int]:
        if self.complete and len(self.stores) == 1:
            store = self.stores[0]
            assert store is not None
            return store.ids[[a.doc for a in addresses]].tolist()
        return [int(v) for v in self.searcher.fast_field_values("id", list(addresses))]  # type: ignore[arg-type]

    def record(self, address: Any) -> tuple[bytes, bytes | None]:
        """A hit's stored product JSON and its title's folding (None: not stored, fold it)."""
        if self.stores:
            ordinal = address.segment_ord
            store = self.stores[ordinal]
            if store is None and ordinal not in self._retried:
                store = self._retry(ordinal)
            if store is not None:
                return store.record(address.doc)
        data = self.searcher.doc(address).get_first("doc")
        assert isinstance(data, bytes)
        return data, None
