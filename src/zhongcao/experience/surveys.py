"""NPS answers: the survey rules, who is asked, and the NPS reports.

Rate limits, so that one buyer cannot flood the north-star metric:

* ``after_delivery``: one answer per order;
* ``after_after_sale``: one answer per after-sale case;
* ``general``: one answer per user per :data:`GENERAL_SURVEY_INTERVAL` (30 days).

A further answer is refused with 429 ``survey_rate_limited``. An answer's context is checked
against commerce and after-sales, and the report joins commerce, catalogue, after-sales and support
facts; none of those reads back here (the score reads others need are in
:mod:`zhongcao.experience.scores`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select, text
from sqlalchemy.orm import Session

from zhongcao import clock
from zhongcao.aftersales import service as aftersales_service
from zhongcao.catalog import service as catalog_service
from zhongcao.commerce import service as commerce_service
from zhongcao.errors import Conflict, DomainError, InvalidInput
from zhongcao.experience import nps
from zhongcao.experience.models import NpsReason, NpsResponse, NpsTrigger
from zhongcao.integrity import service as integrity_service
from zhongcao.integrity.models import FlagKind
from zhongcao.pagination import PageParams, paginate_by_id
from zhongcao.support import service as support_service

GENERAL_SURVEY_INTERVAL = timedelta(days=30)
NPS_TEXT_MAX = 1000
PROMOTER_MIN = 9
DETRACTOR_MAX = 6
# Namespace for the per-user PostgreSQL advisory lock that serialises survey answers (see _lock_user).
_NPS_LOCK_NAMESPACE = 0x4E50  # "NP"


class SurveyRateLimited(DomainError):
    status_code = 429
    code = "survey_rate_limited"


def _clean_reasons(reasons: Sequence[str]) -> list[str]:
    allowed = {r.value for r in NpsReason}
    out: list[str] = []
    for reason in reasons:
        value = str(reason)
        if value not in allowed:
            raise InvalidInput(
                f"unknown reason {value!r}",
                code="invalid_reason",
                field="reasons",
                details={"allowed": sorted(allowed)},
            )
        if value in out:
            raise InvalidInput(f"reason {value!r} is given twice", code="duplicate_reason", field="reasons")
        out.append(value)
    return out


def _lock_user(db: Session, user_id: int) -> None:
    """Serialise one user's survey answers so that two at once cannot both pass the rate limit.

    PostgreSQL: a transaction-scoped advisory lock keyed on the user. SQLite: every write
    transaction already holds the database's single write lock (BEGIN IMMEDIATE).
    """
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": (_NPS_LOCK_NAMESPACE << 47) | user_id})


def _count(db: Session, *conditions: Any) -> int:
    return db.scalar(select(func.count()).select_from(NpsResponse).where(*conditions)) or 0


def submit_nps(
    db: Session,
    user_id: int,
    *,
    score: int,
    trigger: NpsTrigger | str = NpsTrigger.general,
    reasons: Sequence[str] = (),
    text: str = "",
    order_id: int | None = None,
    after_sale_id: int | None = None,
    at: datetime | None = None,
) -> NpsResponse:
    """Record one NPS answer, enforcing its context (order / after-sale case) and the rate limits."""
    now = at or clock.now()
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise InvalidInput("score must be an integer from 0 to 10", code="invalid_score", field="score")
    try:
        trigger = NpsTrigger(trigger)
    except ValueError as exc:
        raise InvalidInput("unknown trigger", code="invalid_trigger", field="trigger") from exc
    clean_reasons = _clean_reasons(reasons)
    text = (text or "").strip()
    if len(text) > NPS_TEXT_MAX:
        raise InvalidInput(
            f"text is longer than {NPS_TEXT_MAX} characters", code="text_too_long", field="text"
        )
    if after_sale_id is not None and trigger != NpsTrigger.after_after_sale:
        raise InvalidInput(
            "after_sale_id belongs only to the after_after_sale trigger",
            code="after_sale_not_expected",
            field="after_sale_id",
        )

    shop_id: int | None = None
    try:
        _lock_user(db, user_id)
        if trigger == NpsTrigger.after_delivery:
            if order_id is None:
                raise InvalidInput(
                    "after_delivery answers need the order", code="order_required", field="order_id"
                )
            order = commerce_service.get_order_for_buyer(db, user_id, order_id, field="order_id")
            if order.delivered_at is None:
                raise Conflict("this order has not been delivered yet", code="order_not_delivered")
            shop_id = order.shop_id
            if _count(db, NpsResponse.trigger == NpsTrigger.after_delivery, NpsResponse.order_id == order_id):
                raise SurveyRateLimited("this order has already been rated", details={"order_id": order_id})
        elif trigger == NpsTrigger.after_after_sale:
            if after_sale_id is None:
                raise InvalidInput(
                    "after_after_sale answers need the after-sale case",
                    code="after_sale_required",
                    field="after_sale_id",
                )
            case_ = aftersales_service.get_for_buyer(db, user_id, after_sale_id, field="after_sale_id")
            if order_id is not None and order_id != case_.order_id:
                raise InvalidInput(
                    "order_id is not the order of this after-sale case",
                    code="order_mismatch",
                    field="order_id",
                )
            if aftersales_service.is_open(case_):
                raise Conflict("this after-sale case is still being handled", code="after_sale_not_finished")
            order_id, shop_id = case_.order_id, case_.shop_id
            if _count(db, NpsResponse.after_sale_id == after_sale_id):
                raise SurveyRateLimited(
                    "this after-sale case has already been rated", details={"after_sale_id": after_sale_id}
                )
        else:
            if order_id is not None:
                shop_id = commerce_service.get_order_for_buyer(
                    db, user_id, order_id, field="order_id"
                ).shop_id
            window_start = now - GENERAL_SURVEY_INTERVAL
            last = db.scalar(
                select(func.max(NpsResponse.created_at)).where(
                    NpsResponse.user_id == user_id,
                    NpsResponse.trigger == NpsTrigger.general,
                    NpsResponse.created_at > window_start,
                )
            )
            if last is not None:
                raise SurveyRateLimited(
                    "one general survey answer per 30 days",
                    details={"retry_after": (last + GENERAL_SURVEY_INTERVAL).isoformat()},
                )
        response = NpsResponse(
            user_id=user_id,
            score=score,
            reasons=clean_reasons,
            text=text,
            trigger=trigger,
            order_id=order_id,
            shop_id=shop_id,
            after_sale_id=after_sale_id,
            created_at=now,
        )
        db.add(response)
        db.commit()
    except DomainError:
        db.rollback()
        raise
    return response


def list_user_nps(db: Session, user_id: int, params: PageParams) -> tuple[Sequence[NpsResponse], str | None]:
    stmt = select(NpsResponse).where(NpsResponse.user_id == user_id)
    return paginate_by_id(db, stmt, NpsResponse.id, params)


def answer_for(
    db: Session,
    user_id: int,
    *,
    order_id: int | None = None,
    after_sale_id: int | None = None,
    now: datetime | None = None,
) -> NpsResponse | None:
    """The user's answer that the rate limits count against the survey a page would offer: the
    after-sales case's, else the delivered order's, else a general answer of the last 30 days. ``None``
    when the survey may be answered (the page offers the form)."""
    stmt = select(NpsResponse).where(NpsResponse.user_id == user_id)
    if after_sale_id is not None:
        stmt = stmt.where(NpsResponse.after_sale_id == after_sale_id)
    elif order_id is not None:
        stmt = stmt.where(NpsResponse.trigger == NpsTrigger.after_delivery, NpsResponse.order_id == order_id)
    else:
        since = (now or clock.now()) - GENERAL_SURVEY_INTERVAL
        stmt = stmt.where(NpsResponse.trigger == NpsTrigger.general, NpsResponse.created_at > since)
    return db.scalars(stmt.order_by(NpsResponse.id.desc()).limit(1)).first()


@dataclass(frozen=True)
class NpsSummary:
    responses: int
    promoters: int  # scores 9-10
    passives: int  # scores 7-8
    detractors: int  # scores 0-6
    # NPS = %promoters - %detractors, in tenths of a point (-1000..1000), rounded half away from
    # zero; None when there are no answers.
    nps_tenths: int | None


def nps_tenths(promoters: int, detractors: int, responses: int) -> int | None:
    """(promoters - detractors) / responses × 1000, rounded half away from zero, in integers only."""
    if responses <= 0:
        return None
    numerator = (promoters - detractors) * 1000
    magnitude = (2 * abs(numerator) + responses) // (2 * responses)
    return magnitude if numerator >= 0 else -magnitude


def _counted_answers() -> list[Any]:
    """Conditions that leave out answers the integrity domain discounts: those of flagged accounts (a
    farm's or a ring's) and those about brushed orders, so bought answers move no NPS and no traffic.
    A dismissed case lifts its flags and the answers count again."""
    return [
        NpsResponse.user_id.not_in(integrity_service.flagged_ids_query(FlagKind.user)),
        or_(
            NpsResponse.order_id.is_(None),
            NpsResponse.order_id.not_in(integrity_service.flagged_ids_query(FlagKind.order)),
        ),
    ]


def nps_summary(
    db: Session,
    since: datetime | None = None,
    *,
    until: datetime | None = None,
    shop_id: int | None = None,
    trigger: NpsTrigger | None = None,
) -> NpsSummary:
    """Counts of promoters, passives and detractors answered in [since, until), and the NPS (answers
    discounted by integrity left out)."""
    conditions: list[Any] = _counted_answers()
    if since is not None:
        conditions.append(NpsResponse.created_at >= since)
    if until is not None:
        conditions.append(NpsResponse.created_at < until)
    if shop_id is not None:
        conditions.append(NpsResponse.shop_id == shop_id)
    if trigger is not None:
        conditions.append(NpsResponse.trigger == trigger)
    total, promoters, detractors = db.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((NpsResponse.score >= PROMOTER_MIN, 1), else_=0)), 0),
            func.coalesce(func.sum(case((NpsResponse.score <= DETRACTOR_MAX, 1), else_=0)), 0),
        )
        .select_from(NpsResponse)
        .where(*conditions)
    ).one()
    total, promoters, detractors = int(total), int(promoters), int(detractors)
    return NpsSummary(
        responses=total,
        promoters=promoters,
        passives=total - promoters - detractors,
        detractors=detractors,
        nps_tenths=nps_tenths(promoters, detractors, total),
    )


# --- who is asked -----------------------------------------------------------------------------------

AFTER_DELIVERY_SAMPLE_BPS = 1_500  # 15% of delivered orders
AFTER_SALE_SAMPLE_BPS = 5_000  # half of finished after-sales cases


def invite_to_survey(trigger: NpsTrigger | str, object_id: int, *, sample_bps: int | None = None) -> bool:
    """Whether the buyer of this order (or after-sales case) is asked the NPS question: a fixed,
    uniform sample keyed on the id, so every worker and every retry decides the same way and nobody
    can be asked twice for one order. The per-user rate limits in :func:`submit_nps` still apply."""
    trigger = NpsTrigger(trigger)
    if sample_bps is None:
        sample_bps = (
            AFTER_SALE_SAMPLE_BPS if trigger is NpsTrigger.after_after_sale else AFTER_DELIVERY_SAMPLE_BPS
        )
    digest = hashlib.sha256(f"{trigger.value}:{object_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10_000 < sample_bps


def nps_report(db: Session, since: datetime, until: datetime) -> Any:
    """Global NPS over answers given in [since, until) (answers discounted by integrity left out): overall with a 95% interval, by reason,
    category, channel and shop, and the drivers of detractors (see :mod:`zhongcao.experience.nps`)."""
    rows = db.execute(
        select(NpsResponse.score, NpsResponse.reasons, NpsResponse.order_id, NpsResponse.shop_id).where(
            NpsResponse.created_at >= since, NpsResponse.created_at < until, *_counted_answers()
        )
    ).all()
    order_ids = [r.order_id for r in rows if r.order_id is not None]
    facts = commerce_service.order_facts(db, order_ids)
    placements = catalog_service.product_placements(
        db, [f.product_id for f in facts.values() if f.product_id]
    )
    leaves = catalog_service.categories_by_id(db, {p[1] for p in placements.values()})
    cases = aftersales_service.case_facts_by_order(db, order_ids)
    replies = support_service.first_response_seconds_by_order(db, order_ids)

    def top_category(product_id: int | None) -> int | None:
        placement = placements.get(product_id) if product_id else None
        if placement is None:
            return None
        leaf = leaves.get(placement[1])
        return None if leaf is None else (leaf.parent_id or leaf.id)

    answers = []
    for score, reasons, order_id, shop_id in rows:
        fact = facts.get(order_id) if order_id is not None else None
        answers.append(
            nps.Answer(
                score=int(score),
                reasons=tuple(reasons or ()),
                shop_id=shop_id if shop_id is not None else (fact.shop_id if fact else None),
                category_id=top_category(fact.product_id) if fact else None,
                channel=fact.channel if fact else None,
                facts=(
                    nps.order_facts(
                        fact.paid_at,
                        fact.picked_up_at,
                        fact.delivered_at,
                        fact.platform_warehouse,
                        cases.get(fact.order_id, []),
                        replies.get(fact.order_id),
                        fact.order_id in replies,
                    )
                    if fact
                    else frozenset()
                ),
            )
        )
    return nps.report(
        answers, with_orders=[a for a, (_, _, o, _) in zip(answers, rows, strict=True) if o is not None]
    )


def nps_trend(db: Session, since: datetime, until: datetime, bucket_days: int = 7) -> list[dict[str, Any]]:
    """NPS per ``bucket_days`` from ``since`` (the last bucket may be shorter), with each bucket's
    interval (see :class:`zhongcao.experience.nps.NpsStat`)."""
    rows = db.execute(
        select(NpsResponse.created_at, NpsResponse.score).where(
            NpsResponse.created_at >= since, NpsResponse.created_at < until, *_counted_answers()
        )
    ).all()
    since_utc = since if since.tzinfo else since.replace(tzinfo=UTC)
    buckets: dict[int, list[int]] = {}
    for created, score in rows:
        created = created if created.tzinfo else created.replace(tzinfo=UTC)
        buckets.setdefault(int((created - since_utc).total_seconds() // (bucket_days * 86400)), []).append(
            score
        )
    out = []
    n_buckets = max(1, -(-int((until - since).total_seconds()) // (bucket_days * 86400)))
    for b in range(n_buckets):
        stat = nps.NpsStat.of(buckets.get(b, []))
        out.append({"starts_at": since_utc + timedelta(days=b * bucket_days), **stat.__dict__})
    return out
