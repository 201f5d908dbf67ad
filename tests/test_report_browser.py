"""The report in a real browser: headless Chromium draws every chart, logs no error, fetches nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from report_browser import find_chromium, inspect_page
from report_workspace import build

from textmine.report import build_report
from textmine.workspace import open_workspace

SCREENSHOT_DIR = os.environ.get("TEXTMINE_SCREENSHOT_DIR")  # keep the PNG to look at it


@pytest.fixture(scope="module")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: .ci/run installs it with apt-get")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


def test_report_draws_in_headless_chromium_offline(chromium: str, tmp_path: Path) -> None:
    ws_path = build(tmp_path / "ws.duckdb", reviews=1500, sessions=150)
    attack = '<img src="https://example.invalid/x.png" onerror="console.error(1)">'
    with open_workspace(ws_path) as ws:
        # A hostile review must neither fetch its image nor run its handler.
        ws.con.execute("UPDATE documents SET text = ? || text WHERE is_complaint", [attack])
        result = build_report(ws, tmp_path / "report.html")
    page = inspect_page(result.html, chromium)
    if SCREENSHOT_DIR:
        Path(SCREENSHOT_DIR, "report.png").write_bytes(page.screenshot)

    assert page.console_errors == []
    assert page.requests == [result.html.resolve().as_uri()]
    charts = {c["id"]: c for c in page.charts}
    assert {"chart-volume", "chart-aspects", "chart-chats", "spark-0"} <= set(charts)
    for chart in charts.values():
        assert chart["svgs"] >= 1 and chart["marks"] >= 1 and chart["height"] > 0, chart
    assert page.screenshot[:8] == b"\x89PNG\r\n\x1a\n" and len(page.screenshot) > 50_000
    assert "投诉量与情感走势" in page.text and "物流慢 · 不发货" in page.text
    assert attack in page.text  # shown as text, not parsed as an element
