"""Global NPS: intervals by hand, breakdowns, drivers, the operator endpoint, and the simulated world."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import auth, make_user
from zhongcao.experience.nps import Answer, NpsStat, order_facts, report
from zhongcao.users.models import Role

T = datetime(2026, 6, 1, tzinfo=UTC)


def test_nps_and_its_interval_by_hand() -> None:
    stat = NpsStat.of([10, 9, 8, 7, 6, 0, 10, 10, 9, 3])
    # 5 promoters, 3 detractors of 10: NPS 20; variance 0.5 + 0.3 - 0.2² = 0.76; ±1.96·√(0.076)·100.
    assert (stat.responses, stat.promoters, stat.detractors, stat.nps) == (10, 5, 3, 20.0)
    assert stat.ci_low == pytest.approx(20 - 54.03, abs=0.1) and stat.ci_high == pytest.approx(74.03, abs=0.1)
    few = NpsStat.of([10, 0])
    assert few.nps == 0.0 and few.ci_low is None
    assert NpsStat.of([]).nps is None
    assert NpsStat.of([10] * 20).ci_high == 100.0  # clipped to the scale


def test_order_facts_name_what_went_wrong() -> None:
    assert (
        order_facts(T, T + timedelta(hours=10), T + timedelta(days=2), False, [], None, False) == frozenset()
    )
    late = order_facts(T, T + timedelta(hours=50), T + timedelta(days=6), False, [], 400.0, True)
    assert late == {"late_pickup", "slow_delivery", "slow_service"}
    # A platform-warehouse order's logistics are not the merchant's.
    assert order_facts(T, None, None, True, [], None, False) == frozenset()
    cases = [("quality", "refused", True)]
    assert order_facts(T, T, T, False, cases, 60.0, True) == {"quality_case", "refund_refused"}


def test_breakdowns_and_the_strongest_driver() -> None:
    answers = (
        [Answer(2, ("logistics",), 1, 10, "live", frozenset({"late_pickup"})) for _ in range(20)]
        + [Answer(10, ("product",), 2, 10, "search") for _ in range(60)]
        + [Answer(8, ("price",), 2, 11, "search", frozenset({"quality_case"})) for _ in range(20)]
    )
    out = report(answers)
    assert out.overall.nps == pytest.approx((60 - 20) / 100 * 100)
    assert out.by_reason["logistics"].nps == -100.0 and out.by_reason["product"].nps == 100.0
    assert out.by_shop[1].responses == 20 and out.by_category[11].nps == 0.0
    assert out.by_channel["search"].nps == pytest.approx(75.0)
    top = out.drivers[0]
    assert top.key == "late_pickup" and top.detractor_rate_with == 1.0 and top.detractor_rate_without == 0.0
    assert top.explained_detractors == pytest.approx(20.0)
    quality = next(d for d in out.drivers if d.key == "quality_case")
    assert quality.explained_detractors == 0.0  # passives, not detractors


def test_operators_read_the_global_nps(client, db) -> None:
    shopper = make_user(db)
    answer = client.post(
        "/api/nps", json={"score": 3, "trigger": "general", "reasons": ["service"]}, headers=auth(db, shopper)
    )
    assert answer.status_code == 201, answer.text
    assert client.get("/api/operator/nps", headers=auth(db, shopper)).status_code == 403
    report_ = client.get("/api/operator/nps?days=30", headers=auth(db, make_user(db, Role.operator)))
    assert report_.status_code == 200, report_.text
    body = report_.json()
    assert body["overall"]["responses"] == 1 and body["overall"]["nps"] == -100.0
    assert body["by_reason"]["service"]["detractors"] == 1
    assert {d["key"] for d in body["drivers"]} >= {"late_pickup", "quality_case", "refund_refused"}
    bad = client.get("/api/operator/nps?days=0", headers=auth(db, make_user(db, Role.operator)))
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "days"


def test_survey_invitations_are_a_fixed_uniform_sample() -> None:
    from zhongcao.experience.surveys import invite_to_survey

    picked = [i for i in range(20_000) if invite_to_survey("after_delivery", i)]
    assert 0.14 < len(picked) / 20_000 < 0.16  # 15%
    assert picked == [
        i for i in range(20_000) if invite_to_survey("after_delivery", i)
    ]  # same answer every time
    cases = sum(invite_to_survey("after_after_sale", i) for i in range(20_000)) / 20_000
    assert 0.48 < cases < 0.52
    assert not any(invite_to_survey("general", i, sample_bps=0) for i in range(1000))
