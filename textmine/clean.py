"""Normalise raw customer text before masking and analysis.

What `clean_text` does, in the order it does it:

1. Character folding, one `str.translate`: full-width ASCII (U+FF01–U+FF5E) becomes
   half-width, so １２３/ＡＢＣ become 123/ABC and the Chinese full-width marks ，！？：；（）～
   become ,!?:;()~ (one form downstream). Chinese-only punctuation (。、《》“”…—) is kept.
   ￥ and the other full-width signs U+FFE0–U+FFE6 fold to ¥ ¢ £ ….
   Invisible characters are dropped: BOM (U+FEFF) anywhere, zero-width and direction marks
   (U+200B–U+200F, U+2060–U+206F, U+202A–U+202E), soft hyphen, variation selectors
   (U+FE00–U+FE0F), control characters. Every whitespace character (tab, newline, U+3000,
   U+00A0 …) becomes a plain space.
2. HTML: entities are unescaped (&amp; &quot; &nbsp; &#39; …, repeatedly, so double-escaped
   text comes out plain) and tags (<br>, <p class=x>, </b>, <!-- … -->) are replaced by a space.
   A literal ``<script>`` typed in a review is a tag too. Placeholders such as <URL> and the
   ones from `textmine.mask` are not tags and survive.
3. Traditional → simplified Chinese with OpenCC ``t2s``.
4. URLs (http://…, https://…, www.…) become ``<URL>``.
5. A run of the same punctuation mark collapses to one: ！！！ → !, ？？ → ?, 。。。 → 。,
   ～～ → ~, ... → ., ，， → ,. The marks are ! ? . , ; : ~ 。 、 and nothing else; runs of
   letters or characters (哈哈哈哈) and the standard ellipsis …… are left alone.
6. Runs of spaces become one space; the text is stripped.

Emoji are kept: they carry sentiment (👍 😡) and later stages may score them. Only the
invisible joiners and variation selectors inside emoji sequences are dropped.

Folding runs before the HTML step (the brief listed it third) so that cleaning is idempotent:
＆ａｍｐ； or ＜ｂ＞ would otherwise turn into an entity or a tag only after the HTML step had run,
and a second cleaning would change the text again. ``clean_text(clean_text(x)) == clean_text(x)``.
"""

from __future__ import annotations

import html
import re
from functools import cache

import opencc
import pandas as pd

from textmine.mask import PLACEHOLDERS

URL_PLACEHOLDER = "<URL>"

_SEPARATOR = "\n"

# Invisible format characters (Unicode category Cf, the parts that occur in real text) and
# variation selectors: they only change rendering, and they hide duplicates and split words.
_INVISIBLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0xD800, 0xDFFF),  # lone surrogates from bad decoding; OpenCC cannot encode them
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)
_FULLWIDTH_SIGNS = {0xFFE0: "¢", 0xFFE1: "£", 0xFFE2: "¬", 0xFFE3: "¯", 0xFFE4: "¦", 0xFFE5: "¥", 0xFFE6: "₩"}

_PLACEHOLDER_NAMES = sorted({p.strip("<>") for p in PLACEHOLDERS.values()} | {"URL"})
_TAG = re.compile(
    r"<!--.*?-->"
    r"|<!?[A-Za-z][^<>\n]*>"
    r"|</[A-Za-z][^<>\n]*>"
)
_PLACEHOLDER = re.compile("<(?:" + "|".join(_PLACEHOLDER_NAMES) + ")>")
_URL = re.compile(
    r"(?:https?://|(?<![A-Za-z0-9.@])www\.)"
    r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*"
    # A URL does not end in sentence punctuation: "见 www.x.com。" or "(http://a.cn)".
    r"[A-Za-z0-9\-_~/#=&+%]",
    re.IGNORECASE,
)
_REPEATED_PUNCT = re.compile(r"([!?.,;:~。、])\1+")
_SPACES = re.compile(r" {2,}")
_EDGE_SPACES = re.compile(r"^ +| +$", re.MULTILINE)


