"""Request and response bodies for categories, brands, products and SKUs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    computed_field,
    field_validator,
)

from zhongcao.catalog import editor, service
from zhongcao.catalog.models import Product, ProductStatus, Sku
from zhongcao.errors import InvalidInput
from zhongcao.fields import MAX_ID, multi_line, single_line


def _line_rules(max_length: int) -> StringConstraints:
    # The rules of a one-line name; each alias below spells out Annotated[str, ...] so that it is a type.
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


EntityId = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
Slug = Annotated[
    str,
    # Normalised before the pattern is checked, so " Home-Living " is accepted as "home-living".
    BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
    StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$"),
]
Bps = Annotated[int, Field(strict=True, ge=0, le=10_000)]
CategoryNameZh = Annotated[str, _line_rules(40), AfterValidator(single_line)]
CategoryNameEn = Annotated[str, _line_rules(80), AfterValidator(single_line)]
BrandNameZh = Annotated[str, _line_rules(80), AfterValidator(single_line)]
BrandNameEn = Annotated[str, _line_rules(120), AfterValidator(single_line)]
TitleZh = Annotated[str, _line_rules(service.MAX_TITLE_ZH), AfterValidator(single_line)]
TitleEn = Annotated[str, _line_rules(service.MAX_TITLE_EN), AfterValidator(single_line)]
Description = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=service.MAX_DESCRIPTION),
    AfterValidator(multi_line),
]
SkuCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=service.MAX_SKU_CODE,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
    ),
]
AttributeName = Annotated[str, _line_rules(service.MAX_ATTRIBUTE_NAME), AfterValidator(single_line)]
AttributeValue = Annotated[str, _line_rules(service.MAX_ATTRIBUTE_VALUE), AfterValidator(single_line)]
Attributes = Annotated[dict[AttributeName, AttributeValue], Field(max_length=service.MAX_ATTRIBUTES)]
PriceFen = Annotated[int, Field(strict=True, ge=1, le=service.MAX_PRICE_FEN)]
StockQty = Annotated[int, Field(strict=True, ge=0, le=service.MAX_STOCK)]
StockDelta = Annotated[int, Field(strict=True, ge=-service.MAX_STOCK, le=service.MAX_STOCK)]


def _reject_null(value: object) -> object:
    # Omitting a field leaves it unchanged; null would blank a column that must have a value.
    if value is None:
        raise ValueError("may be omitted but not null")
    return value


# Categories and brands ---------------------------------------------------------------------------


class CategoryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: Slug
    name_zh: CategoryNameZh
    name_en: CategoryNameEn
    parent_id: EntityId | None = Field(default=None, description="A top category; omit to create a top one")
    platform_fee_bps: Bps | None = Field(default=None, description="Omit or null to inherit")


class CategoryUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: Slug | None = None
    name_zh: CategoryNameZh | None = None
    name_en: CategoryNameEn | None = None
    platform_fee_bps: Bps | None = Field(default=None, description="null makes the category inherit")

    @field_validator("slug", "name_zh", "name_en", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        return _reject_null(value)


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    parent_id: int | None
    slug: str
    name_zh: str
    name_en: str
    platform_fee_bps: int | None


class CategoryNode(CategoryOut):
    children: list[CategoryOut] = []


class BrandCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_zh: BrandNameZh
    name_en: BrandNameEn


class BrandUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_zh: BrandNameZh | None = None
    name_en: BrandNameEn | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        return _reject_null(value)


class BrandOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name_zh: str
    name_en: str


# Products and SKUs: merchant requests ------------------------------------------------------------


class OptionIn(BaseModel):
    """One axis of the SKU matrix (at most two), e.g. ``{"name": "颜色", "values": ["黑色", "白色"]}``."""

    model_config = ConfigDict(extra="forbid")

    name: AttributeName
    values: Annotated[list[AttributeValue], Field(min_length=1, max_length=editor.MAX_OPTION_VALUES)]


class SkuEditIn(BaseModel):
    """A SKU in a whole-product save. ``attributes`` name one value of every option; a SKU whose
    values are unchanged keeps its id. ``code`` may be left out (kept, or ``SKU-<n>`` for a new one);
    ``stock_was`` (the stock the client last saw) makes ``stock`` a change by the difference."""

    model_config = ConfigDict(extra="forbid")

    code: SkuCode | None = None
    attributes: Attributes = Field(default_factory=dict)
    price_fen: PriceFen
    stock: StockQty = 0
    stock_was: StockQty | None = None


ImageIds = Annotated[list[EntityId], Field(max_length=editor.MAX_IMAGES)]
OptionList = Annotated[list[OptionIn], Field(max_length=editor.MAX_OPTIONS)]


class ProductImageOut(BaseModel):
    media_id: int
    url: str
    thumb_url: str


class SkuIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: SkuCode = Field(description="Unique within the product")
    attributes: Attributes = Field(default_factory=dict, description='e.g. {"颜色": "黑色", "尺码": "M"}')
    price_fen: PriceFen
    stock: StockQty = 0

    def to_new_sku(self) -> service.NewSku:
        return service.NewSku(
            code=self.code, attributes=dict(self.attributes), price_fen=self.price_fen, stock=self.stock
        )


class ProductSkuIn(BaseModel):
    """A SKU of a new product. ``code`` may be left out (``SKU-<n>``)."""

    model_config = ConfigDict(extra="forbid")

    code: SkuCode | None = Field(default=None, description="Unique within the product")
    attributes: Attributes = Field(default_factory=dict, description='e.g. {"颜色": "黑色", "尺码": "M"}')
    price_fen: PriceFen
    stock: StockQty = 0


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category_id: EntityId = Field(description="A leaf category")
    brand_id: EntityId | None = None
    title_zh: TitleZh
    title_en: TitleEn
    description_zh: Description = ""
    description_en: Description = ""
    status: Literal["draft", "active"] = "draft"
    skus: Annotated[list[ProductSkuIn], Field(min_length=1, max_length=service.MAX_SKUS_PER_PRODUCT)]
    attributes: Attributes = Field(default_factory=dict, description='e.g. {"材质": "棉"}')
    options: OptionList | None = Field(
        default=None, description="The SKU matrix's axes; omitted, they are read from the SKUs' attributes"
    )
    image_ids: ImageIds = Field(
        default_factory=list, description="Image uploads in order; the first is the main"
    )


class ProductUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category_id: EntityId | None = None
    brand_id: EntityId | None = Field(default=None, description="null removes the brand")
    title_zh: TitleZh | None = None
    title_en: TitleEn | None = None
    description_zh: Description | None = None
    description_en: Description | None = None
    status: ProductStatus | None = Field(
        default=None, description="draft→active, active→delisted, delisted→active"
    )

    @field_validator(
        "category_id", "title_zh", "title_en", "description_zh", "description_en", "status", mode="before"
    )
    @classmethod
    def _not_null(cls, value: object) -> object:
        return _reject_null(value)


class SkuUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    price_fen: PriceFen | None = None
    attributes: Attributes | None = None
    is_active: Annotated[bool, Field(strict=True)] | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        return _reject_null(value)


class StockAdjust(BaseModel):
    """Exactly one of ``delta`` (add or, when negative, take away) and ``set`` (an absolute count)."""

    model_config = ConfigDict(extra="forbid")

    delta: StockDelta | None = None
    set_to: StockQty | None = Field(default=None, alias="set")


# Responses ---------------------------------------------------------------------------------------


class SkuPublicOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    attributes: dict[str, str]
    price_fen: int
    stock: int

    # mypy refuses a decorator over @property; pydantic's documented form for a computed field.
    @computed_field  # type: ignore[prop-decorator]
    @property
    def in_stock(self) -> bool:
        return self.stock > 0


class SkuOut(SkuPublicOut):
    """A SKU as its shop's staff see it, inactive ones included."""

    product_id: int
    sold_count: int = Field(description="Units sold, brushed orders (flagged by integrity) left out")
    is_active: bool


