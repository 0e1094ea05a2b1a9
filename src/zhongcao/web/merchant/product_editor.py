"""The product editor: create a product or edit one whole (texts, attributes, SKU matrix, pictures).

One plain multipart form, posted to one address (``/merchant/products/save``, so that its body limit
can allow nine pictures). The SKU rows come from the options: "Generate rows" (or saving) makes one
row per combination, keeping what was typed in rows that still fit. New pictures are stored through
the media service before the rest is checked, so a form sent back with errors keeps them.
"""

from __future__ import annotations

import itertools
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from zhongcao.catalog import csv_io, editor
from zhongcao.catalog import service as catalog_service
from zhongcao.catalog.models import ProductStatus
from zhongcao.config import Settings
from zhongcao.errors import DomainError
from zhongcao.fields import MAX_ID
from zhongcao.media import service as media_service
from zhongcao.media.views import MULTIPART_ALLOWANCE, get_storage
from zhongcao.pagination import PageParams
from zhongcao.web.console import Console, IdPath, MerchantConsole, yuan_to_fen
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form, error_message

router = APIRouter(prefix="/merchant")

SAVE_PATH = "/merchant/products/save"
MAX_ATTRIBUTE_LINES = 10


def editor_body_limits(settings: Settings) -> dict[str, int]:
    """The editor's form may carry nine pictures, the CSV page a 5 MB file (BodySizeLimitMiddleware)."""
    return {
        SAVE_PATH: editor.MAX_IMAGES * settings.media_max_image_bytes + MULTIPART_ALLOWANCE,
        "/merchant/products/csv": csv_io.MAX_BYTES + MULTIPART_ALLOWANCE,
    }


def _split_values(raw: str) -> list[str]:
    # Values are typed "黑色, 白色" (or with Chinese commas or one per line).
    parts = raw.replace("，", ",").replace("、", ",").replace("\n", ",").split(",")
    return list(dict.fromkeys(p.strip() for p in parts if p.strip()))


def _choices(console: Console) -> dict[str, Any]:
    brands, _ = catalog_service.list_brands(console.db, PageParams(limit=100))
    return {"tree": catalog_service.category_tree(console.db), "brands": list(brands)}


def _typed_from_product(console: Console, product: Any) -> dict[str, Any]:
    draft = editor.draft_of(product)
    typed: dict[str, Any] = {
        "product_id": str(product.id),
        "title_zh": draft.title_zh,
        "title_en": draft.title_en,
        "category_id": str(draft.category_id),
        "brand_id": str(draft.brand_id or ""),
        "description_zh": draft.description_zh,
        "description_en": draft.description_en,
        "attributes": "\n".join(f"{k}={v}" for k, v in draft.attributes.items()),
    }
    for n, option in enumerate(draft.options, start=1):
        typed[f"option{n}_name"] = option.name
        typed[f"option{n}_values"] = ", ".join(option.values)
    rows = []
    for sku in draft.skus:
        rows.append(
            {
                "values": list(sku.values),
                "price": f"{sku.price_fen // 100}.{sku.price_fen % 100:02d}",
                "stock": str(sku.stock),
                "stock_was": str(sku.stock),
                "code": sku.code,
                "held_by": sku.held_by or "",
            }
        )
    typed["rows"] = rows
    typed["image_ids"] = list(draft.image_ids or [])
    return typed


def _render(
    console: Console, typed: dict[str, Any], form: Form | None, product: Any = None, status_code: int = 200
) -> Response:
    # Pictures shown are the typed ids in order (new uploads included), with their URLs.
    urls = media_service.image_urls(console.db, typed.get("image_ids", []))
    images = [
        {"id": media_id, "url": (urls[media_id].get("w240") or next(iter(urls[media_id].values())))}
        for media_id in typed.get("image_ids", [])
        if media_id in urls
    ]
    return console.render(
        "merchant/product_editor.html",
        "products",
        status_code=status_code,
        product=product,
        typed=typed,
        form=form,
        images=images,
        max_images=editor.MAX_IMAGES,
        **_choices(console),
    )


@router.get("/products/new")
def product_new(console: MerchantConsole) -> Response:
    console.require_manager()
    typed = {
        "rows": [{"values": [], "price": "", "stock": "0", "stock_was": "", "code": ""}],
        "image_ids": [],
    }
    return _render(console, typed, None)


