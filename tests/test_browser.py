"""The rendered book in a real browser: Debian's Chromium, headless, opens every page of one run's HTML.

``make browser`` runs these tests on the HTML of the run its parameters name (``RDCN_PROFILE``, ``RDCN_SEED``, …,
as ``make book``); ``make test`` runs them on the book-profile build. The pages are served by a local HTTP server
this test starts on 127.0.0.1, and the browser resolves no other host (``--host-resolver-rules``), so a page that
would fetch anything from the internet (a CDN's MathJax, a web font) fails here as it would for a reader offline.
For every page it checks that

- its math is typeset by MathJax (every math element holds MathJax's output, no MathJax error, no raw ``\\(``,
  ``\\[`` or ``$$`` left in the visible text);
- every ``<img>`` loaded, with a non-zero natural size, and nothing was requested from another host;
- the browser's console logged no error;
- no parameters cell (ours or papermill's) and no plumbing cell (the session's ``open_chapter``/``save`` calls,
  raw ``glue`` calls) is visible, and no code block or table is wider than the page (in a 1440-pixel window,
  where the theme's text column reaches its full width: 89 columns of code);
- each chapter opens with its "Run this chapter yourself" box and offers its executed notebook for download;
- the ledger has one row per registered claim (:mod:`rdcn.claims`), each with one verdict badge;
- every internal link resolves (the page or file exists, and so does the anchor it points to).

Each page's full-length screenshot (in slices for long pages) is saved under ``_build/screenshots/<run>/`` for
people to look at.
``RDCN_HTML_DIR`` points the tests at another built book's HTML folder (screenshots still go under the run's
name). Without ``RDCN_REQUIRE_HTML=1`` a run that has no HTML, or a machine without Chromium, skips these tests
(with it, they fail).
"""
from __future__ import annotations

import base64
import functools
import http.server
import os
import re
import tempfile
import threading
import urllib.parse
from pathlib import Path

import pytest

from rdcn import claims
from rdcn.claims.rules import STATES
from rdcn.core import paths
from rdcn.core.runs import Run

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WINDOW = (1440, 900)  # a laptop's; the theme's text column is at its widest (89 code columns) from here on
SCREENSHOT_SLICE = 15_000  # CSS pixels per image: Chromium cannot capture much taller in one
MATH_TIMEOUT_S = 30
CHAPTER_PAGE = re.compile(r"book/chapters/\d\d_\w+\.html$")
LEDGER_PAGE = "book/chapters/ledger.html"
REDIRECT = re.compile(r"""<meta\s+http-equiv=["']refresh["']\s+content=["']\d+;\s*url=([^"']+)["']""", re.I)
RAW_TEX = ("\\(", "\\)", "\\[", "\\]", "$$", "\\begin{")
PLUMBING = (re.compile(r"open_chapter\("), re.compile(r"\bch\.save\(\)"), re.compile(r"display\s*=\s*False"),
            re.compile(r"from myst_nb import glue"))
PARAMETER = re.compile(r"(profile|device|data_dir|seed|sizes)\s*=")

