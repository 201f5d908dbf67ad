"""textmine: Chinese customer reviews and service chats into decisions."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "analyze", "load_config", "open_workspace"]


def __getattr__(name: str):  # lazy: `import textmine` stays fast for the CLI
    if name == "analyze":
        from textmine.analyze import analyze

        return analyze
    if name == "load_config":
        from textmine.config import load_config

        return load_config
    if name == "open_workspace":
        from textmine.workspace import open_workspace

        return open_workspace
    raise AttributeError(name)
