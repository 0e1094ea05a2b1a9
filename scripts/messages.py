"""Maintain the pages' gettext catalogs (src/zhongcao/web/locale/*/LC_MESSAGES/messages.po).

    python scripts/messages.py update            extract the msgids the templates and web/**/*.py use;
                                                 add the missing ones, untranslated, to both catalogs
                                                 (`make messages`; the catalog test then fails until
                                                 both are filled in). Nothing is ever removed: keys a
                                                 page builds at run time (``"status." ~ value``) are
                                                 not seen by extraction.
    python scripts/messages.py compile           compile every .po into its .mo (`make compile-messages`)
    python scripts/messages.py from-pairs FILE…  merge ``key: (中文, English)`` pairs into both catalogs
    python scripts/messages.py check             list untranslated entries and msgids the pages use
                                                 that the catalogs lack (what tests/test_web_i18n.py
                                                 asserts is empty)

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
# Templates, through Babel's Jinja2 extractor: _("k", x=1), gettext("k"), ngettext("k", "k.plural", n).
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}
METHODS = [("templates/**.html", "jinja2")]
METHOD_OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}}
# web/*.py, by reading the syntax tree (Babel's Python extractor glues the two keys of
# ``t("a" if x else "b")`` into one): page.t("k"), console.t(…), form.t(…), tn("k", "k.plural", n),
# and redirect(…, flash="k") (one-shot notices are keys too).
PY_SINGULAR = {"t"}
PY_PLURAL = {"tn"}

Text = str | tuple[str, ...]


def newstyle(text: str) -> str:
    """``已售 {n}`` -> ``已售 %(n)s``; a literal ``%`` is doubled (gettext always %-formats)."""
    return re.sub(r"\{(\w+)\}", r"%(\1)s", text.replace("%", "%%"))


def save(catalog: Catalog, catalog_locale: str) -> None:
    with po_path(catalog_locale).open("wb") as handle:
        # Sorted and unwrapped: two branches adding keys touch different lines, so merges stay easy.
        write_po(handle, catalog, width=0, sort_output=True, omit_header=False, include_previous=False)


def _strings(node: ast.AST) -> list[str]:
    """The literal keys an argument can be: a constant, or either branch of ``a if x else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []  # built at run time (f"err.{code}"): covered by the catalogs being complete


def python_msgids(folder: Path = WEB) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "flash":
                found.update(dict.fromkeys(_strings(node.value)))
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name in PY_SINGULAR:
                found.update(dict.fromkeys(_strings(node.args[0])))
            elif name in PY_PLURAL and len(node.args) >= 2:
                for key, plural in zip(_strings(node.args[0]), _strings(node.args[1]), strict=False):
                    found[key] = plural
    return found


def extracted(folder: Path = WEB) -> dict[str, str | None]:
    """msgid -> msgid_plural (None for a singular) for every literal key the pages use."""
    found = python_msgids(folder)
    for _file, _line, message, _comments, _context in extract_from_dir(
        folder, METHODS, options_map=METHOD_OPTIONS, keywords=KEYWORDS, strip_comment_tags=True
    ):
        if isinstance(message, tuple):
            found[message[0]] = message[1]
        else:
            found.setdefault(message, None)
    return found


FIELD = re.compile(r"%\((\w+)\)s")


def _forms(string: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    return (string or "",) if isinstance(string, str | None) else tuple(string)


def catalog_problems(catalogs: dict[str, Catalog]) -> list[str]:
    """Untranslated (empty msgstr, fuzzy, a plural form missing), missing in one locale, a plural in
    one and not the other, fields that differ between the locales, or a text %-formatting rejects."""
    problems = []
    ids = {
        loc: {m.id if isinstance(m.id, str) else m.id[0]: m for m in cat if m.id}
        for loc, cat in catalogs.items()
    }
    every = set().union(*(set(found) for found in ids.values()))
    for msgid in sorted(every):
        fields: dict[str, set[str]] = {}
        for catalog_locale, catalog in catalogs.items():
            message = ids[catalog_locale].get(msgid)
            if message is None:
                problems.append(f"{catalog_locale}: {msgid}: missing")
                continue
            forms = _forms(message.string)
            if message.fuzzy:
                problems.append(f"{catalog_locale}: {msgid}: fuzzy")
            if message.pluralizable and len(forms) != catalog.num_plurals:
                problems.append(
                    f"{catalog_locale}: {msgid}: {len(forms)} of {catalog.num_plurals} plural forms"
                )
            if not all(forms):
                problems.append(f"{catalog_locale}: {msgid}: untranslated")
            fields[catalog_locale] = {name for form in forms for name in FIELD.findall(form)}
            for form in forms:
                try:
                    form % dict.fromkeys(FIELD.findall(form), 1)
                except (ValueError, TypeError, KeyError):
                    problems.append(f"{catalog_locale}: {msgid}: not a %-format text (a lone % must be %%)")
        if len({frozenset(found) for found in fields.values()}) > 1:
            problems.append(f"{msgid}: fields differ between locales: {fields}")
        plural = {ids[loc][msgid].pluralizable for loc in catalogs if msgid in ids[loc]}
        if len(plural) > 1:
            problems.append(f"{msgid}: a plural in one locale only")
    return problems


def unknown_msgids(catalog: Catalog, used: dict[str, str | None]) -> list[str]:
    """The msgids the pages use that ``catalog`` lacks (or has as a singular/plural the other way)."""
    problems = []
    for msgid, plural in sorted(used.items()):
        message = catalog.get(msgid)
        if message is None:
            problems.append(f"{msgid}: not in the catalogs")
        elif plural is not None and (not message.pluralizable or message.id[1] != plural):
            problems.append(f"{msgid}: used as a plural ({plural}) but the catalog says {message.id!r}")
        elif plural is None and message.pluralizable:
            problems.append(f"{msgid}: a plural entry used with gettext; use ngettext/tn")
    return problems


def check() -> int:
    catalogs = {loc: read_catalog(loc) for loc in CATALOG_LOCALES.values()}
    problems = catalog_problems(catalogs)
    for catalog_locale, catalog in catalogs.items():
        problems += [f"{catalog_locale}: {p}" for p in unknown_msgids(catalog, extracted())]
    print("\n".join(problems) or "catalogs complete")
    return 1 if problems else 0


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
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("update", help="extract and add missing msgids to both catalogs")
    commands.add_parser("compile", help="compile the .po files into .mo files")
    commands.add_parser("check", help="list untranslated entries and msgids missing from the catalogs")
    pairs = commands.add_parser("from-pairs", help="merge key: (zh, en) pairs into both catalogs")
    pairs.add_argument("files", nargs="+", type=Path)
    pairs.add_argument("--replace", action="store_true", help="overwrite keys that already exist")
    args = parser.parse_args(argv)
    if args.command == "update":
        return update()
    if args.command == "check":
        return check()
    if args.command == "compile":
        for path in compile_catalogs():
            print(f"compiled {path.relative_to(ROOT)}")
        return 0
    return from_pairs(args.files, args.replace)


if __name__ == "__main__":
    raise SystemExit(main())