@router.get("/products/{product_id}")
def product_edit(console: MerchantConsole, product_id: IdPath) -> Response:
    assert console.shop_id is not None
    product = catalog_service.get_shop_product(console.db, console.shop_id, product_id)
    return _render(console, _typed_from_product(console, product), None, product)


def _read_rows(form: Form, options: list[editor.Option]) -> tuple[list[dict[str, Any]], list[editor.SkuRow]]:
    """The typed rows laid on the matrix of ``options``: one per combination, in option order."""
    typed_rows: dict[tuple[str, ...], dict[str, Any]] = {}
    count = form.integer("sku_count", minimum=0, maximum=catalog_service.MAX_SKUS_PER_PRODUCT) or 0
    for i in range(count):
        values = tuple(form.text(f"sku_{i}_v{n}", max_length=60) for n in range(1, len(options) + 1))
        typed_rows[values] = {
            "price": form.text(f"sku_{i}_price", max_length=14),
            "stock": form.text(f"sku_{i}_stock", max_length=12),
            "stock_was": form.text(f"sku_{i}_stock_was", max_length=12),
            "held_by": form.text(f"sku_{i}_held_by", max_length=16),
            "code": form.text(f"sku_{i}_code", max_length=64),
        }
    combos = list(itertools.product(*(o.values for o in options))) if options else [()]
    rows: list[dict[str, Any]] = []
    skus: list[editor.SkuRow] = []
    for i, combo in enumerate(combos):
        row = dict(typed_rows.get(tuple(combo), {"price": "", "stock": "0", "stock_was": "", "code": ""}))
        row["values"] = list(combo)
        rows.append(row)
        check = Form({f"sku_{i}_price": row["price"], f"sku_{i}_stock": row["stock"]}, form.t, form.tn)
        price = yuan_to_fen(check, f"sku_{i}_price", required=True, minimum_fen=1)
        if price is not None and price > catalog_service.MAX_PRICE_FEN:
            check.error(f"sku_{i}_price", form.t("console.form.bad_amount"))
        stock = check.integer(f"sku_{i}_stock", required=True, minimum=0, maximum=catalog_service.MAX_STOCK)
        for name, message in check.errors.items():
            form.error(name, message)
        was = row["stock_was"]
        if price is not None and stock is not None and not check.errors:
            skus.append(
                editor.SkuRow(
                    values=tuple(combo),
                    price_fen=price,
                    stock=stock,
                    code=row["code"],
                    stock_was=int(was) if was.isdigit() and int(was) <= catalog_service.MAX_STOCK else None,
                )
            )
    return rows, skus


def _upload(console: Console, request: Request, data: FormData, form: Form) -> list[int]:
    """Store the form's new pictures, all or none: a bad one removes those stored before it."""
    files = [f for f in data.getlist("new_images") if isinstance(f, UploadFile) and f.filename]
    if not files:
        return []
    settings: Settings = request.app.state.settings
    storage = get_storage(request)
    uploader = media_service.Uploader(
        user_id=console.user_id, shop_id=console.shop_id, shop_role=console.staff_role
    )
    stored: list[int] = []
    try:
        for upload in files:
            raw = upload.file.read(settings.media_max_image_bytes + 1)
            if len(raw) > settings.media_max_image_bytes:
                raise media_service.too_large(settings.media_max_image_bytes, "image")
            stored.append(media_service.upload_image(console.db, storage, settings, uploader, raw).id)
    except DomainError as exc:
        console.db.rollback()
        for media_id in stored:
            media_service.delete_media(console.db, storage, media_id, uploader)
        form.error("new_images", error_message(console.t, exc))
        form.values["upload_status"] = exc.status_code
        return []
    return stored


