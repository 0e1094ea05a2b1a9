"""``zhongcao import olist-catalog PATH``: the Olist catalog (real products and sellers) as shops and products.

Input: a folder with ``olist_products_dataset.csv``, ``olist_sellers_dataset.csv`` and
``product_category_name_translation.csv`` (see ``shared/data/olist-catalog/SOURCE.md``).

What the files do not say, and how this importer fills it in (honestly synthetic):

* **Which seller sells which product.** The products table has no seller column; that link is in
  Olist's order_items table, which is not available. Each product is assigned to a seller by
  ``sha256(product_id) mod number_of_sellers`` (sellers in file order): deterministic, uniform,
  and unrelated to the real pairing. One shop is opened per seller that receives a product.
* **Product names.** The file has only the *length* of the name. A title is composed from the
  category (our zh name, the Olist English name) plus the size and weight class and the first 8
  characters of the Olist id, e.g. "美妆个护·健康美容 中号 轻便 #1e9e8ef0" /
  "Health Beauty, Medium, Light (225 g) #1e9e8ef0".
* **Prices.** The file has no prices. A price is drawn from the mapped category's price range
  (:mod:`zhongcao.world.vocab`) at a position set by the weight class: heavier, dearer.
* **Categories.** Olist's 71 categories are mapped onto our two-level categories by keyword (table
  below); unknown or blank ones go to 综合百货 / General Merchandise › 其他 / Other, created if absent.
* **Owners.** Every shop gets a merchant owner ``seller-<seller id>@olist.example.com`` with an
  unusable random password (an operator resets it to hand the shop over).

Bad input (a missing file or column, an id that is not 32 hex digits, a number that is not one)
raises :class:`BadFile` naming the file and line; the import is one transaction, so nothing is
left half-imported. A second import of the same files is refused (``email_taken``).
"""

from __future__ import annotations

import csv
import hashlib
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from zhongcao import cli_support
from zhongcao.catalog import service as catalog_service
from zhongcao.catalog.models import ProductStatus
from zhongcao.db import Database
from zhongcao.errors import DomainError
from zhongcao.shops import service as shops_service
from zhongcao.users import security
from zhongcao.users import service as users_service
from zhongcao.users.models import Role
from zhongcao.world import vocab

PRODUCTS_FILE = "olist_products_dataset.csv"
SELLERS_FILE = "olist_sellers_dataset.csv"
TRANSLATION_FILE = "product_category_name_translation.csv"
PRODUCT_COLUMNS = (
    "product_id",
    "product_category_name",
    "product_name_lenght",
    "product_description_lenght",
    "product_photos_qty",
    "product_weight_g",
    "product_length_cm",
    "product_height_cm",
    "product_width_cm",
)
SELLER_COLUMNS = ("seller_id", "seller_zip_code_prefix", "seller_city", "seller_state")
OWNER_DOMAIN = "olist.example.com"
FALLBACK_TOP = ("general", ("综合百货", "General Merchandise"))
FALLBACK_LEAF = ("general-other", ("其他", "Other"))
STOCK = 100
HEX32 = re.compile(r"^[0-9a-f]{32}$")

# Olist English category name keywords -> our leaf (``top-leaf`` slug), first match wins.
KEYWORD_LEAVES: tuple[tuple[str, str], ...] = (
    ("perfum", "beauty-serum"),
    ("health_beauty", "beauty-cream"),
    ("diapers", "baby-diapers"),
    ("baby", "baby-toys"),
    ("toys", "baby-toys"),
    ("childrens_clothes", "baby-kids-clothing"),
    ("fashion_shoes", "sports-running-shoes"),
    ("underwear", "apparel-underwear"),
    ("male_clothing", "apparel-mens-outerwear"),
    ("female_clothing", "apparel-womens-dresses"),
    ("fashion_sport", "sports-sportswear"),
    ("fashion", "apparel-womens-tops"),
    ("sports", "sports-fitness-gear"),
    ("telephony", "digital-phones"),
    ("audio", "digital-audio"),
    ("electronics", "digital-chargers"),
    ("computers", "digital-chargers"),
    ("tablets", "digital-chargers"),
    ("consoles", "digital-audio"),
    ("cine_photo", "digital-audio"),
    ("small_appliances", "digital-kitchen-appliances"),
    ("home_appliances", "digital-home-appliances"),
    ("air_conditioning", "digital-home-appliances"),
    ("food", "food-snacks"),
    ("drink", "food-drinks"),
    ("la_cuisine", "home-kitchen"),
    ("kitchen", "home-kitchen"),
    ("housewares", "home-kitchen"),
    ("bed_bath", "home-bedding"),
    ("mattress", "home-bedding"),
    ("furniture", "home-decor"),
    ("decor", "home-decor"),
    ("home_comfort", "home-bedding"),
    ("home_confort", "home-bedding"),
    ("christmas", "home-decor"),
    ("flowers", "home-decor"),
    ("garden", "home-storage"),
    ("construction", "home-storage"),
    ("luggage", "home-storage"),
    ("watches", "apparel-socks"),
)


