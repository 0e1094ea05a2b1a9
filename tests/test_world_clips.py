"""The demo world's clips: made by ffmpeg from the cover art, stored through media storage, linked to
every short video by its cover's palette, once; without ffmpeg nothing is made."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import PASSWORD
from tests.web_helpers import seed_world
from zhongcao.content.models import Content, ContentKind, ContentVideo
from zhongcao.media.models import Media
from zhongcao.users import service as users_service
from zhongcao.users.models import Role
from zhongcao.web.cover import PALETTES, palette_index
from zhongcao.world import clips
from zhongcao.world.generate import demo_logins


@pytest.fixture
def demo(db, settings, tmp_path):
    world = seed_world(db)
    users_service.create_user(
        db, email=demo_logins()[-1].email, password=PASSWORD, display_name="Ops", role=Role.operator
    )
    db.commit()
    return world, settings.model_copy(update={"media_dir": tmp_path / "media"})


@pytest.mark.slow  # twelve clips through ffmpeg and the upload checks: ~15 s here
def test_every_short_video_plays_the_clip_of_its_cover(database, db, demo):
    world, settings = demo
    result = clips.add_demo_clips(database, settings)
    assert result.made == len(PALETTES)
    db.expire_all()
    shorts = db.scalars(select(Content).where(Content.kind == ContentKind.short_video)).all()
    assert result.linked == len(shorts) > 0
    links = {v.content_id: v.media_id for v in db.scalars(select(ContentVideo))}
    by_palette: dict[int, set[int]] = {}
    for content in shorts:
        by_palette.setdefault(palette_index(content.topic or content.title_zh), set()).add(links[content.id])
    assert all(len(media) == 1 for media in by_palette.values())  # one clip per palette
    media = db.get(Media, links[shorts[0].id])
    assert (media.source_type, media.width, media.height) == ("video/mp4", *clips.CLIP_SIZE)
    assert media.duration_ms == pytest.approx(clips.CLIP_SECONDS * 1000, abs=200)
    assert any((settings.media_dir / "video").rglob("*.mp4"))
    # Once only: a second run makes nothing.
    db.commit()  # SQLite: the test's own read would hold the one write lock
    assert clips.add_demo_clips(database, settings) == clips.ClipsResult(0, 0)
    assert db.scalar(select(func.count()).select_from(Media)) == len(PALETTES)


def test_without_ffmpeg_nothing_is_made(database, db, demo, monkeypatch):
    _, settings = demo
    monkeypatch.setattr(clips.videos, "tools_available", lambda: (False, "ffmpeg not found"))
    result = clips.add_demo_clips(database, settings)
    assert (result.made, result.linked, result.note) == (0, 0, "ffmpeg not found")
    assert db.scalar(select(func.count()).select_from(Media)) == 0


def test_a_clip_frame_is_the_cover_palette():
    frame = clips.cover_frame(3, (40, 50))
    top, bottom = PALETTES[3]
    assert frame.getpixel((0, 0)) == tuple(int(top[i : i + 2], 16) for i in (1, 3, 5))
    assert frame.getpixel((39, 49)) == tuple(int(bottom[i : i + 2], 16) for i in (1, 3, 5))
