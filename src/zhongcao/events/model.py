"""The behaviour-event model: one Arrow schema, the event types, and vectorised validation.

Events travel as columnar batches (``pyarrow.Table``) from the API and from the simulator alike, so
validation is a handful of vectorised checks, not a loop over rows. A bad batch is refused whole with
the index and field of the first bad event.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zhongcao.errors import InvalidInput

MAX_BATCH_API = 500
MAX_EVENT_ID = 64
MAX_QUERY = 200
MAX_CHANNEL = 32
MAX_EXTRA_BYTES = 2048
MAX_RESULT_IDS = 200
MAX_WATCH_MS = 24 * 3600 * 1000
MAX_POSITION = 100_000
MAX_VALUE_FEN = 10**12
# Timestamps outside these bounds are data errors (a seconds-vs-microseconds mix-up, a zero clock).
MIN_TS = datetime(2000, 1, 1, tzinfo=UTC)
MAX_TS = datetime(2200, 1, 1, tzinfo=UTC)

SCHEMA = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("type", pa.string(), nullable=False),
        pa.field("user_id", pa.int64(), nullable=False),
        pa.field("content_id", pa.int64()),
        pa.field("product_id", pa.int64()),
        pa.field("shop_id", pa.int64()),
        pa.field("account_id", pa.int64()),
        pa.field("query", pa.string()),
        pa.field("result_ids", pa.list_(pa.int64())),
        pa.field("position", pa.int32()),
        pa.field("watch_ms", pa.int64()),
        pa.field("value_fen", pa.int64()),
        pa.field("request_id", pa.string()),
        pa.field("channel", pa.string()),
        pa.field("extra", pa.string()),  # small JSON object, as text
    ]
)
COLUMNS = tuple(SCHEMA.names)
ID_COLUMNS = ("user_id", "content_id", "product_id", "shop_id", "account_id")

# Event type -> columns that must be present. Add a type with ``register_event_type``.
EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "impression": ("content_id",),
    "play": ("content_id", "watch_ms"),
    "like": ("content_id",),
    "comment": ("content_id",),
    "share": ("content_id",),
    "follow": ("account_id",),
    "unfollow": ("account_id",),
    "anchor_click": ("content_id", "product_id"),
    "product_view": ("product_id",),
    "add_to_cart": ("product_id",),
    "search": ("query",),
    "order": ("product_id", "value_fen"),
    "not_interested": (),
    "live_enter": ("content_id",),
    "live_exit": ("content_id",),
}
_types_lock = threading.Lock()


def register_event_type(name: str, required: tuple[str, ...] = ()) -> None:
    """Make a new event type valid. ``required`` names columns every such event must carry."""
    unknown = [c for c in required if c not in COLUMNS]
    if unknown or not name or len(name) > 32:
        raise ValueError(f"bad event type {name!r} or unknown required columns {unknown}")
    with _types_lock:
        EVENT_TYPES[name] = tuple(required)


@functools.lru_cache(maxsize=256)
def _s(value: object, type_: pa.DataType) -> pa.Scalar:
    # Typed scalars, made once: converting a Python value on every compute call is slow in pyarrow
    # (it retries optional imports each time).
    return pa.scalar(value, type_)


def _known_types() -> pa.Array:
    with _types_lock:
        return pa.array(sorted(EVENT_TYPES), pa.string())


def _present(col: pa.ChunkedArray | pa.Array) -> bool:
    return col.null_count < len(col)


def _bad(index: int, field: str, message: str) -> InvalidInput:
    return InvalidInput(
        f"event {index}: {field} {message}",
        code="invalid_event",
        field=f"events[{index}].{field}",
        details={"index": index},
    )


def _first(mask: pa.Array | pa.ChunkedArray) -> int | None:
    """Index of the first true value of a boolean mask (nulls count as false), or None."""
    filled = pc.fill_null(mask, False)
    if not pc.any(filled).as_py():
        return None
    return int(pc.index(filled, True).as_py())


class _Ids:
    """Unique event ids for this process: a random prefix and a counter, built vectorised."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = -1
        self._next = 0
        self._prefix = ""

    def take(self, n: int) -> pa.Array:
        with self._lock:
            if self._pid != os.getpid():  # a forked worker must not reuse its parent's ids
                self._pid = os.getpid()
                self._prefix = secrets.token_hex(8) + "-"
                self._next = 0
            start = self._next
            self._next += n
            prefix = self._prefix
        seq = pc.cast(pa.array(np.arange(start, start + n, dtype=np.int64)), pa.string())
        return pc.binary_join_element_wise(prefix, seq, "")


_ids = _Ids()


def new_event_ids(n: int) -> pa.Array:
    return _ids.take(n)


