"""The Jinja2 environment: templates under ``web/templates/``, autoescaped, strict about undefined
names (a typo in a template fails its test instead of rendering blank), and the helpers every
template may use:

* ``t(key, **params)``       the page language's message (``web/i18n.py``)
* ``loc(obj, "title")``      ``obj.title_zh`` or ``obj.title_en`` for the page language
* ``money(fen)``             ``¥12.34`` (integer fen in, never floats)
* ``static_url(name)``       a versioned URL under ``/static/web/``
* ``plotly_url()``           Plotly's offline bundle (for the consoles' charts)
* ``when(dt)``               a short local date-time
* ``csrf_field()``           the hidden form field every POST form needs
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from zhongcao.money import format_yuan
from zhongcao.web import i18n
from zhongcao.web.static import plotly_url, static_url

if TYPE_CHECKING:
    from zhongcao.web.context import WebContext

TEMPLATES_DIR = Path(__file__).parent / "templates"
# Shoppers are in China: times are shown in China Standard Time (UTC+8, no daylight saving).
DISPLAY_TZ = timezone(timedelta(hours=8))


def money(fen: int | None) -> str:
    return "—" if fen is None else format_yuan(int(fen))


def yuan_input(fen: int | None) -> str:
    """A fen amount as the yuan text a price box shows (``1250`` -> ``12.5``)."""
    if fen is None:
        return ""
    whole, cents = divmod(int(fen), 100)
    return str(whole) if cents == 0 else f"{whole}.{cents:02d}".rstrip("0")


def when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(DISPLAY_TZ).strftime(fmt)


def compact_number(n: int | None, locale: str = "zh") -> str:
    """1234 -> 1234, 12345 -> 1.2万 (zh) / 12.3k (en)."""
    if n is None:
        return "0"
    if locale == "zh":
        return f"{n / 10_000:.1f}万".replace(".0万", "万") if n >= 10_000 else str(n)
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M".replace(".0M", "M")
    return f"{n / 1_000:.1f}k".replace(".0k", "k") if n >= 1_000 else str(n)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "svg", "xml"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["money"] = money
    env.filters["yuan_input"] = yuan_input
    env.filters["when"] = when
    env.globals["static_url"] = static_url
    env.globals["plotly_url"] = plotly_url
    env.globals["LOCALES"] = i18n.LOCALES
    env.globals["LOCALE_NAMES"] = i18n.LOCALE_NAMES
    return env


ENV = _environment()


def render_template(name: str, *, page: WebContext, **context: Any) -> str:
    locale = page.locale

    def loc(obj: Any, attr: str) -> str:
        if isinstance(obj, dict):
            return obj.get(f"{attr}_{locale}") or obj.get(f"{attr}_zh") or ""
        return getattr(obj, f"{attr}_{locale}", None) or getattr(obj, f"{attr}_zh", "") or ""

    def csrf_field() -> Markup:
        return Markup('<input type="hidden" name="csrf_token" value="{}">').format(escape(page.csrf_token))

    return ENV.get_template(name).render(
        page=page,
        t=page.t,
        loc=loc,
        locale=locale,
        html_lang=i18n.HTML_LANG[locale],
        user=page.user,
        csrf_field=csrf_field,
        number=lambda n: compact_number(n, locale),
        **context,
    )
