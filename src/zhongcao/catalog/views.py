"""Catalog API: the public mall, operators' categories and brands, merchants' products and SKUs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Path, Query, UploadFile, status
from fastapi.responses import Response
from sqlalchemy.orm import Session

from zhongcao.catalog import bulk, csv_io, editor, service
from zhongcao.catalog.models import Product, ProductStatus, Sku
from zhongcao.catalog.schemas import (
    BrandCreate,
    BrandOut,
    BrandUpdate,
    BulkEditIn,
    BulkEditOut,
    CategoryCreate,
    CategoryNode,
    CategoryOut,
    CategoryUpdate,
    ImportOut,
    MerchantProductOut,
    ProductCreate,
    ProductEdit,
    ProductImageOut,
    ProductPublicOut,
    ProductSummaryOut,
    ProductUpdate,
    SkuEditIn,
    SkuIn,
    SkuOut,
    SkuUpdate,
    StockAdjust,
    infer_options,
)
from zhongcao.deps import DbSession, MerchantContext, MerchantCtx, OperatorUser, merchant_with
from zhongcao.errors import Conflict, InvalidInput, PayloadTooLarge
from zhongcao.fields import MAX_ID
from zhongcao.pagination import Page, PageParams, page_params
from zhongcao.shops.models import StaffRole

router = APIRouter()

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
# Owners and operators run the catalogue; service agents may look but not touch.
CatalogWriter = Annotated[MerchantContext, Depends(merchant_with(StaffRole.owner, StaffRole.operator))]


def _show_sold(db: Session, skus: list[SkuOut]) -> None:
    """Each SKU's ``sold_count`` as shown (brushed orders' units left out; the row keeps the exact one)."""
    shown = service.shown_sold_counts(db, [s.id for s in skus])
    for sku in skus:
        sku.sold_count = shown.get(sku.id, sku.sold_count)


def _sku_out(db: Session, sku: Sku) -> SkuOut:
    out = SkuOut.model_validate(sku)
    _show_sold(db, [out])
    return out


def _merchant_out(db: Session, products: list[Product]) -> list[MerchantProductOut]:
    pictures = editor.pictures(db, [p.id for p in products])
    out = []
    for product in products:
        item = MerchantProductOut.model_validate(product)
        item.pictures = [
            ProductImageOut(media_id=p.media_id, url=p.url, thumb_url=p.thumb_url)
            for p in pictures.get(product.id, [])
        ]
        out.append(item)
    _show_sold(db, [sku for item in out for sku in item.skus])
    return out


# Public ------------------------------------------------------------------------------------------


@router.get("/api/categories", response_model=list[CategoryNode], tags=["catalog"])
def list_categories(db: DbSession) -> list[CategoryNode]:
    """All top categories, each with its leaves."""
    return [
        CategoryNode(
            **CategoryOut.model_validate(top).model_dump(),
            children=[CategoryOut.model_validate(child) for child in children],
        )
        for top, children in service.category_tree(db)
    ]


@router.get("/api/brands", response_model=Page[BrandOut], tags=["catalog"])
def list_brands(db: DbSession, params: PageParams = Depends(page_params)) -> Page[BrandOut]:
    rows, next_cursor = service.list_brands(db, params)
    return Page(items=[BrandOut.model_validate(row) for row in rows], next_cursor=next_cursor)


@router.get("/api/products", response_model=Page[ProductSummaryOut], tags=["catalog"])
def list_products(
    db: DbSession,
    params: PageParams = Depends(page_params),
    category_id: IdQuery = None,
    shop_id: IdQuery = None,
    brand_id: IdQuery = None,
) -> Page[ProductSummaryOut]:
    """Products on sale. A top ``category_id`` includes all of its leaves."""
    rows, next_cursor = service.list_public_products(
        db, params, category_id=category_id, shop_id=shop_id, brand_id=brand_id
    )
    return Page(items=[ProductSummaryOut.of(row) for row in rows], next_cursor=next_cursor)


@router.get("/api/products/{product_id}", response_model=ProductPublicOut, tags=["catalog"])
def get_product(product_id: IdPath, db: DbSession) -> ProductPublicOut:
    return ProductPublicOut.of(service.get_active_product(db, product_id))


# Operators ---------------------------------------------------------------------------------------


@router.post(
    "/api/ops/categories", status_code=status.HTTP_201_CREATED, response_model=CategoryOut, tags=["ops"]
)
def create_category(body: CategoryCreate, _: OperatorUser, db: DbSession) -> CategoryOut:
    category = service.create_category(db, **body.model_dump())
    return CategoryOut.model_validate(category)


@router.patch("/api/ops/categories/{category_id}", response_model=CategoryOut, tags=["ops"])
def update_category(category_id: IdPath, body: CategoryUpdate, _: OperatorUser, db: DbSession) -> CategoryOut:
    category = service.update_category(db, category_id, **body.model_dump(exclude_unset=True))
    return CategoryOut.model_validate(category)


@router.post("/api/ops/brands", status_code=status.HTTP_201_CREATED, response_model=BrandOut, tags=["ops"])
def create_brand(body: BrandCreate, _: OperatorUser, db: DbSession) -> BrandOut:
    return BrandOut.model_validate(service.create_brand(db, **body.model_dump()))


@router.patch("/api/ops/brands/{brand_id}", response_model=BrandOut, tags=["ops"])
def update_brand(brand_id: IdPath, body: BrandUpdate, _: OperatorUser, db: DbSession) -> BrandOut:
    return BrandOut.model_validate(service.update_brand(db, brand_id, **body.model_dump(exclude_unset=True)))


# Merchants: the shop always comes from the caller's context --------------------------------------


@router.get("/api/merchant/products", response_model=Page[MerchantProductOut], tags=["merchant"])
def merchant_list_products(
    ctx: MerchantCtx,
    db: DbSession,
    params: PageParams = Depends(page_params),
    status_filter: Annotated[ProductStatus | None, Query(alias="status")] = None,
) -> Page[MerchantProductOut]:
    rows, next_cursor = service.list_shop_products(db, ctx.shop_id, params, status=status_filter)
    return Page(items=_merchant_out(db, list(rows)), next_cursor=next_cursor)


@router.post(
    "/api/merchant/products",
    status_code=status.HTTP_201_CREATED,
    response_model=MerchantProductOut,
    tags=["merchant"],
)
def merchant_create_product(body: ProductCreate, ctx: CatalogWriter, db: DbSession) -> MerchantProductOut:
    """A product with its SKUs, attributes and pictures (the editor's rules). Without ``options``
    the SKU matrix's axes are read from the SKUs' attributes."""
    options = body.options if body.options is not None else infer_options(body.skus)
    if options is None:
        # SKUs whose attributes form no matrix of at most two axes: the plain create, as before.
        if body.attributes or body.image_ids or any(sku.code is None for sku in body.skus):
            options = []  # the editor then reports which SKU does not fit
        else:
            product = service.create_product(
                db,
                ctx.shop_id,
                category_id=body.category_id,
                brand_id=body.brand_id,
                title_zh=body.title_zh,
                title_en=body.title_en,
                description_zh=body.description_zh,
                description_en=body.description_en,
                status=ProductStatus(body.status),
                skus=[
                    service.NewSku(
                        code=sku.code or "",
                        attributes=dict(sku.attributes),
                        price_fen=sku.price_fen,
                        stock=sku.stock,
                    )
                    for sku in body.skus
                ],
            )
            return _merchant_out(db, [product])[0]
    edit = ProductEdit(
        category_id=body.category_id,
        brand_id=body.brand_id,
        title_zh=body.title_zh,
        title_en=body.title_en,
        description_zh=body.description_zh,
        description_en=body.description_en,
        attributes=body.attributes,
        options=options,
        skus=[
            SkuEditIn(code=s.code, attributes=s.attributes, price_fen=s.price_fen, stock=s.stock)
            for s in body.skus
        ],
        image_ids=body.image_ids,
        status=ProductStatus(body.status),
    )
    product = editor.save_product(db, ctx.shop_id, edit.to_draft())
    return _merchant_out(db, [product])[0]


@router.get("/api/merchant/products/export", tags=["merchant"], response_class=Response)
def merchant_export_products(ctx: MerchantCtx, db: DbSession) -> Response:
    """Every product of the shop as CSV, one row per active SKU (the import's columns)."""
    body = "\ufeff" + csv_io.export_csv(db, ctx.shop_id)
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="products.csv"'},
    )


@router.post(
    "/api/merchant/products/{product_id}/skus",
    status_code=status.HTTP_201_CREATED,
    response_model=SkuOut,
    tags=["merchant"],
)
def merchant_add_sku(product_id: IdPath, body: SkuIn, ctx: CatalogWriter, db: DbSession) -> SkuOut:
    return _sku_out(db, service.add_sku(db, ctx.shop_id, product_id, body.to_new_sku()))


@router.patch("/api/merchant/skus/{sku_id}", response_model=SkuOut, tags=["merchant"])
def merchant_update_sku(sku_id: IdPath, body: SkuUpdate, ctx: CatalogWriter, db: DbSession) -> SkuOut:
    sku = service.update_sku(db, ctx.shop_id, sku_id, **body.model_dump(exclude_unset=True))
    return _sku_out(db, sku)


@router.post("/api/merchant/skus/{sku_id}/stock", response_model=SkuOut, tags=["merchant"])
def merchant_adjust_stock(sku_id: IdPath, body: StockAdjust, ctx: CatalogWriter, db: DbSession) -> SkuOut:
    """``{"delta": n}`` adds (or, negative, takes) units; ``{"set": n}`` sets the count outright."""
    sku = service.adjust_stock(db, ctx.shop_id, sku_id, delta=body.delta, set_to=body.set_to)
    return _sku_out(db, sku)


@router.get("/api/merchant/products/{product_id:int}", response_model=MerchantProductOut, tags=["merchant"])
def merchant_get_product(product_id: IdPath, ctx: MerchantCtx, db: DbSession) -> MerchantProductOut:
    return _merchant_out(db, [service.get_shop_product(db, ctx.shop_id, product_id)])[0]


@router.patch("/api/merchant/products/{product_id:int}", response_model=MerchantProductOut, tags=["merchant"])
def merchant_update_product(
    product_id: IdPath, body: ProductUpdate, ctx: CatalogWriter, db: DbSession
) -> MerchantProductOut:
    product = service.update_product(db, ctx.shop_id, product_id, **body.model_dump(exclude_unset=True))
    return _merchant_out(db, [product])[0]


@router.put("/api/merchant/products/{product_id:int}", response_model=MerchantProductOut, tags=["merchant"])
def merchant_replace_product(
    product_id: IdPath, body: ProductEdit, ctx: CatalogWriter, db: DbSession
) -> MerchantProductOut:
    """Save a whole product, as the editor page does: SKUs whose option values are unchanged keep
    their ids, dropped ones are switched off, and ``image_ids`` replaces the pictures."""
    product = editor.save_product(db, ctx.shop_id, body.to_draft(), product_id=product_id)
    return _merchant_out(db, [product])[0]


@router.post("/api/merchant/products/bulk", response_model=BulkEditOut, tags=["merchant"])
def merchant_bulk_edit(body: BulkEditIn, ctx: CatalogWriter, db: DbSession) -> BulkEditOut:
    """One price, stock count or on/off sale for many products, all or nothing: when any product
    cannot take it, nothing is changed and the 409 (``bulk_refused``) lists each refused product in
    ``details.refusals``."""
    result = bulk.bulk_edit(
        db,
        ctx.shop_id,
        body.product_ids,
        price_fen=body.price_fen,
        stock=body.stock,
        status=ProductStatus(body.status) if body.status else None,
    )
    if not result.ok:
        raise Conflict(
            "some products cannot take this change; nothing was changed",
            code="bulk_refused",
            field="product_ids",
            details={"refusals": [vars(r) for r in result.refusals]},
        )
    return BulkEditOut(changed=result.changed)


@router.post("/api/merchant/products/import", response_model=ImportOut, tags=["merchant"])
def merchant_import_products(ctx: CatalogWriter, db: DbSession, file: UploadFile = File(...)) -> ImportOut:
    """Products and SKUs from CSV (columns in docs/catalog-csv.md), all or nothing: with any error
    nothing is saved, and the 422 (``csv_invalid``) lists each error's line (the header is line 1),
    column, code and message in ``details.errors``."""
    data = file.file.read(csv_io.MAX_BYTES + 1)
    if len(data) > csv_io.MAX_BYTES:
        raise PayloadTooLarge(
            "the file is too large", field="file", details={"limit": "file", "max_bytes": csv_io.MAX_BYTES}
        )
    result = csv_io.import_csv(db, ctx.shop_id, data)
    if not result.ok:
        raise InvalidInput(
            "the CSV has errors; nothing was imported",
            code="csv_invalid",
            field="file",
            details={"errors": [vars(e) for e in result.errors]},
        )
    return ImportOut(created=result.created, updated=result.updated)
