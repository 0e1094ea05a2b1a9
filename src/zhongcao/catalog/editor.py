"""The product editor's rules: a whole product (texts, attributes, SKU matrix, pictures) saved at once.

The merchant page, the JSON API (``POST /api/merchant/products``, ``PUT /api/merchant/products/{id}``)
and the CSV import all save through :func:`save_product`.

The SKU matrix has at most two axes (``options``: colour × size); each SKU is one combination of
their values. Saving an existing product matches SKUs by that combination, so a SKU whose colour
and size are unchanged keeps its id (orders and carts reference SKU ids); a combination that is
dropped is switched off (never deleted, for the same reason) and comes back with its old id when it
is added again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from zhongcao.catalog import service
from zhongcao.catalog.models import Product, ProductImage, ProductStatus, Sku
from zhongcao.errors import InvalidInput, NotFound
from zhongcao.media import service as media_service
from zhongcao.shops import service as shops_service

MAX_IMAGES: Final = 9
MAX_OPTIONS: Final = 2
MAX_OPTION_VALUES: Final = 20


@dataclasses.dataclass(frozen=True)
class Option:
    """One axis of the SKU matrix: its name and its values in the order the picker shows them."""

    name: str
    values: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class SkuRow:
    """One SKU: its combination (one value per option, in option order; empty without options).

    ``code`` may be blank: a kept SKU keeps its code, a new one gets ``SKU-<n>``. ``stock_was`` is
    the stock the form showed: when given, stock moves by the difference, so units sold while the
    merchant was typing are not written back."""

    values: tuple[str, ...]
    price_fen: int
    stock: int
    code: str = ""
    stock_was: int | None = None
    # Shown, not saved: the platform warehouse holding the SKU's stock (read-only in the editor).
    held_by: str | None = None


@dataclasses.dataclass(frozen=True)
class ProductDraft:
    """Everything the editor saves. ``image_ids`` None keeps the pictures as they are (CSV import);
    ``status`` None keeps the status (a new product is then a draft)."""

    category_id: int
    title_zh: str
    title_en: str
    skus: Sequence[SkuRow]
    brand_id: int | None = None
    description_zh: str = ""
    description_en: str = ""
    attributes: Mapping[str, str] = dataclasses.field(default_factory=dict)
    options: Sequence[Option] = ()
    image_ids: Sequence[int] | None = ()
    status: ProductStatus | None = None


def _check_options(options: Sequence[Option], prefix: str) -> None:
    if len(options) > MAX_OPTIONS:
        raise InvalidInput(
            f"at most {MAX_OPTIONS} options", code="too_many_options", field=f"{prefix}options"
        )
    names: set[str] = set()
    for i, option in enumerate(options):
        field = f"{prefix}options[{i}]"
        service._check_text(option.name, field=f"{field}.name", max_length=service.MAX_ATTRIBUTE_NAME)
        if option.name in names:
            raise InvalidInput("option names must differ", code="duplicate_option", field=f"{field}.name")
        names.add(option.name)
        if not option.values or len(option.values) > MAX_OPTION_VALUES:
            raise InvalidInput(
                f"an option has 1 to {MAX_OPTION_VALUES} values",
                code="option_values",
                field=f"{field}.values",
            )
        if len(set(option.values)) != len(option.values):
            raise InvalidInput("option values must differ", code="duplicate_option", field=f"{field}.values")
        for value in option.values:
            service._check_text(value, field=f"{field}.values", max_length=service.MAX_ATTRIBUTE_VALUE)


def check_draft(draft: ProductDraft, prefix: str = "") -> None:
    """The value rules (no database): texts, attributes, options, SKU combinations and codes."""
    service._check_text(draft.title_zh, field=f"{prefix}title_zh", max_length=service.MAX_TITLE_ZH)
    service._check_text(draft.title_en, field=f"{prefix}title_en", max_length=service.MAX_TITLE_EN)
    for name in ("description_zh", "description_en"):
        service._check_text(
            getattr(draft, name), field=f"{prefix}{name}", max_length=service.MAX_DESCRIPTION, required=False
        )
    service._check_attributes(draft.attributes, field=f"{prefix}attributes")
    _check_options(draft.options, prefix)
    if not draft.skus:
        raise InvalidInput("a product needs at least one SKU", code="no_skus", field=f"{prefix}skus")
    if len(draft.skus) > service.MAX_SKUS_PER_PRODUCT:
        raise InvalidInput(
            f"at most {service.MAX_SKUS_PER_PRODUCT} SKUs", code="too_many_skus", field=f"{prefix}skus"
        )
    combos: set[tuple[str, ...]] = set()
    codes: set[str] = set()
    for i, row in enumerate(draft.skus):
        field = f"{prefix}skus[{i}]"
        if len(row.values) != len(draft.options) or any(
            value not in option.values for value, option in zip(row.values, draft.options, strict=False)
        ):
            raise InvalidInput(
                "each SKU takes one value of every option", code="sku_not_in_options", field=f"{field}.values"
            )
        if row.values in combos:
            raise InvalidInput(
                "two SKUs have the same options", code="duplicate_sku", field=f"{field}.values"
            )
        combos.add(row.values)
        service._check_price(row.price_fen, field=f"{field}.price_fen")
        for name, count in (("stock", row.stock), ("stock_was", row.stock_was)):
            if count is None and name == "stock_was":
                continue
            if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= service.MAX_STOCK:
                raise InvalidInput(
                    f"stock must be between 0 and {service.MAX_STOCK}", field=f"{field}.{name}"
                )
        if row.code:
            service._check_text(row.code, field=f"{field}.code", max_length=service.MAX_SKU_CODE)
            if row.code in codes:
                raise InvalidInput(
                    f"SKU code {row.code!r} is used twice", code="duplicate_sku_code", field=f"{field}.code"
                )
            codes.add(row.code)
    if draft.image_ids is not None:
        if len(draft.image_ids) > MAX_IMAGES:
            raise InvalidInput(
                f"at most {MAX_IMAGES} images", code="too_many_images", field=f"{prefix}image_ids"
            )
        if len(set(draft.image_ids)) != len(draft.image_ids):
            raise InvalidInput("an image is listed twice", code="duplicate_image", field=f"{prefix}image_ids")


def _check_references(db: Session, shop_id: int, draft: ProductDraft, prefix: str) -> None:
    service.get_leaf_category(db, draft.category_id, field=f"{prefix}category_id")
    if draft.brand_id is not None:
        service.get_brand(db, draft.brand_id, field=f"{prefix}brand_id")
    if draft.image_ids:
        mine = media_service.shop_image_ids(db, shop_id, draft.image_ids)
        for i, media_id in enumerate(draft.image_ids):
            if media_id not in mine:
                # Another shop's upload is reported exactly like one that does not exist.
                raise NotFound("image not found", code="media_not_found", field=f"{prefix}image_ids[{i}]")


def _attributes_of(options: Sequence[Option], values: tuple[str, ...]) -> dict[str, str]:
    return {option.name: value for option, value in zip(options, values, strict=True)}


def _combo_of(sku: Sku, options: Sequence[Option]) -> tuple[str, ...] | None:
    """The SKU's combination under ``options``, or None when its attributes are not exactly those axes."""
    attributes = sku.attributes or {}
    if set(attributes) != {option.name for option in options}:
        return None
    return tuple(str(attributes[option.name]) for option in options)


