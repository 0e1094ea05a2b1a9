"""A creator's page as shoppers see it: who they are, their showcase (橱窗) and their videos and lives.

The showcase is :func:`zhongcao.affiliate.showcase.showcase_product_ids` (what the creator may promote
now, in the creator's order); its product links carry ``from=showcase:<account id>``, so a purchase
from it is attributed to the creator (channel ``showcase``, the creator's commission), checked again on
the product page (:func:`zhongcao.web.shopper.common.checked_attribution`). A shop's account page is
the shop's page.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from zhongcao.affiliate import showcase as showcase_service
from zhongcao.catalog import service as catalog_service
from zhongcao.content import reads as content_reads
from zhongcao.content import service as content_service
from zhongcao.content.models import AccountKind
from zhongcao.errors import InvalidInput
from zhongcao.pagination import PageParams
from zhongcao.web.context import Page
from zhongcao.web.shopper.common import LIST_PAGE, CursorQuery, IdPath, tiles_from_briefs

router = APIRouter()


@router.get("/accounts/{account_id}")
def account_page(page: Page, account_id: IdPath, cursor: CursorQuery = None) -> Response:
    account = content_service.get_account(page.db, account_id)
    if account.kind is AccountKind.shop and account.shop_id is not None:
        return page.redirect(f"/shops/{account.shop_id}")
    ids = showcase_service.showcase_product_ids(page.db, account_id)
    briefs = catalog_service.product_briefs(page.db, ids)
    try:
        content, next_cursor = content_service.public_content_page(
            page.db, PageParams(limit=LIST_PAGE, cursor=cursor), account_ids=[account_id]
        )
    except InvalidInput:  # an old or edited cursor: the first page
        content, next_cursor = content_service.public_content_page(
            page.db, PageParams(limit=LIST_PAGE), account_ids=[account_id]
        )
    following = bool(page.user and content_service.follows(page.db, page.user.id, account_id))
    return page.render(
        "shopper/account.html",
        account=account,
        # Creators' accounts have one name (the header shows a shop account's in the page language).
        account_name=account.name,
        followers=content_reads.shown_follower_counts(page.db, [account.id]).get(account.id, 0),
        following=following,
        showcase=tiles_from_briefs(briefs, ids),
        source=f"showcase:{account_id}",
        content=content,
        next_cursor=next_cursor,
    )
