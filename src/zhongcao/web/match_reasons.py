"""Matching reasons (``affiliate.matching_service.ReasonOut``) as sentences in the page's language.

The same codes the API returns; a creator reads them about its own audience ("your audience"), a
merchant about a creator's ("their audience"): ``side`` is ``creator`` or ``merchant``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from zhongcao.affiliate.matching_service import ReasonOut
from zhongcao.catalog import service as catalog_service
from zhongcao.web.console import Console
from zhongcao.web.templating import money


def category_names(db: Session, reasons: Sequence[Sequence[ReasonOut]], locale: str) -> dict[int, str]:
    ids = {r.category_id for rs in reasons for r in rs if r.category_id is not None}
    rows = catalog_service.categories_by_id(db, ids)
    return {cid: (c.name_zh if locale.startswith("zh") else c.name_en) for cid, c in rows.items()}


def sentence(console: Console, side: str, reason: ReasonOut, categories: dict[int, str]) -> str:
    locale = console.page.locale
    category = categories.get(reason.category_id or 0, "")
    value = reason.value
    key = f"match.{side}.{reason.code}"
    if reason.code == "audience_category":
        return console.t(key, share=f"{value:.0%}", category=category)
    if reason.code in ("content_topic",):
        return console.t(key, n=int(value), category=category)
    if reason.code in ("buyers_follow", "similar_creators"):
        return console.t(key, n=int(value))
    if reason.code == "price_fit":
        return console.t(key, price=money(int(value), locale))
    if reason.code == "commission":
        return console.t(key, rate=f"{value / 100:.1f}%")
    if reason.code == "shop_score":
        return console.t(key, score=f"{value:.0f}")
    if reason.code == "category_gmv":
        return console.t(key, gmv=money(int(value), locale), category=category)
    if reason.code == "conversion":
        return console.t(key, n=f"{value:.2f}")
    return reason.code
