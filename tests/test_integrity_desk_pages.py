"""The operator's integrity desk and the sanctioned side's page (issue #19, part B), in zh and en:
cases with filters, a case with its evidence drawn and explained, confirm / dismiss with a reason,
the appeals queue; the merchant's integrity record with its appeal; the workbench's queues."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.factories import make_creator, make_shop, make_user
from tests.integrity_helpers import block
from tests.web_helpers import form_token, web_login
from zhongcao import clock
from zhongcao.events import service as events_service
from zhongcao.integrity import service as integrity_service
from zhongcao.integrity.blocks import BlockKind, TargetKind
from zhongcao.integrity.models import CaseStatus, IntegrityCase, SanctionSubject
from zhongcao.users.models import Role


def _farm_case(db, settings, database) -> int:
    now = clock.now() - timedelta(minutes=20)
    store = events_service.get_store(settings, database)
    farm, targets = [880_001, 880_002, 880_003], [770_001, 770_002]
    rows = [(u, t) for u in farm for t in targets]
    store.append(
        {
            "type": ["like"] * len(rows),
            "user_id": [u for u, _ in rows],
            "content_id": [t for _, t in rows],
            "ts": [now + timedelta(seconds=i) for i in range(len(rows))],
        }
    )
    integrity_service.record_blocks(db, [block(farm, targets, start=now - timedelta(seconds=30), minutes=2)])
    integrity_service.record_blocks(
        db, [block([5, 6], [9], kind=BlockKind.velocity, score=0.55, start=now - timedelta(days=1))]
    )
    db.commit()
    return db.scalars(select(IntegrityCase.id).where(IntegrityCase.kind == BlockKind.engagement)).one()


def test_the_desk_lists_draws_and_decides(client, db, settings, database) -> None:
    operator = make_user(db, Role.operator)
    case_id = _farm_case(db, settings, database)
    web_login(client, operator.email)
    listing = client.get("/operator/integrity")
    assert listing.status_code == 200 and "诚信治理" in listing.text
    assert f'id="case-{case_id}"' in listing.text and "刷量（同步互动）" in listing.text
    only = client.get("/operator/integrity?kind=velocity").text
    assert f'id="case-{case_id}"' not in only and "异常速度" in only
    assert f'id="case-{case_id}"' in client.get("/operator/integrity?min_score=0.8&status=open").text
    page = client.get(f"/operator/integrity/{case_id}")
    assert page.status_code == 200
    assert "3 个账号对 2 个内容目标同步操作" in page.text  # the explanation, in Chinese
    assert page.text.count('class="plotly-graph-div"') == 2  # accounts × targets, accounts × time
    assert 'id="evidence-table"' in page.text and '<td class="num">1</td>' in page.text
    english = client.get(f"/locale?to=en&next=/operator/integrity/{case_id}").text
    assert (
        "3 accounts acted in lockstep on 2 content targets" in english
        and "Effect on shops and creators" in english
    )
    # A decision needs its reason: 422 with the form kept, then dismissed.
    token = form_token(client, f"/operator/integrity/{case_id}")
    refused = client.post(
        f"/operator/integrity/{case_id}/decide", data={"csrf_token": token, "decision": "dismiss"}
    )
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.text
    done = client.post(
        f"/operator/integrity/{case_id}/decide",
        data={"csrf_token": token, "decision": "dismiss", "reason": "a fan club"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    db.expire_all()
    assert db.get(IntegrityCase, case_id).status is CaseStatus.dismissed
    assert (
        len(integrity_service.active_flags(db).of_kind(integrity_service.FlagKind.user)) == 2
    )  # the velocity case's
    again = client.post(
        f"/operator/integrity/{case_id}/decide",
        data={"csrf_token": token, "decision": "confirm", "reason": "x"},
    )
    assert again.status_code == 409
    workbench = client.get("/operator/workbench").text
    assert "Integrity cases" in workbench and "/operator/integrity?status=open" in workbench


def test_the_merchant_reads_why_and_appeals_and_the_operator_decides(client, db) -> None:
    operator = make_user(db, Role.operator)
    bundle = make_shop(db)
    integrity_service.record_blocks(
        db,
        [block([41, 42], [bundle.shop.id], kind=BlockKind.brushing, target_kind=TargetKind.shop, orders=[1])],
    )
    case = db.scalars(select(IntegrityCase)).one()
    integrity_service.decide(db, case.id, "confirm", reason="同一地址的刷单", actor_user_id=operator.id)
    sanction = integrity_service.add_sanction(
        db,
        SanctionSubject.shop,
        bundle.shop.id,
        case,
        reason="同一地址的刷单",
        actor_user_id=operator.id,
        name="x",
    )
    db.commit()
    web_login(client, bundle.owner.email)
    page = client.get("/merchant/integrity")
    assert page.status_code == 200 and "同一地址的刷单" in page.text and 'data-level="warning"' in page.text
    token = form_token(client, "/merchant/integrity")
    empty = client.post(f"/merchant/integrity/{sanction.id}/appeal", data={"csrf_token": token})
    assert empty.status_code == 422
    sent = client.post(
        f"/merchant/integrity/{sanction.id}/appeal",
        data={"csrf_token": token, "statement": "真实顾客"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    # A creator cannot appeal the shop's sanction (not found), nor see it.
    creator, _ = make_creator(db)
    client.cookies.clear()
    web_login(client, creator.email)
    assert 'class="empty"' in client.get("/creator/integrity").text
    token = form_token(client, "/creator/integrity")
    other = client.post(
        f"/creator/integrity/{sanction.id}/appeal", data={"csrf_token": token, "statement": "x"}
    )
    assert other.status_code == 404
    client.cookies.clear()
    web_login(client, operator.email)
    queue = client.get("/operator/integrity/appeals")
    assert f'id="appeal-{sanction.id}"' in queue.text and "真实顾客" in queue.text
    token = form_token(client, "/operator/integrity/appeals")
    decided = client.post(
        f"/operator/integrity/appeals/{sanction.id}",
        data={"csrf_token": token, "outcome": "uphold", "reason": "地址与收货人均相同"},
        follow_redirects=False,
    )
    assert decided.status_code == 303
    db.expire_all()
    assert integrity_service.get_sanction(db, sanction.id).appeal_status.value == "upheld"