def _next_code(taken: set[str]) -> str:
    n = 1
    while f"SKU-{n}" in taken:
        n += 1
    taken.add(f"SKU-{n}")
    return f"SKU-{n}"


def _apply_skus(db: Session, product: Product, draft: ProductDraft, prefix: str) -> None:
    existing = list(product.skus)
    by_combo: dict[tuple[str, ...], Sku] = {}
    for sku in existing:
        combo = _combo_of(sku, draft.options)
        # Two old SKUs with one combination (made through the SKU API): the active, then older, one wins.
        if combo is not None and (combo not in by_combo or (sku.is_active and not by_combo[combo].is_active)):
            by_combo[combo] = sku
    kept = {by_combo[row.values].id for row in draft.skus if row.values in by_combo}
    # A typed code must not belong to another SKU of the product (kept or switched off).
    owner = {sku.code: sku for sku in existing}
    for i, row in enumerate(draft.skus):
        holder = owner.get(row.code) if row.code else None
        if holder is not None and holder is not by_combo.get(row.values):
            raise InvalidInput(
                f"SKU code {row.code!r} belongs to another SKU of this product",
                code="duplicate_sku_code",
                field=f"{prefix}skus[{i}].code",
            )
    taken = {sku.code for sku in existing} | {row.code for row in draft.skus if row.code}
    for sku in existing:
        if sku.id not in kept:
            sku.is_active = False
    for i, row in enumerate(draft.skus):
        match = by_combo.get(row.values)
        if match is not None and match.stock_held_by is not None:
            moved = row.stock != (match.stock if row.stock_was is None else row.stock_was)
            if moved:
                service.refuse_if_warehouse_held(match, field=f"{prefix}skus[{i}].stock")
        if match is None:
            product.skus.append(
                Sku(
                    code=row.code or _next_code(taken),
                    attributes=_attributes_of(draft.options, row.values),
                    price_fen=row.price_fen,
                    stock=row.stock,
                    is_active=True,
                )
            )
            continue
        match.is_active = True
        match.price_fen = row.price_fen
        match.attributes = _attributes_of(draft.options, row.values)
        if row.code:
            match.code = row.code
        if row.stock_was is None:
            match.stock = row.stock
        else:
            # Relative to what the merchant saw; sales since then stay subtracted.
            match.stock = min(service.MAX_STOCK, max(0, match.stock + row.stock - row.stock_was))


def _apply_images(db: Session, product: Product, image_ids: Sequence[int]) -> None:
    if product.id is not None:
        db.execute(delete(ProductImage).where(ProductImage.product_id == product.id))
        db.expire(product, ["images"])
        db.flush()
    for position, media_id in enumerate(image_ids):
        db.add(ProductImage(product_id=product.id, media_id=media_id, position=position))