def _column(data: Any, name: str, n: int) -> pa.ChunkedArray | pa.Array:
    field = SCHEMA.field(name)
    value = data.get(name) if isinstance(data, Mapping) else None
    if value is None:
        return pa.nulls(n, type=field.type)
    if isinstance(value, pa.ChunkedArray | pa.Array):
        arr = value
    elif isinstance(value, np.ndarray) and name == "ts" and value.dtype.kind == "M":
        # numpy datetime64 carries no zone and means UTC by convention.
        arr = pa.array(value.astype("datetime64[us]")).cast(pa.timestamp("us", tz="UTC"))
    else:
        arr = pa.array(value, from_pandas=True)
    if name == "ts" and pa.types.is_integer(arr.type):
        arr = pc.cast(arr, pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    elif name == "ts" and pa.types.is_timestamp(arr.type):
        if arr.type.tz is None:
            raise InvalidInput("ts must be timezone-aware UTC (or integer microseconds)", field="ts")
        arr = pc.cast(arr, pa.timestamp("us", tz="UTC"))
    return arr


def to_table(batch: Any) -> pa.Table:
    """A batch (``pyarrow.Table``/``RecordBatch``, dict of arrays or lists) as a table of ``SCHEMA``.

    Missing optional columns become nulls; a missing ``event_id`` is generated. Raises
    ``InvalidInput`` for unknown columns or values of the wrong type.
    """
    if isinstance(batch, pa.RecordBatch):
        batch = pa.Table.from_batches([batch])
    data: Mapping[str, Any]
    if isinstance(batch, pa.Table):
        data = {name: batch.column(name) for name in batch.column_names}
        n = batch.num_rows
    elif isinstance(batch, Mapping):
        data = batch
        lengths = {len(v) for v in data.values() if v is not None}
        if len(lengths) > 1:
            raise InvalidInput("all columns of a batch must have the same length", code="invalid_batch")
        n = lengths.pop() if lengths else 0
    else:
        raise TypeError("a batch is a pyarrow Table/RecordBatch or a mapping of column name to values")
    unknown = sorted(set(data) - set(COLUMNS))
    if unknown:
        raise InvalidInput(f"unknown event column {unknown[0]!r}", code="invalid_batch", field=unknown[0])
    arrays = []
    for name in COLUMNS:
        if name == "event_id" and data.get("event_id") is None:
            arrays.append(new_event_ids(n))
            continue
        arr = _column(data, name, n)
        try:
            arr = arr.cast(SCHEMA.field(name).type, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            raise InvalidInput(
                f"column {name} has values of the wrong type ({exc})", code="invalid_batch", field=name
            ) from None
        if name == "event_id" and arr.null_count:
            arr = pc.if_else(pc.is_null(arr), new_event_ids(n), arr)  # generated where not supplied
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=SCHEMA.with_metadata(None)) if n else SCHEMA.empty_table()


def validate(table: pa.Table) -> pa.Table:
    """Check types and ranges of a ``SCHEMA`` table; raise ``InvalidInput`` naming the first bad event."""
    if table.num_rows == 0:
        return table
    for name in ("event_id", "ts", "type", "user_id"):
        i = _first(pc.is_null(table[name]))
        if i is not None:
            raise _bad(i, name, "is required")
    id_len = pc.utf8_length(table["event_id"])
    i = _first(
        pc.or_(pc.equal(id_len, _s(0, id_len.type)), pc.greater(id_len, _s(MAX_EVENT_ID, id_len.type)))
    )
    if i is not None:
        raise _bad(i, "event_id", f"must be 1 to {MAX_EVENT_ID} characters")
    ts = table["ts"]
    i = _first(pc.or_(pc.less(ts, _s(MIN_TS, ts.type)), pc.greater_equal(ts, _s(MAX_TS, ts.type))))
    if i is not None:
        raise _bad(i, "ts", f"must be between {MIN_TS.date()} and {MAX_TS.date()}")
    types = table["type"]
    known = _known_types()
    i = _first(pc.invert(pc.is_in(types, value_set=known)))
    if i is not None:
        raise _bad(i, "type", f"is not a known event type ({types[i].as_py()!r})")
    for name in ID_COLUMNS:
        if not _present(table[name]):
            continue
        i = _first(pc.less_equal(table[name], _s(0, pa.int64())))
        if i is not None:
            raise _bad(i, name, "must be a positive id")
    for name, high in (("watch_ms", MAX_WATCH_MS), ("position", MAX_POSITION), ("value_fen", MAX_VALUE_FEN)):
        col = table[name]
        if not _present(col):
            continue
        i = _first(pc.or_(pc.less(col, _s(0, col.type)), pc.greater(col, _s(high, col.type))))
        if i is not None:
            raise _bad(i, name, f"must be between 0 and {high}")
    for name, high in (("query", MAX_QUERY), ("request_id", MAX_EVENT_ID), ("channel", MAX_CHANNEL)):
        if not _present(table[name]):
            continue
        i = _first(pc.greater(pc.utf8_length(table[name]), _s(high, pa.int32())))
        if i is not None:
            raise _bad(i, name, f"must be at most {high} characters")
    i = None
    if _present(table["result_ids"]):
        i = _first(pc.greater(pc.list_value_length(table["result_ids"]), _s(MAX_RESULT_IDS, pa.int32())))
    if i is not None:
        raise _bad(i, "result_ids", f"must hold at most {MAX_RESULT_IDS} ids")
    extra = table["extra"]
    if _present(extra):
        i = _first(pc.greater(pc.binary_length(extra), _s(MAX_EXTRA_BYTES, pa.int32())))
        if i is not None:
            raise _bad(i, "extra", f"must be at most {MAX_EXTRA_BYTES} bytes of JSON")
        for i, text in enumerate(extra.to_pylist()):
            if text is None:
                continue
            try:
                parsed = json.loads(text)
            except ValueError:
                raise _bad(i, "extra", "must be a JSON object") from None
            if not isinstance(parsed, dict):
                raise _bad(i, "extra", "must be a JSON object")
    for type_name in pc.unique(types).to_pylist():
        required = EVENT_TYPES[type_name]
        if not required:
            continue
        of_type = pc.equal(types, _s(type_name, pa.string()))
        for name in required:
            i = _first(pc.and_(of_type, pc.is_null(table[name])))
            if i is not None:
                raise _bad(i, name, f"is required for {type_name} events")
    return table


def prepare(batch: Any) -> pa.Table:
    """``to_table`` then ``validate``: what every store accepts."""
    return validate(to_table(batch))
