"""The pages' gettext catalogs: where they live, how they are compiled and loaded.

``web/locale/<catalog locale>/LC_MESSAGES/messages.po`` is the source (kept in git); ``messages.mo``
next to it is compiled from it by ``make install`` / ``make compile-messages`` and by the wheel build
(``setup.py``). A running server never trusts a missing or stale ``.mo``: when the ``.po`` is newer it
compiles it again (writing the ``.mo`` when the folder is writable, else only in memory), so an
editable install, a fresh clone or a catalog edited a minute ago all show the current strings.

This module depends on Babel and the standard library only: ``setup.py`` loads it by path to compile
the catalogs at build time, before the package's other dependencies are installed.
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

log = logging.getLogger("zhongcao.web")

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
# The page locale (cookie value, ``*_zh``/``*_en`` columns) -> the catalog's (and Babel's) locale.
CATALOG_LOCALES = {"zh": "zh_CN", "en": "en"}


def po_path(catalog_locale: str, root: Path = LOCALE_DIR) -> Path:
    return root / catalog_locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(catalog_locale: str, root: Path = LOCALE_DIR) -> Catalog:
    with po_path(catalog_locale, root).open("rb") as handle:
        return read_po(handle, locale=catalog_locale, domain=DOMAIN)


def _mo_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    # Fuzzy entries are left out of the .mo (gettext's rule); the catalog test forbids them anyway.
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def _write_atomically(path: Path, data: bytes) -> None:
    """Two workers starting together may both compile; neither may read the other's half-written file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def compile_catalogs(root: Path = LOCALE_DIR, out: Path | None = None) -> list[Path]:
    """Compile every ``.po`` under ``root`` into a ``.mo`` beside it (or under ``out``, same layout)."""
    written = []
    for po in sorted(root.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        catalog_locale = po.parent.parent.name
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=catalog_locale, domain=DOMAIN)
        target = (out or root) / catalog_locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(target, _mo_bytes(catalog))
        written.append(target)
    return written


def load_translations(catalog_locale: str, root: Path = LOCALE_DIR) -> Translations:
    """The compiled catalog; compiled again from the ``.po`` when the ``.mo`` is missing or older."""
    po = po_path(catalog_locale, root)
    mo = po.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as handle:
            return Translations(handle, domain=DOMAIN)
    data = _mo_bytes(read_catalog(catalog_locale, root))
    try:
        _write_atomically(mo, data)
    except OSError:  # a read-only install: the in-memory copy serves this process
        log.info("catalog %s compiled in memory (cannot write %s)", catalog_locale, mo)
    return Translations(io.BytesIO(data), domain=DOMAIN)
