"""Categories, brands, products and SKUs: every catalog rule lives here.

Categories have two levels: top categories (``parent_id`` NULL) and their leaves. Products attach
to leaves only. A product moves draft → active, active ↔ delisted; it can only be (or stay) active
while it has at least one active SKU. Stock is changed with one conditional UPDATE per request, as
in :mod:`zhongcao.catalog.stock`, so concurrent adjustments can never drive it below zero.

Functions that other domains call: :func:`get_product`, :func:`get_active_product`,
:func:`get_shop_product`, :func:`product_briefs`, :func:`on_sale_product_ids_query`,
:func:`get_sku`, :func:`skus_by_id`, :func:`get_category`, :func:`categories_by_id`,
:func:`category_ids_under`, :func:`child_category_ids`, :func:`effective_platform_fee_bps`,
:func:`product_ids_of_shop`, :func:`create_product`; in bulk (the feed's catalog):
:func:`category_tree`, :func:`product_shops_and_categories`, :func:`cheapest_active_prices`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, bindparam, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, selectinload

from zhongcao import clock
from zhongcao.catalog.models import Brand, Category, Product, ProductStatus, Sku
from zhongcao.config import Settings, get_settings
from zhongcao.db import insert_rows, insert_rows_returning_ids, rows_changed
from zhongcao.errors import Conflict, InvalidInput, NotFound
from zhongcao.integrity import service as integrity_service
from zhongcao.pagination import PageParams, paginate_by_id
from zhongcao.shops import service as shops_service

# Sanity bounds. A price above 1,000,000 yuan or stock above ten million units is a typo.
MAX_PRICE_FEN: Final = 100_000_000
MAX_STOCK: Final = 10_000_000
MAX_ATTRIBUTES: Final = 10
MAX_ATTRIBUTE_NAME: Final = 30
MAX_ATTRIBUTE_VALUE: Final = 60
MAX_SKU_CODE: Final = 64
MAX_SKUS_PER_PRODUCT: Final = 100
MAX_TITLE_ZH: Final = 120
MAX_TITLE_EN: Final = 200
MAX_DESCRIPTION: Final = 5000

# Which status a product may move to from each status (staying put is always allowed).
TRANSITIONS: Final[dict[ProductStatus, frozenset[ProductStatus]]] = {
    ProductStatus.draft: frozenset({ProductStatus.active}),
    ProductStatus.active: frozenset({ProductStatus.delisted}),
    ProductStatus.delisted: frozenset({ProductStatus.active}),
}


class _Unset:
    """Marks an argument that was not given, where ``None`` is a meaningful value."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def _given(value: object) -> bool:
    return value is not UNSET


# Categories --------------------------------------------------------------------------------------


def get_category(db: Session, category_id: int, *, field: str | None = None) -> Category:
    """The category, or ``NotFound(category_not_found)`` (naming ``field`` when one is given)."""
    category = db.get(Category, category_id)
    if category is None:
        raise NotFound("category not found", code="category_not_found", field=field)
    return category


def get_leaf_category(db: Session, category_id: int, *, field: str = "category_id") -> Category:
    """A category products may attach to: a second-level one (``category_not_leaf`` otherwise)."""
    category = get_category(db, category_id, field=field)
    if category.parent_id is None:
        raise InvalidInput(
            "products attach to leaf categories, not to top categories", code="category_not_leaf", field=field
        )
    return category


def categories_by_id(db: Session, category_ids: Iterable[int]) -> dict[int, Category]:
    """Many categories in one query; unknown ids are simply absent."""
    ids = sorted(set(category_ids))
    if not ids:
        return {}
    return {c.id: c for c in db.scalars(select(Category).where(Category.id.in_(ids)))}


def child_category_ids(db: Session, parent_ids: Iterable[int]) -> set[int]:
    """Ids of the leaves under the given top categories, in one query."""
    ids = sorted(set(parent_ids))
    if not ids:
        return set()
    return set(db.scalars(select(Category.id).where(Category.parent_id.in_(ids))))


def category_ids_under(db: Session, category_id: int) -> list[int]:
    """The category itself plus, for a top category, all of its leaves."""
    category = get_category(db, category_id, field="category_id")
    if category.parent_id is not None:
        return [category.id]
    children = db.scalars(select(Category.id).where(Category.parent_id == category.id).order_by(Category.id))
    return [category.id, *children]


def category_tree(db: Session) -> list[tuple[Category, list[Category]]]:
    """Every top category with its leaves, both ordered by id."""
    rows = db.scalars(select(Category).order_by(Category.id)).all()
    children: dict[int, list[Category]] = {}
    for row in rows:
        if row.parent_id is not None:
            children.setdefault(row.parent_id, []).append(row)
    return [(row, children.get(row.id, [])) for row in rows if row.parent_id is None]


def effective_platform_fee_bps(db: Session, category_id: int, settings: Settings | None = None) -> int:
    """The platform fee for products in a category: its own, else its parent's, else the default
    (of ``settings`` when given, so that an app configured apart from the environment is obeyed)."""
    category = get_category(db, category_id)
    if category.platform_fee_bps is not None:
        return category.platform_fee_bps
    if category.parent_id is not None:
        parent = get_category(db, category.parent_id)
        if parent.platform_fee_bps is not None:
            return parent.platform_fee_bps
    return (settings or get_settings()).default_platform_fee_bps


_PARENT = aliased(Category)
# Built once: every checkout runs it (a statement built per call costs more than its round trip).
_FEE_RATES = (
    select(Category.id, Category.platform_fee_bps, _PARENT.platform_fee_bps)
    .outerjoin(_PARENT, _PARENT.id == Category.parent_id)
    .where(Category.id.in_(bindparam("ids", expanding=True)))
)


