"""Video validation with ffprobe, a clean remux and a poster frame with ffmpeg (Debian's ``ffmpeg``).

Pure apart from the two programs: a file path in, the cleaned video bytes and a poster frame (PNG) out.
The video is remuxed, never re-encoded: its streams are copied into a fresh container with the
metadata (GPS position, device names) dropped and, for MP4, the index moved to the front so playback
starts before the whole file arrives.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zhongcao.errors import DomainError, InvalidInput

FIELD = "file"
PROBE_TIMEOUT_S = 30
FFMPEG_TIMEOUT_S = 120
MP4_VIDEO_CODECS = {"h264", "hevc", "av1"}
MP4_AUDIO_CODECS = {"aac", "mp3", "opus"}
WEBM_VIDEO_CODECS = {"vp8", "vp9", "av1"}
WEBM_AUDIO_CODECS = {"opus", "vorbis"}
# Untrusted input: ffmpeg may open only the one local file and only the containers we accept. A
# playlist (HLS, concat) posing as a video would otherwise make it read other files or fetch URLs.
INPUT_GUARD = ["-protocol_whitelist", "file", "-format_whitelist", "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm"]


class MediaToolMissing(DomainError):
    """ffmpeg/ffprobe are not installed: the server cannot check videos (503, not the client's fault)."""

    status_code = 503
    code = "video_processing_unavailable"


@dataclass(frozen=True)
class VideoLimits:
    max_pixels: int
    max_seconds: float


@dataclass(frozen=True)
class ProcessedVideo:
    content_type: str
    extension: str
    width: int
    height: int
    duration_ms: int
    data: bytes
    poster_png: bytes


def tools_available() -> tuple[bool, str]:
    """Whether ffprobe and ffmpeg are on PATH, in words for ``zhongcao check``."""
    missing = [name for name in ("ffprobe", "ffmpeg") if shutil.which(name) is None]
    if missing:
        return False, (
            f"{' and '.join(missing)} not found: video uploads answer 503 "
            "(install Debian's `ffmpeg` package: apt-get install ffmpeg)"
        )
    return True, "ffmpeg and ffprobe found: video uploads are checked and get posters"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise MediaToolMissing(
            f"{name} is not installed on this server, so videos cannot be checked; images still work",
            details={"tool": name},
        )
    return path


def _not_a_video(reason: str, **details: Any) -> InvalidInput:
    return InvalidInput(
        f"the file is not a usable video: {reason}", code="invalid_video", field=FIELD, details=details
    )


def probe(path: Path) -> dict[str, Any]:
    try:
        result = subprocess.run(
            [
                _tool("ffprobe"),
                "-v",
                "error",
                *INPUT_GUARD,
                "-print_format",
                "json",
                "-show_format",
                "-show_streams",
                str(path),
            ],
            capture_output=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise _not_a_video("it could not be read in time") from exc
    if result.returncode != 0:
        raise _not_a_video("unrecognised or damaged file")
    try:
        info: dict[str, Any] = json.loads(result.stdout)
    except ValueError as exc:
        raise _not_a_video("unrecognised or damaged file") from exc
    return info


def _container(info: dict[str, Any], video_codec: str, audio_codecs: set[str]) -> tuple[str, str, str]:
    """(content type, extension, ffmpeg muxer) for the probed file, or a 422 naming what is wrong."""
    fmt = info.get("format", {})
    names = set(str(fmt.get("format_name", "")).split(","))
    if "mp4" in names or "mov" in names:
        if video_codec not in MP4_VIDEO_CODECS or not audio_codecs <= MP4_AUDIO_CODECS:
            raise _not_a_video(
                "MP4/MOV videos must be H.264, HEVC or AV1 with AAC, MP3 or Opus sound",
                video_codec=video_codec,
                audio_codecs=sorted(audio_codecs),
            )
        return "video/mp4", "mp4", "mp4"
    if "webm" in names or "matroska" in names:
        if video_codec not in WEBM_VIDEO_CODECS or not audio_codecs <= WEBM_AUDIO_CODECS:
            raise _not_a_video(
                "WebM videos must be VP8, VP9 or AV1 with Opus or Vorbis sound",
                video_codec=video_codec,
                audio_codecs=sorted(audio_codecs),
            )
        return "video/webm", "webm", "webm"
    raise _not_a_video("only MP4, MOV and WebM videos are accepted", format=str(fmt.get("format_name", "")))


def _run_ffmpeg(args: list[str], what: str) -> None:
    try:
        result = subprocess.run(
            [_tool("ffmpeg"), "-v", "error", "-nostdin", "-y", *args],
            capture_output=True,
            timeout=FFMPEG_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise _not_a_video(f"{what} took too long") from exc
    if result.returncode != 0:
        raise _not_a_video(f"{what} failed: the file is damaged")


def process_video(path: Path, limits: VideoLimits) -> ProcessedVideo:
    info = probe(path)
    streams = info.get("streams", [])
    videos = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")
    ]
    if not videos:
        raise _not_a_video("it has no video stream")
    video = videos[0]
    audio_codecs = {str(s.get("codec_name")) for s in streams if s.get("codec_type") == "audio"}
    content_type, extension, muxer = _container(info, str(video.get("codec_name")), audio_codecs)
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if width < 1 or height < 1:
        raise _not_a_video("the video has no picture size")
    if width * height > limits.max_pixels:
        raise InvalidInput(
            f"the video is {width}×{height} pixels; at most {limits.max_pixels:,} pixels a frame are accepted",
            code="too_many_pixels",
            field=FIELD,
            details={"width": width, "height": height, "max_pixels": limits.max_pixels},
        )
    try:
        duration = float(info.get("format", {}).get("duration") or video.get("duration") or 0)
    except ValueError:
        duration = 0.0
    if duration <= 0:
        raise _not_a_video("its length cannot be read")
    if duration > limits.max_seconds:
        raise InvalidInput(
            f"the video lasts {duration:.1f} s; at most {limits.max_seconds:g} s are accepted",
            code="video_too_long",
            field=FIELD,
            details={"duration_seconds": round(duration, 3), "max_seconds": limits.max_seconds},
        )
    with tempfile.TemporaryDirectory(prefix="zhongcao-video-") as tmp:
        cleaned = Path(tmp) / f"clean.{extension}"
        remux = [
            *INPUT_GUARD,
            "-i",
            str(path),
            "-map",
            "0:v:0",
            "-map",
            "0:a?",
            "-c",
            "copy",
            "-map_metadata",
            "-1",
        ]
        if muxer == "mp4":
            remux += ["-movflags", "+faststart"]
        _run_ffmpeg([*remux, "-f", muxer, str(cleaned)], "copying the video")
        poster = Path(tmp) / "poster.png"
        # A frame a little way in (the first is often black), within the video however short it is.
        at = min(1.0, duration / 2)
        _run_ffmpeg(
            [
                "-ss",
                f"{at:.3f}",
                *INPUT_GUARD,
                "-i",
                str(cleaned),
                "-frames:v",
                "1",
                "-f",
                "image2",
                "-c:v",
                "png",
                str(poster),
            ],
            "taking a poster frame",
        )
        if not poster.is_file() or poster.stat().st_size == 0:
            raise _not_a_video("no frame could be decoded")
        return ProcessedVideo(
            content_type=content_type,
            extension=extension,
            width=width,
            height=height,
            duration_ms=round(duration * 1000),
            data=cleaned.read_bytes(),
            poster_png=poster.read_bytes(),
        )
