"""The complaint report: one self-contained HTML page and its Excel twin, built from the workspace."""

from __future__ import annotations

import os
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from report_workspace import build
from typer.testing import CliRunner

from textmine.cli import app
from textmine.report import build_report
from textmine.report.data import Window, collect
from textmine.report.excel import _summary
from textmine.workspace import open_workspace

runner = CliRunner()
GOLDEN = Path(__file__).parent / "data" / "report_summary.csv"
SHEETS = ["摘要", "报告信息", "周趋势", "方面", "主题", "上升主题与新词", "会话", "跟进名单", "拒收",
          "拒收明细"]


@pytest.fixture(scope="module")
def full_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("full") / "ws.duckdb", reviews=1500, sessions=150)


@pytest.fixture(scope="module")
def full_report(full_ws: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("out")
    result = runner.invoke(app, ["report", "-w", str(full_ws), "-o", str(out / "r.html"),
                                 "--xlsx", str(out / "r.xlsx")])
    assert result.exit_code == 0, result.output
    return out / "r.html", out / "r.xlsx"


def _report(ws_path: Path, tmp_path: Path, *args: str) -> tuple[str, dict]:
    import json

    html_path = tmp_path / "report.html"
    result = runner.invoke(app, ["report", "-w", str(ws_path), "-o", str(html_path),
                                 "--xlsx", str(tmp_path / "report.xlsx"), "--json", *args])
    assert result.exit_code == 0, result.output
    return html_path.read_text(encoding="utf-8"), json.loads(result.output)


def _visible(html: str) -> str:
    """The page without its scripts and styles: what a reader sees as text."""
    return re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)


def test_html_is_self_contained_and_plotly_is_inlined_once(full_report: tuple[Path, Path]) -> None:
    html = full_report[0].read_text(encoding="utf-8")
    assert html.count("<script") == 3  # plotly, the figure data, the few lines that draw them
    assert not re.search(r"<(script|img|iframe)[^>]+\bsrc=", html)
    assert not re.search(r"<link\b", html)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    assert "@import" not in html and "@font-face" not in html
    assert html.count("Plotly.newPlot") == 1
    assert len(re.findall(r"plotly\.js v\d", html)) == 1
    assert full_report[0].stat().st_size < 10_000_000
    assert "PingFang SC" in html and "Noto Sans CJK SC" in html


def test_every_section_shows_when_its_data_exists(full_report: tuple[Path, Path]) -> None:
    html = full_report[0].read_text(encoding="utf-8")
    for chart in ("chart-volume", "chart-aspects", "chart-chats", "spark-0"):
        assert f'id="{chart}"' in html
    assert 'class="missing"' not in _visible(html).split('id="rising"')[0]


def test_headline_numbers_are_the_workspace_counts(full_ws: Path) -> None:
    with open_workspace(full_ws, read_only=True) as ws:
        window = Window(date(2026, 11, 9), date(2026, 11, 15))
        data = collect(ws, window)
        cur = ws.con.execute("""
            SELECT count(*), count(*) FILTER (WHERE is_complaint), avg(sentiment)
            FROM documents WHERE created_at >= '2026-11-09' AND created_at < '2026-11-16'
              AND (kind = 'review' OR role = 'customer')""").fetchone()
        prev = ws.con.execute("""
            SELECT count(*) FROM documents WHERE created_at >= '2026-11-02'
              AND created_at < '2026-11-09' AND (kind = 'review' OR role = 'customer')""").fetchone()
        esc = ws.con.execute("""SELECT count(*) FILTER (WHERE escalated) FROM sessions
            WHERE started_at >= '2026-11-09' AND started_at < '2026-11-16'""").fetchone()[0]
    m = {x.key: x for x in data.headline}
    assert (m["volume"].current, m["volume"].previous) == (cur[0], prev[0])
    assert m["complaint_share"].current == pytest.approx(cur[1] / cur[0])
    assert m["sentiment"].current == pytest.approx(cur[2])
    assert m["escalated"].current == esc
    weekly = data.volume.tables["weekly"]
    assert len(weekly) == 13 and weekly["week_start"].iloc[-1] == date(2026, 11, 9)
    assert weekly["complaints"].iloc[-1] == cur[1]


