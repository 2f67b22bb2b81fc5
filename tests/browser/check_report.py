#!/usr/bin/env python3
"""Opens an mttx HTML report in real headless Chromium and checks that it is self-contained and safe.

Usage: check_report.py REPORT_HTML --screenshot OUT.png [--min-charts N] [--timeout SECONDS]

The report is opened from its file:// URL in the system Chromium (MTTX_CHROMIUM, else /usr/bin/chromium)
through the PyPI package playwright; no browser is downloaded. The check fails (exit 1, one line per
problem on stderr, each starting with "FAIL: ") when:
  - a console message of type "error" is logged, or an uncaught exception is thrown;
  - a JavaScript dialog (alert/confirm/prompt) opens, or window.__mttx_pwned is defined after load:
    hostile ticket data must never execute;
  - anything other than the report's own URL is requested (data: URLs excepted): every such request is
    aborted and reported, so the page makes no network request and loads no other file;
  - there are fewer than N chart figures (`<figure class="chart" id="chart-NAME">`, with or without data);
  - a figure breaks the contract: exactly one inline <svg> rendered larger than 10x10 px with a non-empty
    <text> and at least 3 shapes (path/rect/polyline/polygon/circle/line), or else a non-empty
    <p class="no-data">; a non-empty <figcaption>; a unique id "chart-NAME";
  - the page has no non-empty <h1>;
  - at a 1300 px wide window, the headline table (`#headline`, in its scrolling wrapper
    `#headline-table`) scrolls sideways (the wrapper's scrollWidth exceeds its clientWidth), or one of its
    row labels wraps onto a second line;
  - printed (print media, at the printable width of A4 and of US Letter with the report's 12 mm
    margins), the first page, from the top of the page to the end of `#summary`, is taller than the
    printable height, or a table or chart is wider than its container.
Once the page has loaded, a full-page PNG goes to --screenshot whatever the outcome, and one JSON line
goes to stdout: {"charts", "no_data", "requests_blocked", "console_errors", "screenshot", "figures"},
where charts counts every chart figure, no_data those of them without data, and figures lists their ids.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urldefrag

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # A container's /dev/shm may be tiny; Chromium then crashes on shared memory without this.
    "--disable-dev-shm-usage",
]

SHAPES = "path, rect, polyline, polygon, circle, line"

# The window the headline table must fit: a laptop screen, as reviews are read.
VIEWPORT_WIDTH = 1300

# Printable area at 96 px per inch, with the report's `@page { margin: 12mm }`: (name, width, height).
MARGIN_MM = 12
PAPERS = [("A4", 210.0, 297.0), ("Letter", 215.9, 279.4)]


def px(mm: float) -> int:
    return int(mm / 25.4 * 96)


# Runs in the page under print media; measures the first page and finds what overflows.
PRINT_JS = """() => {
  const summary = document.querySelector('#summary');
  const bottom = summary ? summary.getBoundingClientRect().bottom + window.scrollY : null;
  const overflows = [];
  for (const wrap of document.querySelectorAll('div.table')) {
    if (wrap.scrollWidth > wrap.clientWidth + 1) {
      overflows.push(`table ${wrap.id || wrap.querySelector('th')?.textContent || ''}: ${wrap.scrollWidth} > ${wrap.clientWidth}`);
    }
  }
  for (const fig of document.querySelectorAll('figure.chart')) {
    const svg = fig.querySelector('svg');
    if (svg && svg.getBoundingClientRect().width > fig.getBoundingClientRect().width + 1) {
      overflows.push(`chart ${fig.id}: ${Math.round(svg.getBoundingClientRect().width)} > ${Math.round(fig.getBoundingClientRect().width)}`);
    }
  }
  const body = document.body.getBoundingClientRect();
  return { firstPage: bottom === null ? null : Math.ceil(bottom - body.top), overflows };
}"""

# Runs in the page after load; returns what the checks need, computed from the rendered DOM.
INSPECT_JS = """(shapes) => {
  const text = (el) => (el ? (el.textContent || '').trim() : '');
  const figures = Array.from(document.querySelectorAll('figure.chart')).map((fig) => {
    const svgs = Array.from(fig.querySelectorAll('svg')).filter((s) => !s.parentElement.closest('svg'));
    const noData = fig.querySelector('p.no-data');
    const svg = svgs[0];
    const box = svg ? svg.getBoundingClientRect() : null;
    return {
      id: fig.id || '',
      caption: text(fig.querySelector('figcaption')),
      svgs: svgs.length,
      width: box ? box.width : 0,
      height: box ? box.height : 0,
      texts: svg ? Array.from(svg.querySelectorAll('text')).filter((t) => text(t) !== '').length : 0,
      shapes: svg ? svg.querySelectorAll(shapes).length : 0,
      noData: noData !== null,
      noDataText: text(noData),
    };
  });
  const h1 = Array.from(document.querySelectorAll('h1')).map(text).find((t) => t !== '') || '';
  const wrap = document.querySelector('#headline-table');
  let headline = null;
  if (wrap) {
    const lines = (cell) => {
      const range = document.createRange();
      range.selectNodeContents(cell);
      return new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top))).size;
    };
    const labels = Array.from(wrap.querySelectorAll('tbody tr td:first-child'));
    headline = {
      scrollWidth: wrap.scrollWidth,
      clientWidth: wrap.clientWidth,
      wrapped: labels.filter((c) => lines(c) > 1).map(text),
    };
  }
  return { figures, h1, headline, pwned: typeof window.__mttx_pwned !== 'undefined' };
}"""


def short(value: object, limit: int = 200) -> str:
    """One line, at most `limit` characters: problem lines stay one line each."""
    line = " ".join(str(value).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def check_figure(fig: dict, seen: set[str]) -> list[str]:
    name = fig["id"] or "(figure without id)"
    problems = []
    if not fig["id"].startswith("chart-") or fig["id"] == "chart-":
        problems.append(f'figure.chart {name}: id must be "chart-NAME"')
    elif fig["id"] in seen:
        problems.append(f"figure.chart {name}: id is not unique")
    seen.add(fig["id"])
    if not fig["caption"]:
        problems.append(f"figure.chart {name}: no <figcaption> with text")
    if fig["svgs"] and fig["noData"]:
        problems.append(f"figure.chart {name}: has both an <svg> and a p.no-data")
    elif fig["noData"]:
        if not fig["noDataText"]:
            problems.append(f"figure.chart {name}: p.no-data is empty")
    elif fig["svgs"] != 1:
        problems.append(f"figure.chart {name}: has {fig['svgs']} inline <svg> elements and no p.no-data (want exactly one svg)")
    else:
        if fig["width"] <= 10 or fig["height"] <= 10:
            problems.append(f"figure.chart {name}: svg renders at {fig['width']:.0f}x{fig['height']:.0f} px (want both > 10)")
        if fig["texts"] < 1:
            problems.append(f"figure.chart {name}: svg has no <text> with text")
        if fig["shapes"] < 3:
            problems.append(f"figure.chart {name}: svg has {fig['shapes']} shapes (want >= 3 of {SHAPES})")
    return problems


def run(report: Path, screenshot: Path, min_charts: int, timeout_s: float, profile: str) -> tuple[list[str], dict | None]:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    report_url = report.as_uri()
    blocked: dict[str, str] = {}  # url -> resource type, in request order
    console_errors: list[tuple[str, str, int | None]] = []  # (text, source url, line)
    page_errors: list[str] = []
    dialogs: list[str] = []
    other: list[str] = []  # crashes, popups, a failed screenshot

    def allowed(url: str) -> bool:
        return url.startswith("data:") or urldefrag(url)[0] == report_url

    def on_route(route) -> None:
        request = route.request
        if allowed(request.url):
            route.continue_()
        else:
            blocked.setdefault(request.url, request.resource_type)
            route.abort("blockedbyclient")

    def on_request(request) -> None:
        # Belt and braces: a request the router did not see is still reported.
        if not allowed(request.url):
            blocked.setdefault(request.url, request.resource_type)

    def on_console(msg) -> None:
        if msg.type == "error":
            loc = msg.location or {}
            console_errors.append((msg.text, loc.get("url", ""), loc.get("lineNumber")))

    def on_dialog(dialog) -> None:
        dialogs.append(f"{dialog.type}({short(dialog.message, 80)!r})")
        try:
            dialog.dismiss()
        except PlaywrightError:
            pass

    def watch(page) -> None:
        page.on("console", on_console)
        page.on("pageerror", lambda error: page_errors.append(short(getattr(error, "message", error))))
        page.on("dialog", on_dialog)
        page.on("crash", lambda _page: other.append("the page crashed"))
        page.on("websocket", lambda ws: blocked.setdefault(ws.url, "websocket"))

    def on_popup(page) -> None:
        watch(page)
        other.append("the report opened a new page (window.open or a link's target)")

    executable = os.environ.get("MTTX_CHROMIUM", "/usr/bin/chromium")
    timeout_ms = timeout_s * 1000
    state = None
    with sync_playwright() as pw:
        try:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=executable,
                args=CHROMIUM_ARGS,
                headless=True,
                timeout=timeout_ms,
                service_workers="block",
                viewport={"width": VIEWPORT_WIDTH, "height": 900},
            )
        except PlaywrightError as err:
            return [f"could not launch Chromium at {executable}: {short(err.message, 300)}"], None
        try:
            context.set_default_timeout(timeout_ms)
            context.set_default_navigation_timeout(timeout_ms)
            context.route("**/*", on_route)
            context.on("request", on_request)
            # A popup (window.open) is a page of this context too: watch it like the report's page.
            context.on("page", on_popup)
            page = context.pages[0] if context.pages else context.new_page()
            watch(page)
            loaded = False
            try:
                page.goto(report_url, wait_until="load")
                loaded = True
                # Late events (a timer, an image's error handler) still count.
                page.wait_for_timeout(500)
                state = page.evaluate(INSPECT_JS, SHAPES)
                page.emulate_media(media="print")
                printed = []
                for name, width, height in PAPERS:
                    page.set_viewport_size({"width": px(width - 2 * MARGIN_MM), "height": px(height - 2 * MARGIN_MM)})
                    measured = page.evaluate(PRINT_JS)
                    printed.append({"paper": name, "height": px(height - 2 * MARGIN_MM), **measured})
                state["printed"] = printed
                page.emulate_media(media="screen")
                page.set_viewport_size({"width": VIEWPORT_WIDTH, "height": 900})
            except PlaywrightError as err:
                step = "inspected" if loaded else "loaded"
                other.insert(0, f"the report could not be {step}: {short(err.message, 300)}")
            if loaded:
                try:
                    screenshot.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(screenshot), full_page=True)
                except (PlaywrightError, OSError) as err:
                    other.append(f"screenshot to {screenshot} failed: {short(err, 300)}")
        finally:
            context.close()

    problems = list(other)
    problems += [f"javascript dialog opened: {d}" for d in dialogs]
    if state is not None and state["pwned"]:
        problems.append("window.__mttx_pwned is defined: hostile data executed")
    problems += [f"uncaught exception: {e}" for e in page_errors]
    for url, kind in blocked.items():
        problems.append(f"request blocked ({kind}): {short(url)}")
    # Chromium logs each blocked request as "Failed to load resource": reported above, not again.
    console_errors = [e for e in console_errors if not (e[1] in blocked and e[0].startswith("Failed to load resource"))]
    for text, url, line in console_errors:
        where = f" at {short(url, 80)}{f':{line + 1}' if line is not None else ''}" if url else ""
        problems.append(f"console error{where}: {short(text)}")
    if state is None:
        return problems, None

    if not state["h1"]:
        problems.append("page has no non-empty <h1>")
    headline = state["headline"]
    if headline is not None:
        if headline["scrollWidth"] > headline["clientWidth"]:
            problems.append(
                f"the headline table scrolls sideways at {VIEWPORT_WIDTH} px: scrollWidth {headline['scrollWidth']} > clientWidth {headline['clientWidth']}"
            )
        for label in headline["wrapped"]:
            problems.append(f"headline row label wraps: {short(label, 80)!r}")
    for paper in state.get("printed", []):
        if paper["firstPage"] is None:
            problems.append("no #summary section to print as the first page")
        elif paper["firstPage"] > paper["height"]:
            problems.append(f"printed on {paper['paper']}, the first page is {paper['firstPage']} px tall, more than the {paper['height']} px a page holds")
        for what in paper["overflows"]:
            problems.append(f"printed on {paper['paper']}, {what} overflows its container")
    figures = state["figures"]
    if len(figures) < min_charts:
        problems.append(f"found {len(figures)} figure.chart elements, want at least {min_charts}")
    seen: set[str] = set()
    for fig in figures:
        problems.extend(check_figure(fig, seen))
    summary = {
        "charts": len(figures),
        "no_data": sum(1 for f in figures if f["noData"] and not f["svgs"]),
        "requests_blocked": len(blocked),
        "console_errors": len(console_errors),
        "screenshot": str(screenshot),
        "figures": [f["id"] for f in figures],
        "headline": headline,
        "printed": state.get("printed", []),
    }
    return problems, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="the report.html to open")
    parser.add_argument("--screenshot", type=Path, required=True, help="full-page PNG to write")
    parser.add_argument("--min-charts", type=int, default=1, help="fewest chart figures accepted (default 1)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds for launch, load and each step (default 30)")
    args = parser.parse_args()

    report = args.report.resolve()
    if not report.is_file():
        print(f"FAIL: no report at {report}", file=sys.stderr)
        return 1
    try:
        import playwright  # noqa: F401
    except ImportError:
        print(f"FAIL: the Python package playwright is not installed for {sys.executable}", file=sys.stderr)
        return 1

    profile = tempfile.mkdtemp(prefix="mttx-chromium-profile-")

    # Last resort: a page that hangs the renderer (an endless loop) would also hang page.evaluate, which
    # has no timeout. Closing our end of the pipe makes Playwright's driver close the browser.
    def give_up() -> None:
        print(f"FAIL: gave up after {deadline:.0f} s: the browser or page hangs", file=sys.stderr)
        sys.stderr.flush()
        shutil.rmtree(profile, ignore_errors=True)
        os._exit(1)

    deadline = 3 * args.timeout + 30
    watchdog = threading.Timer(deadline, give_up)
    watchdog.daemon = True
    watchdog.start()
    try:
        problems, summary = run(report, args.screenshot.resolve(), args.min_charts, args.timeout, profile)
    finally:
        watchdog.cancel()
        shutil.rmtree(profile, ignore_errors=True)

    if summary is not None:
        print(json.dumps(summary), flush=True)
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
