"""The product editor's rules (catalog.editor), bulk edits, CSV import/export, and their JSON API."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from tests.factories import add_staff, auth, make_category, make_product, make_shop
from tests.media_helpers import png, stored_files
from zhongcao.catalog import bulk, csv_io, editor
from zhongcao.catalog.description import render_markdown
from zhongcao.catalog.models import Category, Product, ProductImage, ProductStatus, Sku
from zhongcao.errors import InvalidInput, NotFound
from zhongcao.media.storage import LocalStorage
from zhongcao.shops.models import StaffRole


@dataclass
class World:
    shop_id: int
    owner: dict[str, str]
    agent: dict[str, str]
    leaf: Category
    other_shop_id: int
    other_owner: dict[str, str]


@pytest.fixture
def world(db) -> World:
    mine, theirs = make_shop(db), make_shop(db)
    leaf = make_category(db)
    return World(
        shop_id=mine.shop.id,
        owner=auth(db, mine.owner),
        agent=auth(db, add_staff(db, mine.shop, StaffRole.service_agent)),
        leaf=leaf,
        other_shop_id=theirs.shop.id,
        other_owner=auth(db, theirs.owner),
    )


@pytest.fixture
def store(app, tmp_path) -> LocalStorage:
    storage = LocalStorage(tmp_path / "media")
    app.state.media_storage = storage
    return storage


COLOURS = editor.Option("颜色", ("黑色", "白色"))
SIZES = editor.Option("尺码", ("S", "M", "L"))


def _matrix(price: int = 5900, stock: int = 10) -> list[editor.SkuRow]:
    return [
        editor.SkuRow(values=(c, s), price_fen=price + i, stock=stock)
        for i, (c, s) in enumerate((c, s) for c in COLOURS.values for s in SIZES.values)
    ]


def _draft(category_id: int, **change) -> editor.ProductDraft:
    values = dict(
        category_id=category_id,
        title_zh="纯棉T恤",
        title_en="Cotton tee",
        description_zh="**纯棉**",
        attributes={"材质": "棉"},
        options=[COLOURS, SIZES],
        skus=_matrix(),
    )
    values.update(change)
    return editor.ProductDraft(**values)


# --- the service --------------------------------------------------------------------------------


def test_a_two_by_three_matrix_makes_six_skus_with_codes(db, world):
    product = editor.save_product(db, world.shop_id, _draft(world.leaf.id))
    skus = sorted(product.skus, key=lambda s: s.id)
    assert [s.attributes for s in skus][:2] == [{"颜色": "黑色", "尺码": "S"}, {"颜色": "黑色", "尺码": "M"}]
    assert [s.code for s in skus] == [f"SKU-{n}" for n in range(1, 7)]
    assert [s.price_fen for s in skus] == [5900, 5901, 5902, 5903, 5904, 5905]
    assert product.status is ProductStatus.draft
    assert product.options == [
        {"name": "颜色", "values": ["黑色", "白色"]},
        {"name": "尺码", "values": ["S", "M", "L"]},
    ]


def _combo(sku) -> tuple[str, str]:
    # PostgreSQL's JSONB does not keep key order: read the values by name.
    return (sku.attributes["颜色"], sku.attributes["尺码"])


def test_editing_keeps_the_ids_of_skus_whose_options_are_unchanged(db, world):
    product = editor.save_product(db, world.shop_id, _draft(world.leaf.id))
    before = {_combo(s): s.id for s in product.skus}
    # White is dropped, red and XL added; black S..L stay (with a new price).
    colours = editor.Option("颜色", ("黑色", "红色"))
    sizes = editor.Option("尺码", ("S", "M", "L", "XL"))
    rows = [
        editor.SkuRow(values=(c, s), price_fen=7000, stock=3) for c in colours.values for s in sizes.values
    ]
    edited = editor.save_product(
        db, world.shop_id, _draft(world.leaf.id, options=[colours, sizes], skus=rows), product_id=product.id
    )
    db.expire_all()
    skus = {_combo(s): s for s in db.get(Product, edited.id).skus}
    for size in ("S", "M", "L"):
        assert skus[("黑色", size)].id == before[("黑色", size)]
        assert skus[("黑色", size)].price_fen == 7000 and skus[("黑色", size)].is_active
        assert not skus[("白色", size)].is_active  # switched off, never deleted: orders reference it
    assert skus[("红色", "XL")].id not in before.values() and skus[("红色", "XL")].is_active
    assert len({s.code for s in skus.values()}) == len(skus)
    # White comes back with its old id.
    again = editor.save_product(db, world.shop_id, _draft(world.leaf.id), product_id=product.id)
    db.expire_all()
    white = [s for s in db.get(Product, again.id).skus if s.attributes.get("颜色") == "白色"]
    assert {s.id for s in white} == {before[("白色", size)] for size in ("S", "M", "L")}
    assert all(s.is_active for s in white)


def test_stock_was_moves_stock_by_the_difference(db, world):
    product = editor.save_product(
        db, world.shop_id, _draft(world.leaf.id, options=[], skus=[editor.SkuRow((), 100, 10)])
    )
    sku = product.skus[0]
    sku.stock = 7  # three sold since the form was shown
    db.commit()
    row = editor.SkuRow((), 100, stock=15, stock_was=10)
    editor.save_product(
        db, world.shop_id, _draft(world.leaf.id, options=[], skus=[row]), product_id=product.id
    )
    db.expire_all()
    assert db.get(Sku, sku.id).stock == 12


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"skus": []}, "skus", "no_skus"),
        ({"skus": [editor.SkuRow(("黑色", "XXL"), 100, 1)]}, "skus[0].values", "sku_not_in_options"),
        ({"skus": [editor.SkuRow(("黑色", "S"), 100, 1)] * 2}, "skus[1].values", "duplicate_sku"),
        ({"options": [COLOURS, SIZES, editor.Option("x", ("1",))]}, "options", "too_many_options"),
        ({"options": [COLOURS, editor.Option("颜色", ("1",))]}, "options[1].name", "duplicate_option"),
        ({"image_ids": list(range(1, 11))}, "image_ids", "too_many_images"),
        ({"title_zh": " "}, "title_zh", "invalid_input"),
    ],
)
def test_bad_drafts_are_refused_by_field(db, world, change, field, code):
    with pytest.raises(InvalidInput) as caught:
        editor.save_product(db, world.shop_id, _draft(world.leaf.id, **change))
    assert (caught.value.code, caught.value.details["field"]) == (code, field)
    assert db.scalar(select(func.count()).select_from(Product)) == 0


def test_another_shops_picture_is_not_found(db, world, app, client, store):
    upload = client.post(
        "/api/media/images", headers=world.other_owner, files={"file": ("a.png", png(40, 30), "image/png")}
    )
    assert upload.status_code == 201, upload.text
    with pytest.raises(NotFound) as caught:
        editor.save_product(db, world.shop_id, _draft(world.leaf.id, image_ids=[upload.json()["id"]]))
    assert caught.value.details["field"] == "image_ids[0]"


def test_markdown_is_rendered_without_any_markup_of_the_merchants():
    html = render_markdown(
        "# 标题\n**粗** <script>alert(1)</script> <img src=x onerror=alert(1)> "
        "[bad](javascript:alert(1)) [ok](https://example.com)"
    )
    assert "<h1>标题</h1>" in html and "<strong>粗</strong>" in html
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html
    assert '<a href="https://example.com" rel="nofollow noopener">ok</a>' in html


# --- bulk edits -----------------------------------------------------------------------------------


def test_bulk_price_and_stock_apply_to_every_active_sku(db, world):
    shop = db.get(Product, make_product(db, _shop(db, world), skus=3).id).shop_id
    a = make_product(db, _shop(db, world), skus=2)
    b = make_product(db, _shop(db, world))
    result = bulk.bulk_edit(db, shop, [a.id, b.id], price_fen=1234, stock=5)
    assert result.ok and result.changed == 2
    db.expire_all()
    assert {(s.price_fen, s.stock) for p in (a, b) for s in db.get(Product, p.id).skus} == {(1234, 5)}


def test_bulk_is_all_or_nothing_and_names_each_refused_product(db, world):
    shop = _shop(db, world)
    ok = make_product(db, shop)
    ok.status = ProductStatus.delisted
    draft = make_product(db, shop)
    draft.status = ProductStatus.draft  # a draft cannot be delisted
    db.commit()
    result = bulk.bulk_edit(db, world.shop_id, [ok.id, draft.id], status=ProductStatus.delisted, stock=1)
    assert not result.ok and [r.product_id for r in result.refusals] == [draft.id]
    assert result.refusals[0].code == "illegal_transition"
    db.expire_all()
    assert db.get(Product, ok.id).skus[0].stock == 100  # nothing half-applied


def test_bulk_with_another_shops_product_is_not_found(db, world):
    theirs = make_product(db, db.get(type(_shop(db, world)), world.other_shop_id))
    mine = make_product(db, _shop(db, world))
    with pytest.raises(NotFound):
        bulk.bulk_edit(db, world.shop_id, [mine.id, theirs.id], stock=0)
    db.expire_all()
    assert db.get(Product, theirs.id).skus[0].stock == 100


def test_the_list_searches_filters_and_sorts(db, world):
    shop = _shop(db, world)
    cheap = make_product(db, shop, price_fen=100, stock=3)
    dear = make_product(db, shop, price_fen=9000)
    cheap.title_en, dear.title_en = "Blue 100% mug", "Red teapot"
    db.commit()
    rows, total = bulk.search_shop_products(db, world.shop_id, q="100%")
    assert total == 1 and rows[0].id == cheap.id
    rows, total = bulk.search_shop_products(db, world.shop_id, low_stock_below=10)
    assert [r.id for r in rows] == [cheap.id]
    rows, _ = bulk.search_shop_products(db, world.shop_id, sort="price")
    assert [r.id for r in rows] == [cheap.id, dear.id]
    rows, total = bulk.search_shop_products(db, world.shop_id, per_page=1, page=2)
    assert total == 2 and [r.id for r in rows] == [cheap.id]  # newest first: dear, then cheap


def _shop(db, world):
    from zhongcao.shops.models import Shop

    return db.get(Shop, world.shop_id)


# --- CSV ----------------------------------------------------------------------------------------

HEADER = ",".join(csv_io.COLUMNS)


def _csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def test_csv_import_creates_a_matrix_product_and_export_round_trips(db, world):
    slug = world.leaf.slug
    data = _csv(
        f"new-tee,纯棉T恤,Cotton tee,{slug},,active,**棉**,,材质=棉,颜色,黑色,尺码,S,,59.00,10",
        "new-tee,,,,,,,,,颜色,黑色,尺码,M,,59.00,8",
        "new-tee,,,,,,,,,颜色,白色,尺码,S,W-S,61.5,0",
        f"new-mug,马克杯,Mug,{slug},,draft,,,,,,,,,25,3",
    )
    result = csv_io.import_csv(db, world.shop_id, data)
    assert result.ok, result.errors
    assert (result.created, result.updated) == (2, 0)
    tee = db.scalars(select(Product).where(Product.title_en == "Cotton tee")).one()
    assert tee.status is ProductStatus.active and tee.attributes == {"材质": "棉"}
    assert sorted((s.code, s.price_fen, s.stock) for s in tee.skus) == [
        ("SKU-1", 5900, 10),
        ("SKU-2", 5900, 8),
        ("W-S", 6150, 0),
    ]
    exported = csv_io.export_csv(db, world.shop_id)
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == 4 and {r["product"] for r in rows} == {str(tee.id), str(tee.id + 1)}
    # Importing the export back changes nothing but what was edited, and keeps every SKU id.
    ids = {s.code: s.id for s in tee.skus}
    edited = exported.replace(",61.50,0", ",70.00,4")
    again = csv_io.import_csv(db, world.shop_id, edited.encode())
    assert again.ok and (again.created, again.updated) == (0, 2)
    db.expire_all()
    tee = db.get(Product, tee.id)
    assert {s.code: s.id for s in tee.skus} == ids
    assert {s.code: (s.price_fen, s.stock) for s in tee.skus}["W-S"] == (7000, 4)


def test_a_bad_csv_reports_line_and_column_and_imports_nothing(db, world):
    slug = world.leaf.slug
    data = _csv(
        f"new-a,好的,Good,{slug},,,,,,,,,,,10,1",
        f"new-b,坏的,Bad,{slug},,,,,,,,,,,ten,1",
        f"new-c,也坏,Bad too,{slug},,,,,,,,,,,5,-2",
        f"new-d,,No title,{slug},,,,,,,,,,,5,1",
    )
    result = csv_io.import_csv(db, world.shop_id, data)
    assert [(e.line, e.column, e.code) for e in result.errors] == [
        (3, "price", "bad_price"),
        (4, "stock", "bad_stock"),
        (5, "title_zh", "required"),
    ]
    assert db.scalar(select(func.count()).select_from(Product)) == 0


def test_a_csv_error_found_while_saving_still_imports_nothing(db, world):
    slug = world.leaf.slug
    data = _csv(
        f"new-a,好的,Good,{slug},,,,,,,,,,,10,1",
        "new-b,坏的,Bad,no-such-category,,,,,,,,,,,10,1",
        f"new-c,编码重复,Dup,{slug},,,,,,颜色,红,,,X,10,1",
        "new-c,,,,,,,,,颜色,蓝,,,X,10,1",
    )
    result = csv_io.import_csv(db, world.shop_id, data)
    assert [(e.line, e.column, e.code) for e in result.errors] == [
        (3, "category", "category_not_found"),
        (5, "sku_code", "duplicate_sku_code"),
    ]
    assert db.scalar(select(func.count()).select_from(Product)) == 0


def test_csv_cells_that_would_run_as_formulas_are_quoted_and_read_back(db, world):
    editor.save_product(db, world.shop_id, _draft(world.leaf.id, title_en="=HYPERLINK(1)"))
    exported = csv_io.export_csv(db, world.shop_id)
    assert "'=HYPERLINK(1)" in exported
    assert csv_io.import_csv(db, world.shop_id, exported.encode()).ok
    db.expire_all()
    assert db.scalars(select(Product.title_en)).one() == "=HYPERLINK(1)"


# --- the API ------------------------------------------------------------------------------------


def _body(world: World, **change) -> dict:
    body = {
        "category_id": world.leaf.id,
        "title_zh": "纯棉T恤",
        "title_en": "Cotton tee",
        "description_en": "**Soft** <script>x</script>",
        "attributes": {"材质": "棉"},
        "options": [
            {"name": "颜色", "values": ["黑色", "白色"]},
            {"name": "尺码", "values": ["S", "M", "L"]},
        ],
        "skus": [
            {"attributes": {"颜色": c, "尺码": s}, "price_fen": 5900, "stock": 5}
            for c in ("黑色", "白色")
            for s in ("S", "M", "L")
        ],
    }
    body.update(change)
    return body


def test_api_create_and_replace_go_through_the_editor(client, world, store):
    images = [
        client.post(
            "/api/media/images",
            headers=world.owner,
            files={"file": (f"{i}.png", png(60 + i, 40), "image/png")},
        ).json()["id"]
        for i in range(2)
    ]
    created = client.post(
        "/api/merchant/products", headers=world.owner, json={**_body(world), "image_ids": images}
    )
    assert created.status_code == 201, created.text
    product = created.json()
    assert len(product["skus"]) == 6 and product["attributes"] == {"材质": "棉"}
    assert [p["media_id"] for p in product["pictures"]] == images
    ids = {(s["attributes"]["颜色"], s["attributes"]["尺码"]): s["id"] for s in product["skus"]}
    body = _body(
        world, options=[{"name": "颜色", "values": ["黑色"]}, {"name": "尺码", "values": ["S", "M", "L"]}]
    )
    body["skus"] = [s for s in body["skus"] if s["attributes"]["颜色"] == "黑色"]
    body["image_ids"] = list(reversed(images))
    replaced = client.put(f"/api/merchant/products/{product['id']}", headers=world.owner, json=body)
    assert replaced.status_code == 200, replaced.text
    active = {
        (s["attributes"]["颜色"], s["attributes"]["尺码"]): s["id"]
        for s in replaced.json()["skus"]
        if s["is_active"]
    }
    assert active == {k: v for k, v in ids.items() if k[0] == "黑色"}
    assert [p["media_id"] for p in replaced.json()["pictures"]] == list(reversed(images))


def test_api_create_without_options_reads_them_from_the_skus(client, world):
    body = _body(world)
    del body["options"]
    created = client.post("/api/merchant/products", headers=world.owner, json=body)
    assert created.status_code == 201, created.text
    assert [o["name"] for o in created.json()["options"]] == ["颜色", "尺码"]


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"options": [{"name": "a", "values": ["1"]}] * 3}, 422, None),
        ({"skus": [{"attributes": {"颜色": "紫"}, "price_fen": 1}]}, 422, "skus[0].attributes"),
        ({"image_ids": [9_000_000]}, 404, "image_ids[0]"),
        ({"title_en": "x\x00"}, 422, None),
    ],
)
def test_api_bad_input_is_a_clean_4xx(client, world, change, status, field):
    response = client.post("/api/merchant/products", headers=world.owner, json=_body(world, **change))
    assert response.status_code == status, response.text
    if field:
        assert response.json()["error"]["details"]["field"] == field


def test_service_agents_may_not_write(client, world):
    assert client.post("/api/merchant/products", headers=world.agent, json=_body(world)).status_code == 403
    bulk_response = client.post(
        "/api/merchant/products/bulk", headers=world.agent, json={"product_ids": [1], "stock": 1}
    )
    assert bulk_response.status_code == 403


def test_api_bulk_import_and_export(client, db, world):
    a = make_product(db, _shop(db, world))
    b = make_product(db, _shop(db, world))
    response = client.post(
        "/api/merchant/products/bulk",
        headers=world.owner,
        json={"product_ids": [a.id, b.id], "price_fen": 777},
    )
    assert response.status_code == 200 and response.json() == {"changed": 2}
    # A draft cannot go off sale: 409 in the error shape naming it, and nothing changed.
    b.status = ProductStatus.draft
    db.commit()
    refused_bulk = client.post(
        "/api/merchant/products/bulk",
        headers=world.owner,
        json={"product_ids": [a.id, b.id], "status": "delisted", "stock": 3},
    )
    assert refused_bulk.status_code == 409
    error = refused_bulk.json()["error"]
    assert error["code"] == "bulk_refused"
    assert [(r["product_id"], r["code"]) for r in error["details"]["refusals"]] == [
        (b.id, "illegal_transition")
    ]
    db.expire_all()
    assert db.get(Product, a.id).status is ProductStatus.active and db.get(Product, a.id).skus[0].stock == 100
    exported = client.get("/api/merchant/products/export", headers=world.owner)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    text = exported.content.decode("utf-8-sig")
    assert text.splitlines()[0] == HEADER and text.count(",7.77,") == 2
    bad = text.replace(",7.77,", ",seven,", 1)
    refused = client.post(
        "/api/merchant/products/import",
        headers=world.owner,
        files={"file": ("p.csv", bad.encode(), "text/csv")},
    )
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "csv_invalid" and error["details"]["field"] == "file"
    assert [(e["line"], e["column"], e["code"]) for e in error["details"]["errors"]] == [
        (2, "price", "bad_price")
    ]
    good = text.replace(",7.77,", ",8.88,")
    done = client.post(
        "/api/merchant/products/import",
        headers=world.owner,
        files={"file": ("p.csv", good.encode(), "text/csv")},
    )
    assert done.status_code == 200 and done.json()["updated"] == 2
    db.expire_all()
    assert {s.price_fen for p in (a, b) for s in db.get(Product, p.id).skus} == {888}


def test_deleting_an_upload_takes_it_off_the_product(client, db, world, store):
    media_id = client.post(
        "/api/media/images", headers=world.owner, files={"file": ("a.png", png(50, 50), "image/png")}
    ).json()["id"]
    created = client.post(
        "/api/merchant/products", headers=world.owner, json={**_body(world), "image_ids": [media_id]}
    )
    assert created.status_code == 201
    assert client.delete(f"/api/media/{media_id}", headers=world.owner).status_code == 204
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(ProductImage)) == 0
    assert stored_files(store.root) == []