@router.post("/products/save")
def product_save(console: MerchantConsole, request: Request, data: FormData) -> Response:
    console.require_manager()
    shop_id = console.shop_id
    assert shop_id is not None
    form = Form(data, console.t)
    product_id = form.integer("product_id", minimum=1, maximum=MAX_ID)
    product = catalog_service.get_shop_product(console.db, shop_id, product_id) if product_id else None
    title_zh = form.text("title_zh", required=True, max_length=catalog_service.MAX_TITLE_ZH)
    title_en = form.text("title_en", required=True, max_length=catalog_service.MAX_TITLE_EN)
    category_id = form.integer("category_id", required=True, minimum=1, maximum=MAX_ID)
    brand_id = form.integer("brand_id", minimum=1, maximum=MAX_ID)
    description_zh = form.text("description_zh", max_length=catalog_service.MAX_DESCRIPTION)
    description_en = form.text("description_en", max_length=catalog_service.MAX_DESCRIPTION)
    attributes: dict[str, str] = {}
    raw_attributes = form.text("attributes", max_length=2000)
    for line in raw_attributes.splitlines():
        if line.strip():
            name, sep, value = line.replace("：", "=").replace(":", "=").partition("=")
            if not sep or not name.strip() or not value.strip():
                form.error("attributes", console.t("merchant.editor.attributes_bad"))
            else:
                attributes[name.strip()] = value.strip()
    if len(attributes) > MAX_ATTRIBUTE_LINES:
        form.error("attributes", console.t("merchant.editor.attributes_bad"))
    options: list[editor.Option] = []
    for n in (1, 2):
        name = form.text(f"option{n}_name", max_length=catalog_service.MAX_ATTRIBUTE_NAME)
        values = _split_values(form.text(f"option{n}_values", max_length=1200))
        if name and not values:
            form.error(f"option{n}_values", console.t("merchant.editor.option_values_needed"))
        elif values and not name:
            form.error(f"option{n}_name", console.t("form.required"))
        elif name and values:
            if len(values) > editor.MAX_OPTION_VALUES or any(len(v) > 60 for v in values):
                form.error(f"option{n}_values", console.t("merchant.editor.option_values_needed"))
            elif any(o.name == name for o in options):
                form.error(f"option{n}_name", console.t("err.duplicate_option"))
            else:
                options.append(editor.Option(name, tuple(values)))
    rows, skus = _read_rows(form, options)
    # Pictures: the kept ones in the order typed, the main one first, then the new uploads.
    kept: list[tuple[int, int, int]] = []
    for index, raw in enumerate(data.getlist("image_ids")):
        if isinstance(raw, str) and raw.isdigit() and int(raw) <= MAX_ID:
            media_id = int(raw)
            if data.get(f"image_remove_{media_id}") == "1":
                continue
            position = form.integer(f"image_pos_{media_id}", minimum=0, maximum=99)
            kept.append((position if position is not None else index + 1, index, media_id))
    image_ids = [media_id for _, _, media_id in sorted(kept)]
    main = form.integer("main_image", minimum=1, maximum=MAX_ID)
    if main in image_ids:
        image_ids.remove(main)
        image_ids.insert(0, main)
    image_ids += _upload(console, request, data, form)
    if len(image_ids) > editor.MAX_IMAGES:
        form.error("new_images", console.t("err.too_many_images"))
    typed = {**form.values, "rows": rows, "image_ids": image_ids}
    if data.get("action") == "generate":
        # Only the options matter for making the rows; prices are typed next.
        for name in [n for n in form.errors if n.startswith("sku_")]:
            del form.errors[name]
        if form.ok:
            return _render(console, typed, None, product)
    if not form.ok:
        return _render(console, typed, form, product, int(form.values.get("upload_status") or 422))
    assert category_id is not None
    status = None
    if product is None:
        status = ProductStatus.active if data.get("action") == "publish" else ProductStatus.draft
    draft = editor.ProductDraft(
        category_id=category_id,
        brand_id=brand_id,
        title_zh=title_zh,
        title_en=title_en,
        description_zh=description_zh,
        description_en=description_en,
        attributes=attributes,
        options=options,
        skus=skus,
        image_ids=image_ids,
        status=status,
    )
    try:
        saved = editor.save_product(console.db, shop_id, draft, product_id=product_id)
    except DomainError as exc:
        console.db.rollback()
        field = str(exc.details.get("field") or "")
        target = {"category_id": "category_id", "brand_id": "brand_id", "attributes": "attributes"}.get(field)
        if field.startswith("skus["):
            target = f"sku_{field[5 : field.index(']')]}_{'code' if field.endswith('code') else 'price'}"
        elif field.startswith("image_ids") or field.startswith("options"):
            target = "new_images" if field.startswith("image_ids") else "option1_values"
        if target:
            form.error(target, error_message(console.t, exc))
        else:
            form.message = error_message(console.t, exc)
        return _render(console, typed, form, product, exc.status_code)
    return console.redirect(
        f"/merchant/products/{saved.id}",
        flash="merchant.editor.created" if product is None else "merchant.product.saved",
    )