# Everything one page tells, gathered in the page by one script once MathJax has finished. It first opens every
# folded block (dropdowns, <details>): what a reader can unfold is checked like the rest.
COLLECT = r"""
document.querySelectorAll("details").forEach((d) => { d.open = true; });
const visible = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length)
    && getComputedStyle(e).visibility !== "hidden";
const maths = [...document.querySelectorAll(".math")];
const skip = new Set(["PRE", "CODE", "SCRIPT", "STYLE", "TEXTAREA", "MJX-CONTAINER", "MJX-ASSISTIVE-MML"]);
const texts = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  let inside = false;
  for (let e = node.parentElement; e; e = e.parentElement) { if (skip.has(e.tagName)) { inside = true; break; } }
  if (!inside && node.parentElement && visible(node.parentElement)) texts.push(node.textContent);
}
const article = document.querySelector("article.bd-article") || document.querySelector("main") || document.body;
const width = article.getBoundingClientRect().width;
const widest = (e) => e.innerText.split("\n").reduce((a, b) => (b.length > a.length ? b : a), "");
const rows = [...document.querySelectorAll("table.ledger-table > tbody > tr")].map((row) => ({
  id: ((row.cells[1] || row).querySelector("code") || row).innerText.trim(),  // the id opens the claim's line
  badges: [...row.querySelectorAll(".sd-badge")].map((b) => b.innerText.trim()),
}));
const box = [...document.querySelectorAll(".admonition")].find(
  (a) => (a.querySelector(".admonition-title") || a).innerText.includes("Run this chapter yourself"));
const firstSection = document.querySelector("article section section");
return {
  title: document.title,
  math: maths.length,
  untypeset: maths.filter((m) => !m.querySelector("mjx-container")).map((m) => m.textContent.slice(0, 80)),
  mathErrors: [...document.querySelectorAll("mjx-merror")].map((e) => e.textContent.slice(0, 80)),
  text: texts.join(" "),
  images: [...document.images].map((i) => ({src: i.src, ok: i.complete && i.naturalWidth > 0 && i.naturalHeight > 0})),
  resources: performance.getEntriesByType("resource").map((r) => r.name),
  parameterCells: [...document.querySelectorAll(".tag_parameters, .tag_injected-parameters")].filter(visible).length,
  cells: [...document.querySelectorAll("div.cell_input")].filter(visible).map((c) => c.innerText),
  overflowing: [...document.querySelectorAll("pre")].filter((p) => visible(p) && p.scrollWidth > p.clientWidth + 1)
      .map(widest),
  wideTables: [...document.querySelectorAll("table")].filter((t) => visible(t) && t.scrollWidth > width + 1)
      .map((t) => t.innerText.slice(0, 80)),
  rerunBox: !!box,
  rerunBoxFirst: !!box && (!firstSection || !!(box.compareDocumentPosition(firstSection)
      & Node.DOCUMENT_POSITION_FOLLOWING)),
  downloads: [...document.querySelectorAll("a[href]")].map((a) => a.href).filter((h) => h.endsWith(".ipynb")),
  links: [...document.querySelectorAll("a[href]")].map((a) => a.href),
  ids: [...document.querySelectorAll("[id]")].map((e) => e.id),
  ledgerRows: rows,
};
"""

# Resolves once MathJax has typeset the page (or at once where the page has no math).
WAIT_FOR_MATH = r"""
const done = arguments[arguments.length - 1];
const deadline = Date.now() + arguments[0] * 1000;
(function poll() {
  if (!document.querySelector(".math")) return done("no math");
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    return MathJax.startup.promise.then(() => done("typeset"), (e) => done("MathJax failed: " + e));
  }
  if (Date.now() > deadline) return done("MathJax never started");
  setTimeout(poll, 100);
})();
"""


EMPTY_REPORT = dict(title="", math=0, untypeset=[], mathErrors=[], text="", images=[], resources=[], parameterCells=0,
                    cells=[], overflowing=[], wideTables=[], rerunBox=False, rerunBoxFirst=False, downloads=[],
                    links=[], ids=[], ledgerRows=[], mathState="no math", console=[])


def _run() -> Run:
    return Run.from_environment()


def _skip_or_fail(message: str):
    if os.environ.get("RDCN_REQUIRE_HTML") == "1":
        pytest.fail(message)
    pytest.skip(message)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the test reports what fails; the server's access log is noise
        pass