def effective_platform_fee_bps_many(
    db: Session, category_ids: Iterable[int], settings: Settings | None = None
) -> dict[int, int]:
    """:func:`effective_platform_fee_bps` of several categories in one query (each with its parent)."""
    ids = sorted(set(category_ids))
    if not ids:
        return {}
    rows = db.execute(_FEE_RATES, {"ids": ids}).all()
    default = (settings or get_settings()).default_platform_fee_bps
    found = {cid: own if own is not None else up if up is not None else default for cid, own, up in rows}
    for cid in ids:
        if cid not in found:
            get_category(db, cid)  # raises category_not_found, as one at a time would
    return found


def _check_bps(value: int | None) -> None:
    if value is not None and not (0 <= value <= 10_000):
        raise InvalidInput("platform_fee_bps must be between 0 and 10000", field="platform_fee_bps")


def _slug_taken(db: Session, slug: str, *, except_id: int | None = None) -> bool:
    stmt = select(Category.id).where(Category.slug == slug)
    if except_id is not None:
        stmt = stmt.where(Category.id != except_id)
    return db.scalar(stmt) is not None


def _slug_conflict() -> Conflict:
    return Conflict("another category already uses this slug", code="slug_taken", field="slug")


def _flush_or(db: Session, error: Exception) -> None:
    """Flush inside a savepoint; a unique-constraint race surfaces as ``error``, not as a 500."""
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError:
        raise error from None


def create_category(
    db: Session,
    *,
    slug: str,
    name_zh: str,
    name_en: str,
    parent_id: int | None = None,
    platform_fee_bps: int | None = None,
    commit: bool = True,
) -> Category:
    """A top category, or with ``parent_id`` a leaf under a top one (``category_too_deep`` otherwise)."""
    _check_bps(platform_fee_bps)
    if parent_id is not None:
        parent = get_category(db, parent_id, field="parent_id")
        if parent.parent_id is not None:
            raise InvalidInput(
                "categories have two levels; the parent must be a top category",
                code="category_too_deep",
                field="parent_id",
            )
    if _slug_taken(db, slug):
        raise _slug_conflict()
    category = Category(
        slug=slug, name_zh=name_zh, name_en=name_en, parent_id=parent_id, platform_fee_bps=platform_fee_bps
    )
    db.add(category)
    _flush_or(db, _slug_conflict())
    if commit:
        db.commit()
    return category


def update_category(
    db: Session,
    category_id: int,
    *,
    slug: str = UNSET,
    name_zh: str = UNSET,
    name_en: str = UNSET,
    platform_fee_bps: int | None = UNSET,
) -> Category:
    """Rename a category or change its fee; ``platform_fee_bps=None`` makes it inherit."""
    category = get_category(db, category_id)
    if _given(platform_fee_bps):
        _check_bps(platform_fee_bps)
    if _given(slug) and slug != category.slug and _slug_taken(db, slug, except_id=category.id):
        raise _slug_conflict()
    if _given(platform_fee_bps):
        category.platform_fee_bps = platform_fee_bps
    if _given(slug):
        category.slug = slug
    if _given(name_zh):
        category.name_zh = name_zh
    if _given(name_en):
        category.name_en = name_en
    _flush_or(db, _slug_conflict())
    db.commit()
    return category


# Brands ------------------------------------------------------------------------------------------


def get_brand(db: Session, brand_id: int, *, field: str | None = None) -> Brand:
    brand = db.get(Brand, brand_id)
    if brand is None:
        raise NotFound("brand not found", code="brand_not_found", field=field)
    return brand


def list_brands(db: Session, params: PageParams) -> tuple[Sequence[Brand], str | None]:
    return paginate_by_id(db, select(Brand), Brand.id, params)


def _brand_conflict() -> Conflict:
    return Conflict("a brand with this Chinese name exists", code="brand_exists", field="name_zh")


def _brand_name_taken(db: Session, name_zh: str, *, except_id: int | None = None) -> bool:
    stmt = select(Brand.id).where(Brand.name_zh == name_zh)
    if except_id is not None:
        stmt = stmt.where(Brand.id != except_id)
    return db.scalar(stmt) is not None


def create_brand(db: Session, *, name_zh: str, name_en: str, commit: bool = True) -> Brand:
    """A brand; its Chinese name is unique (``brand_exists``)."""
    if _brand_name_taken(db, name_zh):
        raise _brand_conflict()
    brand = Brand(name_zh=name_zh, name_en=name_en)
    db.add(brand)
    _flush_or(db, _brand_conflict())
    if commit:
        db.commit()
    return brand


def update_brand(db: Session, brand_id: int, *, name_zh: str = UNSET, name_en: str = UNSET) -> Brand:
    brand = get_brand(db, brand_id)
    if _given(name_zh) and name_zh != brand.name_zh:
        if _brand_name_taken(db, name_zh, except_id=brand.id):
            raise _brand_conflict()
        brand.name_zh = name_zh
    if _given(name_en):
        brand.name_en = name_en
    _flush_or(db, _brand_conflict())
    db.commit()
    return brand


# Products: reading -------------------------------------------------------------------------------


def get_product(db: Session, product_id: int) -> Product:
    """Any product, whatever its status or its shop's (``product_not_found`` if none)."""
    product = db.get(Product, product_id)
    if product is None:
        raise NotFound("product not found", code="product_not_found")
    return product


def get_active_product(db: Session, product_id: int) -> Product:
    """A product shoppers may see and buy: active, in an active shop. Anything else is not found."""
    product = db.get(Product, product_id)
    if (
        product is None
        or product.status is not ProductStatus.active
        or not shops_service.is_shop_active(db, product.shop_id)
    ):
        raise NotFound("product not found", code="product_not_found")
    return product


@dataclasses.dataclass(frozen=True)
class ProductBrief:
    """What other domains show of a product next to their own records (anchors, plans)."""

    id: int
    shop_id: int
    title_zh: str
    title_en: str
    on_sale: bool
    price_fen: int | None  # lowest price among active SKUs


