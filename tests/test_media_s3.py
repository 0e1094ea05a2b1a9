"""The S3 store against moto's S3 server (a local emulator from PyPI), through the same API as the folder."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import boto3
import httpx
import pytest
from sqlalchemy import func, select

from tests.factories import auth, make_user
from tests.media_helpers import exif_jpeg, tiny_video
from zhongcao.config import Settings
from zhongcao.media.models import Media
from zhongcao.media.storage import S3Storage, storage_from_settings

BUCKET = "zhongcao-media-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(app, s3_endpoint, monkeypatch) -> S3Storage:
    # Credentials come from the usual AWS environment, as in production.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings = Settings(
        database_url="sqlite://",
        media_backend="s3",
        media_s3_bucket=BUCKET,
        media_s3_endpoint_url=s3_endpoint,
        media_s3_region="us-east-1",
    )
    storage = storage_from_settings(settings)
    assert isinstance(storage, S3Storage)
    bucket = boto3.resource("s3", endpoint_url=s3_endpoint, region_name="us-east-1").Bucket(BUCKET)
    if not bucket.creation_date:
        bucket.create()
    bucket.objects.all().delete()
    app.state.media_storage = storage
    return storage


def _keys(storage: S3Storage) -> list[str]:
    listed = storage.client.list_objects_v2(Bucket=storage.bucket)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def test_upload_serve_and_delete_on_s3(client, db, s3):
    headers = auth(db, make_user(db))
    response = client.post(
        "/api/media/images", headers=headers, files={"file": ("a.jpg", exif_jpeg(1200, 600))}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    keys = [o["url"].removeprefix("/media/") for o in body["objects"]]
    assert _keys(s3) == sorted(keys) and len(keys) == 3
    head = s3.client.head_object(Bucket=s3.bucket, Key=keys[0])
    assert head["ContentType"] == "image/webp"
    assert head["CacheControl"] == "public, max-age=31536000, immutable"

    served = client.get(body["url"], follow_redirects=False)
    assert served.status_code == 307
    assert served.headers["cache-control"] == "private, max-age=1800"
    assert served.headers["x-content-type-options"] == "nosniff"
    fetched = httpx.get(served.headers["location"])
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/webp"
    assert len(fetched.content) == body["objects"][0]["size_bytes"]

    assert client.delete(f"/api/media/{body['id']}", headers=headers).status_code == 204
    assert _keys(s3) == []
    assert client.get(body["url"], follow_redirects=False).status_code == 404


def test_a_public_base_url_gets_a_cacheable_redirect(client, db, s3):
    s3.public_base_url = "https://cdn.example.com/media"
    body = client.post(
        "/api/media/images", headers=auth(db, make_user(db)), files={"file": ("a.jpg", exif_jpeg(300, 200))}
    ).json()
    served = client.get(body["url"], follow_redirects=False)
    assert served.status_code == 307
    assert served.headers["location"] == "https://cdn.example.com/media/" + body["url"].removeprefix(
        "/media/"
    )
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_a_failed_upload_leaves_no_object_in_the_bucket(client, db, s3, monkeypatch, tmp_path):
    real_put = s3.client.put_object
    calls = []

    def flaky_put(**kwargs):
        calls.append(kwargs["Key"])
        if len(calls) == 2:
            raise ConnectionError("the bucket went away")
        return real_put(**kwargs)

    monkeypatch.setattr(s3.client, "put_object", flaky_put)
    response = client.post(
        "/api/media/videos",
        headers=auth(db, make_user(db)),
        files={"file": ("c.mp4", tiny_video(tmp_path / "c.mp4"))},
    )
    assert response.status_code == 503, response.text
    assert len(calls) == 2
    assert _keys(s3) == []
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Media)) == 0


def test_s3_needs_a_bucket():
    with pytest.raises(ValueError, match="ZHONGCAO_MEDIA_S3_BUCKET"):
        storage_from_settings(Settings(database_url="sqlite://", media_backend="s3"))
