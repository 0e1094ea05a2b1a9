"""Catalog API: the public mall, operators' categories and brands, merchants' products and SKUs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from zhongcao.catalog import service
from zhongcao.catalog.models import ProductStatus
from zhongcao.catalog.schemas import (
    BrandCreate,
    BrandOut,
    BrandUpdate,
    CategoryCreate,
    CategoryNode,
    CategoryOut,
    CategoryUpdate,
    MerchantProductOut,
    ProductCreate,
    ProductPublicOut,
    ProductSummaryOut,
    ProductUpdate,
    SkuIn,
    SkuOut,
    SkuUpdate,
    StockAdjust,
)
from zhongcao.deps import DbSession, MerchantContext, MerchantCtx, OperatorUser, merchant_with
from zhongcao.fields import MAX_ID
from zhongcao.pagination import Page, PageParams, page_params
from zhongcao.shops.models import StaffRole

router = APIRouter()

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
# Owners and operators run the catalogue; service agents may look but not touch.
CatalogWriter = Annotated[MerchantContext, Depends(merchant_with(StaffRole.owner, StaffRole.operator))]


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
    return Page(items=[MerchantProductOut.model_validate(row) for row in rows], next_cursor=next_cursor)


@router.post(
    "/api/merchant/products",
    status_code=status.HTTP_201_CREATED,
    response_model=MerchantProductOut,
    tags=["merchant"],
)
def merchant_create_product(body: ProductCreate, ctx: CatalogWriter, db: DbSession) -> MerchantProductOut:
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
        skus=[sku.to_new_sku() for sku in body.skus],
    )
    return MerchantProductOut.model_validate(product)


@router.get("/api/merchant/products/{product_id}", response_model=MerchantProductOut, tags=["merchant"])
def merchant_get_product(product_id: IdPath, ctx: MerchantCtx, db: DbSession) -> MerchantProductOut:
    return MerchantProductOut.model_validate(service.get_shop_product(db, ctx.shop_id, product_id))


@router.patch("/api/merchant/products/{product_id}", response_model=MerchantProductOut, tags=["merchant"])
def merchant_update_product(
    product_id: IdPath, body: ProductUpdate, ctx: CatalogWriter, db: DbSession
) -> MerchantProductOut:
    product = service.update_product(db, ctx.shop_id, product_id, **body.model_dump(exclude_unset=True))
    return MerchantProductOut.model_validate(product)


@router.post(
    "/api/merchant/products/{product_id}/skus",
    status_code=status.HTTP_201_CREATED,
    response_model=SkuOut,
    tags=["merchant"],
)
def merchant_add_sku(product_id: IdPath, body: SkuIn, ctx: CatalogWriter, db: DbSession) -> SkuOut:
    return SkuOut.model_validate(service.add_sku(db, ctx.shop_id, product_id, body.to_new_sku()))


@router.patch("/api/merchant/skus/{sku_id}", response_model=SkuOut, tags=["merchant"])
def merchant_update_sku(sku_id: IdPath, body: SkuUpdate, ctx: CatalogWriter, db: DbSession) -> SkuOut:
    sku = service.update_sku(db, ctx.shop_id, sku_id, **body.model_dump(exclude_unset=True))
    return SkuOut.model_validate(sku)


@router.post("/api/merchant/skus/{sku_id}/stock", response_model=SkuOut, tags=["merchant"])
def merchant_adjust_stock(sku_id: IdPath, body: StockAdjust, ctx: CatalogWriter, db: DbSession) -> SkuOut:
    """``{"delta": n}`` adds (or, negative, takes) units; ``{"set": n}`` sets the count outright."""
    sku = service.adjust_stock(db, ctx.shop_id, sku_id, delta=body.delta, set_to=body.set_to)
    return SkuOut.model_validate(sku)
