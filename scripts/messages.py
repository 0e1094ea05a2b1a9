"""Maintain the pages' gettext catalogs (src/zhongcao/web/locale/*/LC_MESSAGES/messages.po).

    python scripts/messages.py update            extract the msgids the templates and web/*.py use;
                                                 add the missing ones, untranslated, to both catalogs
                                                 (`make messages`; the catalog test then fails until
                                                 both are filled in). Nothing is ever removed: keys a
                                                 page builds at run time (``"status." ~ value``) are
                                                 not seen by extraction.
    python scripts/messages.py compile           compile every .po into its .mo (`make compile-messages`)
    python scripts/messages.py from-pairs FILE…  merge ``key: (中文, English)`` pairs into both catalogs

``from-pairs`` reads any Python file holding dict literals of the old form (a branch's additions to
the retired ``i18n.py``), e.g.::

    "jobs.title": ("任务", "Jobs"),
    "jobs.failed": ("{name} 失败了", "{name} failed"),
    # a plural: the Chinese side one form, the English side (one, other); the count is {num}
    "jobs.retries": ("重试 {num} 次", ("{num} retry", "{num} retries")),

``{field}`` becomes ``%(field)s`` and a literal ``%`` becomes ``%%`` (the newstyle gettext form). A
key already in a catalog with a different text is an error unless ``--replace`` is given.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "src" / "zhongcao" / "web"
sys.path.insert(0, str(ROOT / "src"))

from zhongcao.web.catalogs import CATALOG_LOCALES, compile_catalogs, po_path, read_catalog  # noqa: E402

PLURAL_SUFFIX = ".plural"  # msgid_plural of a plural key: "<key>.plural"
# Template calls: _("k", x=1), gettext("k"), ngettext("k", "k.plural", n). Python: page.t("k"), tn(…).
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "t": None, "tn": (1, 2)}
METHODS = [("templates/**.html", "jinja2"), ("*.py", "python")]
METHOD_OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}}

Text = str | tuple[str, ...]


def newstyle(text: str) -> str:
    """``已售 {n}`` -> ``已售 %(n)s``; a literal ``%`` is doubled (gettext always %-formats)."""
    return re.sub(r"\{(\w+)\}", r"%(\1)s", text.replace("%", "%%"))


def save(catalog: Catalog, catalog_locale: str) -> None:
    with po_path(catalog_locale).open("wb") as handle:
        # Sorted and unwrapped: two branches adding keys touch different lines, so merges stay easy.
        write_po(handle, catalog, width=0, sort_output=True, omit_header=False, include_previous=False)


def extracted() -> dict[str, str | None]:
    """msgid -> msgid_plural (None for a singular) for every literal key the pages use."""
    found: dict[str, str | None] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        WEB, METHODS, KEYWORDS, METHOD_OPTIONS, strip_comment_tags=True
    ):
        if isinstance(message, tuple):
            found[message[0]] = message[1]
        else:
            found.setdefault(message, None)
    return found


def update() -> int:
    wanted = extracted()
    added = 0
    for catalog_locale in CATALOG_LOCALES.values():
        catalog = read_catalog(catalog_locale)
        for msgid, plural in sorted(wanted.items()):
            if msgid in catalog:
                continue
            if plural is None:
                catalog.add(msgid, "")
            else:
                catalog.add((msgid, plural), ("",) * catalog.num_plurals)
            print(f"{catalog_locale}: new, untranslated: {msgid}")
            added += 1
        save(catalog, catalog_locale)
    print(f"{len(wanted)} msgids used by the pages; {added} entries added (fill them in, then run the tests)")
    return 0


def read_pairs(path: Path) -> dict[str, tuple[Text, Text]]:
    pairs: dict[str, tuple[Text, Text]] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Dict):
            continue
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and isinstance(value, ast.Tuple):
                zh, en = ast.literal_eval(value)
                pairs[key.value] = (zh, en)
    return pairs


def from_pairs(files: Iterable[Path], replace: bool) -> int:
    pairs: dict[str, tuple[Text, Text]] = {}
    for path in files:
        pairs.update(read_pairs(path))
    catalogs = {loc: read_catalog(loc) for loc in CATALOG_LOCALES.values()}
    problems = []
    for key, texts in pairs.items():
        plural = any(isinstance(text, tuple) for text in texts)
        for catalog_locale, text in zip(CATALOG_LOCALES.values(), texts, strict=True):
            catalog = catalogs[catalog_locale]
            forms = tuple(newstyle(t) for t in ((text,) if isinstance(text, str) else text))
            if plural and len(forms) != catalog.num_plurals:
                problems.append(f"{key}: {catalog_locale} needs {catalog.num_plurals} plural form(s)")
                continue
            old = catalog.get(key)
            new_string: str | tuple[str, ...] = forms if plural else forms[0]
            if old is not None and old.string != new_string and not replace:
                problems.append(f"{key}: {catalog_locale} already says {old.string!r} (use --replace)")
                continue
            if old is not None:
                catalog.delete(key)
            msgid = (key, key + PLURAL_SUFFIX) if plural else key
            catalog.add(msgid, new_string)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    for catalog_locale, catalog in catalogs.items():
        save(catalog, catalog_locale)
    print(f"{len(pairs)} pairs merged into {', '.join(catalogs)}; run `make compile-messages`")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("update", help="extract and add missing msgids to both catalogs")
    commands.add_parser("compile", help="compile the .po files into .mo files")
    pairs = commands.add_parser("from-pairs", help="merge key: (zh, en) pairs into both catalogs")
    pairs.add_argument("files", nargs="+", type=Path)
    pairs.add_argument("--replace", action="store_true", help="overwrite keys that already exist")
    args = parser.parse_args(argv)
    if args.command == "update":
        return update()
    if args.command == "compile":
        for path in compile_catalogs():
            print(f"compiled {path.relative_to(ROOT)}")
        return 0
    return from_pairs(args.files, args.replace)


if __name__ == "__main__":
    raise SystemExit(main())
