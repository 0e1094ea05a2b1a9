"""The three consoles' routes in one router (``views.py`` includes it): the merchant console under
``/merchant``, the creator console under ``/creator``, the operator console under ``/operator``."""

from __future__ import annotations

from fastapi import APIRouter

from zhongcao.web import creator, merchant, operator
from zhongcao.web.console import HOMES

__all__ = ["HOMES", "router"]

router = APIRouter()
router.include_router(merchant.router)
router.include_router(creator.router)
router.include_router(operator.router)