def product_briefs(db: Session, product_ids: Iterable[int], *, lock: bool = False) -> dict[int, ProductBrief]:
    """Briefs of many products in two queries; unknown ids are simply absent.

    ``lock`` takes the products' row locks (in id order) for the rest of the transaction, for
    callers that serialise their own per-product rules on them.
    """
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    # Only the columns a brief needs: the feed renders briefs on every page, and whole rows (with
    # descriptions and attributes) cost several times more to load.
    stmt = (
        select(Product.id, Product.shop_id, Product.title_zh, Product.title_en, Product.status)
        .where(Product.id.in_(ids))
        .order_by(Product.id)
    )
    if lock:
        stmt = stmt.with_for_update()
    products = db.execute(stmt).all()
    prices = dict(
        db.execute(
            select(Sku.product_id, func.min(Sku.price_fen))
            .where(Sku.product_id.in_(ids), Sku.is_active.is_(True))
            .group_by(Sku.product_id)
        ).all()
    )
    return {
        p.id: ProductBrief(
            id=p.id,
            shop_id=p.shop_id,
            title_zh=p.title_zh,
            title_en=p.title_en,
            on_sale=p.status == ProductStatus.active,
            price_fen=prices.get(p.id),
        )
        for p in products
    }


def on_sale_product_ids_query() -> Select[int]:
    """A sub-select of the ids of products on sale, for other domains' listings (``x.in_(...)``)."""
    return select(Product.id).where(Product.status == ProductStatus.active)


# --- sales as shown and ranked (issue #19) ----------------------------------------------------------
# ``skus.sold_count`` is exact stock bookkeeping and never edited for integrity. What shoppers,
# merchants, search and the plaza see and rank is it less the units of brushed (flagged) orders, which
# the integrity domain keeps per SKU (one row per SKU a ring bought, rewritten whenever the flag set is
# published): each reader subtracts it in its own query with one outer join, so the hot paths (the
# product page, search's index feed, the plaza's sort) pay no extra round trip and read no order lines.


def _brushed_units() -> Any:
    return integrity_service.flagged_sales_query().subquery("brushed")


def _shown(sold: Any, brushed_units: Any) -> ColumnElement[int]:
    """``sold`` less the brushed units, never below zero (a brushed order cancelled since the last
    publication has left ``sold_count`` already)."""
    shown = sold - func.coalesce(brushed_units, 0)
    return case((shown < 0, 0), else_=shown)


def shown_sold_counts(db: Session, sku_ids: Iterable[int]) -> dict[int, int]:
    """``sku id -> units sold as shown``: ``sold_count`` less the units of brushed orders."""
    ids = sorted(set(sku_ids))
    brushed = _brushed_units()
    out: dict[int, int] = {}
    for start in range(0, len(ids), _BULK_CHUNK):
        rows = db.execute(
            select(Sku.id, _shown(Sku.sold_count, brushed.c.units))
            .outerjoin(brushed, brushed.c.sku_id == Sku.id)
            .where(Sku.id.in_(ids[start : start + _BULK_CHUNK]))
        )
        out.update({int(sku_id): int(n) for sku_id, n in rows})
    return out


def on_sale_product_facts_query() -> Select[Any]:
    """A query of the products on sale with an active SKU, for other domains' listings that filter
    and sort on them in SQL (the affiliate plaza): ``product_id``, ``category_id``, ``created_at``,
    ``price_fen`` (the lowest active SKU price) and ``sales`` (units sold as shown, every SKU)."""
    brushed = _brushed_units()
    skus = (
        select(
            Sku.product_id,
            func.min(Sku.price_fen).filter(Sku.is_active.is_(True)).label("price_fen"),
            func.sum(_shown(Sku.sold_count, brushed.c.units)).label("sales"),
        )
        .outerjoin(brushed, brushed.c.sku_id == Sku.id)
        .group_by(Sku.product_id)
        .subquery()
    )
    return (
        select(
            Product.id.label("product_id"),
            Product.category_id,
            Product.created_at,
            skus.c.price_fen,
            skus.c.sales,
        )
        .join(skus, skus.c.product_id == Product.id)
        .where(Product.status == ProductStatus.active, skus.c.price_fen.is_not(None))
    )


def get_sku(db: Session, sku_id: int) -> Sku:
    """Any SKU (``sku_not_found`` if none). ``sku.product`` gives its product."""
    sku = db.get(Sku, sku_id)
    if sku is None:
        raise NotFound("SKU not found", code="sku_not_found")
    return sku


def skus_by_id(db: Session, sku_ids: Iterable[int]) -> dict[int, Sku]:
    """Load many SKUs (with their products) in two queries; unknown ids are simply absent."""
    ids = sorted(set(sku_ids))
    if not ids:
        return {}
    rows = db.scalars(select(Sku).where(Sku.id.in_(ids)).options(selectinload(Sku.product)))
    return {sku.id: sku for sku in rows}


