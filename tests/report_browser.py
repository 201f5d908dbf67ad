"""Open a report in headless Chromium over the DevTools protocol: errors, requests, charts, screenshot.

Why CDP rather than `--dump-dom`: the protocol reports console errors, uncaught exceptions and
every network request of the page as events, so "no errors" and "no requests outside the file"
are observed, not inferred from logs whose format changes between Chromium versions.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import websocket

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--hide-scrollbars", "--remote-debugging-port=0",
         "--remote-allow-origins=*"]
# What a chart that drew leaves in the page: plotly's SVG layers and the marks inside them.
CHART_PROBE = """
JSON.stringify(Array.from(document.querySelectorAll('.chart')).map(function (el) {
  return {id: el.id, svgs: el.querySelectorAll('svg.main-svg').length,
          marks: el.querySelectorAll('svg path.point, svg g.trace path, svg path.js-line, '
                                     + 'svg path.js-fill').length,
          height: el.getBoundingClientRect().height};
}))
"""


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageReport:
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    charts: list[dict] = field(default_factory=list)
    text: str = ""
    screenshot: bytes = b""


class _Session:
    def __init__(self, url: str) -> None:
        self.ws = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict] = []

    def call(self, method: str, **params: object) -> dict:
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_for(self, method: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        if any(e.get("method") == method for e in self.events):
            return
        while time.monotonic() < deadline:
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            msg = json.loads(self.ws.recv())
            self.events.append(msg)
            if msg.get("method") == method:
                return
        raise TimeoutError(method)


def _devtools_port(profile: Path, proc: subprocess.Popen, timeout: float = 30) -> int:
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_file.exists() and port_file.read_text().strip():
            return int(port_file.read_text().splitlines()[0])
        if proc.poll() is not None:
            raise RuntimeError(f"chromium exited with {proc.returncode}")
        time.sleep(0.1)
    raise TimeoutError("chromium did not open its DevTools port")


def inspect_page(html: Path, chromium: str, width: int = 1240, settle_s: float = 1.5) -> PageReport:
    """Load `html` from disk, let the charts draw, and report what the page did."""
    report = PageReport()
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.Popen([chromium, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port = _devtools_port(Path(profile), proc)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
                page = next(t for t in json.load(r) if t["type"] == "page")
            cdp = _Session(page["webSocketDebuggerUrl"])
            for domain in ("Page", "Runtime", "Log", "Network"):
                cdp.call(f"{domain}.enable")
            cdp.call("Emulation.setDeviceMetricsOverride", width=width, height=900,
                     deviceScaleFactor=1, mobile=False)
            cdp.call("Page.navigate", url=html.resolve().as_uri())
            cdp.wait_for("Page.loadEventFired", timeout=60)
            time.sleep(settle_s)
            probe = cdp.call("Runtime.evaluate", expression=CHART_PROBE, returnByValue=True)
            report.charts = json.loads(probe["result"]["value"])
            text = cdp.call("Runtime.evaluate", expression="document.body.innerText",
                            returnByValue=True)
            report.text = text["result"]["value"]
            height = cdp.call("Runtime.evaluate",
                              expression="document.documentElement.scrollHeight",
                              returnByValue=True)["result"]["value"]
            cdp.call("Emulation.setDeviceMetricsOverride", width=width, height=int(height),
                     deviceScaleFactor=1, mobile=False)
            time.sleep(0.5)
            shot = cdp.call("Page.captureScreenshot", format="png")
            report.screenshot = base64.b64decode(shot["data"])
            cdp.ws.close()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    for event in cdp.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            report.console_errors.append(" ".join(str(a.get("value", a.get("description")))
                                                  for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            report.console_errors.append(params["exceptionDetails"].get("text", "exception"))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            report.console_errors.append(params["entry"].get("text", ""))
        elif method == "Network.requestWillBeSent":
            report.requests.append(params["request"]["url"])
    return report
