"""Integrity cases (issue #19, part B): blocks become cases idempotently, an overlapping block joins
the open case, a dismissed case lifts its flags and is not raised again, and the operators' API."""

from __future__ import annotations

from sqlalchemy import select

from tests.api_helpers import assert_error
from tests.factories import auth, make_user
from tests.integrity_helpers import T0, block
from zhongcao.audit import service as audit_service
from zhongcao.integrity import service
from zhongcao.integrity.blocks import BlockKind, TargetKind
from zhongcao.integrity.models import CaseStatus, FlagKind, IntegrityCase, IntegrityFlag
from zhongcao.users.models import Role


def _cases(db) -> list[IntegrityCase]:
    return list(db.scalars(select(IntegrityCase).order_by(IntegrityCase.id)))


def test_the_same_blocks_twice_make_one_case_each(db) -> None:
    blocks = [
        block([1, 2, 3], [10, 11]),
        block([7, 8], [50], kind=BlockKind.brushing, target_kind=TargetKind.shop, orders=[900, 901]),
    ]
    first = service.record_blocks(db, blocks)
    assert first.created == 2 and first.flags_added == (3 + 2) + (2 + 1 + 2)
    again = service.record_blocks(db, blocks)
    assert again.created == 0 and again.flags_added == 0 and again.unchanged == 2
    assert len(_cases(db)) == 2
    flags = service.active_flags(db)
    assert flags.of_kind(FlagKind.user).tolist() == [1, 2, 3, 7, 8]
    assert flags.of_kind(FlagKind.order).tolist() == [900, 901] and flags.has(FlagKind.shop, 50)


def test_an_overlapping_block_joins_the_open_case(db) -> None:
    service.record_blocks(db, [block([1, 2, 3], [10, 11])])
    later = T0.replace(hour=14)
    grown = service.record_blocks(db, [block([3, 4, 5], [11, 12], start=later, score=0.97)])
    assert grown.created == 0 and grown.updated == 1
    (case,) = _cases(db)
    assert case.detections == 2 and case.score == 0.97
    assert case.window_start == T0 and case.window_end > later
    members = service.members_by_kind(db, case.id)
    assert members[FlagKind.user] == [1, 2, 3, 4, 5] and members[FlagKind.content] == [10, 11, 12]
    # Another kind of block over the same accounts is another case.
    service.record_blocks(db, [block([1, 2], [10], kind=BlockKind.velocity)])
    assert len(_cases(db)) == 2


def test_dismissing_lifts_the_flags_and_the_block_is_not_raised_again(db) -> None:
    operator = make_user(db, Role.operator)
    service.record_blocks(db, [block([1, 2, 3], [10, 11])])
    (case,) = _cases(db)
    service.decide(
        db, case.id, "dismiss", reason="a fan club liking its idol's videos", actor_user_id=operator.id
    )
    db.commit()
    assert case.status is CaseStatus.dismissed and case.reviewer_user_id == operator.id
    assert len(service.active_flags(db)) == 0
    assert all(f.lifted_at is not None for f in db.scalars(select(IntegrityFlag)))
    (entry,) = audit_service.entries_for(db, "integrity_case", case.id)
    assert entry.action == "integrity.dismiss" and entry.after["flags_lifted"] == 5
    # The next scan finds the same block: the operator's decision stands.
    again = service.record_blocks(db, [block([1, 2, 3], [10, 11])])
    assert again.created == 0 and len(_cases(db)) == 1 and len(service.active_flags(db)) == 0
    # New accounts acting with them are a new case.
    service.record_blocks(db, [block([1, 2, 3, 4], [10, 11])])
    assert len(_cases(db)) == 2 and service.active_flags(db).of_kind(FlagKind.user).tolist() == [1, 2, 3, 4]


def test_confirming_keeps_the_flags_and_counts_as_an_offence(db) -> None:
    operator = make_user(db, Role.operator)
    service.record_blocks(
        db, [block([1, 2], [40], kind=BlockKind.brushing, target_kind=TargetKind.shop, orders=[5, 6])]
    )
    (case,) = _cases(db)
    service.decide(
        db, case.id, "confirm", reason="shared address, five-star reviews", actor_user_id=operator.id
    )
    db.commit()
    assert service.active_flags(db).has(FlagKind.order, 5)
    assert service.confirmed_offences(db, FlagKind.shop, 40) == [case.id]
    labels = service.labels(db)
    assert {(r["member_kind"], r["subject_id"], r["label"]) for r in labels} >= {
        ("order", 5, "fraud"),
        ("shop", 40, "fraud"),
    }


def test_operators_review_cases_over_the_api(client, db) -> None:
    operator, shopper = make_user(db, Role.operator), make_user(db, Role.shopper)
    service.record_blocks(
        db, [block([1, 2, 3], [10, 11]), block([8, 9], [12], kind=BlockKind.velocity, score=0.6)]
    )
    db.commit()
    assert client.get("/api/ops/integrity/cases").status_code == 401
    assert client.get("/api/ops/integrity/cases", headers=auth(db, shopper)).status_code == 403
    headers = auth(db, operator)
    listed = client.get("/api/ops/integrity/cases?min_score=0.8", headers=headers)
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()["items"]
    assert item["kind"] == "engagement" and item["members"] == {"user": 3, "content": 2}
    assert [
        c["kind"]
        for c in client.get("/api/ops/integrity/cases?kind=velocity", headers=headers).json()["items"]
    ] == ["velocity"]
    assert_error(
        client.get("/api/ops/integrity/cases?status=maybe", headers=headers), 422, "validation_error"
    )
    detail = client.get(f"/api/ops/integrity/cases/{item['id']}", headers=headers).json()
    assert detail["member_ids"]["user"] == [1, 2, 3] and detail["active_flags"] == 5
    assert "3 accounts acted in lockstep on 2 content targets" in detail["explanation"]
    assert_error(client.get("/api/ops/integrity/cases/999", headers=headers), 404, "integrity_case_not_found")
    url = f"/api/ops/integrity/cases/{item['id']}/decision"
    assert_error(
        client.post(url, json={"decision": "dismiss", "reason": " "}, headers=headers),
        422,
        "validation_error",
    )
    assert_error(
        client.post(url, json={"decision": "maybe", "reason": "x"}, headers=headers), 422, "validation_error"
    )
    done = client.post(url, json={"decision": "dismiss", "reason": "organic fans"}, headers=headers)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "dismissed" and done.json()["active_flags"] == 0
    assert_error(
        client.post(url, json={"decision": "confirm", "reason": "x"}, headers=headers),
        409,
        "case_already_decided",
    )
    labels = client.get("/api/ops/integrity/labels", headers=headers).json()
    assert {r["label"] for r in labels} == {"organic"} and len(labels) == 5
