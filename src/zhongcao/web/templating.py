"""The Jinja2 environments: templates under ``web/templates/``, autoescaped, strict about undefined
names (a typo in a template fails its test instead of rendering blank). There is one environment per
page locale, each with ``jinja2.ext.i18n`` installed on that locale's gettext catalog (newstyle), so
a template says:

* ``_("key", name=…)`` / ``gettext(…)``       the page language's message (``%(name)s`` fields)
* ``ngettext("key", "key.plural", n)``         a count's plural form (``%(num)s`` is ``n``)
* ``loc(obj, "title")``      ``obj.title_zh`` or ``obj.title_en`` for the page language
* ``static_url(name)``       a versioned URL under ``/static/web/``; ``plotly_url()`` Plotly's bundle
  and ``plotly_css_url()`` its stylesheet
* ``csrf_field()``           the hidden form field every POST form needs
* ``number(n)``              a compact count: 1.2万 / 12.3K

and these locale-aware filters (Babel, in the page's locale):

* ``fen | money``            ¥11,024.80 (integer fen in, never floats)
* ``x | decimal``            1,234 · ``x | decimal(2)`` 3.50 · ``x | decimal(1, sign=True)`` +12.5
* ``x | percent(1)``         12.3%
* ``dt | when``              a date and time in China Standard Time; ``dt | date``, ``dt | time``
* ``dt | ago``               a relative time (3 hours ago / 3小时前)
* ``seconds | duration``     a length of time (2 minutes / 2分钟)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from babel.dates import format_date, format_time, format_timedelta
from babel.numbers import format_compact_decimal, format_decimal, format_percent, get_currency_symbol
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from zhongcao.clock import BUSINESS_TZ
from zhongcao.web import i18n
from zhongcao.web.static import plotly_css_url, plotly_style_ids, plotly_url, static_url

TEMPLATES_DIR = Path(__file__).parent / "templates"
# Shoppers are in China: times are shown in China Standard Time (UTC+8, no daylight saving).
DISPLAY_TZ = BUSINESS_TZ
# Every price on the platform is in yuan (CNY), so both languages show the bare ¥ (the CLDR symbol of
# CNY in zh_CN) before the amount, with the locale's grouping and decimal signs: ¥11,024.80. English's
# CLDR symbol "CN¥" only matters where yen and yuan share a page, which never happens here.
YUAN = get_currency_symbol("CNY", "zh_CN")
MONEY_PATTERN = f"{YUAN}#,##0.00"


def money(fen: int | None, locale: str = i18n.DEFAULT_LOCALE) -> str:
    """Integer fen as the page shows it: ``1102480`` -> ``¥11,024.80``; ``None`` -> ``—``."""
    if fen is None:
        return "—"
    yuan = Decimal(int(fen)).scaleb(-2)  # exact: fen never pass through a float
    return format_decimal(yuan, format=MONEY_PATTERN, locale=i18n.babel_locale(locale))


def yuan_input(fen: int | None) -> str:
    """A fen amount as the yuan text a price box shows (``1250`` -> ``12.5``): an input's value,
    which the form parses back, so it is never localised or grouped."""
    if fen is None:
        return ""
    whole, cents = divmod(int(fen), 100)
    return str(whole) if cents == 0 else f"{whole}.{cents:02d}".rstrip("0")


def format_number(
    value: float | Decimal | None,
    locale: str = i18n.DEFAULT_LOCALE,
    digits: int | None = None,
    sign: bool = False,
) -> str:
    """``1234567`` -> ``1,234,567``; ``digits`` fixes the decimals; ``sign`` shows ``+`` too."""
    if value is None:
        return "—"
    pattern = "#,##0" + ("." + "0" * digits if digits else "" if digits == 0 else ".###")
    if sign:
        pattern = f"+{pattern};-{pattern}"
    return format_decimal(value, format=pattern, locale=i18n.babel_locale(locale))


def format_share(value: float | None, locale: str = i18n.DEFAULT_LOCALE, digits: int = 0) -> str:
    """A ratio as a percentage: ``0.1234`` -> ``12.34%`` with ``digits=2``."""
    if value is None:
        return "—"
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return format_percent(value, format=pattern, locale=i18n.babel_locale(locale))


def compact_number(n: int | None, locale: str = i18n.DEFAULT_LOCALE) -> str:
    """A count in a few characters: 1234 -> 1234, 12345 -> 1.2万 (zh) / 12.3K (en)."""
    return format_compact_decimal(
        n or 0, format_type="short", fraction_digits=1, locale=i18n.babel_locale(locale)
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)  # stored as UTC


def when(value: datetime | None, locale: str = i18n.DEFAULT_LOCALE) -> str:
    """A date and time in China: ``2026年12月6日 13:30`` / ``Dec 6, 2026, 1:30 PM``."""
    if value is None:
        return ""
    local = _aware(value).astimezone(DISPLAY_TZ)
    babel_locale = i18n.babel_locale(locale)
    day = format_date(local, "medium", locale=babel_locale)
    time = format_time(local, "short", tzinfo=DISPLAY_TZ, locale=babel_locale)
    combine: str = babel_locale.datetime_formats["medium"]
    return combine.replace("{1}", day).replace("{0}", time)


def day(value: datetime | date | None, locale: str = i18n.DEFAULT_LOCALE) -> str:
    """The date in China: ``2026年12月6日`` / ``Dec 6, 2026``."""
    if value is None:
        return ""
    local = _aware(value).astimezone(DISPLAY_TZ) if isinstance(value, datetime) else value
    return format_date(local, "medium", locale=i18n.babel_locale(locale))


def clock(value: datetime | None, locale: str = i18n.DEFAULT_LOCALE) -> str:
    """The time of day in China: ``13:30`` / ``1:30 PM``."""
    if value is None:
        return ""
    return format_time(_aware(value), "short", tzinfo=DISPLAY_TZ, locale=i18n.babel_locale(locale))


def ago(value: datetime | None, locale: str = i18n.DEFAULT_LOCALE, now: datetime | None = None) -> str:
    """How long ago (or until): ``3 hours ago`` / ``3小时前``."""
    if value is None:
        return ""
    delta = _aware(value) - (now or datetime.now(UTC))
    return format_timedelta(delta, add_direction=True, locale=i18n.babel_locale(locale))


def duration(
    seconds: float | timedelta | None, locale: str = i18n.DEFAULT_LOCALE, threshold: float = 1.0
) -> str:
    """A length of time in its largest unit that reaches ``threshold``: ``95`` -> ``2 min`` /
    ``2分钟``; with ``threshold=3``, ``150`` -> ``150 sec`` (minutes from 180 s on)."""
    if seconds is None:
        return "—"
    delta = seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds)
    return format_timedelta(delta, threshold=threshold, format="short", locale=i18n.babel_locale(locale))


def _bound(function: Callable[..., str], locale: str) -> Callable[..., str]:
    def in_locale(value: Any, *args: Any, **kwargs: Any) -> str:
        return function(value, locale, *args, **kwargs)

    return in_locale


def _environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "svg", "xml"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        extensions=["jinja2.ext.i18n"],
    )
    # newstyle: _("key", name=x) fills %(name)s itself and escapes x (the message is trusted).
    env.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["money"] = _bound(money, locale)
    env.filters["decimal"] = _bound(format_number, locale)
    env.filters["percent"] = _bound(format_share, locale)
    env.filters["compact"] = _bound(compact_number, locale)
    env.filters["when"] = _bound(when, locale)
    env.filters["date"] = _bound(day, locale)
    env.filters["time"] = _bound(clock, locale)
    env.filters["ago"] = _bound(ago, locale)
    env.filters["duration"] = _bound(duration, locale)
    env.filters["yuan_input"] = yuan_input
    env.globals["number"] = _bound(compact_number, locale)
    env.globals["static_url"] = static_url
    env.globals["plotly_url"] = plotly_url
    env.globals["plotly_css_url"] = plotly_css_url
    env.globals["plotly_style_ids"] = plotly_style_ids
    env.globals["LOCALES"] = i18n.LOCALES
    env.globals["LOCALE_NAMES"] = i18n.LOCALE_NAMES
    return env


ENVS = {locale: _environment(locale) for locale in i18n.LOCALES}


class Page(Protocol):
    """What rendering itself reads of the page (:class:`zhongcao.web.context.WebContext`, which renders
    through here; templates read more of it as ``page``). A protocol, so this module does not import
    the context back."""

    @property
    def locale(self) -> str: ...

    @property
    def csrf_token(self) -> str: ...

    @property
    def user(self) -> object: ...


def render_template(name: str, *, page: Page, **context: Any) -> str:
    locale = page.locale

    def loc(obj: Any, attr: str) -> str:
        if isinstance(obj, dict):
            return obj.get(f"{attr}_{locale}") or obj.get(f"{attr}_zh") or ""
        return getattr(obj, f"{attr}_{locale}", None) or getattr(obj, f"{attr}_zh", "") or ""

    def csrf_field() -> Markup:
        return Markup('<input type="hidden" name="csrf_token" value="{}">').format(escape(page.csrf_token))

    return (
        ENVS[locale]
        .get_template(name)
        .render(
            page=page,
            loc=loc,
            locale=locale,
            html_lang=i18n.HTML_LANG[locale],
            user=page.user,
            csrf_field=csrf_field,
            **context,
        )
    )
