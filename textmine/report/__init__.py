"""The complaint report: one self-contained HTML page and its Excel twin, from a workspace."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from textmine.report.data import ReportData, Window, collect, default_window
from textmine.workspace import Workspace

__all__ = ["ReportResult", "Window", "build_report", "collect", "default_window"]


@dataclass
class ReportResult:
    html: Path
    xlsx: Path | None
    window: Window
    html_bytes: int
    missing: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"html": str(self.html), "xlsx": None if self.xlsx is None else str(self.xlsx),
                "since": self.window.since.isoformat(), "until": self.window.until.isoformat(),
                "product": self.window.product, "html_bytes": self.html_bytes,
                "missing": self.missing}


def build_report(ws: Workspace, html_path: str | Path, *, xlsx_path: str | Path | None = None,
                 since: date | None = None, until: date | None = None,
                 product: str | None = None, title: str = "投诉周报",
                 command: str = "textmine report",
                 generated_at: datetime | None = None) -> ReportResult:
    """Write the HTML report (and the Excel twin when `xlsx_path` is given)."""
    from textmine.report.excel import write_report_excel
    from textmine.report.render import render_html

    window = default_window(ws, since, until, product)
    data: ReportData = collect(ws, window, title=title, command=command,
                               generated_at=generated_at)
    html_path = Path(html_path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(render_html(data), encoding="utf-8")
    xlsx = write_report_excel(data, xlsx_path) if xlsx_path else None
    return ReportResult(html=html_path, xlsx=xlsx, window=window,
                        html_bytes=html_path.stat().st_size, missing=data.missing)
