"""The experience score explained."""

from datetime import timedelta

from babel.units import format_unit
from fastapi import APIRouter
from fastapi.responses import Response

from zhongcao.experience import scores as experience_scores
from zhongcao.experience.scoring import BY_KEY, DIMENSIONS
from zhongcao.web import charts, i18n
from zhongcao.web.console import (
    MerchantConsole,
)
from zhongcao.web.templating import DISPLAY_TZ, format_number, format_share

router = APIRouter(prefix="/merchant")


def indicator_value(unit: str, value: float | None, locale: str) -> str:
    """An indicator's value as a merchant reads it (rates and shares in per cent, hours, points)."""
    if value is None:
        return "—"
    if unit in ("rate", "share"):
        return format_share(value, locale, 2)
    if unit == "hours":
        return format_unit(round(value, 1), "duration-hour", length="short", locale=i18n.babel_locale(locale))
    return format_number(value, locale, 2)


@router.get("/score")
def score(console: MerchantConsole) -> Response:
    assert console.shop_id is not None
    t = console.t
    row = experience_scores.latest_score(console.db, console.shop_id)
    details = dict(row.details or {}) if row is not None else {}
    indicators = []
    for entry in details.get("indicators", []):
        meta = BY_KEY.get(entry["key"])
        unit = meta.unit if meta else "points"
        target = entry.get("top_quartile_value")
        indicators.append(
            {
                **entry,
                "label": t(f"xp.ind.{entry['key']}"),
                "help": t(f"xp.ind.{entry['key']}.help"),
                "shown": indicator_value(unit, entry.get("value"), console.page.locale),
                "target_shown": indicator_value(unit, target, console.page.locale)
                if target is not None
                else None,
            }
        )
    improve = details.get("improve_first")
    if improve is not None:
        meta = BY_KEY.get(improve["key"])
        current = next((i for i in indicators if i["key"] == improve["key"]), None)
        improve = {
            **improve,
            "label": t(f"xp.ind.{improve['key']}"),
            "how": t(f"xp.ind.{improve['key']}.how"),
            "to_shown": indicator_value(
                meta.unit if meta else "points", improve.get("to_value"), console.page.locale
            ),
            "now_shown": current["shown"] if current else "—",
        }
    dimension_colors = dict(zip(DIMENSIONS, (charts.BRAND, charts.BLUE, charts.GREEN), strict=True))
    measured = [i for i in indicators if i.get("percentile") is not None]
    chart = (
        charts.bars(
            [(i["label"], i["percentile"]) for i in measured],
            label=t("xp.percentiles"),
            horizontal=True,
            value_texts=[format_number(i["percentile"], console.page.locale, 0) for i in measured],
            colors=[dimension_colors.get(i["dimension"], charts.GREY) for i in measured],
            value_max=100,
        )
        if measured
        else None
    )
    history = (
        experience_scores.score_history(console.db, console.shop_id, row.computed_at - timedelta(days=90))
        if row
        else []
    )
    scored = [(h.computed_at, h.score_centi) for h in history if h.score_centi is not None]
    history_chart = (
        charts.line(
            [at.astimezone(DISPLAY_TZ).isoformat() for at, _ in scored],
            [(t("xp.score"), [centi / 100 for _, centi in scored])],
            label=t("xp.history"),
            y_range=(3.0, 5.0),
        )
        if len(scored) >= 2
        else None
    )
    return console.render(
        "merchant/score.html",
        "score",
        row=row,
        details=details,
        indicators=indicators,
        improve=improve,
        dimensions=DIMENSIONS,
        weights=details.get("weights", {}),
        chart=chart,
        dimension_colors=dimension_colors,
        history_chart=history_chart,
    )
