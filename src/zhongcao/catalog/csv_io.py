"""CSV import and export of a shop's products, one row per SKU (columns in docs/catalog-csv.md).

The ``product`` column ties rows together: an existing product's id updates that product, any other
label (``new-tee``) makes one new product of all rows that carry it. Product columns are read from a
product's first row. An import is all or nothing: every row is checked and every product saved
through :func:`zhongcao.catalog.editor.save_product` in one transaction; on any error nothing is kept
and each error is reported with its line (the header is line 1) and column.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from zhongcao.catalog import editor
from zhongcao.catalog.models import Brand, Category, Product, ProductStatus
from zhongcao.errors import DomainError

COLUMNS: Final = (
    "product",
    "title_zh",
    "title_en",
    "category",
    "brand",
    "status",
    "description_zh",
    "description_en",
    "attributes",
    "option1_name",
    "option1_value",
    "option2_name",
    "option2_value",
    "sku_code",
    "price",
    "stock",
)
REQUIRED: Final = ("product", "title_zh", "title_en", "category", "price", "stock")
MAX_ROWS: Final = 5000
MAX_BYTES: Final = 5 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class CsvError:
    line: int
    column: str
    code: str
    message: str


@dataclasses.dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    errors: list[CsvError]

    @property
    def ok(self) -> bool:
        return not self.errors


def _price(raw: str) -> int | None:
    whole, _, cents = raw.replace("¥", "").replace(",", "").strip().partition(".")
    if not whole.isdigit() or (cents and (not cents.isdigit() or len(cents) > 2)):
        return None
    return int(whole) * 100 + int((cents + "00")[:2])


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _attributes(raw: str) -> dict[str, str] | None:
    """``材质=棉; 产地=杭州`` (None when a part has no ``=``)."""
    out: dict[str, str] = {}
    for part in raw.split(";"):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip() or not value.strip():
            return None
        out[name.strip()] = value.strip()
    return out


@dataclasses.dataclass
class _Group:
    line: int
    row: dict[str, str]
    options: list[tuple[str, list[str]]]
    skus: list[tuple[int, tuple[str, ...], editor.SkuRow]]


def _field_column(field: str) -> str:
    """Map a service error's field (``skus[1].price_fen``) to a CSV column."""
    leaf = field.rsplit(".", 1)[-1].split("[", 1)[0]
    return {
        "price_fen": "price",
        "stock": "stock",
        "code": "sku_code",
        "category_id": "category",
        "brand_id": "brand",
        "values": "option1_value",
        "options": "option1_name",
        "name": "option1_name",
        "skus": "product",
        "product_id": "product",
    }.get(leaf, leaf if leaf in COLUMNS else "product")


