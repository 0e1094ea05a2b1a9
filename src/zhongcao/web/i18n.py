"""The pages' languages (zh-CN and en): which one a request gets, and its messages.

Every string a page shows is a gettext message in ``web/locale/<zh_CN|en>/LC_MESSAGES/messages.po``
(domain data carries its own ``*_zh`` / ``*_en`` columns). The msgids are symbolic keys
(``cart.title``) so both catalogs are complete translations of the same stable ids. Messages use the
newstyle gettext form: ``%(name)s`` fields, filled from keyword arguments (``t("auth.signed_in_as",
name=…)``), and a literal ``%`` written ``%%``. A message about a count is a plural entry (msgid
``key``, msgid_plural ``key.plural``, the count is ``%(num)s``): ``tn("cart.count", "cart.count.plural",
n)``; Chinese has one form, English two. docs/web.md says how to add a string, a plural or a locale.

The language is, in order: the ``zc_locale`` cookie (set by the visible switch), the
``Accept-Language`` header's best match (q-values honoured, matched by Babel), Chinese.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.core import negotiate_locale, parse_locale
from babel.support import Translations

from zhongcao.web.catalogs import CATALOG_LOCALES, load_translations

log = logging.getLogger("zhongcao.web")

LOCALES = ("zh", "en")
DEFAULT_LOCALE = "zh"
LOCALE_COOKIE = "zc_locale"
HTML_LANG = {"zh": "zh-CN", "en": "en"}
LOCALE_NAMES = {"zh": "中文", "en": "English"}
PLURAL_SUFFIX = ".plural"


@cache
def translations(locale: str) -> Translations:
    """The compiled catalog of a page locale (compiled from its .po first when the .mo is stale)."""
    return load_translations(CATALOG_LOCALES[locale])


@cache
def babel_locale(locale: str) -> Locale:
    """Babel's locale for formatting numbers, money and dates in a page locale."""
    return Locale.parse(CATALOG_LOCALES[locale])


@cache
def _msgids() -> frozenset[str]:
    # gettext's parsed .mo: msgid -> text, and (msgid, form index) -> text for plurals.
    catalog: dict[str | tuple[str, int], str] = translations(DEFAULT_LOCALE)._catalog
    return frozenset(key if isinstance(key, str) else key[0] for key in catalog if key)


def _accepted(accept_language: str) -> list[str]:
    """The header's language tags, best first (by q, then by position); q=0 and junk dropped."""
    ranked = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        try:
            parse_locale(tag.strip(), sep="-")
        except ValueError:
            continue
        if q > 0:
            ranked.append((-q, position, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The page language: a valid cookie wins, then the best zh/en in Accept-Language, then zh."""
    if cookie in LOCALES:
        return cookie
    # negotiate_locale matches zh-CN, zh-TW, en-GB… to their language when no exact locale is offered.
    best = negotiate_locale(_accepted(accept_language or ""), LOCALES, sep="-")
    if best is None:
        return DEFAULT_LOCALE
    try:
        language = Locale.parse(best).language
    except (ValueError, UnknownLocaleError):
        return DEFAULT_LOCALE
    return language if language in LOCALES else DEFAULT_LOCALE


def translate(locale: str, key: str, **params: object) -> str:
    """The message ``key`` in ``locale``; an unknown key is logged and shown as itself."""
    message = translations(locale if locale in LOCALES else DEFAULT_LOCALE).gettext(key)
    if message == key and key not in _msgids():
        log.warning("missing web message %r", key)
        return key
    return message % params  # always formatted (as Jinja's newstyle gettext does): %% is a literal %


def translate_plural(locale: str, key: str, plural_key: str, num: int, **params: object) -> str:
    """The plural message ``key`` for ``num`` (``%(num)s`` is the count unless ``params`` give it)."""
    message = translations(locale if locale in LOCALES else DEFAULT_LOCALE).ngettext(key, plural_key, num)
    if message in (key, plural_key):
        log.warning("missing web message %r", key)
        return message
    return message % {"num": num, **params}


def translator(locale: str) -> Callable[..., str]:
    def t(key: str, **params: object) -> str:
        return translate(locale, key, **params)

    return t


def has_message(key: str) -> bool:
    return key in _msgids()