@cache
def _fold_table(keep_newline: bool) -> dict[int, int | str | None]:
    table: dict[int, int | str | None] = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
    table.update(_FULLWIDTH_SIGNS)
    for lo, hi in _INVISIBLE_RANGES:
        table.update(dict.fromkeys(range(lo, hi + 1)))
    table.update(dict.fromkeys([*range(0x00, 0x20), *range(0x7F, 0xA0)]))
    for c in (*range(0x09, 0x0E), *range(0x1C, 0x20), 0x20, 0x85, 0xA0, 0x1680,
              *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000):
        table[c] = " "
    if keep_newline:
        del table[ord(_SEPARATOR)]
    return table


@cache
def _t2s() -> opencc.OpenCC:
    # Loading the dictionaries takes a few milliseconds; do it once per process, on first use.
    return opencc.OpenCC("t2s")


def _strip_markup(text: str) -> str:
    """Unescape entities until none are left, then replace tags by a space until none are left."""
    table = _fold_table(keep_newline=False)
    while True:
        # An entity can decode to another entity's text (&amp;amp;) or to a character that
        # folding changes (&#65286; is ＆), so repeat until nothing changes; each change
        # shortens the text, so this ends.
        unescaped = html.unescape(text).translate(table)
        if unescaped == text:
            break
        text = unescaped
    while True:
        # Removing an inner tag can close an outer one: "<a<b>>" leaves "<a >".
        stripped = _TAG.sub(_keep_placeholder, text)
        if stripped == text:
            return text
        text = stripped


def _keep_placeholder(match: re.Match[str]) -> str:
    tag = match.group()
    return tag if _PLACEHOLDER.fullmatch(tag) else " "


def _to_simplified(lines: list[str]) -> list[str]:
    converter = _t2s()
    out = converter.convert(_SEPARATOR.join(lines)).split(_SEPARATOR)
    if len(out) != len(lines):
        out = [converter.convert(line) for line in lines]
    # OpenCC is not idempotent on a few characters (薴 → 苧 → 苎): convert what changed again.
    changed = [i for i, (before, after) in enumerate(zip(lines, out, strict=True)) if before != after]
    while changed:
        again = converter.convert(_SEPARATOR.join(out[i] for i in changed)).split(_SEPARATOR)
        still = []
        for i, text in zip(changed, again, strict=True):
            if text != out[i]:
                out[i] = text
                still.append(i)
        changed = still
    return out


def _clean_lines(texts: list[str]) -> list[str]:
    """Clean texts that contain no newline, working on them joined by newlines."""
    joined = _SEPARATOR.join(texts).translate(_fold_table(keep_newline=True))
    lines = joined.split(_SEPARATOR)
    if "&" in joined or "<" in joined:
        lines = [_strip_markup(t) if ("&" in t or "<" in t) else t for t in lines]
    lines = _to_simplified(lines)
    joined = _SEPARATOR.join(lines)
    joined = _URL.sub(URL_PLACEHOLDER, joined)
    joined = _REPEATED_PUNCT.sub(r"\1", joined)
    joined = _SPACES.sub(" ", joined)
    joined = _EDGE_SPACES.sub("", joined)
    out = joined.split(_SEPARATOR)
    if len(out) != len(texts):
        raise AssertionError(f"clean: {len(texts)} texts in, {len(out)} out")
    return out


def clean_text(text: str) -> str:
    """Return `text` normalised: see the module docstring for the rules."""
    return _clean_lines([text.replace(_SEPARATOR, " ")])[0]


def clean_texts(texts: pd.Series) -> pd.Series:
    """Clean every text of a Series at once; same index and name, missing values stay missing.

    Values that are not strings (numbers read from a spreadsheet) are cleaned as ``str(value)``.
    """
    present = texts.notna()
    # str() is free for strings and covers the odd number read from a spreadsheet.
    batch = [str(v).replace(_SEPARATOR, " ") for v in texts[present].tolist()]
    out = texts.astype(object)
    if batch:
        out[present] = _clean_lines(batch)
    return out
