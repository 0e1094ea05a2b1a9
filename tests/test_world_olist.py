"""``zhongcao import olist-catalog``: tiny generated Olist files in, shops and products out, all or nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from zhongcao.catalog.models import Category, Product, Sku
from zhongcao.db import Database
from zhongcao.errors import Conflict
from zhongcao.shops.models import Shop
from zhongcao.users.models import User
from zhongcao.world import olist

PRODUCT_HEADER = (
    '"product_id","product_category_name","product_name_lenght","product_description_lenght",'
    '"product_photos_qty","product_weight_g","product_length_cm","product_height_cm","product_width_cm"'
)


def _hex(n: int) -> str:
    return hashlib.md5(str(n).encode()).hexdigest()


def _write(folder: Path, products: list[str], sellers: int = 3) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / olist.TRANSLATION_FILE).write_text(
        "\ufeffproduct_category_name,product_category_name_english\r\n"
        "perfumaria,perfumery\r\nbebes,baby\r\ncama_mesa_banho,bed_bath_table\r\nartes,art\r\n",
        encoding="utf-8",
    )
    (folder / olist.SELLERS_FILE).write_text(
        '"seller_id","seller_zip_code_prefix","seller_city","seller_state"\n'
        + "".join(f'"{_hex(1000 + i)}","1302{i}",campinas,SP\n' for i in range(sellers)),
        encoding="utf-8",
    )
    (folder / olist.PRODUCTS_FILE).write_text(
        PRODUCT_HEADER + "\n" + "\n".join(products) + "\n", encoding="utf-8"
    )
    return folder


GOOD = [
    f'"{_hex(1)}",perfumaria,40,287,1,225,16,10,14',
    f'"{_hex(2)}",bebes,44,276,1,1000,30,18,20',
    f'"{_hex(3)}",cama_mesa_banho,46,250,1,154,18,9,15',
    f'"{_hex(4)}",artes,27,261,1,371,26,4,26',
    f'"{_hex(5)}",,,,,625,20,17,13',
    f'"{_hex(6)}",perfumaria,60,745,1,,,,',
]


def _counts(database: Database) -> tuple[int, int, int, int]:
    with database.session(read_only=True) as db:
        return tuple(  # type: ignore[return-value]
            db.scalar(select(func.count()).select_from(model)) for model in (User, Shop, Product, Category)
        )


def test_import_creates_shops_and_products(database: Database, tmp_path: Path) -> None:
    summary = olist.import_olist_catalog(database, _write(tmp_path / "olist", GOOD))
    assert summary.products == len(GOOD)
    assert summary.shops + summary.sellers_without_products == 3
    with database.session(read_only=True) as db:
        assert db.scalar(select(func.count()).select_from(Shop)) == summary.shops
        rows = db.execute(select(Product.title_zh, Product.title_en, Product.category_id)).all()
        assert len(rows) == len(GOOD)
        titles_en = {en for _, en, _ in rows}
        assert any(en.startswith("Perfumery, Medium, Light (225 g) #") for en in titles_en), titles_en
        for zh, en, _ in rows:
            assert any("\u4e00" <= ch <= "\u9fff" for ch in zh) and en.isascii()
        perfume_leaf = db.scalar(select(Category.id).where(Category.slug == "beauty-serum"))
        assert perfume_leaf is not None
        # A blank or unmapped category lands in General Merchandise / Other.
        other = db.scalar(select(Category.id).where(Category.slug == "general-general-other"))
        assert other in {cat for _, _, cat in rows}
        codes = set(db.scalars(select(Sku.code)))
        assert codes == {f"olist-{_hex(i)}" for i in range(1, 7)}
        # Price follows the weight class within a category: the light perfume is the cheaper one
        # (the one of unknown weight is priced at the range's 30% point, the light one at 15%).
        price = dict(db.execute(select(Sku.code, Sku.price_fen)).all())
        assert price[f"olist-{_hex(1)}"] < price[f"olist-{_hex(6)}"]
    # The seller assignment is the documented hash.
    assert olist.seller_index(_hex(1), 3) == olist.seller_index(_hex(1), 3)


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        (f'"{_hex(7)}",perfumaria,40,287,1,heavy,16,10,14', "product_weight_g 'heavy' is not a number"),
        ('"not-an-id",perfumaria,40,287,1,225,16,10,14', "product_id 'not-an-id' is not 32 hex digits"),
        (f'"{_hex(1)}",perfumaria,40,287,1,225,16,10,14', "appears twice"),
    ],
)
def test_a_bad_line_is_named_and_nothing_is_imported(
    database: Database, tmp_path: Path, bad_line: str, message: str
) -> None:
    before = _counts(database)
    folder = _write(tmp_path / "olist", [*GOOD[:3], bad_line, *GOOD[3:]])
    with pytest.raises(olist.BadFile) as caught:
        olist.import_olist_catalog(database, folder)
    assert f"{olist.PRODUCTS_FILE}:5: " in str(caught.value)
    assert message in str(caught.value)
    assert _counts(database) == before


def test_missing_file_or_column_is_reported(database: Database, tmp_path: Path) -> None:
    folder = _write(tmp_path / "olist", GOOD)
    (folder / olist.SELLERS_FILE).write_text('"seller_id","seller_city"\n"x",y\n', encoding="utf-8")
    with pytest.raises(
        olist.BadFile, match=r"olist_sellers_dataset.csv:1: missing column\(s\) seller_zip_code_prefix"
    ):
        olist.import_olist_catalog(database, folder)
    with pytest.raises(olist.BadFile, match="file not found"):
        olist.import_olist_catalog(database, tmp_path / "nowhere")


def test_a_second_import_is_refused_and_changes_nothing(database: Database, tmp_path: Path) -> None:
    folder = _write(tmp_path / "olist", GOOD)
    olist.import_olist_catalog(database, folder)
    before = _counts(database)
    with pytest.raises(Conflict):
        olist.import_olist_catalog(database, folder)
    assert _counts(database) == before


def test_the_command_reports_success_and_bad_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import typer
    from typer.testing import CliRunner

    from zhongcao.cli import app as main_app
    from zhongcao.config import get_settings

    monkeypatch.setenv("ZHONGCAO_DATABASE_URL", f"sqlite:///{tmp_path}/olist.db")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        assert runner.invoke(main_app, ["db", "upgrade"]).exit_code == 0
        # Registered as zhongcao.cli would: a command of a Typer app.
        app = typer.Typer()
        app.command("olist-catalog")(olist.olist_catalog_command)
        app.command("noop")(lambda: None)
        bad = _write(tmp_path / "bad", [*GOOD[:2], '"zz",perfumaria,1,1,1,1,1,1,1'])
        result = runner.invoke(app, ["olist-catalog", str(bad)])
        assert result.exit_code == 2
        assert f"{olist.PRODUCTS_FILE}:4: product_id 'zz'" in result.output.replace("\n", "")
        result = runner.invoke(app, ["olist-catalog", str(_write(tmp_path / "good", GOOD))])
        assert result.exit_code == 0, result.output
        assert f"imported {len(GOOD)} products" in result.output
        result = runner.invoke(app, ["olist-catalog", str(tmp_path / "good")])
        assert result.exit_code == 1
        assert "nothing was imported" in result.output
    finally:
        get_settings.cache_clear()