def import_csv(db: Session, shop_id: int, data: bytes) -> ImportResult:
    """Create and update the shop's products from CSV bytes (UTF-8, a BOM allowed)."""
    errors: list[CsvError] = []
    if len(data) > MAX_BYTES:
        return ImportResult(0, 0, [CsvError(1, "", "file_too_large", f"at most {MAX_BYTES} bytes")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ImportResult(0, 0, [CsvError(1, "", "not_utf8", "the file is not UTF-8 text")])
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return ImportResult(
            0, 0, [CsvError(1, c, "missing_column", f"the header has no {c} column") for c in missing]
        )
    categories = {c.slug: c.id for c in db.scalars(select(Category).where(Category.parent_id.is_not(None)))}
    brands = {b.name_zh: b.id for b in db.scalars(select(Brand))}
    brands.update({b.name_en: b.id for b in db.scalars(select(Brand))})
    groups: dict[str, _Group] = {}
    for index, raw in enumerate(reader):
        line = reader.line_num
        if index >= MAX_ROWS:
            errors.append(CsvError(line, "", "too_many_rows", f"at most {MAX_ROWS} rows"))
            break
        if None in raw:
            errors.append(CsvError(line, "", "extra_cells", "this row has more cells than the header"))
            continue
        row = {k: _unquote((v or "").strip()) for k, v in raw.items() if k is not None}
        if not any(row.values()):
            continue
        for column in REQUIRED:
            if not row.get(column) and not (
                column in ("title_zh", "title_en", "category") and row.get("product") in groups
            ):
                errors.append(CsvError(line, column, "required", f"{column} is required"))
        price = _price(row.get("price", ""))
        if row.get("price") and price is None:
            errors.append(CsvError(line, "price", "bad_price", "a price in yuan, like 12.50"))
        stock_raw = row.get("stock", "")
        stock = int(stock_raw) if stock_raw.isdigit() else None
        if stock_raw and stock is None:
            errors.append(CsvError(line, "stock", "bad_stock", "stock is a whole number of units"))
        key = row.get("product", "")
        if not key:
            continue
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(line=line, row=row, options=[], skus=[])
            for n in ("1", "2"):
                name = row.get(f"option{n}_name", "")
                if name:
                    group.options.append((name, []))
        values: list[str] = []
        for n, (name, seen) in zip(("1", "2"), group.options, strict=False):
            if row.get(f"option{n}_name", name) not in ("", name):
                errors.append(
                    CsvError(line, f"option{n}_name", "option_mismatch", f"this product's option is {name}")
                )
            value = row.get(f"option{n}_value", "")
            if not value:
                errors.append(
                    CsvError(line, f"option{n}_value", "required", f"a value of {name} is required")
                )
            elif value not in seen:
                seen.append(value)
            values.append(value)
        group.skus.append(
            (
                line,
                tuple(values),
                editor.SkuRow(
                    values=tuple(values), price_fen=price or 1, stock=stock or 0, code=row.get("sku_code", "")
                ),
            )
        )
    if errors:
        return ImportResult(0, 0, errors)
    created = updated = 0
    for key, group in groups.items():
        row = group.row
        product_id = int(key) if key.isdigit() else None
        category_id = categories.get(row.get("category", ""))
        if category_id is None:
            errors.append(
                CsvError(group.line, "category", "category_not_found", "no leaf category with this slug")
            )
            continue
        brand_id = None
        if row.get("brand"):
            brand_id = brands.get(row["brand"])
            if brand_id is None:
                errors.append(CsvError(group.line, "brand", "brand_not_found", "no brand with this name"))
                continue
        attributes = _attributes(row.get("attributes", ""))
        if attributes is None:
            errors.append(CsvError(group.line, "attributes", "bad_attributes", "name=value; name=value"))
            continue
        status: ProductStatus | None = None
        if row.get("status"):
            try:
                status = ProductStatus(row["status"])
            except ValueError:
                errors.append(CsvError(group.line, "status", "invalid_status", "draft, active or delisted"))
                continue
        draft = editor.ProductDraft(
            category_id=category_id,
            brand_id=brand_id,
            title_zh=row.get("title_zh", ""),
            title_en=row.get("title_en", ""),
            description_zh=row.get("description_zh", ""),
            description_en=row.get("description_en", ""),
            attributes=attributes,
            options=[editor.Option(name, tuple(values)) for name, values in group.options],
            skus=[sku for _, _, sku in group.skus],
            image_ids=None,
            status=status,
        )
        try:
            with db.begin_nested():
                editor.save_product(db, shop_id, draft, product_id=product_id, commit=False)
        except DomainError as exc:
            field = str(exc.details.get("field") or "")
            line = group.line
            if field.startswith("skus["):
                position = int(field[5 : field.index("]")])
                if position < len(group.skus):
                    line = group.skus[position][0]
            errors.append(CsvError(line, _field_column(field), exc.code, str(exc)))
            continue
        if product_id is None:
            created += 1
        else:
            updated += 1
    if errors:
        db.rollback()
        return ImportResult(0, 0, errors)
    db.commit()
    return ImportResult(created, updated, [])


def export_rows(db: Session, shop_id: int) -> Iterable[list[str]]:
    """The header, then one row per active SKU of every product of the shop (oldest first)."""
    yield list(COLUMNS)
    categories = {c.id: c.slug for c in db.scalars(select(Category))}
    brands = {b.id: b.name_zh for b in db.scalars(select(Brand))}
    last = 0
    while True:
        products = db.scalars(
            select(Product)
            .where(Product.shop_id == shop_id, Product.id > last)
            .options(selectinload(Product.skus))
            .order_by(Product.id)
            .limit(500)
        ).all()
        if not products:
            return
        for product in products:
            last = product.id
            options = editor.options_of(product)
            attributes = "; ".join(f"{k}={v}" for k, v in (product.attributes or {}).items())
            for sku in product.skus:
                if not sku.is_active:
                    continue
                values = [str((sku.attributes or {}).get(o.name, "")) for o in options]
                cells = [o.name for o in options] + ["", ""]
                yield [
                    str(product.id),
                    product.title_zh,
                    product.title_en,
                    categories.get(product.category_id, ""),
                    brands.get(product.brand_id, "") if product.brand_id else "",
                    product.status.value,
                    product.description_zh,
                    product.description_en,
                    attributes,
                    cells[0],
                    values[0] if len(values) > 0 else "",
                    cells[1],
                    values[1] if len(values) > 1 else "",
                    sku.code,
                    _yuan(sku.price_fen),
                    str(sku.stock),
                ]


def export_csv(db: Session, shop_id: int) -> str:
    """The whole export as text (UTF-8 with a BOM when written out, so spreadsheet apps read Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in export_rows(db, shop_id):
        writer.writerow([_safe_cell(cell) for cell in row])
    return out.getvalue()


def _unquote(cell: str) -> str:
    """Undo :func:`_safe_cell`, so an export imports back unchanged."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@") else cell


def _safe_cell(cell: str) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet app (CSV injection).
    return "'" + cell if cell[:1] in ("=", "+", "-", "@") else cell
