"""Attacks planted in the simulated world (issue #19): the attack file, and a simulation with attacks,
detection and discounting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from zhongcao import migrate
from zhongcao.cli import app
from zhongcao.db import Database
from zhongcao.events.store import SegmentEventStore
from zhongcao.world.attack_plan import (
    AttackFileError,
    AttackPlan,
    default_plan,
    load_attack_plan,
    parse_attack_plan,
)
from zhongcao.world.generate import Scale, WorldSpec
from zhongcao.world.integrity_sim import SimulatedIntegrity
from zhongcao.world.service import build_world

EXAMPLE = Path(__file__).resolve().parents[1] / "benchmarks" / "integrity" / "attacks.example.json"


def test_the_example_file_is_the_default_plan() -> None:
    assert load_attack_plan(EXAMPLE) == default_plan()
    assert parse_attack_plan({}) == AttackPlan() and AttackPlan().empty
    assert parse_attack_plan({"farms": [{}]}).farms[0].accounts == 30


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"farms": [{"accounts": 1}]}, "farms[0].accounts: Input should be greater than or equal to 3"),
        (
            {"farms": [{"new_share": 0.9}]},
            "farms[0]: new_share + aged_share + hijacked_share must be 1, got 1.5",
        ),
        (
            {"farms": [{"actions": ["buy"]}]},
            "farms[0].actions[0]: Input should be 'view', 'like', 'comment' or 'follow'",
        ),
        ({"brushing": [{"colour": "red"}]}, "brushing[0].colour: unknown field"),
        (
            {"view_inflation": [{"seconds_between": 0}]},
            "view_inflation[0].seconds_between: Input should be greater",
        ),
        ({"bots": []}, "bots: unknown field"),
        ([], "(the file): Input should be a valid dictionary"),
    ],
)
def test_bad_attack_files_say_where_and_why(data: object, problem: str) -> None:
    with pytest.raises(AttackFileError) as caught:
        parse_attack_plan(data)
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems


def test_unreadable_files_and_late_attacks(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(AttackFileError, match=r"bad.json: not JSON \(line 1, column 2"):
        load_attack_plan(bad)
    with pytest.raises(AttackFileError, match="no such file"):
        load_attack_plan(tmp_path / "missing.json")
    with pytest.raises(AttackFileError, match=r"farms\[0\].start_day: 3 is not inside the 2 simulated days"):
        default_plan().check_days(2)


def test_simulate_and_bench_refuse_a_bad_file_in_a_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "attacks.json"
    bad.write_text(json.dumps({"farms": [{"accounts": 0, "spin": 1}]}), encoding="utf-8")
    runner = CliRunner()
    for args in (
        ["simulate", "--policy", "popular_followed", "--days", "5", "--attacks", str(bad)],
        ["bench", "integrity", "--attacks", str(bad), "--seeds", "1"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "invalid attack file" in result.output
        assert "farms[0].accounts" in result.output and "farms[0].spin: unknown field" in result.output
        assert "Traceback" not in result.output


SMALL_PLAN = {
    "farms": [{"accounts": 12, "targets": 3, "start_day": 1, "days": 4, "camouflage": 1.0}],
    "view_inflation": [{"accounts": 2, "start_day": 1, "days": 3}],
    "brushing": [{"accounts": 6, "start_day": 1, "days": 5, "orders_per_day": 5}],
}


@pytest.mark.slow
def test_planted_attacks_are_found_and_discounted_in_the_simulation(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path}/world.db")
    layer = SimulatedIntegrity(parse_attack_plan(SMALL_PLAN), 5)
    try:
        migrate.upgrade(database.engine)
        store = SegmentEventStore(tmp_path / "events")
        build_world(
            database,
            WorldSpec(scale=Scale.tiny, seed=5, days=6),
            fresh=True,
            progress=False,
            world_dir=tmp_path / "world",
            store=store,
            integrity=layer,
        )
        store.close()
    finally:
        database.dispose()
    truth = layer.runtime.truth
    flagged = set(layer.record.accounts)
    farm = {u for u, k in truth.account_kind.items() if k == "farm"}
    scripts = {u for u, k in truth.account_kind.items() if k == "view_inflation"}
    assert farm <= flagged and scripts <= flagged
    assert truth.hijacked and truth.hijacked <= flagged  # real accounts taken over are caught too
    assert truth.brushed_orders and set(layer.record.orders) == truth.brushed_orders
    organic = flagged - set(truth.account_kind)
    assert not organic, f"organic accounts flagged: {sorted(organic)}"
    # Discounted: the farm's popularity was taken back, its follows leave the signal, brushed orders
    # leave sales counts and GMV.
    market = layer._market
    assert market is not None
    targets = np.asarray(sorted(truth.targets["farm"]), dtype=np.int64)
    wi = market.c_index[np.searchsorted(market.c_ids, targets)]
    added = np.isin(layer.contrib.get("wi"), wi) & np.isin(layer.contrib.get("user"), list(farm))
    assert added.any()
    fu, _ = layer.follow_signal(market.follow_u, market.follow_a)
    assert not set(fu.tolist()) & farm
    brushed = [layer.orders[o] for o in truth.brushed_orders]
    product = brushed[0]["product"]
    ids = np.asarray([product], dtype=np.int64)
    assert layer.sold(ids, np.asarray([100]))[0] == 100 - sum(1 for r in brushed if r["product"] == product)
    shop = brushed[0]["shop"]
    assert layer.gmv(market, {shop: 10**9})[shop] < 10**9
    # Every block the nights raised is explained in both languages.
    from zhongcao.integrity.explain import describe

    assert all(describe(b)["zh"] and describe(b)["en"] for _, b in layer.record.blocks)


@pytest.mark.slow
def test_simulate_with_attacks_prints_what_was_caught(tmp_path: Path) -> None:
    plan = tmp_path / "attacks.json"
    plan.write_text(json.dumps(SMALL_PLAN), encoding="utf-8")
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            "--policy",
            "popular_followed",
            "--days",
            "6",
            "--seed",
            "5",
            "--scale",
            "tiny",
            "--attacks",
            str(plan),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "popular_followed integrity: farm: 12 of 12 attacking accounts flagged" in result.output
    lines = result.output.splitlines()
    assert any(line.startswith("popular_followed integrity: brushed orders: ") for line in lines)
    assert any(" accounts viewed the same " in line or " accounts liked the same " in line for line in lines)
    assert any(" suspected brushing orders at shop " in line for line in lines)


def test_bench_refuses_bad_seeds_in_a_sentence() -> None:
    result = CliRunner().invoke(app, ["bench", "integrity", "--seeds", "2-x"])
    assert result.exit_code == 2, result.output
    assert "--seeds" in result.output and "Traceback" not in result.output


def _arm_with_orders(discount: bool) -> Any:
    """Three shops over three days; shop 7's ring orders (ids 10, 11) flagged at the end of day 1."""
    from types import SimpleNamespace

    from benchmarks.integrity.bench_integrity import DAY_US, Arm

    start = 1_000 * DAY_US
    day = DAY_US // 1_000_000

    def order(shop: int, d: float, paid: int) -> dict[str, int]:
        return {"shop": shop, "ts": int(start // 1_000_000 + d * day), "paid": paid}

    orders = {
        1: order(5, 0.2, 900), 2: order(6, 0.3, 600), 3: order(7, 0.4, 500),
        10: order(7, 0.5, 300), 11: order(7, 0.6, 300),  # the ring: 7 rises from third to first
        4: order(5, 1.5, 100), 5: order(6, 2.5, 100),
    }  # fmt: skip
    layer = SimpleNamespace(
        orders=orders,
        discount=discount,
        record=SimpleNamespace(orders={10: start + 2 * DAY_US, 11: start + 2 * DAY_US}, held={}),
        runtime=SimpleNamespace(truth=SimpleNamespace(brushed_orders={10, 11})),
        _market=SimpleNamespace(shop_ids=np.asarray([5, 6, 7], dtype=np.int64)),
    )
    return Arm("arm", layer, start, 0.0)  # type: ignore[arg-type]


def test_rank_bought_counts_only_the_days_before_the_flag() -> None:
    from benchmarks.integrity.bench_integrity import rank_bought

    off = rank_bought(_arm_with_orders(False), 7, _arm_with_orders(False).start_us, 3)
    on = rank_bought(_arm_with_orders(True), 7, _arm_with_orders(True).start_us, 3)
    # Detection off: shop 7 ranks first (1,100) instead of third (500) on all three days.
    assert off["positions"] == pytest.approx(2.0) and off["days_lifted"] == pytest.approx(1.0)
    assert off["gmv_lift"] == pytest.approx(600 / 500)
    # Detection on: only the ranking made after day 0 counts them (flagged the night after day 1).
    assert on["days_lifted"] == pytest.approx(1 / 3)
    assert on["positions"] == pytest.approx(2 / 3)
    assert on["days"] == 3.0
