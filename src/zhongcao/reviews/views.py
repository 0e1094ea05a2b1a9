from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from zhongcao.deps import DbSession, MerchantCtx, ShopperUser
from zhongcao.fields import MAX_ID
from zhongcao.pagination import Page, PageParams, page_params
from zhongcao.reviews import service
from zhongcao.reviews.schemas import (
    ProductReviewsPage,
    PublicReviewOut,
    RatingSummaryOut,
    ReviewCreate,
    ReviewOut,
)

router = APIRouter(tags=["reviews"])

PathId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("/api/orders/{order_id}/items/{item_id}/reviews", status_code=201, response_model=ReviewOut)
def create_review(
    order_id: PathId, item_id: PathId, body: ReviewCreate, user: ShopperUser, db: DbSession
) -> ReviewOut:
    review = service.create_review(
        db, user.id, order_id, item_id, rating=body.rating, text=body.text, tags=body.tags
    )
    return ReviewOut.model_validate(review)


@router.get("/api/products/{product_id}/reviews", response_model=ProductReviewsPage)
def product_reviews(
    product_id: PathId,
    db: DbSession,
    include_followups: bool = False,
    params: PageParams = Depends(page_params),
) -> ProductReviewsPage:
    """First reviews, newest first (follow-ups too with ``include_followups``), and the rating summary."""
    rows, next_cursor = service.list_for_product(db, product_id, params, include_followups=include_followups)
    return ProductReviewsPage(
        items=[PublicReviewOut.model_validate(r) for r in rows],
        next_cursor=next_cursor,
        summary=RatingSummaryOut.model_validate(service.rating_summary(db, product_id)),
    )


@router.get("/api/merchant/reviews", response_model=Page[ReviewOut], tags=["merchant"])
def shop_reviews(
    ctx: MerchantCtx,
    db: DbSession,
    rating: Annotated[int | None, Query(ge=1, le=5)] = None,
    product_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    params: PageParams = Depends(page_params),
) -> Page[ReviewOut]:
    rows, next_cursor = service.list_for_shop(db, ctx.shop_id, params, rating=rating, product_id=product_id)
    return Page[ReviewOut](items=[ReviewOut.model_validate(r) for r in rows], next_cursor=next_cursor)
