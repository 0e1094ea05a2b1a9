"""The pages' translations (gettext catalogs, plural forms) and Babel's locale-aware formatting.

The catalog tests read the .po files themselves, so a string a template or a web module asks for
that is not in both catalogs, or an entry left untranslated (empty, fuzzy, a plural form missing),
fails here before any page is rendered.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from scripts import messages

from tests.web_console_helpers import seed_consoles
from tests.web_helpers import form_token, seed_world, web_login
from zhongcao.web import catalogs, i18n
from zhongcao.web.templating import (
    ENVS,
    ago,
    clock,
    compact_number,
    day,
    duration,
    format_number,
    format_share,
    money,
    when,
)


def _catalogs() -> dict[str, Catalog]:
    return {loc: catalogs.read_catalog(loc) for loc in catalogs.CATALOG_LOCALES.values()}


# --- the catalogs ----------------------------------------------------------------------------------


def test_both_catalogs_are_complete_translations_of_the_same_keys():
    found = _catalogs()
    assert len(found["zh_CN"]) == len(found["en"]) > 800
    assert messages.catalog_problems(found) == []
    assert found["zh_CN"].num_plurals == 1 and found["en"].num_plurals == 2


def test_every_string_the_templates_and_web_modules_use_is_in_the_catalogs():
    used = messages.extracted()
    # Extraction really sees both kinds of source, nested templates, plurals and flash notices.
    assert {"nav.skip", "cart.title", "merchant.ship.done", "form.required"} <= set(used)
    assert {"auth.disabled", "auth.invalid"} <= set(used)  # both keys of t("a" if x else "b")
    assert used["cart.count"] == "cart.count.plural" and used["form.too_long"] == "form.too_long.plural"
    for catalog in _catalogs().values():
        assert messages.unknown_msgids(catalog, used) == []


def test_the_checks_catch_a_missing_key_an_untranslated_entry_and_a_lone_plural_form(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "new.html").write_text(
        '{{ _("cart.title") }} {{ _("no.such.key") }} {{ ngettext("cart.title", "cart.title.plural", 2) }}',
        encoding="utf-8",
    )
    (tmp_path / "new.py").write_text('page.t("also.missing")\npage.redirect("/", flash="gone.too")\n')
    used = messages.extracted(tmp_path)
    problems = messages.unknown_msgids(_catalogs()["en"], used)
    assert any(p.startswith("no.such.key") for p in problems)
    assert any(p.startswith("also.missing") for p in problems)
    assert any(p.startswith("gone.too") for p in problems)
    assert any(p.startswith("cart.title: used as a plural") for p in problems)

    zh, en = Catalog(locale="zh_CN"), Catalog(locale="en")
    for catalog in (zh, en):
        catalog.add("ok", "好" if catalog is zh else "fine")
        catalog.add(("n", "n.plural"), ("%(num)s 个",) if catalog is zh else ("%(num)s one", "%(num)s many"))
    zh.add("empty", "")
    en.add("empty", "Empty")
    zh.add("fuzzy", "模糊", flags=["fuzzy"])
    en.add("fuzzy", "Fuzzy")
    en.add("only_en", "Only English")
    zh.add("fields", "%(a)s")
    en.add("fields", "%(b)s")
    zh.add("percent", "95% 区间")
    en.add("percent", "95%% interval")
    en.delete(("n", "n.plural"))
    en.add(("n", "n.plural"), ("%(num)s one", ""))
    problems = "\n".join(messages.catalog_problems({"zh_CN": zh, "en": en}))
    for expected in (
        "zh_CN: empty: untranslated",
        "zh_CN: fuzzy: fuzzy",
        "zh_CN: only_en: missing",
        "fields: fields differ",
        "zh_CN: percent: not a %-format text",
        "en: n: untranslated",
    ):
        assert expected in problems
    assert "ok" not in problems


def test_pairs_from_a_branch_merge_into_both_catalogs(tmp_path, monkeypatch):
    root = tmp_path / "locale"
    shutil.copytree(catalogs.LOCALE_DIR, root, ignore=shutil.ignore_patterns("*.mo"))
    monkeypatch.setattr(messages, "po_path", lambda loc: catalogs.po_path(loc, root))
    monkeypatch.setattr(messages, "read_catalog", lambda loc: catalogs.read_catalog(loc, root))
    pairs = tmp_path / "pairs.py"
    pairs.write_text(
        "NEW = {\n"
        '    "jobs.failed": ("{name} 失败了（{pct}%）", "{name} failed ({pct}%)"),\n'
        '    "jobs.retries": ("重试 {num} 次", ("{num} retry", "{num} retries")),\n'
        "}\n",
        encoding="utf-8",
    )
    assert messages.from_pairs([pairs], replace=False) == 0
    zh, en = (catalogs.read_catalog(loc, root) for loc in ("zh_CN", "en"))
    assert zh["jobs.failed"].string == "%(name)s 失败了（%(pct)s%%）"
    assert en["jobs.retries"].id == ("jobs.retries", "jobs.retries.plural")
    assert en["jobs.retries"].string == ("%(num)s retry", "%(num)s retries")
    assert messages.catalog_problems({"zh_CN": zh, "en": en}) == []
    # A key that exists with another text is refused unless replaced on purpose.
    pairs.write_text('X = {"cart.title": ("购物袋", "Bag")}\n', encoding="utf-8")
    assert messages.from_pairs([pairs], replace=False) == 1
    assert messages.from_pairs([pairs], replace=True) == 0
    assert catalogs.read_catalog("en", root)["cart.title"].string == "Bag"


def test_a_missing_or_stale_mo_is_compiled_from_the_po(tmp_path):
    root = tmp_path / "locale"
    shutil.copytree(catalogs.LOCALE_DIR, root, ignore=shutil.ignore_patterns("*.mo"))
    mo = root / "en" / "LC_MESSAGES" / "messages.mo"
    assert catalogs.load_translations("en", root).gettext("cart.title") == "Cart"
    assert mo.exists()  # written beside the .po
    po = catalogs.po_path("en", root)
    po.write_text(
        po.read_text(encoding="utf-8").replace('msgstr "Cart"', 'msgstr "Basket"'), encoding="utf-8"
    )
    later = mo.stat().st_mtime + 10
    os.utime(po, (later, later))
    assert catalogs.load_translations("en", root).gettext("cart.title") == "Basket"
    assert catalogs.compile_catalogs(root, out=tmp_path / "build") == [
        tmp_path / "build" / loc / "LC_MESSAGES" / "messages.mo" for loc in ("en", "zh_CN")
    ]


# --- messages and plurals ---------------------------------------------------------------------------


def test_messages_fill_fields_and_keep_a_literal_percent():
    assert i18n.translate("en", "auth.signed_in_as", name="Ann") == "Signed in as Ann"
    assert i18n.translate("zh", "operator.nps.interval") == "95% 区间"
    assert i18n.translate("en", "no.such.key") == "no.such.key"
    assert i18n.has_message("cart.title") and not i18n.has_message("no.such.key")


@pytest.mark.parametrize(
    ("locale", "n", "text"),
    [
        ("en", 1, "1 item"),
        ("en", 2, "2 items"),
        ("en", 0, "0 items"),
        ("zh", 1, "共 1 件商品"),
        ("zh", 5, "共 5 件商品"),
    ],
)
def test_plural_forms(locale, n, text):
    assert i18n.translate_plural(locale, "cart.count", "cart.count.plural", n) == text
    template = ENVS[locale].from_string('{{ ngettext("cart.count", "cart.count.plural", n) }}')
    assert template.render(n=n) == text


def test_templates_escape_fields_but_not_the_catalog_text():
    html = ENVS["en"].from_string('{{ _("auth.signed_in_as", name=who) }}').render(who="<b>Ann</b>")
    assert html == "Signed in as &lt;b&gt;Ann&lt;/b&gt;"
    grouped = ENVS["en"].from_string(
        '{{ ngettext("search.results", "search.results.plural", n, num=n | decimal) }}'
    )
    assert grouped.render(n=12345) == "12,345 products"


def test_accept_language_is_negotiated_by_babel_and_the_cookie_wins():
    assert i18n.negotiate(None, "en-US,en;q=0.9,zh-CN;q=0.8") == "en"
    assert i18n.negotiate(None, "fr-CH, fr;q=0.9, zh;q=0.5, en;q=0.4") == "zh"
    assert i18n.negotiate(None, "fr, de") == "zh"
    assert i18n.negotiate(None, "") == "zh"
    assert i18n.negotiate("zh", "en") == "zh"


# --- formatting -------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_money_has_thousands_separators_in_both_locales(locale):
    assert money(1102480, locale) == "¥11,024.80"
    assert money(17972950, locale) == "¥179,729.50"
    assert money(0, locale) == "¥0.00"
    assert money(-123456, locale) == "-¥1,234.56"
    assert money(None, locale) == "—"
    assert money(10**17 + 1, locale) == "¥1,000,000,000,000,000.01"  # exact: no float on the way


def test_numbers_in_both_locales():
    assert format_number(1234567, "en") == format_number(1234567, "zh") == "1,234,567"
    assert format_number(3.5, "en", 2) == "3.50" and format_number(2.25, "zh", 1) == "2.2"  # half-even
    assert (
        format_number(12.5, "en", 1, sign=True) == "+12.5" and format_number(-3, "en", 1, sign=True) == "-3.0"
    )
    assert format_share(0.1234, "en", 2) == "12.34%" and format_share(None, "en") == "—"
    assert compact_number(12345, "zh") == "1.2万" and compact_number(12345, "en") == "12.3K"
    assert compact_number(999, "zh") == "999" and compact_number(None, "en") == "0"
    assert compact_number(1_234_567, "en") == "1.2M" and compact_number(1_234_567, "zh") == "123.5万"


def test_dates_and_times_in_china_time_in_both_locales():
    moment = datetime(2026, 12, 6, 17, 30, tzinfo=UTC)  # 01:30 the next day in Beijing
    assert when(moment, "zh") == "2026年12月7日 01:30"
    assert when(moment, "en") == "Dec 7, 2026, 1:30\u202fAM"
    assert when(moment.replace(tzinfo=None), "en") == when(moment, "en")  # stored naive = UTC
    assert day(moment, "zh") == "2026年12月7日" and day(date(2026, 1, 2), "en") == "Jan 2, 2026"
    assert clock(moment, "zh") == "01:30" and clock(moment, "en") == "1:30\u202fAM"
    assert when(None, "en") == day(None, "zh") == clock(None, "en") == ""


def test_relative_times_and_durations_in_both_locales():
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    assert ago(now - timedelta(hours=3), "en", now=now) == "3 hours ago"
    assert ago(now - timedelta(hours=3), "zh", now=now) == "3小时前"
    assert ago(now + timedelta(days=2), "en", now=now) == "in 2 days"
    assert ago(now - timedelta(days=40), "zh", now=now) == "1个月前"
    assert duration(95, "en") == "2 min" and duration(95, "zh") == "2分钟"
    assert duration(150, "en", threshold=3) == "150 sec" and duration(200, "en", threshold=3) == "3 min"
    assert duration(None, "en") == "—"


# --- on the pages -----------------------------------------------------------------------------------


def test_the_cart_counts_its_items_with_plural_forms(client, db):
    world = seed_world(db)
    web_login(client, world.shopper_email)
    token = form_token(client, f"/products/{world.product_ids[0]}")
    client.get("/locale?to=en&next=/cart")
    for quantity in (1, 2):
        client.post(
            f"/products/{world.product_ids[0]}",
            data={"sku_id": world.sku_ids[0], "quantity": quantity, "action": "cart", "csrf_token": token},
            follow_redirects=False,
        )
        html = client.get("/cart").text
        total = 1 if quantity == 1 else 3
        assert f'<p class="muted cart-count">{total} item{"s" if total > 1 else ""}</p>' in html
    client.get("/locale?to=zh&next=/cart")
    assert '<p class="muted cart-count">共 3 件商品</p>' in client.get("/cart").text


def test_a_wheel_ships_the_catalogs():
    pyproject = (Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert '"web/locale/*/LC_MESSAGES/*.po"' in pyproject and '"web/locale/*/LC_MESSAGES/*.mo"' in pyproject


def test_the_inbox_shows_relative_times(client, db, app):
    world = seed_consoles(db, app)
    web_login(client, world.merchant_email)
    client.get("/locale?to=en&next=/merchant")
    html = client.get("/merchant/inbox").text
    assert re.search(r'<time datetime="[^"]+" title="[^"]+">\d+ \w+ ago</time>', html), html[-3000:]
    client.get("/locale?to=zh&next=/merchant")
    html = client.get("/merchant/inbox").text
    assert re.search(r'<time datetime="[^"]+" title="[^"]+">\d+\S+前</time>', html)
