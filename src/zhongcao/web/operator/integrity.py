"""The operator's integrity desk (诚信治理): cases grouped by block with filters, a case page with its
evidence drawn (accounts × targets and accounts × time), the explanation, what it discounted for the
shops and creators it promoted, the escalation it caused, and confirm / dismiss with a reason; the
appeals queue of sanctioned merchants and creators.

The same functions as ``/api/ops/integrity/...``: ``integrity_flows.decide_case`` (audited, publishes
the flag set, escalates a confirmed case) and ``integrity_flows.decide_appeal``.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao import integrity_flows
from zhongcao.audit import service as audit_service
from zhongcao.events.views import app_store
from zhongcao.integrity import explain
from zhongcao.integrity import service as integrity_service
from zhongcao.integrity.blocks import BlockKind
from zhongcao.integrity.models import CaseStatus
from zhongcao.web import charts
from zhongcao.web.console import Console, CursorQuery, IdPath, OperatorConsole, page_of
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form

router = APIRouter(prefix="/operator/integrity")

BASE = "/operator/integrity"
STATUSES = [s.value for s in CaseStatus]
KINDS = [k.value for k in BlockKind]
SCORES = ("0.5", "0.8", "0.95")


@router.get("")
def cases(
    console: OperatorConsole,
    status: Annotated[str | None, Query(max_length=20)] = None,
    kind: Annotated[str | None, Query(max_length=20)] = None,
    min_score: Annotated[str | None, Query(max_length=5)] = None,
    cursor: CursorQuery = None,
) -> Response:
    """Cases newest first, one per detected block; chips keep one status, one kind, a minimum score."""
    wanted = CaseStatus(status) if status in STATUSES else None
    block_kind = BlockKind(kind) if kind in KINDS else None
    score = min_score if min_score in SCORES else ""
    rows, next_cursor = page_of(
        lambda p: integrity_service.cases_page(
            console.db, p, status=wanted, kind=block_kind, min_score=float(score) if score else None
        ),
        cursor,
    )
    kept = {
        "status": wanted.value if wanted else "",
        "kind": block_kind.value if block_kind else "",
        "min_score": score,
    }

    def link(**change: str) -> str:
        query = {k: v for k, v in {**kept, **change}.items() if v}
        return BASE + ("?" + urlencode(query) if query else "")

    return console.render(
        "operator/integrity.html",
        "integrity",
        rows=rows,
        sizes=integrity_service.member_counts(console.db, [c.id for c in rows]),
        status=kept["status"],
        kind=kept["kind"],
        min_score=score,
        statuses=STATUSES,
        kinds=KINDS,
        scores=SCORES,
        link=link,
        next_cursor=next_cursor,
        pager_base=link(),
        waiting=integrity_service.open_case_count(console.db),
        appeals=integrity_service.pending_appeal_count(console.db),
    )


@router.get("/appeals")
def appeals(console: OperatorConsole) -> Response:
    return _render_appeals(console, None)


def _render_appeals(console: Console, form: Form | None, which: int = 0, status_code: int = 200) -> Response:
    return console.render(
        "operator/integrity_appeals.html",
        "integrity_appeals",
        status_code=status_code,
        rows=integrity_service.pending_appeals(console.db),
        form=form,
        which=which,
        typed=form.values if form is not None else {},
    )


@router.post("/appeals/{sanction_id}")
def decide_appeal(console: OperatorConsole, sanction_id: IdPath, data: FormData) -> Response:
    form = Form(data, console.t)
    outcome = form.choice("outcome", ["grant", "uphold"], message=console.t("integrity.pick_outcome"))
    reason = form.text("reason", required=True, max_length=audit_service.MAX_REASON)
    if not form.ok or outcome is None:
        return _render_appeals(console, form, sanction_id, status_code=422)
    return console.decide(
        form,
        lambda: integrity_flows.decide_appeal(
            console.db,
            console.page.request.app.state.settings,
            sanction_id,
            outcome == "grant",
            reason=reason,
            actor_user_id=console.user_id,
        ),
        refused=lambda f, code: _render_appeals(console, f, sanction_id, status_code=code),
        done=f"{BASE}/appeals",
        flash=f"integrity.appeal_done.{outcome}",
    )


def _render_case(
    console: Console, case_id: int, form: Form | None = None, status_code: int = 200
) -> Response:
    db = console.db
    case = integrity_service.get_case(db, case_id)
    members = integrity_service.members_by_kind(db, case.id)
    sizes = {k.value: len(v) for k, v in members.items()}
    store = app_store(console.page.request.app)
    evidence = integrity_flows.case_evidence(db, store, case)
    t = console.t
    rows = [f"#{u}" for u in evidence.accounts]
    by_target = by_minute = None
    if evidence.accounts and evidence.targets:
        by_target = charts.heatmap(
            [f"#{x}" for x in evidence.targets], rows, evidence.by_target,
            label=t("integrity.chart.by_target"), x_name=t(f"integrity.target.{case.target_kind.value}"),
            y_name=t("integrity.account"),
        )  # fmt: skip
    if evidence.accounts and evidence.minutes:
        by_minute = charts.heatmap(
            evidence.minutes, rows, evidence.by_minute,
            label=t("integrity.chart.by_minute"), x_name=t("integrity.minute"), y_name=t("integrity.account"),
        )  # fmt: skip
    flags = integrity_service.flags_of(db, case.id)
    return console.render(
        "operator/integrity_case.html",
        "integrity",
        status_code=status_code,
        charts=True,
        case=case,
        members={k.value: v for k, v in members.items()},
        sizes=sizes,
        explanation=explain.describe_case(case, sizes, console.page.locale),
        evidence=evidence,
        by_target=by_target,
        by_minute=by_minute,
        active_flags=sum(1 for f in flags if f.lifted_at is None),
        lifted_flags=sum(1 for f in flags if f.lifted_at is not None),
        effects=integrity_flows.case_effects(db, store, case),
        sanctions=integrity_service.sanctions_of_case(db, case.id),
        entries=audit_service.entries_for(db, "integrity_case", case.id),
        form=form,
        typed=form.values if form is not None else {},
    )


@router.get("/{case_id}")
def case(console: OperatorConsole, case_id: IdPath) -> Response:
    return _render_case(console, case_id)


@router.post("/{case_id}/decide")
def decide(console: OperatorConsole, case_id: IdPath, data: FormData) -> Response:
    form = Form(data, console.t)
    decision = form.choice(
        "decision", list(integrity_service.DECISIONS), message=console.t("integrity.pick_decision")
    )
    reason = form.text("reason", required=True, max_length=audit_service.MAX_REASON)
    if not form.ok or decision is None:
        return _render_case(console, case_id, form, status_code=422)
    return console.decide(
        form,
        lambda: integrity_flows.decide_case(
            console.db,
            console.page.request.app.state.settings,
            case_id,
            decision,
            reason=reason,
            actor_user_id=console.user_id,
        ),
        refused=lambda f, code: _render_case(console, case_id, f, status_code=code),
        done=f"{BASE}/{case_id}",
        flash=f"integrity.done.{decision}",
    )
