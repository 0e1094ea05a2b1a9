from __future__ import annotations

from fastapi import APIRouter, Depends, status

from zhongcao.deps import CurrentUser, DbSession
from zhongcao.experience import service
from zhongcao.experience.schemas import NpsCreate, NpsOut
from zhongcao.pagination import Page, PageParams, page_params

router = APIRouter(tags=["experience"])


@router.post("/api/nps", status_code=status.HTTP_201_CREATED, response_model=NpsOut)
def submit_nps(body: NpsCreate, user: CurrentUser, db: DbSession) -> NpsOut:
    """Answer the NPS survey. Rate limited: one answer per order (after_delivery), per after-sale
    case (after_after_sale), and one general answer per 30 days; more answers get 429."""
    response = service.submit_nps(
        db,
        user.id,
        score=body.score,
        trigger=body.trigger,
        reasons=[r.value for r in body.reasons],
        text=body.text,
        order_id=body.order_id,
        after_sale_id=body.after_sale_id,
    )
    return NpsOut.model_validate(response)


@router.get("/api/me/nps", response_model=Page[NpsOut])
def my_nps(user: CurrentUser, db: DbSession, params: PageParams = Depends(page_params)) -> Page[NpsOut]:
    rows, cursor = service.list_user_nps(db, user.id, params)
    return Page(items=[NpsOut.model_validate(r) for r in rows], next_cursor=cursor)