def test_planted_rise_leads_the_topics_with_an_upward_arrow(full_report: tuple[Path, Path],
                                                           full_ws: Path) -> None:
    with open_workspace(full_ws, read_only=True) as ws:
        data = collect(ws, Window(date(2026, 11, 9), date(2026, 11, 15)))
    topics = data.topics.tables["topics"]
    assert topics["label"].iloc[0] == "物流慢 · 不发货"
    assert topics["share"].iloc[0] > 1.5 * topics["prev_share"].iloc[0]
    assert all(1 <= len(q) <= 3 and len(set(q)) == len(q) for q in topics["quotes"])
    assert all(len(w) == 13 for w in topics["weekly"])
    html = full_report[0].read_text(encoding="utf-8")
    first_row = _visible(html).split('class="topic-label"')[1]
    assert "▲" in first_row.split("</tr>")[0]


def test_excel_twin_has_the_sheets_with_chinese_headers_and_ids_as_text(
        full_report: tuple[Path, Path]) -> None:
    book = openpyxl.load_workbook(full_report[1])
    assert book.sheetnames == SHEETS
    for name in SHEETS:
        assert book[name].freeze_panes == "A2"
    summary = [c.value for c in book["摘要"][1]]
    assert summary[:3] == ["指标", "本期", "上期"]
    topics = book["主题"]
    headers = [c.value for c in topics[1]]
    assert headers[:2] == ["主题ID", "主题"]
    assert all(isinstance(row[0].value, str) for row in topics.iter_rows(min_row=2))
    rejects = pd.read_excel(full_report[1], sheet_name="拒收", dtype=str)
    assert list(rejects.columns) == ["来源文件", "原因", "拒收行数"]


def test_summary_matches_golden_file(full_ws: Path) -> None:
    with open_workspace(full_ws, read_only=True) as ws:
        data = collect(ws, Window(date(2026, 11, 9), date(2026, 11, 15)),
                       generated_at=datetime(2026, 11, 16, 9, 0))
    frame = _summary(data).round(4)
    if os.environ.get("TEXTMINE_UPDATE_GOLDEN"):
        frame.to_csv(GOLDEN, index=False)
    expected = pd.read_csv(GOLDEN).fillna("")
    assert frame.fillna("").astype(str).values.tolist() == expected.astype(str).values.tolist()


def test_untrusted_text_renders_as_text(tmp_path: Path) -> None:
    ws_path = build(tmp_path / "ws.duckdb", reviews=200, sessions=0)
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    with open_workspace(ws_path) as ws:
        # Straight into the table: the cleaner would strip tags, this tests the renderer itself.
        ws.con.execute("""
            UPDATE documents SET text = ? || text, topic_label = ? || topic_label,
                   product = ?, aspects = [struct_pack(aspect := ?, polarity := 'negative',
                                                      score := 0.1, evidence := ?)]
            WHERE is_complaint""", [attack, attack, attack, attack, attack])
    html, _ = _report(ws_path, tmp_path, "--product", attack, "--title", attack)
    assert html.count("<script") == 3
    assert "<img" not in html and "onerror=alert(1)>" not in _visible(html)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in _visible(html)
    assert "</script><img" not in html
    book = openpyxl.load_workbook(tmp_path / "report.xlsx")
    assert any(attack in str(c.value) for row in book["主题"].iter_rows() for c in row)


