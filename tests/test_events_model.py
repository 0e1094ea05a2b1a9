"""Event validation: types, ranges, required columns per type, clear errors naming index and field."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from tests.events_helpers import T0_US, plays
from zhongcao.errors import InvalidInput
from zhongcao.events import model


def _error(batch: dict) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        model.prepare(batch)
    return info.value


def test_a_good_batch_gets_the_full_schema_and_generated_ids() -> None:
    batch = plays(3)
    del batch["event_id"]
    table = model.prepare(batch)
    assert table.schema.names == list(model.COLUMNS)
    ids = table["event_id"].to_pylist()
    assert len(set(ids)) == 3 and all(ids)
    assert table["product_id"].null_count == 3
    assert table["ts"][0].as_py().isoformat() == "2026-01-01T00:00:00+00:00"


def test_missing_ids_are_generated_only_where_missing() -> None:
    batch = plays(2)
    batch["event_id"] = ["mine", None]
    ids = model.prepare(batch)["event_id"].to_pylist()
    assert ids[0] == "mine" and ids[1] and ids[1] != "mine"


@pytest.mark.parametrize(
    ("column", "value", "field", "words"),
    [
        ("type", "teleport", "type", "not a known event type"),
        ("watch_ms", -1, "watch_ms", "between 0"),
        ("watch_ms", None, "watch_ms", "required for play"),
        ("user_id", 0, "user_id", "positive id"),
        ("content_id", -5, "content_id", "positive id"),
        ("ts", 5, "ts", "between 2000"),
        ("event_id", "x" * 65, "event_id", "1 to 64"),
    ],
)
def test_a_bad_event_is_named_by_index_and_field(column: str, value: object, field: str, words: str) -> None:
    batch = plays(4)
    values = list(batch[column])
    values[2] = value
    batch[column] = values
    err = _error(batch)
    assert err.details["field"] == f"events[2].{field}"
    assert err.details["index"] == 2
    assert words in err.message and err.message.startswith("event 2:")


def test_required_columns_follow_the_type() -> None:
    base = {"ts": [T0_US], "user_id": [1]}
    assert _error({**base, "type": ["search"]}).details["field"] == "events[0].query"
    assert _error({**base, "type": ["order"], "product_id": [3]}).details["field"] == "events[0].value_fen"
    assert _error({**base, "type": ["follow"]}).details["field"] == "events[0].account_id"
    table = model.prepare({**base, "type": ["search"], "query": ["口红"], "result_ids": [[4, 5, 6]]})
    assert table["result_ids"].to_pylist() == [[4, 5, 6]]


def test_extra_must_be_a_small_json_object() -> None:
    base = {"ts": [T0_US, T0_US], "user_id": [1, 1], "type": ["not_interested"] * 2}
    assert _error({**base, "extra": ['{"a": 1}', "[1]"]}).details["field"] == "events[1].extra"
    assert _error({**base, "extra": ['{"a": 1}', "{nope"]}).details["field"] == "events[1].extra"
    big = '{"a": "' + "x" * 3000 + '"}'
    assert _error({**base, "extra": [None, big]}).details["field"] == "events[1].extra"


def test_unknown_columns_wrong_types_and_naive_timestamps_are_refused() -> None:
    assert _error({**plays(1), "colour": ["red"]}).details["field"] == "colour"
    assert _error({**plays(1), "user_id": ["abc"]}).details["field"] == "user_id"
    naive = pa.array(np.array(["2026-01-01T00:00:00"], dtype="datetime64[us]"))
    assert _error({**plays(1), "ts": naive}).details["field"] == "ts"
    with pytest.raises(InvalidInput):
        model.prepare({"ts": [T0_US, T0_US], "user_id": [1], "type": ["like", "like"]})


def test_numpy_datetimes_and_arrow_tables_are_accepted() -> None:
    batch = plays(2)
    batch["ts"] = np.array(["2026-01-01T00:00:00", "2026-01-02T00:00:00"], dtype="datetime64[ns]")
    table = model.prepare(batch)
    assert table["ts"][1].as_py().isoformat() == "2026-01-02T00:00:00+00:00"
    assert model.prepare(table).equals(table)


def test_new_event_types_can_be_registered() -> None:
    batch = {"ts": [T0_US], "user_id": [1], "type": ["coupon_claim"]}
    assert "not a known event type" in _error(batch).message
    model.register_event_type("coupon_claim", ("shop_id",))
    try:
        assert _error(batch).details["field"] == "events[0].shop_id"
        assert model.prepare({**batch, "shop_id": [9]}).num_rows == 1
    finally:
        model.EVENT_TYPES.pop("coupon_claim")