def _active_skus(product: Product) -> list[Sku]:
    return [sku for sku in product.skus if sku.is_active]


class ProductSummaryOut(BaseModel):
    """A product in a public listing: the price range and availability of its active SKUs."""

    id: int
    shop_id: int
    category_id: int
    brand_id: int | None
    title_zh: str
    title_en: str
    price_min_fen: int | None
    price_max_fen: int | None
    in_stock: bool
    created_at: datetime

    @classmethod
    def of(cls, product: Product) -> ProductSummaryOut:
        skus = _active_skus(product)
        prices = [sku.price_fen for sku in skus]
        return cls(
            id=product.id,
            shop_id=product.shop_id,
            category_id=product.category_id,
            brand_id=product.brand_id,
            title_zh=product.title_zh,
            title_en=product.title_en,
            price_min_fen=min(prices) if prices else None,
            price_max_fen=max(prices) if prices else None,
            in_stock=any(sku.stock > 0 for sku in skus),
            created_at=product.created_at,
        )


class ProductPublicOut(ProductSummaryOut):
    description_zh: str
    description_en: str
    updated_at: datetime
    skus: list[SkuPublicOut]

    @classmethod
    def of(cls, product: Product) -> ProductPublicOut:
        summary = ProductSummaryOut.of(product)
        return cls(
            **summary.model_dump(),
            description_zh=product.description_zh,
            description_en=product.description_en,
            updated_at=product.updated_at,
            skus=[SkuPublicOut.model_validate(sku) for sku in _active_skus(product)],
        )


class MerchantProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    shop_id: int
    category_id: int
    brand_id: int | None
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    status: ProductStatus
    created_at: datetime
    updated_at: datetime
    skus: list[SkuOut]
    attributes: dict[str, str] = {}
    options: list[dict[str, object]] = []
    pictures: list[ProductImageOut] = Field(default=[], description="Main first")


# The product editor (catalog.editor): a whole product at once ------------------------------------


def _values_of(attributes: dict[str, str], options: list[OptionIn], field: str) -> tuple[str, ...]:
    if set(attributes) != {o.name for o in options}:
        raise InvalidInput(
            "each SKU takes one value of every option, and nothing else",
            code="sku_not_in_options",
            field=field,
        )
    return tuple(attributes[o.name] for o in options)


def infer_options(skus: list[ProductSkuIn]) -> list[OptionIn] | None:
    """The axes implied by SKUs' attributes (:func:`editor.infer_options`), or None."""
    options = editor.infer_options([dict(sku.attributes) for sku in skus])
    if options is None:
        return None
    return [OptionIn(name=o.name, values=list(o.values)) for o in options]


class ProductEdit(BaseModel):
    """A whole product: ``PUT /api/merchant/products/{id}`` replaces every field with these."""

    model_config = ConfigDict(extra="forbid")

    category_id: EntityId = Field(description="A leaf category")
    brand_id: EntityId | None = None
    title_zh: TitleZh
    title_en: TitleEn
    description_zh: Description = Field(default="", description="Markdown; shown as sanitised HTML")
    description_en: Description = Field(default="", description="Markdown; shown as sanitised HTML")
    attributes: Attributes = Field(default_factory=dict, description='e.g. {"材质": "棉"}')
    options: OptionList = Field(default_factory=list)
    skus: Annotated[list[SkuEditIn], Field(min_length=1, max_length=service.MAX_SKUS_PER_PRODUCT)]
    image_ids: ImageIds = Field(
        default_factory=list, description="Image uploads in order; the first is the main"
    )
    status: ProductStatus | None = Field(default=None, description="Omit to keep the status")

    def to_draft(self) -> editor.ProductDraft:
        return editor.ProductDraft(
            category_id=self.category_id,
            brand_id=self.brand_id,
            title_zh=self.title_zh,
            title_en=self.title_en,
            description_zh=self.description_zh,
            description_en=self.description_en,
            attributes=dict(self.attributes),
            options=[editor.Option(o.name, tuple(o.values)) for o in self.options],
            skus=[
                editor.SkuRow(
                    values=_values_of(dict(s.attributes), self.options, f"skus[{i}].attributes"),
                    price_fen=s.price_fen,
                    stock=s.stock,
                    code=s.code or "",
                    stock_was=s.stock_was,
                )
                for i, s in enumerate(self.skus)
            ],
            image_ids=list(self.image_ids),
            status=self.status,
        )


class BulkEditIn(BaseModel):
    """The same change for every selected product: any of price (every active SKU), stock (every
    active SKU) and on/off sale. All or nothing."""

    model_config = ConfigDict(extra="forbid")

    product_ids: Annotated[list[EntityId], Field(min_length=1, max_length=200)]
    price_fen: PriceFen | None = None
    stock: StockQty | None = None
    status: Literal["active", "delisted"] | None = None


class BulkEditOut(BaseModel):
    changed: int = Field(description="Products that changed (already as asked: not counted)")


class ImportOut(BaseModel):
    created: int
    updated: int
