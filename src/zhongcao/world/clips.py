"""Short demo clips, so that the demo world's short videos play: one clip per cover palette, made at
build time from the generated cover art (no network), stored through media storage like any upload,
and linked to every short video whose cover has that palette (so the clip looks like its card).

A clip is the cover's gradient and soft shapes, drawn with Pillow (no SVG rasteriser is needed), made
into a few seconds of H.264 by ffmpeg with a slow zoom and a fade in and out. Twelve clips of three
seconds take a few seconds to make; without ffmpeg nothing is made and the videos show their cover
art, as before (``zhongcao check`` says how to install it).
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter
from sqlalchemy import select

from zhongcao.config import Settings
from zhongcao.content import live as content_live
from zhongcao.content.models import Content, ContentKind, ContentVideo
from zhongcao.db import Database
from zhongcao.media import service as media_service
from zhongcao.media import videos
from zhongcao.media.storage import storage_from_settings
from zhongcao.users import service as users_service
from zhongcao.web.cover import PALETTES, palette_index
from zhongcao.world.generate import demo_logins

CLIP_SECONDS = 3
CLIP_SIZE = (360, 450)  # 4:5, the feed card's shape
FPS = 24
LINK_CHUNK = 5000


@dataclass(frozen=True)
class ClipsResult:
    made: int  # clips made and stored
    linked: int  # short videos that now play one
    note: str = ""  # why nothing was made, when nothing was


def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def cover_frame(index: int, size: tuple[int, int]) -> Image.Image:
    """The cover art of palette ``index`` (cover.py's gradient and two soft circles), at ``size``."""
    top, bottom = (_hex(c) for c in PALETTES[index])
    width, height = size
    frame = Image.new("RGB", size)
    draw = ImageDraw.Draw(frame)
    for y in range(height):  # the diagonal gradient, approximated row by row
        t = y / max(height - 1, 1)
        draw.line(
            [(0, y), (width, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        )
    shapes = Image.new("RGBA", size, (0, 0, 0, 0))
    ring = ImageDraw.Draw(shapes)
    r1, r2 = width // 3, width // 4
    ring.ellipse(
        [width * 0.55 - r1, height * 0.25 - r1, width * 0.55 + r1, height * 0.25 + r1],
        fill=(255, 255, 255, 46),
    )
    ring.ellipse(
        [width * 0.2 - r2, height * 0.65 - r2, width * 0.2 + r2, height * 0.65 + r2], fill=(255, 255, 255, 36)
    )
    frame.paste(
        shapes.filter(ImageFilter.GaussianBlur(2)), (0, 0), shapes.filter(ImageFilter.GaussianBlur(2))
    )
    return frame


def render_clip(index: int, out: Path) -> None:
    """A CLIP_SECONDS H.264 MP4 of palette ``index``: the art slowly zooming, fading in and out."""
    still = out.with_suffix(".png")
    cover_frame(index, (CLIP_SIZE[0] * 2, CLIP_SIZE[1] * 2)).save(still)
    frames = CLIP_SECONDS * FPS
    zoom = f"zoompan=z='1+0.12*on/{frames}':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d={frames}:s={CLIP_SIZE[0]}x{CLIP_SIZE[1]}:fps={FPS}"
    fades = f"fade=in:0:{FPS // 2},fade=out:{frames - FPS // 2}:{FPS // 2},format=yuv420p"
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-nostdin", "-y", "-i", str(still),
            "-vf", f"{zoom},{fades}", "-frames:v", str(frames),
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "26", "-movflags", "+faststart",
            "-f", "mp4", str(out),
        ],
        check=True,
        timeout=120,
    )  # fmt: skip


def add_demo_clips(database: Database, settings: Settings) -> ClipsResult:
    """Make the clips and link them to the world's short videos, once: a world whose videos already
    play is left as it is."""
    ok, why = videos.tools_available()
    if not ok:
        return ClipsResult(0, 0, note=why)
    with database.session() as db:
        if db.scalar(select(ContentVideo.content_id).limit(1)) is not None:
            return ClipsResult(0, 0)  # made when the world was built
        operator = users_service.get_by_email(db, demo_logins()[-1].email)
        if operator is None:
            return ClipsResult(0, 0, note="no demo world here")
        storage = storage_from_settings(settings)
        uploader = media_service.Uploader(user_id=operator.id)
        clip_of_palette: dict[int, int] = {}
        with tempfile.TemporaryDirectory(prefix="zhongcao-clips-") as tmp:
            for index in range(len(PALETTES)):
                path = Path(tmp) / f"clip-{index}.mp4"
                render_clip(index, path)
                clip_of_palette[index] = media_service.upload_video(db, storage, settings, uploader, path).id
        rows = db.execute(
            select(Content.id, Content.topic, Content.title_zh).where(Content.kind == ContentKind.short_video)
        ).all()
        pairs = [(cid, clip_of_palette[palette_index(topic or title)]) for cid, topic, title in rows]
        linked = 0
        for i in range(0, len(pairs), LINK_CHUNK):
            linked += content_live.attach_videos_bulk(db, pairs[i : i + LINK_CHUNK])
            db.commit()
    return ClipsResult(len(clip_of_palette), linked)