def test_no_raw_pii_in_either_file(tmp_path: Path) -> None:
    pii = ["13812345678", "110105196707302409", "zhangwei1988@qq.com", "6212675389412420"]
    rows = ["评论ID,用户ID,评论时间,评分,评论内容"]
    for i in range(12):
        rows.append(f"R{i:03d},{i:06d},2026-11-{10 + i % 5} 10:00,1,"
                    f"快递太慢了还不发货，联系我{pii[i % 4]}或{pii[(i + 1) % 4]}，再不处理就投诉")
    rows.append(f"R999,000999,昨天下午,1,电话{pii[0]}身份证{pii[1]}")  # rejected: bad time
    src = tmp_path / "评论.csv"
    src.write_text("\n".join(rows) + "\n", encoding="utf-8")
    ws_path = tmp_path / "ws.duckdb"
    result = runner.invoke(app, ["analyze", str(src), "-w", str(ws_path), "-q"])
    assert result.exit_code == 0, result.output
    with open_workspace(ws_path) as ws:
        # A fitted topic puts the stored texts into the report as quotes; any three of the
        # four distinct texts hold all four kinds of personal data.
        ws.con.execute("UPDATE documents SET topic_id = 0, topic_label = '物流', topic_prob = 0.9")
    html, info = _report(ws_path, tmp_path)
    with zipfile.ZipFile(tmp_path / "report.xlsx") as book:
        xlsx = "".join(book.read(n).decode("utf-8") for n in book.namelist()
                       if n.endswith(".xml"))
    for placeholder in ("PHONE", "IDCARD", "EMAIL", "BANKCARD"):
        assert f"&lt;{placeholder}&gt;" in html and f"&lt;{placeholder}&gt;" in xlsx
    for value in pii:
        assert value not in html and value not in xlsx
    assert info["xlsx"].endswith("report.xlsx")


def test_empty_period_gives_a_valid_report_that_says_so(full_ws: Path, tmp_path: Path) -> None:
    html, info = _report(full_ws, tmp_path, "--since", "2020-01-01", "--until", "2020-01-07")
    assert info["since"] == "2020-01-01" and info["until"] == "2020-01-07"
    assert 'id="chart-volume"' not in html
    assert any("没有客户反馈" in m for m in info["missing"])
    assert any("本期" in m for m in info["missing"])
    assert "</html>" in html and 'id="missing"' in html
    assert len(pd.read_excel(tmp_path / "report.xlsx", sheet_name=None)) == len(SHEETS)


def test_fresh_workspace_gives_a_report_that_says_run_analyze(tmp_path: Path) -> None:
    ws_path = tmp_path / "ws.duckdb"
    open_workspace(ws_path).close()
    html, info = _report(ws_path, tmp_path)
    assert "textmine analyze" in info["missing"][0] and "</html>" in html


def test_workspace_with_only_chats(tmp_path: Path) -> None:
    ws_path = build(tmp_path / "ws.duckdb", reviews=0, sessions=120)
    html, info = _report(ws_path, tmp_path)
    assert 'id="chart-chats"' in html and 'id="chart-volume"' in html
    assert any("没有评论" in m for m in info["missing"])
    assert any("方面" in m for m in info["missing"])
    assert any("主题" in m for m in info["missing"])


def test_workspace_without_topics_or_sessions(tmp_path: Path) -> None:
    ws_path = build(tmp_path / "ws.duckdb", reviews=300, sessions=0, topics=False)
    html, info = _report(ws_path, tmp_path)
    assert 'id="spark-0"' not in html and 'id="chart-aspects"' in html
    assert any("topics fit" in m for m in info["missing"])
    assert any("会话" in m for m in info["missing"])
    book = openpyxl.load_workbook(tmp_path / "report.xlsx")
    assert "topics fit" in book["主题"]["A2"].value


def test_topic_names_and_model_version_come_from_the_current_model(tmp_path: Path) -> None:
    ws_path = build(tmp_path / "ws.duckdb", reviews=600, sessions=0)
    with open_workspace(ws_path) as ws:
        ws.con.execute("""CREATE TABLE IF NOT EXISTS topic_models (version INTEGER,
            created_at TIMESTAMP, engine VARCHAR, k INTEGER, is_current BOOLEAN)""")
        ws.con.execute("""CREATE TABLE IF NOT EXISTS topics (version INTEGER, topic_id INTEGER,
            label VARCHAR, custom_label VARCHAR)""")
        ws.con.execute("""INSERT INTO topic_models BY NAME
            SELECT * FROM (VALUES (1, TIMESTAMP '2026-11-01', 'nmf', 4, false),
                                  (2, TIMESTAMP '2026-10-01', 'lda', 5, true))
                t(version, created_at, engine, k, is_current)""")
        ws.con.execute("""INSERT INTO topics BY NAME
            SELECT * FROM (VALUES (2, 0, '物流 快递', '配送延误'), (2, 1, '充电 断连', NULL),
                                  (1, 0, '旧模型的名字', NULL))
                t(version, topic_id, label, custom_label)""")
    html, _ = _report(ws_path, tmp_path)
    labels = re.findall(r'class="topic-label">([^<]+)<', html)
    assert labels[0] == "配送延误" and "充电 断连" in labels and "旧模型的名字" not in labels
    assert "主题模型 v2（lda, k=5）" in _visible(html)


