"""CSV import and export of the shop's products (one row per SKU; columns in docs/catalog-csv.md)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from zhongcao.catalog import csv_io
from zhongcao.web import i18n
from zhongcao.web.console import MerchantConsole
from zhongcao.web.context import FormData

router = APIRouter(prefix="/merchant")

CSV_PATH = "/merchant/products/csv"


def _message(console: MerchantConsole, error: csv_io.CsvError) -> str:
    # Codes the catalog knows are said in the page's language; others keep the service's words.
    for key in (f"csv.err.{error.code}", f"err.{error.code}"):
        if i18n.has_message(key):
            return console.t(key)
    return error.message


def _render(console: MerchantConsole, result: csv_io.ImportResult | None, status_code: int = 200) -> Response:
    return console.render(
        "merchant/products_csv.html",
        "products",
        status_code=status_code,
        result=result,
        errors=[
            {"line": e.line, "column": e.column, "message": _message(console, e)}
            for e in (result.errors if result else [])
        ],
        columns=csv_io.COLUMNS,
        required=csv_io.REQUIRED,
    )


@router.get("/products/csv")
def products_csv(console: MerchantConsole) -> Response:
    return _render(console, None)


@router.post("/products/csv")
def products_csv_import(console: MerchantConsole, data: FormData) -> Response:
    """All or nothing: any error lists every bad line and column, and nothing is saved."""
    console.require_manager()
    assert console.shop_id is not None
    upload = data.get("file")
    raw = upload.file.read(csv_io.MAX_BYTES + 1) if upload is not None and hasattr(upload, "file") else b""
    if not raw:
        result = csv_io.ImportResult(0, 0, [csv_io.CsvError(1, "", "no_file", "")])
    else:
        result = csv_io.import_csv(console.db, console.shop_id, raw)
    if not result.ok:
        return _render(console, result, 422)
    return _render(console, result)


@router.get("/products/csv/export")
def products_csv_export(console: MerchantConsole) -> Response:
    assert console.shop_id is not None
    body = "\ufeff" + csv_io.export_csv(console.db, console.shop_id)
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="products.csv"'},
    )
