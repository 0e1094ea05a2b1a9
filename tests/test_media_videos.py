"""Video uploads: checked by ffprobe, remuxed without metadata, a poster frame as WebP, limits as 4xx."""

from __future__ import annotations

import io
import subprocess

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.factories import auth, make_user
from tests.media_helpers import CAMERA_MAKE, exif_jpeg, stored_files, tiny_video
from zhongcao.errors import InvalidInput
from zhongcao.media import videos
from zhongcao.media.models import Media, MediaObject
from zhongcao.media.storage import LocalStorage


@pytest.fixture
def store(app, tmp_path) -> LocalStorage:
    storage = LocalStorage(tmp_path / "media")
    app.state.media_storage = storage
    return storage


def _upload(client, headers, data: bytes, name: str = "clip.mp4", content_type: str = "video/mp4"):
    return client.post("/api/media/videos", headers=headers, files={"file": (name, data, content_type)})


def _counts(db) -> tuple[int, int]:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Media)), db.scalar(
        select(func.count()).select_from(MediaObject)
    )


def _probe_tags(data: bytes, tmp_path) -> dict:
    path = tmp_path / "probe.bin"
    path.write_bytes(data)
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", str(path)],
        capture_output=True,
        check=True,
    )
    import json

    return json.loads(out.stdout)["format"].get("tags", {})


@pytest.mark.slow  # makes two videos and runs ffprobe and ffmpeg three times each: ~3 s a case here
@pytest.mark.parametrize("webm", [False, True], ids=["mp4", "webm"])
def test_a_video_is_kept_with_a_poster(client, db, store, tmp_path, webm):
    source = tiny_video(tmp_path / ("clip.webm" if webm else "clip.mp4"), webm=webm)
    assert CAMERA_MAKE in str(_probe_tags(source, tmp_path))
    response = _upload(client, auth(db, make_user(db)), source)
    assert response.status_code == 201, response.text
    body = response.json()
    content_type = "video/webm" if webm else "video/mp4"
    assert (body["kind"], body["source_type"], body["width"], body["height"]) == (
        "video",
        content_type,
        160,
        120,
    )
    assert 900 <= body["duration_ms"] <= 1100
    variants = [(o["variant"], o["content_type"], o["width"], o["height"]) for o in body["objects"]]
    assert variants == [("video", content_type, 160, 120), ("poster-w160", "image/webp", 160, 120)]
    assert body["url"].endswith(".webm" if webm else ".mp4")
    assert body["poster_url"] == body["objects"][1]["url"]

    served = client.get(body["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == content_type
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert CAMERA_MAKE not in str(_probe_tags(served.content, tmp_path))  # the metadata is gone
    ranged = client.get(body["url"], headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and len(ranged.content) == 100
    poster = Image.open(io.BytesIO(client.get(body["poster_url"]).content))
    assert poster.format == "WEBP" and poster.size == (160, 120)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\x00\x00\x00\x18ftypmp42 and then rubbish" * 10, "invalid_video"),
        (b"<html><script>alert(1)</script></html>", "invalid_video"),
        (exif_jpeg(64, 64), "invalid_video"),  # a still image is not a video
        # A playlist naming a local file: ffprobe must not follow it (only the upload is opened).
        (
            b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:1.0,\n/etc/hostname\n#EXT-X-ENDLIST\n",
            "invalid_video",
        ),
    ],
    ids=["broken-mp4", "html", "jpeg", "hls-playlist"],
)
def test_what_is_not_a_video_is_a_422_and_nothing_is_kept(client, db, store, data, code):
    response = _upload(client, auth(db, make_user(db)), data)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["details"]["field"]) == (code, "file")
    assert _counts(db) == (0, 0)
    assert stored_files(store.root) == []


@pytest.mark.slow  # ffmpeg makes a video, ffprobe reads it three times: ~3 s a case here
def test_video_limits_length_pixels_and_bytes(app, client, db, store, tmp_path):
    source = tiny_video(tmp_path / "clip.mp4", seconds=2)
    headers = auth(db, make_user(db))
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"media_max_video_seconds": 1.0})
    too_long = _upload(client, headers, source)
    assert too_long.status_code == 422
    assert too_long.json()["error"]["code"] == "video_too_long"
    assert too_long.json()["error"]["details"]["max_seconds"] == 1.0

    app.state.settings = settings.model_copy(update={"media_max_video_pixels": 160 * 120 - 1})
    too_wide = _upload(client, headers, source)
    assert too_wide.status_code == 422
    assert too_wide.json()["error"]["details"] == {
        "field": "file",
        "width": 160,
        "height": 120,
        "max_pixels": 160 * 120 - 1,
    }

    app.state.settings = settings.model_copy(update={"media_max_video_bytes": len(source) - 1})
    too_big = _upload(client, headers, source)
    assert too_big.status_code == 413
    assert too_big.json()["error"]["details"] == {
        "field": "file",
        "limit": "file",
        "max_bytes": len(source) - 1,
    }
    assert _counts(db) == (0, 0)
    assert stored_files(store.root) == []


def test_without_ffmpeg_videos_are_a_clear_503(client, db, store, tmp_path, monkeypatch):
    monkeypatch.setattr(videos.shutil, "which", lambda name: None)
    response = _upload(client, auth(db, make_user(db)), tiny_video(tmp_path / "clip.mp4"))
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "video_processing_unavailable" and error["details"] == {"tool": "ffprobe"}
    assert videos.tools_available()[0] is False
    assert "apt-get install ffmpeg" in videos.tools_available()[1]
    assert _counts(db) == (0, 0)


def test_a_playlist_posing_as_a_video_is_not_followed(tmp_path):
    """Without the input guard ffprobe would read this HLS playlist and the real video it names."""
    real = tmp_path / "real.mp4"
    tiny_video(real)
    playlist = tmp_path / "upload"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:1.0,\n{real}\n#EXT-X-ENDLIST\n")
    with pytest.raises(InvalidInput) as refused:
        videos.probe(playlist)
    assert refused.value.code == "invalid_video"
    assert videos.probe(real)["format"]["format_name"].startswith("mov,mp4")
