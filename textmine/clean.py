"""Normalise raw customer text before masking and analysis.

What `clean_text` does, in the order it does it:

1. One pass over the characters (a numpy table lookup):
   - full-width ASCII (U+FF01–U+FF5E) becomes half-width, so １２３/ＡＢＣ become 123/ABC and the
     Chinese full-width marks ，！？：；（）～ become ,!?:;()~ (one form downstream). Chinese-only
     punctuation (。、《》“”…—) is kept. ￥ and the other signs U+FFE0–U+FFE6 fold to ¥ ¢ £ ….
   - invisible characters are dropped: BOM (U+FEFF) anywhere, zero-width and direction marks
     (U+200B–U+200F, U+2060–U+206F, U+202A–U+202E), soft hyphen, variation selectors
     (U+FE00–U+FE0F), control characters.
   - every whitespace character (tab, newline, U+3000, U+00A0 …) becomes a plain space.
   - a run of the same mark collapses to one: ！！！ → !, ？？ → ?, 。。。 → 。, ～～ → ~,
     ... → ., ，， → ,. The marks are ! ? . , ; : ~ 。 、 and the space, nothing else: runs of
     letters or characters (哈哈哈哈), "?!" and the standard ellipsis …… are left alone. One
     rule for all marks, so there is one form downstream.
   - spaces at the start and end go.
2. HTML: entities are unescaped (&amp; &quot; &nbsp; &#39; …, repeatedly, so double-escaped
   text comes out plain) and tags (<br>, <p class=x>, </b>, <!-- … -->) are replaced by a space.
   A literal ``<script>`` typed in a review is a tag too. Placeholders such as <URL> and the
   ones from `textmine.mask` are not tags and survive. Step 1 runs again on what this changed.
3. Traditional → simplified Chinese with OpenCC ``t2s``.
4. URLs (http://…, https://…, www.…) become ``<URL>``.

Emoji are kept: they carry sentiment (👍 😡) and later stages may score them. Only the
invisible joiners and variation selectors inside emoji sequences are dropped.

Folding comes before the HTML step so that cleaning is idempotent: ＆ａｍｐ； or ＜ｂ＞ would
otherwise become an entity or a tag only after the HTML step had run, and a second cleaning
would change the text again. ``clean_text(clean_text(x)) == clean_text(x)``.
"""

from __future__ import annotations

import html
import re
from functools import cache

import numpy as np
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
_WHITESPACE = (*range(0x09, 0x0E), *range(0x1C, 0x21), 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
               0x2028, 0x2029, 0x202F, 0x205F, 0x3000)  # fmt: skip
_CONTROLS = (*range(0x00, 0x20), *range(0x7F, 0xA0))
_DELETE = 0xFFFFFFFF

_PLACEHOLDER_NAMES = sorted({p.strip("<>") for p in PLACEHOLDERS.values()} | {"URL"})
_TAG = re.compile(
    r"<!--.*?-->"
    r"|<!?[A-Za-z][^<>\n]*>"
    r"|</[A-Za-z][^<>\n]*>"
)
_PLACEHOLDER = re.compile("<(?:" + "|".join(_PLACEHOLDER_NAMES) + ")>")
# One character set first, look-arounds after it, and no IGNORECASE: a pattern that starts
# with a plain character set lets the regex engine skip the Chinese text between URLs quickly.
_URL = re.compile(
    r"[HhWw](?:(?<=[Hh])[Tt][Tt][Pp][Ss]?://|(?<=[Ww])(?<![A-Za-z0-9.@].)[Ww][Ww]\.)"
    r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*"
    # A URL does not end in sentence punctuation: "见 www.x.com。" or "(http://a.cn)".
    r"[A-Za-z0-9\-_~/#=&+%]"
)
# Marks whose runs collapse to one; the space is one of them.
_COLLAPSING = " !?.,;:~。、"


@cache
def _collapsing_table() -> np.ndarray:
    """Code point → whether runs of it collapse, for code points up to the last such mark."""
    table = np.zeros(max(map(ord, _COLLAPSING)) + 2, dtype=bool)
    table[[ord(c) for c in _COLLAPSING]] = True
    return table


@cache
def _fold_table(keep_newline: bool) -> np.ndarray:
    """Code point → folded code point (or _DELETE), for every code point through the tag block."""
    # One entry past the tag block (U+E007F): every code point above it is looked up there.
    table = np.arange(0xE0081, dtype=np.uint32)
    table[0xFF01:0xFF5F] -= 0xFEE0
    for code, sign in _FULLWIDTH_SIGNS.items():
        table[code] = ord(sign)
    for lo, hi in _INVISIBLE_RANGES:
        table[lo : hi + 1] = _DELETE
    table[list(_CONTROLS)] = _DELETE
    table[list(_WHITESPACE)] = ord(" ")
    if keep_newline:
        table[ord(_SEPARATOR)] = ord(_SEPARATOR)
    return table


