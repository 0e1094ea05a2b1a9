"""The creator console (百应): my content and the sales it carried, my commissions, and the affiliate
plans open to me (the plaza) with applications, my showcase and sample requests; publishing videos
and hosting live sessions (studio); my data and my commission statement (earnings). One module per
page group.

Every page is scoped to the caller's own publishing account
(:data:`~zhongcao.web.console.CreatorConsole`); there is no account id in any URL to change.
"""

from __future__ import annotations

from fastapi import APIRouter

from zhongcao.web.creator import earnings, moderation, overview, plaza, recommended, samples, showcase, studio

router = APIRouter()
# Fixed paths before the ids they would otherwise be taken for: /creator/samples/new before any id.
for module in (overview, plaza, recommended, showcase, samples, studio, earnings, moderation):
    router.include_router(module.router)
