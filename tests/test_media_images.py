"""Image uploads: decoded by Pillow, EXIF gone, WebP at a few widths, limits as clean 4xx, nothing partial."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.conftest import SessionAwareClient
from tests.factories import add_staff, auth, make_shop, make_user
from tests.media_helpers import (
    CAMERA_MAKE,
    FailingStorage,
    exif_jpeg,
    png,
    stored_files,
)
from zhongcao.api import create_app
from zhongcao.errors import InvalidInput
from zhongcao.media import service
from zhongcao.media.models import Media, MediaObject
from zhongcao.media.storage import LocalStorage
from zhongcao.shops.models import StaffRole
from zhongcao.users.models import Role


@pytest.fixture
def store(app, tmp_path) -> LocalStorage:
    storage = LocalStorage(tmp_path / "media")
    app.state.media_storage = storage
    return storage


def _upload(client, headers, data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return client.post("/api/media/images", headers=headers, files={"file": (name, data, content_type)})


def _counts(db) -> tuple[int, int]:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Media)), db.scalar(
        select(func.count()).select_from(MediaObject)
    )


def test_jpeg_with_exif_becomes_webp_sizes_without_exif(client, db, store):
    user = make_user(db, Role.shopper)
    response = _upload(client, auth(db, user), exif_jpeg(2000, 1000))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["kind"], body["source_type"], body["width"], body["height"]) == (
        "image",
        "image/jpeg",
        2000,
        1000,
    )
    assert body["owner_id"] == user.id and body["shop_id"] is None
    sizes = [(o["variant"], o["width"], o["height"], o["content_type"]) for o in body["objects"]]
    assert sizes == [
        ("w1080", 1080, 540, "image/webp"),
        ("w540", 540, 270, "image/webp"),
        ("w240", 240, 120, "image/webp"),
    ]
    assert body["url"] == body["objects"][0]["url"]
    assert body["size_bytes"] == sum(o["size_bytes"] for o in body["objects"])
    for obj in body["objects"]:
        served = client.get(obj["url"])
        assert served.status_code == 200
        data = served.content
        assert len(data) == obj["size_bytes"]
        image = Image.open(io.BytesIO(data))
        assert image.format == "WEBP" and image.size == (obj["width"], obj["height"])
        assert "exif" not in image.info and not image.getexif()
        assert b"Exif" not in data and CAMERA_MAKE.encode() not in data


def test_orientation_is_applied_before_the_exif_goes(client, db, store):
    # Orientation 6: the camera held sideways; the stored pixels must be upright (taller than wide).
    response = _upload(client, auth(db, make_user(db)), exif_jpeg(400, 200, orientation=6))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["width"], body["height"]) == (200, 400)
    assert [(o["width"], o["height"]) for o in body["objects"]] == [(200, 400)]
    # A large one is decoded at a reduced scale (JPEG draft): still upright, still full width.
    response = _upload(client, auth(db, make_user(db)), exif_jpeg(4400, 2200, orientation=6))
    body = response.json()
    assert (body["width"], body["height"]) == (2200, 4400)
    assert [(o["width"], o["height"]) for o in body["objects"]] == [(1080, 2160), (540, 1080), (240, 480)]
    upright = Image.open(io.BytesIO(client.get(body["url"]).content)).convert("RGB")
    # The blue left half of the sideways original is the top half once upright.
    assert upright.getpixel((540, 100))[2] > 150 and upright.getpixel((540, 2000))[0] > 150


def test_small_png_is_never_upscaled_and_keeps_its_transparency(client, db, store):
    response = _upload(client, auth(db, make_user(db)), png(300, 200), "icon.png", "image/png")
    assert response.status_code == 201, response.text
    objects = response.json()["objects"]
    assert [(o["variant"], o["width"], o["height"]) for o in objects] == [
        ("w300", 300, 200),
        ("w240", 240, 160),
    ]
    image = Image.open(io.BytesIO(client.get(objects[0]["url"]).content))
    assert image.mode == "RGBA"


@pytest.mark.parametrize(
    "data",
    [
        b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
        b"GIF89a but then nothing",
        b"",
        exif_jpeg(600, 400)[:1500],  # truncated: the header is fine, the pixels are not all there
    ],
    ids=["svg", "garbage", "empty", "truncated-jpeg"],
)
def test_what_does_not_decode_is_a_422_and_nothing_is_kept(client, db, store, data):
    response = _upload(client, auth(db, make_user(db)), data)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["details"]["field"]) == ("invalid_image", "file")
    assert _counts(db) == (0, 0)
    assert stored_files(store.root) == []


def test_too_many_pixels_is_refused_before_decoding(client, db, store):
    # 12,000 × 12,000 one-bit pixels compress to a few kilobytes: a decompression bomb in miniature.
    bomb = png(12_000, 12_000, mode="1")
    assert len(bomb) < 100_000
    response = _upload(client, auth(db, make_user(db)), bomb, "bomb.png", "image/png")
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "too_many_pixels"
    assert error["details"] == {"field": "file", "width": 12_000, "height": 12_000, "max_pixels": 40_000_000}
    assert _counts(db) == (0, 0)
    assert stored_files(store.root) == []


def test_too_many_bytes_is_a_413(app, client, db, store):
    app.state.settings = app.state.settings.model_copy(update={"media_max_image_bytes": 2048})
    response = _upload(client, auth(db, make_user(db)), exif_jpeg(300, 300) + b"\0" * 4096)
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    assert error["details"] == {"field": "file", "limit": "file", "max_bytes": 2048}
    assert _counts(db) == (0, 0)


def test_upload_routes_have_their_own_body_limit(settings, database, db, tmp_path):
    """The app's 1 MiB body limit does not apply to uploads; theirs does, on Content-Length and while
    the body streams in (a chunked upload declares no length)."""
    settings = settings.model_copy(update={"media_max_image_bytes": 3 * 1_048_576})
    app = create_app(settings=settings, database=database)
    app.state.media_storage = LocalStorage(tmp_path / "media")
    headers = auth(db, make_user(db))
    noisy = Image.frombytes("RGB", (800, 600), bytes(range(256)) * (800 * 600 * 3 // 256))
    out = io.BytesIO()
    noisy.save(out, format="BMP")
    big = out.getvalue()  # 1.4 MB: over the app's default limit, under the image limit
    assert 1_048_576 < len(big) < 3 * 1_048_576
    with SessionAwareClient(app, db) as client:
        ok = _upload(client, headers, png(50, 50) + b"", "x.png", "image/png")
        assert ok.status_code == 201
        bmp = _upload(client, headers, big, "big.bmp", "image/bmp")
        # BMP is not an accepted format: the body got through the size limit and was refused on content.
        assert bmp.status_code == 422 and bmp.json()["error"]["code"] == "invalid_image"
        huge = b"\0" * (3 * 1_048_576 + 100_000)
        declared = _upload(client, headers, huge)
        assert declared.status_code == 413 and declared.json()["error"]["code"] == "payload_too_large"
        assert declared.json()["error"]["details"] == {"limit": "request body"}  # refused by the middleware

        boundary = "zhongcaoboundary"

        def chunks():
            yield (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
                "Content-Type: image/jpeg\r\n\r\n"
            ).encode()
            for _ in range(4):
                yield b"\0" * 1_048_576
            yield f"\r\n--{boundary}--\r\n".encode()

        streamed = client.post(
            "/api/media/images",
            headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
            content=chunks(),
        )
        assert streamed.status_code == 413, streamed.text
        assert streamed.json()["error"]["code"] == "payload_too_large"
        assert "content-length" not in streamed.request.headers
        # The middleware stopped reading at its limit (the view would have named the file field).
        assert streamed.json()["error"]["message"].startswith("request body is larger than")
        # Other routes keep the app's limit.
        other = client.post("/api/auth/login", content=b"{" + b" " * 1_100_000 + b"}", headers=headers)
        assert other.status_code == 413
    assert _counts(db) == (1, 1)


def test_served_files_are_immutable_typed_and_never_sniffed(client, db, store):
    body = _upload(client, auth(db, make_user(db)), exif_jpeg(300, 200)).json()
    served = client.get(body["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/webp"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert client.head(body["url"]).status_code == 200
    assert client.get(body["url"] + "x").status_code == 404
    for path in ["/media/../../etc/passwd", "/media/%2e%2e/%2e%2e/etc/passwd", "/media/image", "/media/"]:
        assert client.get(path).status_code == 404, path
    # A file in the folder that no record names (dropped there by hand) is not served.
    (store.root / "image" / "stray").mkdir(parents=True)
    (store.root / "image" / "stray" / "page.html").write_text("<script>alert(1)</script>")
    assert client.get("/media/image/stray/page.html").status_code == 404


def test_owner_and_shop_see_and_delete_others_do_not(client, db, store):
    bundle = make_shop(db)
    agent = add_staff(db, bundle.shop, StaffRole.service_agent)
    operator = add_staff(db, bundle.shop, StaffRole.operator)
    stranger = make_user(db)
    other_shop = make_shop(db)
    body = _upload(client, auth(db, agent), exif_jpeg(300, 200)).json()
    assert body["shop_id"] == bundle.shop.id and body["owner_id"] == agent.id
    path = f"/api/media/{body['id']}"
    assert client.get(path).status_code == 401
    for user in (agent, operator, bundle.owner):
        assert client.get(path, headers=auth(db, user)).json()["id"] == body["id"]
    for user in (stranger, other_shop.owner):
        response = client.get(path, headers=auth(db, user))
        assert response.status_code == 404 and response.json()["error"]["code"] == "media_not_found"
        assert client.delete(path, headers=auth(db, user)).status_code == 404

    own = _upload(client, auth(db, operator), png(100, 100), "a.png", "image/png").json()
    refused = client.delete(f"/api/media/{own['id']}", headers=auth(db, agent))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "wrong_shop_role"

    assert len(stored_files(store.root)) == 3
    assert client.delete(path, headers=auth(db, operator)).status_code == 204
    assert client.get(path, headers=auth(db, agent)).status_code == 404
    assert client.get(body["url"]).status_code == 404
    assert len(stored_files(store.root)) == 1
    assert _counts(db) == (1, 1)
    assert client.get("/api/media/0", headers=auth(db, agent)).status_code == 422


def test_a_store_failure_midway_keeps_nothing(app, client, db, tmp_path):
    store = FailingStorage(tmp_path / "media", fail_on=2)
    app.state.media_storage = store
    response = _upload(client, auth(db, make_user(db)), exif_jpeg(2000, 1000))
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "media_storage_unavailable"
    assert store.puts == 2
    assert stored_files(store.root) == []
    assert _counts(db) == (0, 0)


def test_a_database_failure_removes_the_objects_already_written(app, db, tmp_path):
    store = LocalStorage(tmp_path / "media")
    ghost = service.Uploader(user_id=987_654)  # no such user: the row's foreign key fails at commit
    with pytest.raises(Exception, match="(?i)foreign key"):
        service.upload_image(db, store, app.state.settings, ghost, exif_jpeg(1200, 600))
    assert stored_files(store.root) == []
    assert _counts(db) == (0, 0)


def _encoded(image: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def _half_transparent_palette() -> Image.Image:
    image = Image.new("P", (50, 40), 0)
    image.putpalette([0, 0, 0, 255, 0, 0])
    image.paste(1, (0, 0, 25, 40))
    return image


@pytest.mark.parametrize(
    ("data", "mode"),
    [
        (_encoded(Image.new("CMYK", (50, 40), (0, 100, 0, 0)), "JPEG"), "RGB"),
        (_encoded(Image.new("I;16", (50, 40), 300), "PNG"), "RGB"),
        (_encoded(Image.new("1", (50, 40), 1), "PNG"), "RGB"),
        (_encoded(Image.new("LA", (50, 40), (3, 4)), "PNG"), "RGBA"),
        (_encoded(_half_transparent_palette(), "PNG", transparency=0), "RGBA"),
        (
            _encoded(
                Image.new("P", (50, 40), 3), "GIF", save_all=True, append_images=[Image.new("P", (50, 40), 5)]
            ),
            "RGB",
        ),
    ],
    ids=[
        "cmyk-jpeg",
        "16-bit-grey-png",
        "1-bit-png",
        "grey-alpha-png",
        "palette-transparent-png",
        "animated-gif",
    ],
)
def test_every_pixel_format_becomes_rgb_or_rgba_webp(app, db, tmp_path, data, mode):
    store = LocalStorage(tmp_path / "media")
    media = service.upload_image(db, store, app.state.settings, service.Uploader(make_user(db).id), data)
    stored = Image.open(store.local_path(media.objects[0].key))
    assert (stored.format, stored.mode, stored.size) == ("WEBP", mode, (50, 40))


def test_a_strip_too_long_for_webp_keeps_its_narrow_sizes_or_is_refused(app, db, tmp_path):
    store = LocalStorage(tmp_path / "media")
    uploader = service.Uploader(make_user(db).id)
    # 600 × 30,000: at 540 wide it would be 27,000 tall (more than WebP holds); at 240 wide, 12,000.
    media = service.upload_image(db, store, app.state.settings, uploader, png(600, 30_000, mode="L"))
    assert [(o.variant, o.width, o.height) for o in media.objects] == [("w240", 240, 12_000)]
    with pytest.raises(InvalidInput) as refused:
        service.upload_image(db, store, app.state.settings, uploader, png(100, 200_000, mode="L"))
    assert refused.value.code == "unsupported_dimensions"


def test_an_upload_without_a_file_is_a_validation_error(client, db, store):
    response = client.post("/api/media/images", headers=auth(db, make_user(db)), data={"other": "x"})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == "file"