def _normalise(text: str, keep_newline: bool) -> str:
    """Fold characters, collapse runs of a mark or space to one, trim spaces at line ends."""
    # numpy over UTF-32 code units: several times faster than str.translate and regexes, which
    # handle one character at a time in Python or stop at every comma of Chinese text.
    table = _fold_table(keep_newline)
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    folded = table[np.minimum(codes, len(table) - 1)]
    beyond = codes >= len(table) - 1
    if beyond.any():
        folded = np.where(beyond, codes, folded)
    codes = folded[folded != _DELETE]
    repeat = np.zeros(len(codes), dtype=bool)
    collapsing = _collapsing_table()
    # (np.isin would do, but costs over 100 µs a call on a short text.)
    repeat[1:] = (codes[1:] == codes[:-1]) & collapsing[np.minimum(codes[1:], len(collapsing) - 1)]
    codes = codes[~repeat]
    # Runs are single now, so one space at most sits at each end of a line.
    newline = codes == ord(_SEPARATOR)
    at_start = np.ones(len(codes), dtype=bool)
    at_start[1:] = newline[:-1]
    at_end = np.ones(len(codes), dtype=bool)
    at_end[:-1] = newline[1:]
    codes = codes[~((codes == ord(" ")) & (at_start | at_end))]
    return codes.tobytes().decode("utf-32-le")


@cache
def _t2s() -> opencc.OpenCC:
    # Loading the dictionaries takes a few milliseconds; do it once per process, on first use.
    return opencc.OpenCC("t2s")


def _strip_markup(text: str) -> str:
    """Unescape entities and replace tags by a space until neither is left; `text` is normalised."""
    while True:
        # An entity can decode to another entity's text (&amp;amp;) or to a character that
        # normalising changes (&#65286; is ＆), so repeat until nothing changes; each change
        # shortens the text, so this ends.
        unescaped = html.unescape(text)
        if unescaped == text:
            break
        text = _normalise(unescaped, keep_newline=False)
    stripped = text
    while True:
        # Removing an inner tag can close an outer one: "<a<b>>" leaves "<a >".
        again = _TAG.sub(_keep_placeholder, stripped)
        if again == stripped:
            break
        stripped = again
    # Tags became spaces, and "!<br>!" two marks in a row: normalise once more.
    return text if stripped == text else _normalise(stripped, keep_newline=False)


def _strip_markup_lines(joined: str) -> str:
    """Apply `_strip_markup` to the few lines that have an "&" or a "<"; leave the rest be."""
    pieces = []
    done = 0
    # str.find is ten times faster than a regex at finding a character in a long text.
    for mark in sorted(_positions(joined, "&") + _positions(joined, "<")):
        if mark < done:
            continue
        start = joined.rfind(_SEPARATOR, 0, mark) + 1
        end = joined.find(_SEPARATOR, mark)
        end = len(joined) if end == -1 else end
        pieces += [joined[done:start], _strip_markup(joined[start:end])]
        done = end
    return "".join(pieces) + joined[done:] if pieces else joined


def _positions(text: str, char: str) -> list[int]:
    found = []
    at = text.find(char)
    while at != -1:
        found.append(at)
        at = text.find(char, at + 1)
    return found


def _keep_placeholder(match: re.Match[str]) -> str:
    tag = match.group()
    return tag if _PLACEHOLDER.fullmatch(tag) else " "


def _to_simplified(joined: str) -> str:
    converter = _t2s()
    simplified = converter.convert(joined)
    if simplified == joined:
        return joined
    # OpenCC is not idempotent on a few characters (薴 → 苧 → 苎): convert the lines that
    # changed again until they stop changing.
    before, after = joined.split(_SEPARATOR), simplified.split(_SEPARATOR)
    if len(before) != len(after):
        after = [converter.convert(line) for line in before]
    changed = [i for i, (b, a) in enumerate(zip(before, after, strict=True)) if b != a]
    while changed:
        again = converter.convert(_SEPARATOR.join(after[i] for i in changed)).split(_SEPARATOR)
        still = []
        for i, text in zip(changed, again, strict=True):
            if text != after[i]:
                after[i] = text
                still.append(i)
        changed = still
    return _SEPARATOR.join(after)


def _clean_lines(texts: list[str]) -> list[str]:
    """Clean texts that contain no newline, working on them joined by newlines."""
    if not texts:
        return []
    joined = _normalise(_SEPARATOR.join(texts), keep_newline=True)
    joined = _strip_markup_lines(joined)
    joined = _to_simplified(joined)
    joined = _URL.sub(URL_PLACEHOLDER, joined)
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
    values = texts.tolist()
    present = [i for i, v in enumerate(values) if isinstance(v, str) or not pd.isna(v)]
    # str() is free for strings and covers the odd number read from a spreadsheet.
    cleaned = _clean_lines([str(values[i]).replace(_SEPARATOR, " ") for i in present])
    for i, text in zip(present, cleaned, strict=True):
        values[i] = text
    # A list of Python strings, not an array: numpy would make a fixed-width array as wide as
    # the longest text.
    return pd.Series(values, index=texts.index, name=texts.name, dtype=object)
