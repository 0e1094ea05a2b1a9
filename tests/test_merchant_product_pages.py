"""The merchant's product pages, server side: the editor (new and edit, SKU matrix, pictures through the
media storage), the list (search, filters, sorting, pages, bulk edits) and the CSV page; and what the
shopper's product page shows of it."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from tests.factories import make_category, make_product, make_shop
from tests.media_helpers import png, stored_files
from tests.web_helpers import form_token, web_login
from zhongcao.catalog.models import Category, Product, ProductImage, ProductStatus, Sku
from zhongcao.media.models import Media, MediaObject
from zhongcao.media.storage import LocalStorage
from zhongcao.shops.models import Shop


@dataclass
class World:
    shop_id: int
    email: str
    leaf: Category


@pytest.fixture
def world(db) -> World:
    bundle = make_shop(db)
    return World(shop_id=bundle.shop.id, email=bundle.owner.email, leaf=make_category(db))


@pytest.fixture
def store(app, tmp_path) -> LocalStorage:
    storage = LocalStorage(tmp_path / "media")
    app.state.media_storage = storage
    return storage


def _fields(world: World, **change) -> dict:
    fields = {
        "product_id": "",
        "title_zh": "纯棉T恤",
        "title_en": "Cotton tee",
        "category_id": str(world.leaf.id),
        "brand_id": "",
        "description_zh": "**很软** <script>alert(1)</script>",
        "description_en": "**Soft**",
        "attributes": "材质=棉\n产地=杭州",
        "option1_name": "颜色",
        "option1_values": "黑色, 白色",
        "option2_name": "尺码",
        "option2_values": "S，M、L",
    }
    fields.update(change)
    return fields


def _rows(html: str) -> list[tuple[str, ...]]:
    """The SKU rows the editor shows, as their option values."""
    count = int(re.search(r'name="sku_count" value="(\d+)"', html).group(1))
    return [tuple(re.findall(rf'name="sku_{i}_v\d" value="([^"]*)"', html)) for i in range(count)]


def _post(client, data: dict, files=None, url: str = "/merchant/products/save"):
    token = form_token(client, "/merchant/products/new")
    return client.post(url, data={**data, "csrf_token": token}, files=files, follow_redirects=False)


def _priced(fields: dict, html: str, price: str = "59") -> dict:
    out = dict(fields)
    out["sku_count"] = str(len(_rows(html)))
    for i, values in enumerate(_rows(html)):
        for n, v in enumerate(values, start=1):
            out[f"sku_{i}_v{n}"] = v
        out[f"sku_{i}_price"] = price
        out[f"sku_{i}_stock"] = str(10 + i)
    return out


def test_new_product_with_a_matrix_and_two_pictures(client, db, world, store):
    web_login(client, world.email)
    generated = _post(client, {**_fields(world), "action": "generate"})
    assert generated.status_code == 200, generated.text[:500]
    assert _rows(generated.text) == [(c, s) for c in ("黑色", "白色") for s in ("S", "M", "L")]
    files = [
        ("new_images", ("a.png", png(80, 60), "image/png")),
        ("new_images", ("b.png", png(60, 80), "image/png")),
    ]
    saved = _post(client, {**_priced(_fields(world), generated.text), "action": "publish"}, files)
    assert saved.status_code == 303, saved.text[:2000]
    product = db.scalars(select(Product)).one()
    assert saved.headers["location"] == f"/merchant/products/{product.id}"
    assert product.status is ProductStatus.active and product.attributes == {"材质": "棉", "产地": "杭州"}
    assert len(product.skus) == 6 and {s.price_fen for s in product.skus} == {5900}
    images = db.scalars(select(ProductImage).where(ProductImage.product_id == product.id)).all()
    assert [i.position for i in images] == [0, 1]
    objects = db.scalar(select(func.count()).select_from(MediaObject))
    assert objects >= 2 and len(stored_files(store.root)) == objects
    # The shopper sees the pictures, main first, the attributes, and the Markdown with no script.
    page = client.get(f"/products/{product.id}").text
    main = db.get(Media, images[0].media_id).objects[0].key
    assert page.index(main.split("/")[1]) < page.index("gallery-image", page.index("gallery-main") + 20)
    assert "<strong>很软</strong>" in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<dt>材质</dt><dd>棉</dd>" in page and "颜色: 黑色" in page


def test_a_refused_form_keeps_what_was_typed_and_the_pictures_already_stored(client, db, world, store):
    web_login(client, world.email)
    fields = _fields(world, title_zh="", option2_name="", option2_values="")
    fields.update(
        sku_count="2", sku_0_v1="黑色", sku_0_price="12.5", sku_0_stock="3", sku_1_v1="白色", sku_1_price="x"
    )
    response = _post(
        client, {**fields, "action": "publish"}, [("new_images", ("a.png", png(40, 40), "image/png"))]
    )
    assert response.status_code == 422
    html = response.text
    assert 'id="title_zh-error"' in html and 'id="sku_1_price-error"' in html
    assert 'value="12.5"' in html and 'value="Cotton tee"' in html and "材质=棉" in html
    media_id = db.scalars(select(Media.id)).one()
    assert f'name="image_ids" value="{media_id}"' in html
    assert db.scalar(select(func.count()).select_from(Product)) == 0


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"not an image at all", 422),
        (b"<svg onload=alert(1)></svg>", 422),  # disguised as a PNG by its name and type
        (png(10, 10)[:40], 422),  # cut short
    ],
)
def test_bad_pictures_are_refused_through_the_form_and_nothing_is_stored(
    client, db, world, store, payload, status
):
    web_login(client, world.email)
    files = [
        ("new_images", ("ok.png", png(30, 30), "image/png")),
        ("new_images", ("x.png", payload, "image/png")),
    ]
    response = _post(
        client,
        {
            **_fields(world, option1_name="", option1_values="", option2_name="", option2_values=""),
            "sku_count": "1",
            "sku_0_price": "1",
            "sku_0_stock": "1",
            "action": "draft",
        },
        files,
    )
    assert response.status_code == status, response.text[:500]
    assert 'id="new_images-error"' in response.text and "Traceback" not in response.text
    assert db.scalar(select(func.count()).select_from(Media)) == 0 and stored_files(store.root) == []
    assert db.scalar(select(func.count()).select_from(Product)) == 0


def test_an_oversized_picture_is_413_and_nothing_is_stored(client, app, db, world, store):
    app.state.settings = app.state.settings.model_copy(update={"media_max_image_bytes": 2048})
    web_login(client, world.email)
    big = png(400, 400, "RGB") + b"\0" * 4096
    fields = _fields(world, option1_name="", option1_values="", option2_name="", option2_values="")
    response = _post(
        client,
        {**fields, "sku_count": "1", "sku_0_price": "1", "sku_0_stock": "1"},
        [("new_images", ("big.png", big, "image/png"))],
    )
    assert response.status_code == 413 and 'id="new_images-error"' in response.text
    assert db.scalar(select(func.count()).select_from(Media)) == 0 and stored_files(store.root) == []


def test_editing_keeps_sku_ids_orders_pictures_and_escapes_html_titles(client, db, world, store):
    web_login(client, world.email)
    generated = _post(client, {**_fields(world), "action": "generate"})
    files = [("new_images", (f"{i}.png", png(50 + i, 50), "image/png")) for i in range(2)]
    _post(client, {**_priced(_fields(world), generated.text), "action": "draft"}, files)
    product = db.scalars(select(Product)).one()
    ids = {(s.attributes["颜色"], s.attributes["尺码"]): s.id for s in product.skus}
    first, second = (i.media_id for i in product.images)
    page = client.get(f"/merchant/products/{product.id}")
    assert page.status_code == 200 and 'value="纯棉T恤"' in page.text
    assert _rows(page.text) == list(ids)
    # Drop white, make the second picture the main one, and put HTML in the title.
    fields = _fields(world, product_id=str(product.id), option1_values="黑色", title_zh="<b>粗</b>T恤")
    fields = _priced(fields, page.text, price="66")
    fields.update({"image_ids": [str(first), str(second)], "main_image": str(second), "action": "save"})
    response = _post(client, fields)
    assert response.status_code == 303, response.text[:2000]
    db.expire_all()
    product = db.get(Product, product.id)
    active = {(s.attributes["颜色"], s.attributes["尺码"]): s.id for s in product.skus if s.is_active}
    assert active == {k: v for k, v in ids.items() if k[0] == "黑色"}
    assert [i.media_id for i in product.images] == [second, first]
    assert {s.price_fen for s in product.skus if s.is_active} == {6600}
    html = client.get(f"/merchant/products/{product.id}").text
    assert "&lt;b&gt;粗&lt;/b&gt;T恤" in html and "<b>粗</b>" not in html


def test_another_shops_product_is_not_editable(client, db, world):
    theirs = make_product(db, make_shop(db).shop)
    web_login(client, world.email)
    assert client.get(f"/merchant/products/{theirs.id}").status_code == 404
    fields = _fields(world, product_id=str(theirs.id))
    assert _post(client, {**fields, "sku_count": "0", "action": "save"}).status_code == 404


def test_the_list_filters_sorts_pages_and_bulk_edits(client, db, world):
    shop = db.get(Shop, world.shop_id)
    products = [make_product(db, shop, price_fen=1000 + i, stock=5 if i == 0 else 50) for i in range(23)]
    products[3].title_zh = "特别的杯子"
    db.commit()
    web_login(client, world.email)
    html = client.get("/merchant/products").text
    assert "共 23 件商品" in html and "第 1 / 2 页" in html
    assert "特别的杯子" in client.get("/merchant/products?q=杯子").text
    assert "共 1 件商品" in client.get("/merchant/products?low=1").text
    html = client.get("/merchant/products?sort=price&page=2").text
    assert f"#{products[22].id} " in html and f"#{products[0].id} " not in html
    assert "没有符合条件的商品" in client.get("/merchant/products?q=nothing-like-this").text
    token = form_token(client, "/merchant/products")
    picked = [str(products[0].id), str(products[1].id)]
    done = client.post(
        "/merchant/products/bulk",
        data={
            "product_ids": picked,
            "bulk_action": "price",
            "bulk_value": "9.90",
            "back": "/merchant/products?low=1",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/merchant/products?low=1"
    db.expire_all()
    assert {s.price_fen for p in products[:2] for s in db.get(Product, p.id).skus} == {990}
    # A draft cannot be taken off sale: nothing changes, and the row says why.
    db.get(Product, products[1].id).status = ProductStatus.draft
    db.commit()
    refused = client.post(
        "/merchant/products/bulk",
        data={"product_ids": picked, "bulk_action": "off", "csrf_token": token},
        follow_redirects=False,
    )
    assert refused.status_code == 409
    # The refused product is named at the top (it may be on another page of the list).
    summary = refused.text[refused.text.index('class="refusals"') :]
    assert f"#{products[1].id} " in summary[: summary.index("</ul>")]
    db.expire_all()
    assert db.get(Product, products[0].id).status is ProductStatus.active
    bad = client.post(
        "/merchant/products/bulk",
        data={
            "product_ids": picked,
            "bulk_action": "stock",
            "bulk_value": "-1",
            "back": "/merchant/products?page=2",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert bad.status_code == 422, bad.text[:300]
    bar = bad.text[bad.text.index('class="bulk-bar"') :]
    assert 'value="-1"' in bar[: bar.index("</fieldset>")]
    # Back on the page it came from, with the same rows ticked.
    assert f'value="{products[0].id}" id="sel-{products[0].id}" checked' in bad.text


def test_csv_page_import_errors_and_export(client, db, world):
    web_login(client, world.email)
    token = form_token(client, "/merchant/products/csv")
    header = "product,title_zh,title_en,category,price,stock"
    bad = f"{header}\nnew-a,杯子,Cup,{world.leaf.slug},abc,1\n"
    response = client.post(
        "/merchant/products/csv",
        data={"csrf_token": token},
        files={"file": ("p.csv", bad.encode(), "text/csv")},
    )
    assert response.status_code == 422
    assert re.search(r"<td>2</td><td><code>price</code></td><td>价格要写成元", response.text)
    good = f"{header}\nnew-a,杯子,Cup,{world.leaf.slug},12.5,3\n"
    response = client.post(
        "/merchant/products/csv",
        data={"csrf_token": token},
        files={"file": ("p.csv", good.encode(), "text/csv")},
    )
    assert response.status_code == 200 and "新建 1 件" in response.text
    exported = client.get("/merchant/products/csv/export")
    assert exported.status_code == 200 and "杯子,Cup" in exported.content.decode("utf-8-sig")
    assert db.scalars(select(Sku.price_fen)).one() == 1250


def test_the_pages_speak_english_too(client, db, world):
    make_product(db, db.get(Shop, world.shop_id))
    web_login(client, world.email)
    client.get("/locale?to=en&next=/merchant/products")
    listing = client.get("/merchant/products").text
    assert "New product" in listing and "Change the ticked products" in listing and "1 product" in listing
    editor = client.get("/merchant/products/new").text
    assert "Generate rows" in editor and "Save and put on sale" in editor and "Option 1 name" in editor
    assert "Import and export" in client.get("/merchant/products/csv").text
