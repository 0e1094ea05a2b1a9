"""Cover art for content and products, drawn from their text: the world has no real video or photos.

A cover is an SVG: a two-colour gradient picked by a hash of the topic (or category), so one topic
always looks alike, a few soft shapes placed by a hash of the title, so neighbours differ, and the
title itself in large type over a dark scrim (white on at least 45% black: readable on any of the
palettes). The same inputs always give the same bytes; results are cached.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from markupsafe import Markup, escape

# Gradient pairs chosen to carry white text (each is dark enough at the bottom, under the scrim).
PALETTES: tuple[tuple[str, str], ...] = (
    ("#ff6b6b", "#c2185b"),
    ("#f7971e", "#d35400"),
    ("#00b09b", "#0b6e4f"),
    ("#4facfe", "#1f4e9c"),
    ("#a18cd1", "#5b3f9e"),
    ("#f953c6", "#9c1f6e"),
    ("#43cea2", "#185a9d"),
    ("#ff9a8b", "#c0392b"),
    ("#56ab2f", "#2d6a1f"),
    ("#ee9ca7", "#8e3b58"),
    ("#36d1dc", "#2b5876"),
    ("#f2994a", "#8e4416"),
)


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def _width_em(ch: str) -> float:
    # CJK and full-width characters take a full em; Latin letters about half of one.
    return 1.0 if ord(ch) > 0x2E7F else 0.56


def _tokens(text: str, max_em: float) -> list[str]:
    """Words (Latin) and single characters (CJK), with ``" "`` where the text had spaces; a word too
    long for a line is cut into characters."""
    tokens: list[str] = []
    for word in text.split():
        if tokens:
            tokens.append(" ")
        cjk = any(ord(c) > 0x2E7F for c in word)
        if cjk or sum(_width_em(c) for c in word) > max_em:
            tokens.extend(word)
        else:
            tokens.append(word)
    return tokens


def wrap(text: str, max_em: float, max_lines: int) -> list[str]:
    """Break ``text`` into at most ``max_lines`` lines of ``max_em`` ems (words kept whole where
    there are spaces; CJK may break anywhere); text that does not fit ends with an ellipsis."""
    space = _width_em(" ")
    lines: list[str] = []
    line, width, gap = "", 0.0, False
    overflow = False
    for token in _tokens(text, max_em):
        if token == " ":
            gap = bool(line)
            continue
        w = sum(_width_em(c) for c in token)
        extra = space if gap and line else 0.0
        if line and width + extra + w > max_em:
            lines.append(line)
            if len(lines) == max_lines:
                overflow = True
                break
            line, width = token, w
        else:
            line, width = line + (" " if extra else "") + token, width + extra + w
        gap = False
    if not overflow and line:
        lines.append(line)
    if overflow:
        last = lines[-1]
        while last and sum(_width_em(c) for c in last) + 1 > max_em:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines


def palette_index(key: str) -> int:
    """Which of :data:`PALETTES` a cover keyed by ``key`` (its topic, else its title) is drawn in."""
    return _digest(key)[0] % len(PALETTES)


@lru_cache(maxsize=4096)
def cover_svg(
    title: str, key: str, *, width: int = 300, height: int = 400, label: str = "", show_title: bool = True
) -> Markup:
    """An SVG cover for ``title``; ``key`` (topic, category) picks the palette, ``label`` is an
    optional small caption above the title (the topic). Without ``show_title`` the art has no text
    (a live stage, where the page draws its own overlay)."""
    palette = PALETTES[palette_index(key or title)]
    shape = _digest(title)
    uid = shape[:5].hex()
    cx1, cy1 = 40 + shape[1] % (width - 80), 30 + shape[2] % (height // 2)
    cx2, cy2 = shape[3] % width, height // 3 + shape[4] % (height // 2)
    r1, r2 = width // 4 + shape[5] % (width // 4), width // 6 + shape[6] % (width // 5)
    angle = shape[7] % 90
    font = max(14, round(width / 10))
    lines = wrap(title.strip() or "·", (width - 2 * font) / font, 3 if height >= width else 2)
    line_height = round(font * 1.25)
    base = height - font - (len(lines) - 1) * line_height
    text = "".join(
        f'<tspan x="{font}" y="{base + i * line_height}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    if not show_title:
        text, lines = "", []
    caption = ""
    if label and show_title:
        small = max(11, round(font * 0.5))
        caption = (
            f'<text x="{font}" y="{base - line_height}" font-size="{small}" fill="#fff" '
            f'fill-opacity="0.9" font-weight="600">#{escape(label)}</text>'
        )
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="xMidYMid slice" aria-hidden="true" focusable="false" class="cover-art">'
        f'<defs><linearGradient id="g{uid}" gradientTransform="rotate({angle} .5 .5)">'
        f'<stop offset="0" stop-color="{palette[0]}"/><stop offset="1" stop-color="{palette[1]}"/>'
        f'</linearGradient><linearGradient id="s{uid}" x1="0" y1="0" x2="0" y2="1">'
        f'<stop offset="0.35" stop-color="#000" stop-opacity="0"/>'
        f'<stop offset="1" stop-color="#000" stop-opacity="0.62"/></linearGradient></defs>'
        f'<rect width="{width}" height="{height}" fill="url(#g{uid})"/>'
        f'<circle cx="{cx1}" cy="{cy1}" r="{r1}" fill="#fff" fill-opacity="0.16"/>'
        f'<circle cx="{cx2}" cy="{cy2}" r="{r2}" fill="#fff" fill-opacity="0.10"/>'
        f'<rect width="{width}" height="{height}" fill="url(#s{uid})"/>'
        f"{caption}"
        f'<text font-size="{font}" font-weight="700" fill="#fff" '
        f'font-family="system-ui, -apple-system, &quot;PingFang SC&quot;, &quot;Noto Sans CJK SC&quot;, sans-serif">'
        f"{text}</text></svg>"
    )