@pytest.fixture(scope="module")
def site():
    """The run's HTML folder, served on 127.0.0.1 (a port the system chooses) for the module's tests."""
    run = _run()
    html = Path(os.environ.get("RDCN_HTML_DIR") or run.html_dir)  # another built book: RDCN_HTML_DIR
    if not (html / "index.html").is_file():
        _skip_or_fail(f"run {run.name} has no HTML ({html / 'index.html'} is missing): run `make book`")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(html)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield run, html, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _browser(user_data: str):
    if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
        _skip_or_fail(f"Debian's chromium and chromium-driver are needed ({CHROMIUM}, {CHROMEDRIVER}): `make install`")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    arguments = ["--headless=new", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage", "--hide-scrollbars",
                 "--force-device-scale-factor=1", f"--window-size={WINDOW[0]},{WINDOW[1]}", "--lang=en-US",
                 f"--user-data-dir={user_data}",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]  # offline, wherever the test runs
    if os.geteuid() == 0:
        arguments.append("--no-sandbox")  # Chromium refuses to start its sandbox as root
    for argument in arguments:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(MATH_TIMEOUT_S + 10)
    return driver


def _screenshot(driver, target: Path) -> None:
    """The whole page, in slices of :data:`SCREENSHOT_SLICE` pixels (``page.png``, ``page-2.png``, …): the viewport
    is made as tall as the page for the shots (a capture beyond the viewport shifts this theme's layout)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", dict(width=WINDOW[0], height=height,
                                                                       deviceScaleFactor=1, mobile=False))
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        for index, top in enumerate(range(0, height, SCREENSHOT_SLICE), start=1):
            clip = dict(x=0, y=top, width=WINDOW[0], height=min(SCREENSHOT_SLICE, height - top), scale=1)
            shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "clip": clip})
            path = target if index == 1 else target.with_name(f"{target.stem}-{index}.png")
            path.write_bytes(base64.b64decode(shot["data"]))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.fixture(scope="module")
def book(site):
    """Every page of the run's HTML, opened once: what :data:`COLLECT` reports, plus the math state and the
    console's errors, by page path (``book/chapters/03_random_cnn_random_dcn.html``)."""
    run, html, origin = site
    pages = sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html")
                   if not any(part.startswith("_") for part in p.relative_to(html).parts))
    shots = paths.build_dir() / "screenshots" / run.name
    reports = {}
    with tempfile.TemporaryDirectory() as user_data:
        driver = _browser(user_data)
        try:
            for page in pages:
                redirect = REDIRECT.search((html / page).read_text(errors="replace"))
                if redirect:  # jupyter-book's index.html: only its target matters (a link like any other)
                    reports[page] = dict(EMPTY_REPORT, links=[urllib.parse.urljoin(origin + page, redirect[1])])
                    continue
                driver.get(origin + page)
                math_state = driver.execute_async_script(WAIT_FOR_MATH, MATH_TIMEOUT_S)
                _screenshot(driver, shots / page.replace(".html", ".png"))  # as the reader first sees it
                report = driver.execute_script(COLLECT)
                report["mathState"] = math_state
                report["console"] = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
                reports[page] = report
        finally:
            driver.quit()
    return dict(origin=origin, html=html, pages=reports)


def _failures(book, check) -> str:
    """Every page's problems by ``check(page, report)`` (a list of strings), as one readable text ("" if none)."""
    found = {page: check(page, report) for page, report in book["pages"].items()}
    return "\n".join(f"{page}:\n" + "\n".join(f"  - {problem}" for problem in problems)
                     for page, problems in found.items() if problems)


def test_every_page_was_opened(book):
    assert "index.html" in book["pages"]
    assert any(CHAPTER_PAGE.search(page) for page in book["pages"]), sorted(book["pages"])


def test_math_is_typeset_offline(book):
    def check(page, report):
        problems = []
        if report["math"] and report["mathState"] != "typeset":
            problems.append(report["mathState"])
        if report["untypeset"]:
            problems.append(f"{len(report['untypeset'])} math elements not typeset, e.g. {report['untypeset'][:3]}")
        if report["mathErrors"]:
            problems.append(f"MathJax errors: {report['mathErrors'][:5]}")
        raw = [tex for tex in RAW_TEX if tex in report["text"]]
        if raw:
            at = report["text"].find(raw[0])
            problems.append(f"raw TeX {raw} in the visible text: …{report['text'][max(at - 60, 0):at + 60]}…")
        return problems

    failures = _failures(book, check)
    assert not failures, failures
    assert any(report["math"] for report in book["pages"].values()), "no page has math: the check would be empty"