def get_shop_product(
    db: Session, shop_id: int, product_id: int, *, lock: bool = False, field: str | None = None
) -> Product:
    """A product of ``shop_id``; another shop's product is reported as not found (naming ``field``
    when one is given).

    ``lock`` takes the product's row lock (PostgreSQL) for the rest of the transaction, which
    serialises status and SKU changes that must see each other.
    """
    stmt = select(Product).where(Product.id == product_id, Product.shop_id == shop_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    product = db.scalar(stmt)
    if product is None:
        raise NotFound("product not found", code="product_not_found", field=field)
    return product


def get_shop_sku(db: Session, shop_id: int, sku_id: int) -> Sku:
    """A SKU of one of ``shop_id``'s products; another shop's SKU is reported as not found."""
    sku = db.scalar(
        select(Sku)
        .join(Product, Product.id == Sku.product_id)
        .where(Sku.id == sku_id, Product.shop_id == shop_id)
    )
    if sku is None:
        raise NotFound("SKU not found", code="sku_not_found")
    return sku


def list_public_products(
    db: Session,
    params: PageParams,
    *,
    category_id: int | None = None,
    shop_id: int | None = None,
    brand_id: int | None = None,
) -> tuple[Sequence[Product], str | None]:
    """Active products of active shops, newest first, SKUs loaded.

    ``category_id`` may be a leaf or a top category (which includes all of its leaves); an unknown
    one is ``category_not_found``. Unknown shop or brand ids simply match nothing.
    """
    stmt = (
        select(Product)
        .where(
            Product.status == ProductStatus.active,
            Product.shop_id.in_(shops_service.active_shop_ids_query()),
        )
        .options(selectinload(Product.skus))
    )
    if category_id is not None:
        stmt = stmt.where(Product.category_id.in_(category_ids_under(db, category_id)))
    if shop_id is not None:
        stmt = stmt.where(Product.shop_id == shop_id)
    if brand_id is not None:
        stmt = stmt.where(Product.brand_id == brand_id)
    return paginate_by_id(db, stmt, Product.id, params)


def list_shop_products(
    db: Session, shop_id: int, params: PageParams, *, status: ProductStatus | None = None
) -> tuple[Sequence[Product], str | None]:
    """All of a shop's products (any status unless filtered), newest first, SKUs loaded."""
    stmt = select(Product).where(Product.shop_id == shop_id).options(selectinload(Product.skus))
    if status is not None:
        stmt = stmt.where(Product.status == status)
    return paginate_by_id(db, stmt, Product.id, params)


def product_ids_of_shop(db: Session, shop_id: int, *, active_only: bool = False) -> list[int]:
    """Ids of a shop's products, oldest first; ``active_only`` keeps those on sale."""
    stmt = select(Product.id).where(Product.shop_id == shop_id)
    if active_only:
        stmt = stmt.where(Product.status == ProductStatus.active)
    return list(db.scalars(stmt.order_by(Product.id)))


# Products: writing -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class NewSku:
    """One SKU of a product being created, or one being added to a product."""

    code: str
    price_fen: int
    stock: int = 0
    attributes: Mapping[str, str] = dataclasses.field(default_factory=dict)


def _check_text(value: str, *, field: str, max_length: int, required: bool = True) -> None:
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > max_length:
        raise InvalidInput(f"{field} must be text of at most {max_length} characters", field=field)


def _check_new_sku(sku: NewSku, prefix: str) -> None:
    """The rules for SKU values, for callers that do not come through the API's schemas."""
    _check_text(sku.code, field=f"{prefix}code", max_length=MAX_SKU_CODE)
    _check_price(sku.price_fen, field=f"{prefix}price_fen")
    if isinstance(sku.stock, bool) or not isinstance(sku.stock, int) or not (0 <= sku.stock <= MAX_STOCK):
        raise InvalidInput(f"stock must be between 0 and {MAX_STOCK}", field=f"{prefix}stock")
    _check_attributes(sku.attributes, field=f"{prefix}attributes")


def _check_price(price_fen: int, *, field: str) -> None:
    if isinstance(price_fen, bool) or not isinstance(price_fen, int) or not (1 <= price_fen <= MAX_PRICE_FEN):
        raise InvalidInput(f"price_fen must be between 1 and {MAX_PRICE_FEN}", field=field)


def _check_attributes(attributes: Mapping[str, str], *, field: str) -> None:
    if not isinstance(attributes, Mapping) or len(attributes) > MAX_ATTRIBUTES:
        raise InvalidInput(f"at most {MAX_ATTRIBUTES} attributes", field=field)
    for name, value in attributes.items():
        _check_text(name, field=field, max_length=MAX_ATTRIBUTE_NAME)
        _check_text(value, field=field, max_length=MAX_ATTRIBUTE_VALUE)


def _sku_row(sku: NewSku) -> Sku:
    return Sku(
        code=sku.code,
        attributes=dict(sku.attributes),
        price_fen=sku.price_fen,
        stock=sku.stock,
        is_active=True,
    )


def create_product(
    db: Session,
    shop_id: int,
    *,
    category_id: int,
    title_zh: str,
    title_en: str,
    skus: Sequence[NewSku],
    brand_id: int | None = None,
    description_zh: str = "",
    description_en: str = "",
    status: ProductStatus = ProductStatus.draft,
    commit: bool = True,
) -> Product:
    """Create a product with its SKUs in one flush.

    Checks: the shop exists; ``category_id`` is a leaf; ``brand_id`` exists; a new product is draft
    or active; 1 to ``MAX_SKUS_PER_PRODUCT`` SKUs with codes unique within the product and sane
    prices, stock and attributes. With ``commit=False`` only flushes, for bulk creation (the shop,
    category and brand lookups then hit the session's identity map after the first product).
    """
    shops_service.get_shop(db, shop_id)
    get_leaf_category(db, category_id)
    if brand_id is not None:
        get_brand(db, brand_id, field="brand_id")
    _check_text(title_zh, field="title_zh", max_length=MAX_TITLE_ZH)
    _check_text(title_en, field="title_en", max_length=MAX_TITLE_EN)
    _check_text(description_zh, field="description_zh", max_length=MAX_DESCRIPTION, required=False)
    _check_text(description_en, field="description_en", max_length=MAX_DESCRIPTION, required=False)
    try:
        status = ProductStatus(status)
    except ValueError:
        raise InvalidInput("unknown product status", code="invalid_status", field="status") from None
    if status not in (ProductStatus.draft, ProductStatus.active):
        raise InvalidInput("a new product is draft or active", code="invalid_status", field="status")
    if not skus:
        raise InvalidInput("a product needs at least one SKU", code="no_skus", field="skus")
    if len(skus) > MAX_SKUS_PER_PRODUCT:
        raise InvalidInput(f"at most {MAX_SKUS_PER_PRODUCT} SKUs", code="too_many_skus", field="skus")
    seen: set[str] = set()
    for i, sku in enumerate(skus):
        _check_new_sku(sku, f"skus[{i}].")
        if sku.code in seen:
            raise InvalidInput(
                f"SKU code {sku.code!r} is used twice", code="duplicate_sku_code", field=f"skus[{i}].code"
            )
        seen.add(sku.code)
    product = Product(
        shop_id=shop_id,
        category_id=category_id,
        brand_id=brand_id,
        title_zh=title_zh,
        title_en=title_en,
        description_zh=description_zh,
        description_en=description_en,
        status=status,
        skus=[_sku_row(sku) for sku in skus],
    )
    db.add(product)
    db.flush()
    if commit:
        db.commit()
    return product


def _active_sku_count(db: Session, product_id: int, *, except_sku_id: int | None = None) -> int:
    stmt = select(func.count()).select_from(Sku).where(Sku.product_id == product_id, Sku.is_active.is_(True))
    if except_sku_id is not None:
        stmt = stmt.where(Sku.id != except_sku_id)
    return db.scalar(stmt) or 0


def update_product(
    db: Session,
    shop_id: int,
    product_id: int,
    *,
    category_id: int = UNSET,
    brand_id: int | None = UNSET,
    title_zh: str = UNSET,
    title_en: str = UNSET,
    description_zh: str = UNSET,
    description_en: str = UNSET,
    status: ProductStatus = UNSET,
) -> Product:
    """Edit a shop's product. Status moves draft→active, active→delisted, delisted→active
    (``illegal_transition`` otherwise); becoming active needs an active SKU (``no_active_sku``).
    ``brand_id=None`` removes the brand."""
    product = get_shop_product(db, shop_id, product_id, lock=True)
    try:
        if _given(category_id):
            get_leaf_category(db, category_id)
            product.category_id = category_id
        if _given(brand_id):
            if brand_id is not None:
                get_brand(db, brand_id, field="brand_id")
            product.brand_id = brand_id
        for name, value, max_length, required in (
            ("title_zh", title_zh, MAX_TITLE_ZH, True),
            ("title_en", title_en, MAX_TITLE_EN, True),
            ("description_zh", description_zh, MAX_DESCRIPTION, False),
            ("description_en", description_en, MAX_DESCRIPTION, False),
        ):
            if _given(value):
                _check_text(value, field=name, max_length=max_length, required=required)
                setattr(product, name, value)
        if _given(status):
            _change_status(db, product, ProductStatus(status))
    except Exception:
        db.rollback()
        raise
    db.commit()
    return product


def _change_status(db: Session, product: Product, target: ProductStatus) -> None:
    if target is product.status:
        return
    if target not in TRANSITIONS[product.status]:
        raise Conflict(
            f"a {product.status.value} product cannot become {target.value}",
            code="illegal_transition",
            field="status",
            details={"from": product.status.value, "to": target.value},
        )
    if target is ProductStatus.active and _active_sku_count(db, product.id) == 0:
        raise Conflict("a product needs an active SKU to go on sale", code="no_active_sku", field="status")
    product.status = target


def add_sku(db: Session, shop_id: int, product_id: int, sku: NewSku) -> Sku:
    """Add a SKU to a shop's product (``sku_code_taken`` when the product already has the code)."""
    _check_new_sku(sku, "")
    product = get_shop_product(db, shop_id, product_id, lock=True)
    taken = db.scalar(select(Sku.id).where(Sku.product_id == product.id, Sku.code == sku.code))
    conflict = Conflict("this product already has a SKU with this code", code="sku_code_taken", field="code")
    if taken is not None:
        db.rollback()
        raise conflict
    count = db.scalar(select(func.count()).select_from(Sku).where(Sku.product_id == product.id)) or 0
    if count >= MAX_SKUS_PER_PRODUCT:
        db.rollback()
        raise Conflict(f"a product has at most {MAX_SKUS_PER_PRODUCT} SKUs", code="too_many_skus")
    row = _sku_row(sku)
    row.product_id = product.id
    db.add(row)
    _flush_or(db, conflict)
    db.commit()
    return row


def update_sku(
    db: Session,
    shop_id: int,
    sku_id: int,
    *,
    price_fen: int = UNSET,
    attributes: Mapping[str, str] = UNSET,
    is_active: bool = UNSET,
) -> Sku:
    """Change a SKU's price, attributes or whether it is sold. The last active SKU of an active
    product cannot be switched off (``last_active_sku``): delist the product first."""
    if _given(price_fen):
        _check_price(price_fen, field="price_fen")
    if _given(attributes):
        _check_attributes(attributes, field="attributes")
    sku = get_shop_sku(db, shop_id, sku_id)
    product = get_shop_product(db, shop_id, sku.product_id, lock=True)
    if (
        _given(is_active)
        and not is_active
        and sku.is_active
        and product.status is ProductStatus.active
        and _active_sku_count(db, product.id, except_sku_id=sku.id) == 0
    ):
        db.rollback()
        raise Conflict(
            "this is the product's last active SKU; delist the product first",
            code="last_active_sku",
            field="is_active",
        )
    if _given(price_fen):
        sku.price_fen = price_fen
    if _given(attributes):
        sku.attributes = dict(attributes)
    if _given(is_active):
        sku.is_active = bool(is_active)
    db.commit()
    return sku


def refuse_if_warehouse_held(sku: Sku, *, field: str) -> None:
    """A SKU in the platform warehouse sells what the warehouse counted in: its stock changes only
    by inbound shipments (and orders), never by hand (409 ``stock_held_by_warehouse``)."""
    if sku.stock_held_by is not None:
        raise Conflict(
            "this SKU's stock is held by the platform warehouse: add units with an inbound shipment",
            code="stock_held_by_warehouse",
            field=field,
            details={"sku_id": sku.id, "warehouse": sku.stock_held_by},
        )


def adjust_stock(
    db: Session, shop_id: int, sku_id: int, *, delta: int | None = None, set_to: int | None = None
) -> Sku:
    """Restock or correct a SKU's sellable stock: exactly one of ``delta`` or ``set_to``.

    A delta is applied with one conditional UPDATE (``stock + delta`` must stay within
    0..MAX_STOCK), so concurrent adjustments and checkouts can never make stock negative; when it
    would, nothing changes and ``stock_would_go_negative`` (409) is raised.
    """
    if (delta is None) == (set_to is None):
        raise InvalidInput("give exactly one of delta or set", field="delta")
    if delta is not None and (isinstance(delta, bool) or not isinstance(delta, int) or delta == 0):
        raise InvalidInput("delta must be a non-zero whole number", field="delta")
    if delta is not None and abs(delta) > MAX_STOCK:
        raise InvalidInput(f"delta must be between -{MAX_STOCK} and {MAX_STOCK}", field="delta")
    if set_to is not None and (
        isinstance(set_to, bool) or not isinstance(set_to, int) or not (0 <= set_to <= MAX_STOCK)
    ):
        raise InvalidInput(f"set must be between 0 and {MAX_STOCK}", field="set")
    sku = get_shop_sku(db, shop_id, sku_id)
    refuse_if_warehouse_held(sku, field="delta" if delta is not None else "set")
    stmt = update(Sku).where(Sku.id == sku.id).execution_options(synchronize_session=False)
    if set_to is not None:
        db.execute(stmt.values(stock=set_to))
    else:
        assert delta is not None
        result = db.execute(
            stmt.where(Sku.stock + delta >= 0, Sku.stock + delta <= MAX_STOCK).values(stock=Sku.stock + delta)
        )
        if rows_changed(result) != 1:
            db.rollback()
            current = db.scalar(select(Sku.stock).where(Sku.id == sku.id)) or 0
            if current + delta < 0:
                raise Conflict(
                    "not enough stock to take that many units",
                    code="stock_would_go_negative",
                    field="delta",
                    details={"stock": current, "delta": delta},
                )
            raise InvalidInput(
                f"stock cannot exceed {MAX_STOCK}",
                code="stock_too_large",
                field="delta",
                details={"stock": current, "delta": delta},
            )
    db.commit()
    db.refresh(sku)
    return sku


# Bulk creation (demo world, imports) -------------------------------------------------------------

_BULK_CHUNK: Final = 5000
# Rows per INSERT call: SQLAlchemy sends this many as one multi-row statement, where larger calls
# split into pages whose RETURNING rows are re-joined at a cost that grows with the square of the pages.


@dataclasses.dataclass(frozen=True)
class NewProduct:
    """One product for :func:`create_products_bulk`."""

    shop_id: int
    category_id: int
    title_zh: str
    title_en: str
    skus: Sequence[NewSku]
    brand_id: int | None = None
    description_zh: str = ""
    description_en: str = ""
    status: ProductStatus = ProductStatus.active


def _check_new_product(product: NewProduct, prefix: str) -> None:
    """:func:`create_product`'s value rules, with fields named ``products[i].…``."""
    _check_text(product.title_zh, field=f"{prefix}title_zh", max_length=MAX_TITLE_ZH)
    _check_text(product.title_en, field=f"{prefix}title_en", max_length=MAX_TITLE_EN)
    _check_text(
        product.description_zh, field=f"{prefix}description_zh", max_length=MAX_DESCRIPTION, required=False
    )
    _check_text(
        product.description_en, field=f"{prefix}description_en", max_length=MAX_DESCRIPTION, required=False
    )
    if product.status not in (ProductStatus.draft, ProductStatus.active):
        raise InvalidInput("a new product is draft or active", code="invalid_status", field=f"{prefix}status")
    if not product.skus:
        raise InvalidInput("a product needs at least one SKU", code="no_skus", field=f"{prefix}skus")
    if len(product.skus) > MAX_SKUS_PER_PRODUCT:
        raise InvalidInput(
            f"at most {MAX_SKUS_PER_PRODUCT} SKUs", code="too_many_skus", field=f"{prefix}skus"
        )
    seen: set[str] = set()
    for j, sku in enumerate(product.skus):
        _check_new_sku(sku, f"{prefix}skus[{j}].")
        if sku.code in seen:
            raise InvalidInput(
                f"SKU code {sku.code!r} is used twice",
                code="duplicate_sku_code",
                field=f"{prefix}skus[{j}].code",
            )
        seen.add(sku.code)


def _existing_ids(db: Session, column: Any, ids: Iterable[int]) -> set[int]:
    wanted = sorted(set(ids))
    found: set[int] = set()
    for start in range(0, len(wanted), _BULK_CHUNK):
        found.update(db.scalars(select(column).where(column.in_(wanted[start : start + _BULK_CHUNK]))))
    return found


def create_products_bulk(db: Session, products: Sequence[NewProduct]) -> list[int]:
    """Create many products with their SKUs: :func:`create_product`'s rules, in a few statements.

    Every product is checked before anything is written (a bad one raises ``InvalidInput`` naming
    ``products[i]…``, or ``NotFound`` for an unknown shop, category or brand, and nothing is inserted).
    Flushes only: the caller commits, so a generator or importer can make a whole phase one
    transaction. Returns the new product ids in input order.
    """
    if not products:
        return []
    for i, product in enumerate(products):
        _check_new_product(product, f"products[{i}].")
    known_shops = set(shops_service.shops_by_ids(db, {p.shop_id for p in products}))
    leaves = {
        c.id: c
        for c in categories_by_id(db, {p.category_id for p in products}).values()
        if c.parent_id is not None
    }
    brands = _existing_ids(db, Brand.id, (p.brand_id for p in products if p.brand_id is not None))
    for i, product in enumerate(products):
        if product.shop_id not in known_shops:
            raise NotFound("shop not found", code="shop_not_found", field=f"products[{i}].shop_id")
        if product.category_id not in leaves:
            raise InvalidInput(
                "products attach to existing leaf categories",
                code="category_not_leaf",
                field=f"products[{i}].category_id",
            )
        if product.brand_id is not None and product.brand_id not in brands:
            raise NotFound("brand not found", code="brand_not_found", field=f"products[{i}].brand_id")
    now = clock.now()
    product_rows = [
        {
            "shop_id": p.shop_id,
            "category_id": p.category_id,
            "brand_id": p.brand_id,
            "title_zh": p.title_zh,
            "title_en": p.title_en,
            "description_zh": p.description_zh,
            "description_en": p.description_en,
            "status": p.status,
            "created_at": now,
            "updated_at": now,
        }
        for p in products
    ]
    ids = insert_rows_returning_ids(db, Product.__table__, product_rows)
    sku_rows = [
        {
            "product_id": product_id,
            "code": sku.code,
            "attributes": dict(sku.attributes),
            "price_fen": sku.price_fen,
            "stock": sku.stock,
            "sold_count": 0,
            "is_active": True,
        }
        for product_id, product in zip(ids, products, strict=True)
        for sku in product.skus
    ]
    insert_rows(db, Sku.__table__, sku_rows)
    return ids


def product_placements(db: Session, product_ids: Iterable[int]) -> dict[int, tuple[int, int, bool]]:
    """``product id -> (shop id, category id, on sale)`` for many products; unknown ids are absent."""
    ids = sorted(set(product_ids))
    out: dict[int, tuple[int, int, bool]] = {}
    for start in range(0, len(ids), _BULK_CHUNK):
        rows = db.execute(
            select(Product.id, Product.shop_id, Product.category_id, Product.status).where(
                Product.id.in_(ids[start : start + _BULK_CHUNK])
            )
        )
        out.update(
            {pid: (shop_id, cat, status == ProductStatus.active) for pid, shop_id, cat, status in rows}
        )
    return out


# Bulk import -------------------------------------------------------------------------------------


def category_by_slug(db: Session, slug: str) -> Category | None:
    return db.scalar(select(Category).where(Category.slug == slug))


def product_ids_by_title_en(
    db: Session, shop_id: int, titles: Iterable[str], *, chunk: int = 5000
) -> dict[str, int]:
    """A shop's products by exact English title (imports map external ids to titles)."""
    wanted = list(dict.fromkeys(titles))
    found: dict[str, int] = {}
    for i in range(0, len(wanted), chunk):
        stmt = select(Product.title_en, Product.id).where(
            Product.shop_id == shop_id, Product.title_en.in_(wanted[i : i + chunk])
        )
        found.update(db.execute(stmt).all())
    return found


# Whole-catalogue snapshots for batch engines (search indexes, the market simulation) -------------


@dataclasses.dataclass(frozen=True)
class CatalogueSnapshot:
    """Every product on sale, as aligned columns sorted by product id.

    ``sku_ids``/``sku_prices_fen`` are each product's cheapest active SKU with stock (``-1``/``0``
    when none has stock); ``sold`` sums the product's SKUs' units sold."""

    product_ids: list[int]
    shop_ids: list[int]
    category_ids: list[int]
    brand_ids: list[int | None]
    titles_zh: list[str]
    titles_en: list[str]
    sku_ids: list[int]
    sku_prices_fen: list[int]
    stock: list[int]
    sold: list[int]


def catalogue_snapshot(db: Session) -> CatalogueSnapshot:
    """All active products of active shops with their selling SKU, in two queries."""
    products = db.execute(
        select(
            Product.id,
            Product.shop_id,
            Product.category_id,
            Product.brand_id,
            Product.title_zh,
            Product.title_en,
        )
        .where(
            Product.status == ProductStatus.active, Product.shop_id.in_(shops_service.active_shop_ids_query())
        )
        .order_by(Product.id)
    ).all()
    best: dict[int, tuple[int, int]] = {}
    stock: dict[int, int] = {}
    sold: dict[int, int] = {}
    brushed = _brushed_units()
    rows = db.execute(
        select(Sku.product_id, Sku.id, Sku.price_fen, Sku.stock, _shown(Sku.sold_count, brushed.c.units))
        .outerjoin(brushed, brushed.c.sku_id == Sku.id)
        .where(Sku.is_active.is_(True))
        .order_by(Sku.product_id, Sku.price_fen, Sku.id)
    )
    for product_id, sku_id, price, left, units in rows:
        stock[product_id] = stock.get(product_id, 0) + left
        sold[product_id] = sold.get(product_id, 0) + units
        if left > 0 and product_id not in best:
            best[product_id] = (sku_id, price)
    return CatalogueSnapshot(
        product_ids=[p[0] for p in products],
        shop_ids=[p[1] for p in products],
        category_ids=[p[2] for p in products],
        brand_ids=[p[3] for p in products],
        titles_zh=[p[4] for p in products],
        titles_en=[p[5] for p in products],
        sku_ids=[best.get(p[0], (-1, 0))[0] for p in products],
        sku_prices_fen=[best.get(p[0], (-1, 0))[1] for p in products],
        stock=[stock.get(p[0], 0) for p in products],
        sold=[sold.get(p[0], 0) for p in products],
    )


# Search index feed (issue #5): what the index shows of a product, and what changed since when ------


@dataclasses.dataclass(frozen=True)
class SearchableProduct:
    """One product as the search index needs it. ``price_fen`` is the cheapest active SKU with stock,
    else the cheapest active SKU (a sold-out product still shows its price); ``on_sale`` is false for
    a product the index must drop (not active, shop suspended, no active SKU)."""

    id: int
    shop_id: int
    category_id: int
    brand_id: int | None
    title_zh: str
    title_en: str
    price_fen: int
    stock: int
    sold: int
    created_at: Any  # datetime
    on_sale: bool


def searchable_products(db: Session, product_ids: Iterable[int] | None = None) -> list[SearchableProduct]:
    """``None``: every product on sale. Ids: each of them that exists, whatever its state (sorted by id)."""
    stmt = select(
        Product.id,
        Product.shop_id,
        Product.category_id,
        Product.brand_id,
        Product.title_zh,
        Product.title_en,
        Product.created_at,
        Product.status,
    )
    chunks: list[list[int] | None]
    if product_ids is None:
        chunks = [None]
    else:
        wanted = sorted(set(product_ids))
        chunks = [wanted[i : i + _BULK_CHUNK] for i in range(0, len(wanted), _BULK_CHUNK)]
    active_shops = set(db.scalars(shops_service.active_shop_ids_query()))
    out: list[SearchableProduct] = []
    for chunk in chunks:
        product_stmt = stmt.order_by(Product.id)
        brushed = _brushed_units()
        sku_stmt = (
            select(Sku.product_id, Sku.price_fen, Sku.stock, _shown(Sku.sold_count, brushed.c.units))
            .outerjoin(brushed, brushed.c.sku_id == Sku.id)
            .where(Sku.is_active.is_(True))
        )
        if chunk is None:
            product_stmt = product_stmt.where(Product.status == ProductStatus.active)
        else:
            product_stmt = product_stmt.where(Product.id.in_(chunk))
            sku_stmt = sku_stmt.where(Sku.product_id.in_(chunk))
        cheapest: dict[int, int] = {}
        cheapest_in_stock: dict[int, int] = {}
        stock: dict[int, int] = {}
        sold: dict[int, int] = {}
        for product_id, price, left, units in db.execute(sku_stmt):
            stock[product_id] = stock.get(product_id, 0) + left
            sold[product_id] = sold.get(product_id, 0) + units
            cheapest[product_id] = min(price, cheapest.get(product_id, price))
            if left > 0:
                cheapest_in_stock[product_id] = min(price, cheapest_in_stock.get(product_id, price))
        for pid, shop_id, category_id, brand_id, title_zh, title_en, created_at, status in db.execute(
            product_stmt
        ):
            out.append(
                SearchableProduct(
                    id=pid,
                    shop_id=shop_id,
                    category_id=category_id,
                    brand_id=brand_id,
                    title_zh=title_zh,
                    title_en=title_en,
                    price_fen=cheapest_in_stock.get(pid, cheapest.get(pid, 0)),
                    stock=stock.get(pid, 0),
                    sold=sold.get(pid, 0),
                    created_at=created_at,
                    on_sale=status == ProductStatus.active and shop_id in active_shops and pid in cheapest,
                )
            )
    return out


def products_changed_since(db: Session, since: Any) -> tuple[list[int], Any]:
    """Ids of products whose row or any of whose SKUs was written at or after ``since`` (a datetime),
    and the newest such write time seen (``since`` itself when nothing changed). Both timestamps are
    indexed, so a poll that finds nothing costs two index probes."""
    changed: set[int] = set()
    newest = since
    for pid, when in db.execute(select(Product.id, Product.updated_at).where(Product.updated_at >= since)):
        changed.add(pid)
        newest = max(newest, when)
    for pid, sku_written in db.execute(select(Sku.product_id, Sku.updated_at).where(Sku.updated_at >= since)):
        changed.add(pid)
        newest = max(newest, sku_written)
    return sorted(changed), newest


def brands_by_ids(db: Session, brand_ids: Iterable[int]) -> dict[int, Brand]:
    ids = sorted(set(brand_ids))
    out: dict[int, Brand] = {}
    for start in range(0, len(ids), _BULK_CHUNK):
        out.update(
            {b.id: b for b in db.scalars(select(Brand).where(Brand.id.in_(ids[start : start + _BULK_CHUNK])))}
        )
    return out


def shop_main_categories(db: Session) -> dict[int, int]:
    """``shop id -> the top-level category most of its active products are in`` (ties: lower id)."""
    rows = db.execute(
        select(Product.shop_id, Category.parent_id, Category.id, func.count())
        .join(Category, Category.id == Product.category_id)
        .where(Product.status == ProductStatus.active)
        .group_by(Product.shop_id, Category.parent_id, Category.id)
    )
    counts: dict[int, dict[int, int]] = {}
    for shop_id, parent_id, category_id, n in rows:
        top = parent_id if parent_id is not None else category_id
        per_shop = counts.setdefault(shop_id, {})
        per_shop[top] = per_shop.get(top, 0) + n
    return {shop: min(c, key=lambda top: (-c[top], top)) for shop, c in counts.items()}


def product_shop_pairs(db: Session) -> list[tuple[int, int, int]]:
    """Every product as ``(product id, shop id, category id)`` (analytics joins events to shops)."""
    return [
        (product_id, shop_id, category_id)
        for product_id, shop_id, category_id in db.execute(
            select(Product.id, Product.shop_id, Product.category_id).order_by(Product.id)
        )
    ]


def cheapest_active_prices(db: Session, product_ids: Iterable[int]) -> dict[int, int]:
    """``product id -> lowest price (fen) among its active SKUs`` for many products (chunked, so any
    number of ids); products without an active SKU, and unknown ids, are absent."""
    ids = sorted(set(product_ids))
    out: dict[int, int] = {}
    for start in range(0, len(ids), _BULK_CHUNK):
        out.update(
            db.execute(
                select(Sku.product_id, func.min(Sku.price_fen))
                .where(Sku.product_id.in_(ids[start : start + _BULK_CHUNK]), Sku.is_active.is_(True))
                .group_by(Sku.product_id)
            ).all()
        )
    return out


def product_shops_and_categories(db: Session, product_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """``product id -> (shop id, category id)`` for many products (chunked); unknown ids are absent.
    :func:`product_placements` without the sale status, which costs as much again to read: the feed's
    catalog asks for every anchored product (50k+) at once."""
    ids = sorted(set(product_ids))
    out: dict[int, tuple[int, int]] = {}
    for start in range(0, len(ids), _BULK_CHUNK):
        rows = db.execute(
            select(Product.id, Product.shop_id, Product.category_id).where(
                Product.id.in_(ids[start : start + _BULK_CHUNK])
            )
        )
        out.update((pid, (shop_id, category_id)) for pid, shop_id, category_id in rows)
    return out
