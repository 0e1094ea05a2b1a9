"""The operator console: the workbench (queues, escalated after-sales cases, complaints, shops,
users, the audit log), content moderation with its appeals queue, the platform's numbers (NPS, GMV,
shop scores), the job runner's status, and platform campaigns. One module per page group; shop
applications are reviewed in
:mod:`zhongcao.web.onboarding`.
"""

from __future__ import annotations

from fastapi import APIRouter

from zhongcao.web.operator import (
    accounts,
    dashboards,
    disputes,
    flash_sales,
    integrity,
    moderation,
    warehouse,
    workbench,
)

router = APIRouter()
# Fixed paths before the ids they would otherwise be taken for.
for module in (workbench, disputes, accounts, moderation, integrity, dashboards, flash_sales, warehouse):
    router.include_router(module.router)
