"""User-facing errors and warnings, catalogued with codes so docs, tests and bug reports agree."""

from __future__ import annotations

# One line each: what happened; the caller adds where (file, row, column) and the fix.
CATALOGUE: dict[str, str] = {
    "E001": "file not found",
    "E002": "file is empty",
    "E003": "file looks binary, not text/CSV/Excel/JSON/Parquet",
    "E004": "unsupported file type",
    "E005": "could not decode text (tried UTF-8, UTF-8-BOM, GB18030)",
    "E006": "no text column found",
    "E007": "named column not found",
    "E008": "could not parse file",
    "E009": "workspace not found",
    "E010": "workspace is busy or unreadable",
    "E011": "only read-only SQL is allowed",
    "E012": "SQL error",
    "E013": "unknown table",
    "E014": "unsupported output type",
    "E015": "bad option value",
    "E016": "model not found or unreadable",
    "E017": "no labels found",
    "E018": "lexicon folder not found",
    "E019": "nothing to do",
    "E020": "not supported on this workspace kind",
    "E021": "Spark could not start",
    "E022": "Spark job failed",
    "E023": "no topic model in the workspace",
    "E024": "unknown topic",
}

# Reasons a row goes to the rejects table (stable codes; the message adds detail).
REJECT_REASONS: dict[str, str] = {
    "empty_text": "text is empty",
    "text_too_long": "text is longer than the limit",
    "bad_time": "time could not be parsed",
    "unreadable_row": "row could not be parsed",
    "duplicate_id_conflict": "ID already used by a row with different text",
    "bad_rating": "rating is not a number",
    "bad_role": "speaker role not recognised",
    "empty_id": "the ID column is empty for this row",
    "bad_amount": "amount is missing or not a number",
}


class TextmineError(Exception):
    """An error a user can fix; the CLI prints it as one line and exits with `exit_code`."""

    def __init__(self, code: str, detail: str = "", *, where: str = "", fix: str = "",
                 exit_code: int = 2) -> None:
        self.code = code
        self.detail = detail
        self.where = where
        self.fix = fix
        self.exit_code = exit_code
        super().__init__(self.message())

    def message(self) -> str:
        what = CATALOGUE.get(self.code, "error")
        if self.detail:
            what = f"{what} ({self.detail})"
        parts = [p for p in (self.where, what) if p]
        line = ": ".join(parts)
        if self.fix:
            line = f"{line}. {self.fix}"
        return f"{line} [{self.code}]"
