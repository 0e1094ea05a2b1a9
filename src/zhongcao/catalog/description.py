"""Product descriptions: Markdown typed by the merchant, shown to shoppers as HTML.

Rendered with markdown-it-py (CommonMark) with raw HTML switched off: every ``<`` the merchant types
comes out escaped as text, so no tag or attribute of theirs (``<script>``, ``onerror=``) reaches the
page. markdown-it's own link check drops ``javascript:``, ``vbscript:``, ``file:`` and ``data:`` URLs.
Images in the Markdown are off too (the product's pictures are uploads, checked by the media
domain), and links open with ``rel="nofollow noopener"``. There is no separate HTML sanitiser (nh3
and bleach are not installed); with raw HTML off, markdown-it only emits the tags it makes itself.
"""

from __future__ import annotations

from typing import Any

from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable("image")


def _link_open(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    tokens[idx].attrSet("rel", "nofollow noopener")
    return str(self.renderToken(tokens, idx, options, env))


_md.add_render_rule("link_open", _link_open)


def render_markdown(text: str) -> str:
    """Safe HTML for a description (an empty string for an empty one)."""
    if not text or not text.strip():
        return ""
    return str(_md.render(text))
