"""Sample requests (creators ask, merchants decide and ship) and the shop's creator partners.

Merchant reads are open to every shop role (service agents see the queue); decisions need the shop
role owner or operator, as every other affiliate decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from zhongcao.affiliate import partners, samples
from zhongcao.affiliate.models import SampleRequest, SampleStatus
from zhongcao.affiliate.schemas import (
    ApplicantOut,
    CreatorPartnerOut,
    CreatorPartnersOut,
    MerchantSampleOut,
    SampleApprove,
    SampleCountsOut,
    SampleCreate,
    SampleOut,
    SampleReject,
    SampleShip,
)
from zhongcao.catalog import service as catalog_service
from zhongcao.content import reads as content_reads
from zhongcao.content import service as content_service
from zhongcao.deps import CreatorCtx, DbSession, MerchantContext, MerchantCtx, merchant_with
from zhongcao.fields import IdPath, IdQuery
from zhongcao.pagination import Page, PageParams, page_params
from zhongcao.shops.models import StaffRole

router = APIRouter()

AffiliateManager = Annotated[MerchantContext, Depends(merchant_with(StaffRole.owner, StaffRole.operator))]
Params = Annotated[PageParams, Depends(page_params)]


def _samples_out(db: DbSession, rows: Sequence[SampleRequest]) -> list[SampleOut]:
    briefs = catalog_service.product_briefs(db, {s.product_id for s in rows})
    out = []
    for s in rows:
        brief = briefs.get(s.product_id)
        out.append(
            SampleOut.model_validate(s).model_copy(
                update={
                    "product_title_zh": brief.title_zh if brief else "",
                    "product_title_en": brief.title_en if brief else "",
                }
            )
        )
    return out


def _merchant_samples_out(db: DbSession, rows: Sequence[SampleRequest]) -> list[MerchantSampleOut]:
    accounts = content_service.accounts_by_ids(db, [s.account_id for s in rows])
    followers = content_reads.shown_follower_counts(db, accounts)
    return [
        MerchantSampleOut(**out.model_dump(), creator=ApplicantOut.of(accounts[out.account_id], followers))
        for out in _samples_out(db, rows)
    ]


# --- creators ------------------------------------------------------------------------------------


@router.post("/api/creator/samples", status_code=201, response_model=SampleOut, tags=["creator"])
def request_sample(body: SampleCreate, ctx: CreatorCtx, db: DbSession) -> SampleOut:
    sample = samples.request_sample(
        db,
        ctx.account_id,
        body.product_id,
        recipient=body.recipient,
        phone=body.phone,
        address=body.address,
        message=body.message,
    )
    return _samples_out(db, [sample])[0]


@router.get("/api/creator/samples", response_model=Page[SampleOut], tags=["creator"])
def my_samples(
    ctx: CreatorCtx, db: DbSession, params: Params, status: SampleStatus | None = None
) -> Page[SampleOut]:
    rows, cursor = samples.creator_samples_page(db, ctx.account_id, params, status=status)
    return Page[SampleOut](items=_samples_out(db, rows), next_cursor=cursor)


@router.post("/api/creator/samples/{sample_id}/cancel", response_model=SampleOut, tags=["creator"])
def cancel_sample(sample_id: IdPath, ctx: CreatorCtx, db: DbSession) -> SampleOut:
    return _samples_out(db, [samples.cancel_sample(db, ctx.account_id, sample_id)])[0]


@router.post("/api/creator/samples/{sample_id}/received", response_model=SampleOut, tags=["creator"])
def sample_received(sample_id: IdPath, ctx: CreatorCtx, db: DbSession) -> SampleOut:
    return _samples_out(db, [samples.confirm_received(db, ctx.account_id, sample_id)])[0]


# --- merchants -----------------------------------------------------------------------------------


@router.get("/api/merchant/affiliate/samples", response_model=Page[MerchantSampleOut], tags=["merchant"])
def shop_samples(
    ctx: MerchantCtx,
    db: DbSession,
    params: Params,
    status: SampleStatus | None = None,
    product_id: IdQuery = None,
) -> Page[MerchantSampleOut]:
    rows, cursor = samples.shop_samples_page(db, ctx.shop_id, params, status=status, product_id=product_id)
    return Page[MerchantSampleOut](items=_merchant_samples_out(db, rows), next_cursor=cursor)


@router.get("/api/merchant/affiliate/samples/counts", response_model=SampleCountsOut, tags=["merchant"])
def shop_sample_counts(ctx: MerchantCtx, db: DbSession) -> SampleCountsOut:
    return SampleCountsOut(counts=samples.shop_sample_counts(db, ctx.shop_id))


@router.post(
    "/api/merchant/affiliate/samples/{sample_id}/approve", response_model=MerchantSampleOut, tags=["merchant"]
)
def approve_sample(
    sample_id: IdPath, ctx: AffiliateManager, db: DbSession, body: SampleApprove | None = None
) -> MerchantSampleOut:
    note = body.note if body is not None else ""
    sample = samples.approve_sample(db, ctx.shop_id, sample_id, ctx.user.id, note)
    return _merchant_samples_out(db, [sample])[0]


@router.post(
    "/api/merchant/affiliate/samples/{sample_id}/reject", response_model=MerchantSampleOut, tags=["merchant"]
)
def reject_sample(
    sample_id: IdPath, body: SampleReject, ctx: AffiliateManager, db: DbSession
) -> MerchantSampleOut:
    sample = samples.reject_sample(db, ctx.shop_id, sample_id, ctx.user.id, body.reason)
    return _merchant_samples_out(db, [sample])[0]


@router.post(
    "/api/merchant/affiliate/samples/{sample_id}/ship", response_model=MerchantSampleOut, tags=["merchant"]
)
def ship_sample(
    sample_id: IdPath, body: SampleShip, ctx: AffiliateManager, db: DbSession
) -> MerchantSampleOut:
    sample = samples.ship_sample(db, ctx.shop_id, sample_id, body.carrier_name, body.tracking_number)
    return _merchant_samples_out(db, [sample])[0]


@router.get("/api/merchant/affiliate/creators", response_model=CreatorPartnersOut, tags=["merchant"])
def shop_creators(
    ctx: MerchantCtx, db: DbSession, days: Annotated[int, Query(ge=1, le=365)] = 30
) -> CreatorPartnersOut:
    span = partners.last_days(days)
    rows = partners.shop_creators(db, ctx.shop_id, span.since, span.until)
    followers = content_reads.shown_follower_counts(db, [p.account.id for p in rows])
    return CreatorPartnersOut(
        first_day=span.first_day,
        last_day=span.last_day,
        items=[
            CreatorPartnerOut(
                creator=ApplicantOut.of(p.account, followers),
                orders=p.orders,
                items=p.items,
                gmv_fen=p.gmv_fen,
                refunded_fen=p.refunded_fen,
                commission_fen=p.commission_fen,
                booked_fen=p.booked_fen,
            )
            for p in rows
        ],
    )


@router.get("/api/merchant/affiliate/creator-accounts", response_model=list[ApplicantOut], tags=["merchant"])
def find_creator_accounts(
    ctx: MerchantCtx, db: DbSession, q: Annotated[str, Query(max_length=80)] = ""
) -> list[ApplicantOut]:
    """Creator accounts by name or handle, most followed first (to invite to a plan); none for an
    empty ``q``."""
    found = partners.find_creators(db, q)
    followers = content_reads.shown_follower_counts(db, [a.id for a in found])
    return [ApplicantOut.of(a, followers) for a in found]
