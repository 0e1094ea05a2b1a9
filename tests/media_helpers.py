"""Builders for media tests: images with EXIF, tiny videos made by ffmpeg, a store that fails on cue."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

from PIL import Image

from zhongcao.media.storage import LocalStorage

CAMERA_MAKE = "SecretCam"
GPS_IFD = 0x8825
EXIF_MAKE = 0x010F
EXIF_ORIENTATION = 0x0112


def exif_jpeg(width: int, height: int, *, orientation: int = 1) -> bytes:
    """A JPEG whose EXIF names a camera, a GPS position and an orientation."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    # A distinct left half, so an orientation that was not applied shows in the pixels.
    image.paste((20, 20, 220), (0, 0, width // 2, height))
    exif = Image.Exif()
    exif[EXIF_MAKE] = CAMERA_MAKE
    exif[EXIF_ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD)[2] = (39.0, 54.0, 27.0)  # GPSLatitude
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=90)
    return out.getvalue()


def png(width: int, height: int, mode: str = "RGBA") -> bytes:
    colour: tuple[int, ...] | int = (10, 200, 10, 128) if mode == "RGBA" else 1  # "1" or "L"
    out = io.BytesIO()
    Image.new(mode, (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def tiny_video(path: Path, *, seconds: float = 1.0, webm: bool = False) -> bytes:
    """A short test-pattern video with sound, made by ffmpeg (H.264/AAC MP4 or VP8/Vorbis WebM)."""
    codecs = (
        ["-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libvorbis", "-f", "webm"]
        if webm
        else ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "mp4"]
    )
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-nostdin", "-y",
            "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10",
            "-f", "lavfi", "-i", "sine=frequency=440",
            "-t", str(seconds), "-shortest",
            "-metadata", f"comment={CAMERA_MAKE}",
            *codecs, str(path),
        ],
        check=True,
        timeout=60,
    )  # fmt: skip
    return path.read_bytes()


class FailingStorage(LocalStorage):
    """A local store whose ``fail_on``-th write fails, as a bucket might midway through an upload."""

    def __init__(self, root: Path, fail_on: int) -> None:
        super().__init__(root)
        self.fail_on = fail_on
        self.puts = 0

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.puts += 1
        if self.puts == self.fail_on:
            raise ConnectionError("the store went away")
        super().put(key, data, content_type)


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())