def test_images_load_and_nothing_comes_from_outside(book):
    def check(page, report):
        broken = [image["src"] for image in report["images"] if not image["ok"]]
        outside = [url for url in report["resources"] if not url.startswith(book["origin"])]
        return [f"broken images {broken}"] * bool(broken) + [f"requested from outside: {outside}"] * bool(outside)

    failures = _failures(book, check)
    assert not failures, failures


def test_no_console_errors(book):
    def check(page, report):  # the browser's own request for /favicon.ico is not the page's
        return [message for message in report["console"] if "/favicon.ico " not in message]

    failures = _failures(book, check)
    assert not failures, failures


def test_no_parameters_or_plumbing_cell_is_visible(book):
    def check(page, report):
        problems = [f"{report['parameterCells']} parameters cell(s) visible"] * bool(report["parameterCells"])
        for cell in report["cells"]:
            hits = [pattern.pattern for pattern in PLUMBING if pattern.search(cell)]
            code = [line for line in cell.splitlines() if line.strip() and not line.lstrip().startswith("#")]
            if code and all(PARAMETER.match(line) for line in code):
                hits.append("a parameters cell without its tags")
            if hits:
                problems.append(f"plumbing cell ({hits}): {cell[:120]!r}")
        return problems

    failures = _failures(book, check)
    assert not failures, failures


def test_nothing_is_wider_than_the_page(book):
    def check(page, report):
        return [f"code line wider than the page: {line!r}" for line in report["overflowing"]] + [
            f"table wider than the page: {table!r}" for table in report["wideTables"]]

    failures = _failures(book, check)
    assert not failures, failures


def test_each_chapter_opens_with_its_rerun_box_and_offers_its_notebook(book):
    def check(page, report):
        if not CHAPTER_PAGE.search(page):
            return []
        problems = ["no 'Run this chapter yourself' box"] * (not report["rerunBox"])
        problems += ["the 'Run this chapter yourself' box is not above the first section"] * (
            report["rerunBox"] and not report["rerunBoxFirst"])
        stem = Path(page).stem
        offered = any(link.endswith(f"/{stem}.ipynb") for link in report["downloads"])
        problems += [f"no download of {stem}.ipynb"] * (not offered)
        return problems

    failures = _failures(book, check)
    assert not failures, failures


def test_the_ledger_has_one_row_with_one_verdict_per_claim(book):
    assert LEDGER_PAGE in book["pages"], f"no ledger page among {sorted(book['pages'])}"
    rows = book["pages"][LEDGER_PAGE]["ledgerRows"]
    assert sorted(row["id"] for row in rows) == sorted(claims.REGISTRY), "the ledger's rows are not the registry's"
    no_verdict = {row["id"]: row["badges"] for row in rows if len(row["badges"]) != 1 or row["badges"][0] not in STATES}
    assert not no_verdict, f"rows without exactly one verdict badge ({STATES}): {no_verdict}"


def test_every_internal_link_resolves(book):
    origin, html, pages = book["origin"], book["html"], book["pages"]

    def check(page, report):
        broken = []
        for link in sorted(set(report["links"])):
            if not link.startswith(origin):
                continue  # another host (a DOI, the papers' sites): never fetched by the page itself
            url = urllib.parse.urlsplit(link)
            target = urllib.parse.unquote(url.path).lstrip("/")
            target = target + "index.html" if target.endswith("/") or not target else target
            if not (html / target).is_file():
                broken.append(f"{link} (no file {target})")
            elif url.fragment and target in pages and urllib.parse.unquote(url.fragment) not in pages[target]["ids"]:
                broken.append(f"{link} (no anchor #{url.fragment} in {target})")
        return broken

    failures = _failures(book, check)
    assert not failures, failures