def test_product_filter_counts_only_that_product(full_ws: Path) -> None:
    with open_workspace(full_ws, read_only=True) as ws:
        data = collect(ws, Window(date(2026, 11, 9), date(2026, 11, 15), product="充电宝P1"))
        n = ws.con.execute("""SELECT count(*) FROM documents WHERE product = '充电宝P1'
            AND created_at >= '2026-11-09' AND created_at < '2026-11-16'""").fetchone()[0]
    assert data.headline[0].current == n


def test_unknown_product_lists_the_products_there_are(full_ws: Path, tmp_path: Path) -> None:
    html, info = _report(full_ws, tmp_path, "--product", "不存在的商品")
    assert 'id="chart-volume"' not in html
    assert any("不存在的商品" in m and "充电宝P1" in m for m in info["missing"])


def test_footer_names_window_counts_models_and_command(full_report: tuple[Path, Path],
                                                       full_ws: Path) -> None:
    footer = _visible(full_report[0].read_text(encoding="utf-8")).split("<footer>")[1]
    with open_workspace(full_ws, read_only=True) as ws:
        n_in, stored, rejected = ws.con.execute(
            "SELECT sum(n_in), sum(n_stored), sum(n_rejected) FROM runs").fetchone()
    assert "2026-11-09 至 2026-11-15" in footer
    assert f"读入 {n_in:,} 行" in footer and f"入库 {stored:,}" in footer
    assert f"拒收 {rejected:,}" in footer
    assert "abc123def456" in footer and "default" in footer
    assert f"textmine report -o {full_report[0]}" in footer


def test_library_call_writes_both_files(full_ws: Path, tmp_path: Path) -> None:
    with open_workspace(full_ws, read_only=True) as ws:
        result = build_report(ws, tmp_path / "a" / "r.html", xlsx_path=tmp_path / "a" / "r.xlsx",
                              until=date(2026, 11, 1))
    assert result.window == Window(date(2026, 10, 26), date(2026, 11, 1))
    assert result.html.exists() and result.xlsx.exists() and result.html_bytes > 0


@pytest.mark.parametrize("args", [["--since", "2026-11-15", "--until", "2026-11-01"],
                                  ["--since", "15/11/2026"], ["--xlsx", "r.csv"]])
def test_bad_options_are_one_line_errors(full_ws: Path, tmp_path: Path, args: list[str]) -> None:
    result = runner.invoke(app, ["report", "-w", str(full_ws), "-o", str(tmp_path / "r.html"),
                                 *args])
    assert result.exit_code == 2
    assert not (tmp_path / "r.html").exists()


def test_reads_a_parquet_folder_workspace(full_ws: Path, tmp_path: Path) -> None:
    import json

    import duckdb

    folder = tmp_path / "spark_out"
    con = duckdb.connect(str(full_ws), read_only=True)
    for table in ("documents", "sessions"):
        (folder / table).mkdir(parents=True)
        con.execute(f"COPY (SELECT * FROM {table}) TO '{folder / table / 'part-0.parquet'}' "
                    "(FORMAT parquet)")
    n = con.execute("SELECT count(*) FROM documents").fetchone()[0]
    con.close()
    (folder / "run.json").write_text(json.dumps({"in": n + 2, "stored": n, "duplicates": 0,
                                                 "rejected": 2}))
    html, info = _report(folder, tmp_path)
    assert 'id="chart-volume"' in html and 'id="chart-chats"' in html
    assert f"读入 {n + 2:,} 行" in html and "拒收 2" in html
