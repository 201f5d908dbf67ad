"""Load the shipped lexicons, layer a user's folder over them, and describe what is in force."""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from textmine.errors import TextmineError

SET_FILES = ("stopwords", "filler", "negations", "contrast", "unresolved")
WEIGHT_FILES = ("sentiment", "degree")
KEYED_FILES = ("aspects", "complaint", "escalation", "roles", "closing")
ALL_FILES = ("userdict", "synonyms", *SET_FILES, *WEIGHT_FILES, *KEYED_FILES)


def shipped_dir() -> Path:
    """The lexicon folder installed with the package."""
    return Path(str(resources.files("textmine.shipped_lexicons")))


def _lines(path: Path) -> list[str]:
    # Users send BOMs and CRLF (jieba's users hit both): tolerate them.
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    out = []
    for raw in text.splitlines():
        line = raw.strip().lstrip("\ufeff")
        if line and not line.startswith("#"):
            out.append(line)
    return out


def _merge_file(name: str, lines: list[str], entries: dict[str, Any]) -> None:
    """Apply one file's lines to `entries` in place (`-x` lines remove)."""
    for line in lines:
        remove = line.startswith("-") and len(line) > 1
        body = line[1:].strip() if remove else line
        if name in KEYED_FILES:
            key, _, rest = body.partition(":") if ":" in body else body.partition("：")
            key = key.strip()
            words = rest.split()
            if remove:
                if words and key in entries:
                    entries[key] = [w for w in entries[key] if w not in set(words)]
                else:
                    entries.pop(key, None)
            else:
                existing = entries.setdefault(key, [])
                existing.extend(w for w in words if w not in existing)
            continue
        parts = body.split()
        word = parts[0]
        if remove:
            entries.pop(word, None)
        elif name in SET_FILES:
            entries[word] = True
        elif name in WEIGHT_FILES:
            try:
                entries[word] = float(parts[1]) if len(parts) > 1 else 1.0
            except ValueError:
                continue
        elif name == "synonyms":
            entries[word] = parts[1:]
        elif name == "userdict":
            freq = next((int(p) for p in parts[1:] if p.isdigit()), None)
            pos = next((p for p in parts[1:] if not p.isdigit()), None)
            entries[word] = (freq, pos)


@dataclass(frozen=True)
class Lexicons:
    """All word lists in force for a run. Built once per process and passed to stages."""

    userdict: dict[str, tuple[int | None, str | None]]
    synonyms: dict[str, str]  # surface word -> canonical word
    stopwords: frozenset[str]
    filler: frozenset[str]
    negations: frozenset[str]
    contrast: frozenset[str]
    unresolved: frozenset[str]
    sentiment: dict[str, float]
    degree: dict[str, float]
    aspects: dict[str, list[str]]
    complaint: dict[str, list[str]]
    escalation: dict[str, list[str]]
    roles: dict[str, list[str]]
    closing: dict[str, list[str]]
    manifest: dict[str, Any] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    digest: str = ""

    @property
    def aspect_of(self) -> dict[str, str]:
        """Surface word -> aspect name."""
        return {w: aspect for aspect, words in self.aspects.items() for w in words}

    @property
    def role_of(self) -> dict[str, str]:
        """Lower-cased alias -> role (customer, agent, bot, system)."""
        out = {}
        for role, aliases in self.roles.items():
            out[role.lower()] = role
            for alias in aliases:
                out[alias.lower()] = role
        return out

    def summary(self) -> dict[str, Any]:
        """Counts per file, sources and digest: what `textmine lexicons show` prints."""
        counts = {name: len(getattr(self, name)) for name in ALL_FILES}
        return {"sources": list(self.sources), "digest": self.digest,
                "manifest": self.manifest, "counts": counts}


def load_lexicons(user_dir: str | Path | None = None) -> Lexicons:
    """Shipped lexicons, then `user_dir` (same file names) added on top."""
    folders = [shipped_dir()]
    if user_dir:
        path = Path(user_dir)
        if not path.is_dir():
            raise TextmineError("E018", where=str(path),
                                fix="Point --lexicons at a folder with files such as userdict.txt, stopwords.txt.")
        folders.append(path)
    merged: dict[str, dict[str, Any]] = {name: {} for name in ALL_FILES}
    manifest: dict[str, Any] = {}
    for folder in folders:
        for name in ALL_FILES:
            file = folder / f"{name}.txt"
            if file.is_file():
                _merge_file(name, _lines(file), merged[name])
        manifest_file = folder / "manifest.toml"
        if manifest_file.is_file():
            try:
                manifest[folder.name if folder != folders[0] else "shipped"] = tomllib.loads(
                    manifest_file.read_text(encoding="utf-8-sig"))
            except tomllib.TOMLDecodeError:
                manifest[folder.name] = {"error": "unreadable manifest.toml"}
    digest = hashlib.sha256(
        json.dumps(merged, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:12]
    synonyms = {syn: canon for canon, syns in merged["synonyms"].items() for syn in syns}
    return Lexicons(
        userdict=merged["userdict"],
        synonyms=synonyms,
        **{name: frozenset(merged[name]) for name in SET_FILES},
        **{name: dict(merged[name]) for name in WEIGHT_FILES},
        **{name: dict(merged[name]) for name in KEYED_FILES},
        manifest=manifest,
        sources=tuple(str(f) for f in folders),
        digest=digest,
    )
