"""How long one product photo takes to go through the media service: a ~5 MB camera JPEG, checked,
decoded, turned upright, stripped of metadata, encoded as WebP at 1080/540/240 px and stored.

Times :func:`zhongcao.media.service.upload_image` (what ``POST /api/media/images`` and the product
editor's form call) on a fresh SQLite database and a local media folder, ``--runs`` times, and prints
the median, the spread and the machine. The photo is generated (noise over gradients, so that JPEG
cannot squeeze it) at ``--megapixels`` until it is at least ``--megabytes``.

Usage:
    python benchmarks/bench_media_photo.py [--runs 15] [--megabytes 5] [--megapixels 12]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def make_photo(megapixels: float, megabytes: float, seed: int = 7) -> bytes:
    """A JPEG of about ``megapixels`` with enough detail to weigh at least ``megabytes``."""
    rng = np.random.default_rng(seed)
    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = int(width * 3 / 4)
    x = np.linspace(0, 255, width, dtype=np.float32)
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    base = np.stack([x + 0 * y, y + 0 * x, (x + y) / 2], axis=-1)
    quality = 60
    while True:
        noise = rng.normal(0, 40, (height, width, 3)).astype(np.float32)
        pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
        out = io.BytesIO()
        Image.fromarray(pixels, "RGB").save(out, format="JPEG", quality=quality)
        data = out.getvalue()
        if len(data) >= megabytes * 1_000_000 or quality >= 98:
            return data
        quality += 4


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--megabytes", type=float, default=5.0)
    parser.add_argument("--megapixels", type=float, default=12.0)
    args = parser.parse_args()

    from zhongcao import migrate
    from zhongcao.config import Settings
    from zhongcao.db import Database
    from zhongcao.media import service as media_service
    from zhongcao.media.storage import LocalStorage
    from zhongcao.users import service as users_service
    from zhongcao.users.models import Role

    photo = make_photo(args.megapixels, args.megabytes)
    with Image.open(io.BytesIO(photo)) as probe:
        size = probe.size
    with tempfile.TemporaryDirectory(prefix="bench-media-") as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        settings = Settings(database_url=url, media_dir=Path(tmp) / "media")
        database = Database(url)
        migrate.upgrade(database.engine)
        db = database.session()
        user = users_service.create_user(
            db, email="bench@bench.local", password="bench-password", display_name="bench", role=Role.merchant
        )
        uploader = media_service.Uploader(user_id=user.id)
        storage = LocalStorage(Path(tmp) / "media")
        media_service.upload_image(db, storage, settings, uploader, photo)  # warm-up: imports, caches
        times = []
        for _ in range(args.runs):
            began = time.perf_counter()
            media = media_service.upload_image(db, storage, settings, uploader, photo)
            times.append(time.perf_counter() - began)
        variants = sorted((o.variant, o.size_bytes) for o in media.objects)
        db.close()
        database.engine.dispose()

    ms = [t * 1000 for t in times]
    print("# Media: one product photo through media.service.upload_image\n")
    print(f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.processor() or 'unknown CPU'}")
    print(f"- python {platform.python_version()}, Pillow {Image.__version__}, {platform.platform()}")
    print(f"- photo: {size[0]}×{size[1]} JPEG, {len(photo) / 1_000_000:.2f} MB; runs: {args.runs}")
    print(f"- stored: {', '.join(f'{v} {b / 1000:.0f} kB' for v, b in variants)}\n")
    print("| median ms | min ms | max ms | p90 ms |")
    print("|---:|---:|---:|---:|")
    p90 = statistics.quantiles(ms, n=10)[-1] if len(ms) >= 2 else ms[0]
    print(f"| {statistics.median(ms):.0f} | {min(ms):.0f} | {max(ms):.0f} | {p90:.0f} |")


if __name__ == "__main__":
    main()
