"""Carry a user error (TextmineError) raised in an executor back to the driver intact."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from textmine.errors import TextmineError

_TAG = "textmine-error:"
_FOUND = re.compile(re.escape(_TAG) + r"(\{.*?\})(?:\n|$)")
_RAISED = re.compile(r"^\s*((?:\w+\.)*\w*(?:Error|Exception): .+)$", re.M)


@contextmanager
def reraise_portable() -> Iterator[None]:
    """Executor side: a TextmineError crosses the JVM as a tagged one-line JSON message."""
    try:
        yield
    except TextmineError as exc:
        fields = {"code": exc.code, "detail": exc.detail, "where": exc.where, "fix": exc.fix}
        raise RuntimeError(_TAG + json.dumps(fields, ensure_ascii=False)) from None


@contextmanager
def driver_errors(log_path: str) -> Iterator[None]:
    """Driver side: a failed job raises the executor's TextmineError, or one naming the log."""
    try:
        yield
    except TextmineError:
        raise
    except Exception as exc:
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException

        if not isinstance(exc, (PySparkException, Py4JError)):
            raise
        text = str(exc)
        found = _FOUND.search(text)
        if found:
            raise TextmineError(**json.loads(found.group(1))) from None
        # A Python worker's failure carries its traceback: its last "SomeError: …" line says it.
        raised = _RAISED.findall(text)
        line = raised[-1] if raised else next((x for x in text.splitlines() if x.strip()), "")
        fix = "Re-run with --debug for the traceback."
        if Path(log_path).exists():
            fix = f"Spark's log: {log_path}. {fix}"
        raise TextmineError("E022", line.strip()[:200] or type(exc).__name__, fix=fix) from exc
