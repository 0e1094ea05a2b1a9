"""The operator console: the platform's numbers (NPS, GMV, shop scores), the job runner's status,
platform campaigns, and content moderation with its appeals queue. One module per page group; shop applications are reviewed in
:mod:`zhongcao.web.onboarding`.
"""

from __future__ import annotations

from fastapi import APIRouter

from zhongcao.web.operator import dashboards, moderation

router = APIRouter()
# Fixed paths before the ids they would otherwise be taken for.
for module in (dashboards, moderation):
    router.include_router(module.router)