class BadFile(ValueError):
    """The input is not what the Olist files are; the message names the file and the line."""


@dataclass(frozen=True)
class OlistProduct:
    product_id: str
    category_en: str  # "" when the file has none
    weight_g: int | None
    volume_cm3: int | None


@dataclass(frozen=True)
class OlistSeller:
    seller_id: str
    city: str
    state: str


@dataclass(frozen=True)
class ImportSummary:
    shops: int
    products: int
    sellers_without_products: int


def _open_csv(path: Path, columns: tuple[str, ...]) -> tuple[csv.DictReader[str], TextIO]:
    if not path.is_file():
        raise BadFile(f"{path}: file not found")
    handle = path.open(newline="", encoding="utf-8-sig")
    reader = csv.DictReader(handle)
    header = reader.fieldnames or []
    missing = [c for c in columns if c not in header]
    if missing:
        handle.close()
        raise BadFile(f"{path}:1: missing column(s) {', '.join(missing)}")
    return reader, handle


def _int_or_none(value: str | None, path: Path, line: int, column: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise BadFile(f"{path}:{line}: {column} {value!r} is not a number") from None
    if number < 0 or number != number:
        raise BadFile(f"{path}:{line}: {column} {value!r} must be zero or positive")
    return int(number)


def read_translation(path: Path) -> dict[str, str]:
    reader, handle = _open_csv(path, ("product_category_name", "product_category_name_english"))
    try:
        out: dict[str, str] = {}
        for row in reader:
            pt = (row["product_category_name"] or "").strip()
            en = (row["product_category_name_english"] or "").strip()
            if not pt or not en:
                raise BadFile(f"{path}:{reader.line_num}: both category names are required")
            out[pt] = en
        return out
    finally:
        handle.close()


def read_sellers(path: Path) -> list[OlistSeller]:
    reader, handle = _open_csv(path, SELLER_COLUMNS)
    try:
        sellers: list[OlistSeller] = []
        seen: set[str] = set()
        for row in reader:
            seller_id = (row["seller_id"] or "").strip()
            if not HEX32.fullmatch(seller_id):
                raise BadFile(f"{path}:{reader.line_num}: seller_id {seller_id!r} is not 32 hex digits")
            if seller_id in seen:
                raise BadFile(f"{path}:{reader.line_num}: seller_id {seller_id} appears twice")
            seen.add(seller_id)
            sellers.append(
                OlistSeller(
                    seller_id, (row["seller_city"] or "").strip(), (row["seller_state"] or "").strip()
                )
            )
        if not sellers:
            raise BadFile(f"{path}: no sellers")
        return sellers
    finally:
        handle.close()


def read_products(path: Path, translation: dict[str, str]) -> list[OlistProduct]:
    reader, handle = _open_csv(path, PRODUCT_COLUMNS)
    try:
        products: list[OlistProduct] = []
        seen: set[str] = set()
        for row in reader:
            line = reader.line_num
            product_id = (row["product_id"] or "").strip()
            if not HEX32.fullmatch(product_id):
                raise BadFile(f"{path}:{line}: product_id {product_id!r} is not 32 hex digits")
            if product_id in seen:
                raise BadFile(f"{path}:{line}: product_id {product_id} appears twice")
            seen.add(product_id)
            category_pt = (row["product_category_name"] or "").strip()
            length, height, width = (
                _int_or_none(row[c], path, line, c)
                for c in ("product_length_cm", "product_height_cm", "product_width_cm")
            )
            volume = (
                length * height * width
                if length is not None and height is not None and width is not None
                else None
            )
            for column in ("product_name_lenght", "product_description_lenght", "product_photos_qty"):
                _int_or_none(row[column], path, line, column)
            products.append(
                OlistProduct(
                    product_id=product_id,
                    category_en=translation.get(category_pt, category_pt),
                    weight_g=_int_or_none(row["product_weight_g"], path, line, "product_weight_g"),
                    volume_cm3=volume,
                )
            )
        return products
    finally:
        handle.close()


def seller_index(product_id: str, n_sellers: int) -> int:
    """The (synthetic) seller of a product: see the module docstring."""
    return int.from_bytes(hashlib.sha256(product_id.encode()).digest()[:8], "big") % n_sellers


def leaf_slug_for(category_en: str) -> str | None:
    for keyword, slug in KEYWORD_LEAVES:
        if keyword in category_en:
            return slug
    return None


WEIGHT_CLASSES = (  # upper bound (g), zh, en, position in the category's price range
    (250, "轻便", "Light", 0.15),
    (1_000, "标准", "Standard Weight", 0.35),
    (5_000, "厚重", "Heavy", 0.6),
    (10**12, "超重", "Extra Heavy", 0.85),
)
SIZE_CLASSES = ((2_000, "小号", "Small"), (20_000, "中号", "Medium"), (10**15, "大号", "Large"))


def _weight_class(weight_g: int | None) -> tuple[str, str, float]:
    if weight_g is None:
        return "", "", 0.3
    for bound, zh, en, position in WEIGHT_CLASSES:
        if weight_g < bound:
            return zh, en, position
    raise AssertionError("the last class is unbounded")


def _size_class(volume: int | None) -> tuple[str, str]:
    if volume is None:
        return "", ""
    for bound, zh, en in SIZE_CLASSES:
        if volume < bound:
            return zh, en
    raise AssertionError("the last class is unbounded")


def _leaf_vocab() -> dict[str, tuple[vocab.TopCategory, vocab.Leaf]]:
    return {f"{top.slug}-{leaf.slug}": (top, leaf) for top in vocab.CATEGORIES for leaf in top.leaves}


def _ensure_categories(db: Session, needed: set[str]) -> dict[str, int]:
    """Ids of the leaves named by slug, creating them (and their top categories) when absent."""
    leaves = _leaf_vocab()
    ids: dict[str, int] = {}
    for slug in sorted(needed):
        existing = catalog_service.category_by_slug(db, slug)
        if existing is not None:
            ids[slug] = existing.id
            continue
        if slug in leaves:
            top, leaf = leaves[slug]
            top_slug, top_name, top_fee, leaf_name = top.slug, top.name, top.platform_fee_bps, leaf.name
        else:
            (top_slug, top_name), top_fee, leaf_name = FALLBACK_TOP, None, FALLBACK_LEAF[1]
        parent = catalog_service.category_by_slug(db, top_slug)
        if parent is None:
            parent = catalog_service.create_category(
                db,
                slug=top_slug,
                name_zh=top_name[0],
                name_en=top_name[1],
                platform_fee_bps=top_fee,
                commit=False,
            )
        ids[slug] = catalog_service.create_category(
            db, slug=slug, name_zh=leaf_name[0], name_en=leaf_name[1], parent_id=parent.id, commit=False
        ).id
    return ids


def _title(product: OlistProduct, leaf_name: vocab.Text) -> tuple[str, str]:
    wzh, wen, _ = _weight_class(product.weight_g)
    szh, sen = _size_class(product.volume_cm3)
    category_en = product.category_en.replace("_", " ").title() if product.category_en else leaf_name[1]
    zh = " ".join(
        part for part in (f"{leaf_name[0]}·{category_en}", szh, wzh, f"#{product.product_id[:8]}") if part
    )
    details = ", ".join(part for part in (sen, f"{wen} ({product.weight_g} g)" if wen else "") if part)
    en = f"{category_en}{', ' + details if details else ''} #{product.product_id[:8]}"
    return zh[:120], en[:200]


def _price(product: OlistProduct, price_range: tuple[int, int]) -> int:
    low, high = price_range
    _, _, position = _weight_class(product.weight_g)
    fen = low * (high / low) ** position
    return max(100, int(round(fen / 100.0)) * 100 - 10)


def import_olist_catalog(database: Database, folder: Path) -> ImportSummary:
    """Read and check the three files, then create shops and products in one transaction."""
    translation = read_translation(folder / TRANSLATION_FILE)
    sellers = read_sellers(folder / SELLERS_FILE)
    products = read_products(folder / PRODUCTS_FILE, translation)
    by_seller: dict[int, list[OlistProduct]] = {}
    for product in products:
        by_seller.setdefault(seller_index(product.product_id, len(sellers)), []).append(product)
    leaves = _leaf_vocab()
    fallback_slug = f"{FALLBACK_TOP[0]}-{FALLBACK_LEAF[0]}"
    slug_of = {p.product_id: leaf_slug_for(p.category_en) or fallback_slug for p in products}
    with database.session() as db:
        try:
            category_ids = _ensure_categories(db, set(slug_of.values()))
            owner_hash = security.hash_password(secrets.token_urlsafe(32))
            seller_order = sorted(by_seller)
            owner_ids = users_service.create_users_bulk(
                db,
                [
                    users_service.NewUser(
                        f"seller-{sellers[i].seller_id}@{OWNER_DOMAIN}",
                        f"Olist seller {sellers[i].seller_id[:8]}",
                        Role.merchant,
                        locale="en",
                    )
                    for i in seller_order
                ],
                owner_hash,
            )
            rows: list[catalog_service.NewProduct] = []
            for i, owner_id in zip(seller_order, owner_ids, strict=True):
                seller = sellers[i]
                city = seller.city.title() or "Brasil"
                shop = shops_service.create_shop(
                    db,
                    name_zh=f"{city} 卖家 {seller.seller_id[:6]}"[:80],
                    name_en=f"Olist seller {seller.seller_id[:6]} ({city}, {seller.state})"[:120],
                    owner_user_id=owner_id,
                    description_zh="来自 Olist 巴西电商数据集的真实卖家（商品归属为合成）。",
                    description_en="A real seller from the Olist Brazilian e-commerce dataset (product assignment synthetic).",
                    commit=False,
                )
                for product in by_seller[i]:
                    slug = slug_of[product.product_id]
                    leaf_name = leaves[slug][1].name if slug in leaves else FALLBACK_LEAF[1]
                    price_range = leaves[slug][1].price_fen if slug in leaves else (990, 19_900)
                    title_zh, title_en = _title(product, leaf_name)
                    rows.append(
                        catalog_service.NewProduct(
                            shop_id=shop.id,
                            category_id=category_ids[slug],
                            title_zh=title_zh,
                            title_en=title_en,
                            description_en=f"Olist product {product.product_id}",
                            status=ProductStatus.active,
                            skus=[
                                catalog_service.NewSku(
                                    code=f"olist-{product.product_id}",
                                    price_fen=_price(product, price_range),
                                    stock=STOCK,
                                )
                            ],
                        )
                    )
            catalog_service.create_products_bulk(db, rows)
            db.commit()
        except BaseException:
            db.rollback()
            raise
    return ImportSummary(
        shops=len(by_seller), products=len(products), sellers_without_products=len(sellers) - len(by_seller)
    )


def olist_catalog_command(
    path: Annotated[Path, typer.Argument(help="Folder holding the three Olist catalog CSV files.")],
) -> None:
    """Load the Olist catalog (real sellers and products) as shops and products."""
    settings = cli_support.settings()
    database = cli_support.database(settings)
    console = Console()
    try:
        summary = import_olist_catalog(database, path)
    except BadFile as exc:
        raise cli_support.fail(str(exc), 2) from exc
    except DomainError as exc:
        raise cli_support.fail(f"import refused, nothing was imported: {exc}", 1) from exc
    finally:
        database.dispose()
    console.print(
        f"[green]✓[/] imported {summary.products:,} products into {summary.shops:,} shops "
        f"({summary.sellers_without_products:,} sellers received no product)"
    )
