"""Card building: a feed item with its source label and the reason shown for it ("because you follow
X", "popular in ..."), and the product cards mixed into a page. Pure functions of the catalogue and the
bundle: serving (``service``) calls them, nothing here reads the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from zhongcao.feed.catalog import Catalog, price_band
from zhongcao.feed.features import UserContexts
from zhongcao.feed.refreshing import Bundle
from zhongcao.feed.seen import UserMemory
from zhongcao.feed.sources import Candidates, Source


@dataclass(frozen=True)
class FeedItem:
    code: int  # catalog code (-1 for a product card)
    content_id: int | None
    product_id: int | None  # a product card's product
    kind: str  # short_video | live | product
    source: Source
    reason_code: str
    reason_zh: str
    reason_en: str
    score: float


def _reason(code: str, zh: str, en: str) -> tuple[str, str, str]:
    return code, zh, en


SOURCE_OF = {s.value: s for s in Source}


def label_sources(sources: list[Candidates], banded: np.ndarray) -> dict[int, tuple[Source, int, bool]]:
    """The union of the sources' codes; per code (source, "because", in the price band). The first
    source that proposed a code labels it, except that "because you follow" explains best."""
    code_source: dict[int, tuple[Source, int, bool]] = {}
    for cand in sources:
        for j, code in enumerate(cand.codes.tolist()):
            if code not in code_source:
                because = int(cand.because[j]) if cand.because is not None else -1
                in_band = bool(banded[j]) if cand.source is Source.trending else False
                code_source[code] = (cand.source, because, in_band)
            elif cand.source is Source.followed and cand.because is not None:
                code_source[code] = (Source.followed, int(cand.because[j]), False)
    return code_source


def product_cards(
    bundle: Bundle, contexts: UserContexts, inputs: dict[str, Any], memory: UserMemory, n: int
) -> list[tuple[int, float]]:
    if n <= 0:
        return []
    shown = {-cid for cid, _ in memory.served if cid < 0}
    ranked = inputs.get("ranked")
    if ranked is not None and len(ranked.product_ids) >= n + len(shown):
        pids, scores = ranked.product_ids, ranked.product_scores
    else:
        ids, scores = bundle.collaborative.products(contexts.state.vectors[0], 4 * n + len(shown) + 4)
        pids = bundle.model.product_ids[ids]
    out = []
    for pid, s in zip(pids.tolist(), scores.tolist(), strict=True):
        pid = int(pid)
        if pid in shown or pid in inputs["purchased"]:
            continue
        out.append((pid, float(s)))
        if len(out) == n:
            break
    return out


def item_card(
    catalog: Catalog,
    code: int,
    source: Source,
    because: int,
    in_band: bool,
    score: float,
    follows: np.ndarray,
) -> FeedItem:
    account = int(catalog.account_ids[code])
    name = catalog.account_names.get(account, f"#{account}")
    category = int(catalog.category[code])
    cat_zh, cat_en = catalog.category_names[category] if category >= 0 else ("", "")
    if source is Source.followed or (
        len(follows) and account in follows and source not in (Source.exploration, Source.campaign)
    ):
        reason = _reason("followed", f"因为你关注了 {name}", f"Because you follow {name}")
    elif source is Source.live:
        reason = _reason(
            "live_now",
            f"{cat_zh}直播中" if cat_zh else "正在直播",
            f"Live now in {cat_en}" if cat_en else "Live now",
        )
    elif source is Source.trending and category >= 0:
        if in_band:
            band = price_band(int(catalog.price_fen[code]))
            reason = _reason(
                "trending",
                f"{cat_zh}热门，{band} 接近你常买的价位",
                f"Popular in {cat_en} near your price range ({band})",
            )
        else:
            reason = _reason("trending", f"{cat_zh}热门", f"Popular in {cat_en}")
    elif source is Source.trending:
        reason = _reason("trending", "大家都在看", "Popular right now")
    elif source is Source.next_items:
        reason = _reason("next_items", "和你刚看过的相关", "Related to what you just watched")
    elif source is Source.exploration:
        reason = _reason(
            "new",
            f"新发现：{cat_zh}" if cat_zh else "新发现",
            f"New: {cat_en}" if cat_en else "Something new",
        )
    elif source is Source.campaign:
        reason = _reason("campaign", "大促精选", "Campaign pick")
    else:
        reason = _reason("similar_taste", "和你口味相近的人喜欢", "People with your taste liked this")
    return FeedItem(
        code=int(code),
        content_id=int(catalog.content_ids[code]),
        product_id=None,
        kind="live" if catalog.is_live[code] else "short_video",
        source=source,
        reason_code=reason[0],
        reason_zh=reason[1],
        reason_en=reason[2],
        score=float(score),
    )
