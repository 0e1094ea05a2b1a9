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


def indicator_value(unit: str, value: float | None, locale: str, extra_digits: int = 0) -> str:
    """An indicator's value as a merchant reads it (rates and shares in per cent, hours, points)."""
    if value is None:
        return "—"
    if unit in ("rate", "share"):
        return format_share(value, locale, 2 + extra_digits)
    if unit == "hours":
        return format_unit(
            round(value, 1 + extra_digits), "duration-hour", length="short", locale=i18n.babel_locale(locale)
        )
    return format_number(value, locale, 2 + extra_digits)


def move_shown(unit: str, now: float, to: float, locale: str) -> tuple[str, str]:
    """Both ends of an advised move, with as many decimals as it takes for them to read differently
    (a complaint rate of 0.004% is not "0.00%" next to a target of 0%)."""
    for extra in range(4):
        shown = indicator_value(unit, now, locale, extra), indicator_value(unit, to, locale, extra)
        if shown[0] != shown[1]:
            return shown
    return shown


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
        no_data = entry.get("no_data") if entry.get("value") is None else None
        indicators.append(
            {
                **entry,
                "label": t(f"xp.ind.{entry['key']}"),
                "help": t(f"xp.ind.{entry['key']}.help"),
                "shown": indicator_value(unit, entry.get("value"), console.page.locale),
                "target_shown": move_shown(unit, entry["value"], target, console.page.locale)[1]
                if target is not None and entry.get("value") is not None
                else None,
                # Why there is no value: what the window lacks (scores computed before the reason was
                # recorded get the indicator's usual reason).
                "no_data_text": t(f"xp.no_data.{no_data or (meta.no_data if meta else 'no_orders')}")
                if entry.get("percentile") is None
                else None,
            }
        )
    improve = details.get("improve_first")
    current = next((i for i in indicators if improve and i["key"] == improve["key"]), None)
    meta = BY_KEY.get(improve["key"]) if improve else None
    now_value = improve.get("from_value", current.get("value") if current else None) if improve else None
    if improve is None or meta is None or now_value is None or improve.get("to_value") in (None, now_value):
        improve = None  # nothing to advise (or an explanation from before advice had a direction)
    else:
        now_shown, to_shown = move_shown(meta.unit, now_value, improve["to_value"], console.page.locale)
        lower = improve.get("direction", "lower" if meta.lower_is_better else "raise") == "lower"
        improve = {
            **improve,
            "label": t(f"xp.ind.{improve['key']}"),
            "how": t(f"xp.ind.{improve['key']}.how"),
            "move": t("xp.improve_lower" if lower else "xp.improve_raise", now=now_shown, to=to_shown),
        }
    dimension_colors = dict(zip(DIMENSIONS, (charts.BRAND, charts.BLUE, charts.GREEN), strict=True))
    # Every indicator has its bar; one without data has none drawn and says why in its place.
    chart = (
        charts.bars(
            [(i["label"], i["percentile"] if i["percentile"] is not None else 0) for i in indicators],
            label=t("xp.percentiles"),
            horizontal=True,
            value_texts=[
                format_number(i["percentile"], console.page.locale, 0)
                if i["percentile"] is not None
                else i["no_data_text"]
                for i in indicators
            ],
            colors=[
                dimension_colors.get(i["dimension"], charts.GREY)
                if i["percentile"] is not None
                else charts.GREY
                for i in indicators
            ],
            value_max=100,
        )
        if any(i["percentile"] is not None for i in indicators)
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