def save_product(
    db: Session,
    shop_id: int,
    draft: ProductDraft,
    *,
    product_id: int | None = None,
    prefix: str = "",
    commit: bool = True,
) -> Product:
    """Create (``product_id`` None) or replace a shop's product with ``draft``, all or nothing.

    Errors name their field (``skus[2].price_fen``, ``image_ids[0]``), prefixed with ``prefix`` (the
    CSV import names its lines). ``commit=False`` only flushes, for a caller that saves many products
    in one transaction; on an error the caller must roll back.
    """
    check_draft(draft, prefix)
    try:
        _check_references(db, shop_id, draft, prefix)
        if product_id is None:
            shops_service.get_shop(db, shop_id)
            status = draft.status or ProductStatus.draft
            if status not in (ProductStatus.draft, ProductStatus.active):
                raise InvalidInput(
                    "a new product is draft or active", code="invalid_status", field=f"{prefix}status"
                )
            product = Product(shop_id=shop_id, status=status, skus=[])
            db.add(product)
        else:
            product = service.get_shop_product(
                db, shop_id, product_id, lock=True, field=f"{prefix}product_id"
            )
        product.category_id = draft.category_id
        product.brand_id = draft.brand_id
        product.title_zh = draft.title_zh
        product.title_en = draft.title_en
        product.description_zh = draft.description_zh
        product.description_en = draft.description_en
        product.attributes = dict(draft.attributes)
        product.options = [{"name": o.name, "values": list(o.values)} for o in draft.options]
        _apply_skus(db, product, draft, prefix)
        db.flush()
        if draft.image_ids is not None:
            _apply_images(db, product, draft.image_ids)
        if product_id is not None and draft.status is not None:
            service._change_status(db, product, draft.status)
        db.flush()
    except Exception:
        if commit:
            db.rollback()
        raise
    if commit:
        db.commit()
    return product


def options_of(product: Product) -> list[Option]:
    """The product's axes. A product made before the editor has none stored: its axes are read from
    its active SKUs' attributes when they form a matrix of at most two (none otherwise)."""
    out = []
    for item in product.options or []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            out.append(Option(name=item["name"], values=tuple(str(v) for v in item.get("values", []))))
    if out:
        return out
    return infer_options([dict(s.attributes or {}) for s in product.skus if s.is_active]) or []


def infer_options(attributes: Sequence[Mapping[str, object]]) -> list[Option] | None:
    """The axes implied by SKUs' attributes (names and values in order of first use), or None when
    they are not a matrix of at most two axes that every SKU has, each combination once."""
    names = list(dict.fromkeys(name for attrs in attributes for name in attrs))
    if len(names) > MAX_OPTIONS or any(set(attrs) != set(names) for attrs in attributes):
        return None
    combos = [tuple(str(attrs[n]) for n in names) for attrs in attributes]
    if len(set(combos)) != len(combos):
        return None
    options = [Option(n, tuple(dict.fromkeys(str(attrs[n]) for attrs in attributes))) for n in names]
    if any(len(o.values) > MAX_OPTION_VALUES for o in options):
        return None
    return options


def draft_of(product: Product) -> ProductDraft:
    """The product as the editor shows it: its active SKUs, its pictures in order."""
    options = options_of(product)
    rows = []
    for sku in product.skus:
        if not sku.is_active:
            continue
        combo = _combo_of(sku, options)
        rows.append(
            SkuRow(
                values=combo or (),
                price_fen=sku.price_fen,
                stock=sku.stock,
                code=sku.code,
                stock_was=sku.stock,
                held_by=sku.stock_held_by,
            )
        )
    return ProductDraft(
        category_id=product.category_id,
        brand_id=product.brand_id,
        title_zh=product.title_zh,
        title_en=product.title_en,
        description_zh=product.description_zh,
        description_en=product.description_en,
        attributes=dict(product.attributes or {}),
        options=options,
        skus=rows,
        image_ids=[image.media_id for image in product.images],
        status=product.status,
    )


@dataclasses.dataclass(frozen=True)
class ProductPicture:
    media_id: int
    url: str  # the widest stored size
    thumb_url: str  # the narrowest


def pictures(db: Session, product_ids: Sequence[int]) -> dict[int, list[ProductPicture]]:
    """``product id -> its pictures, main first`` for many products in two queries."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    rows = db.execute(
        select(ProductImage.product_id, ProductImage.media_id)
        .where(ProductImage.product_id.in_(ids))
        .order_by(ProductImage.product_id, ProductImage.position)
    ).all()
    urls = media_service.image_urls(db, [media_id for _, media_id in rows])
    out: dict[int, list[ProductPicture]] = {}
    for product_id, media_id in rows:
        variants = urls.get(media_id)
        if not variants:
            continue
        widest = variants.get("w1080") or variants.get("w540") or next(iter(variants.values()))
        narrowest = variants.get("w240") or variants.get("w540") or widest
        out.setdefault(product_id, []).append(ProductPicture(media_id, widest, narrowest))
    return out
