"""Highlighting: the parts of a title that a query's terms matched, wrapped in ``<em>``, on the title's
own characters (a traditional title highlighted for a simplified query, pinyin matched on its words)."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from zhongcao.search.analysis import (
    PINYIN_PREFIX,
    QueryTerm,
    cut_for_search,
    is_cjk,
    pinyin_forms,
    stem,
    to_simplified,
)

_HIGHLIGHT_WORD_RE = re.compile(r"[a-z]+|\d+(?:\.\d+)?")
_CJK_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]+")


@lru_cache(maxsize=20_000)
def _fold(char: str) -> str:
    """One title character as the analyser sees it (NFKC, simplified, lower case); cached, titles
    share their characters."""
    folded = unicodedata.normalize("NFKC", char)
    return to_simplified(folded).lower() if folded else folded


@lru_cache(maxsize=50_000)
def _pinyin_words(run: str) -> tuple[tuple[str, str, str], ...]:
    """The jieba words of a run of ideographs with their full pinyin and initials; cached per run."""
    return tuple((word, *pinyin_forms(word)) for word in cut_for_search(run))


class Highlighter:
    """Wraps the parts of a title that a query term matched in ``<em>``, on the original characters."""

    def __init__(self, terms: Sequence[QueryTerm]) -> None:
        self.stems = {t.token for t in terms if not t.token.startswith(PINYIN_PREFIX) and t.token.isascii()}
        self.cjk = sorted({t.token for t in terms if t.token and is_cjk(t.token[0])}, key=len, reverse=True)
        self.pinyin = {t.token[len(PINYIN_PREFIX) :] for t in terms if t.token.startswith(PINYIN_PREFIX)}

    def highlight(self, title: str, folded: tuple[str, list[int] | None] | None = None) -> str:
        """``folded``: the title as :func:`_folded` gives it, when the caller has it already (a page
        store keeps it per product)."""
        text, origin = _folded(title) if folded is None else folded
        spans: list[tuple[int, int]] = []  # on ``text``
        if self.stems:
            for match in _HIGHLIGHT_WORD_RE.finditer(text):
                word = match.group()
                if (stem(word) if word.isalpha() else word) in self.stems:
                    spans.append(match.span())
        if text.isascii():  # an English title: no ideographs to match or read as pinyin
            return _marked(title, spans, origin)
        for token in self.cjk:
            start = text.find(token)
            while start >= 0:
                spans.append((start, start + len(token)))
                start = text.find(token, start + 1)
        if self.pinyin:
            for run in _CJK_RUN_RE.finditer(text):
                position = run.start()
                for word, full, initials in _pinyin_words(run.group()):
                    if full in self.pinyin or (len(initials) >= 2 and initials in self.pinyin):
                        start = text.find(word, position)
                        if start >= 0:
                            spans.append((start, start + len(word)))
        return _marked(title, spans, origin)


def _marked(title: str, spans: list[tuple[int, int]], origin: list[int] | None) -> str:
    """The title HTML-escaped with the spans (on the folded text) wrapped in ``<em>``."""
    if not spans:
        return html.escape(title)
    if origin is not None:  # back onto the title's characters
        spans = [(origin[start], origin[end - 1] + 1) for start, end in spans]
    out: list[str] = []
    done = 0
    for start, end in _merged(spans):
        out.append(html.escape(title[done:start]))
        out.append(f"<em>{html.escape(title[start:end])}</em>")
        done = end
    out.append(html.escape(title[done:]))
    return "".join(out)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching spans as one, in order."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


@lru_cache(maxsize=4096)
def _folded(title: str) -> tuple[str, list[int] | None]:
    """The title as the analyser sees it (NFKC, simplified, lower case) and, when that changed its
    length, the title position of each folded character (None: the same positions). Folding the
    whole title at once is C work; only a title whose length changes is folded character by character."""
    if title.isascii():
        return title.lower(), None
    folded = to_simplified(unicodedata.normalize("NFKC", title)).lower()
    if len(folded) == len(title):
        return folded, None
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(title):
        for piece in _fold(char):
            chars.append(piece)
            origin.append(index)
    return "".join(chars), origin
