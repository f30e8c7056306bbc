"""The book as a reader sees it: build it, open every page of the table of contents in headless
Chromium, and check what a reader would.

For each page in ``_toc.yml``, at a desktop width (``DESKTOP``), the test fails on

* a console error or an uncaught JavaScript exception (nothing is filtered),
* any request to the network (MathJax too comes from the site's ``_static/``, through
  ``sphinx-mathjax-offline``), or a local file that does not load,
* an image that does not load (``naturalWidth == 0``), or a notebook chapter without a figure,
* a figure without a number or a caption (every image must sit in a ``figure`` whose
  ``figcaption`` has both; for a notebook cell: ``mystnb.figure.name`` and ``.caption``),
* a glue reference in the source that renders nothing (an unresolved ``glue`` key),
* an unresolved cross-reference, an empty citation, a docutils system message, a role or ``$$``
  left as raw text, a traceback or a Python warning in a cell output,
* math that did not render, once MathJax has finished: raw ``\\(``, ``\\[`` or ``$$``, or a TeX
  command (``\\int``, ``\\frac``...) left in the prose outside ``pre``/``code``; a math element
  (``span.math``/``div.math``) that MathJax did not typeset; a TeX error in an equation,
* something that does not fit its column: a code or output box or a table that scrolls
  sideways (the report names the code lines that are too long), or a display equation wider
  than its column (break it with ``aligned``). Cell outputs wrap instead on a desktop, through
  ``_static/custom.css``; source code does not,
* an inline formula that runs past the right edge of its paragraph (MathJax 3 cannot wrap it),
* a page wider than its window (something outside a scrolling box sticks out, e.g. a long
  inline literal), which makes the whole page scroll sideways,
* missing links to the previous and next page of the table of contents, or a notebook chapter
  without its ``.ipynb`` download link.

It opens every page again at a phone width (``PHONE``, 390 px), where it fails on console errors,
network requests, an inline formula that runs past its paragraph, and a page wider than the phone
(code boxes scroll sideways inside the page, as they should on a phone).

It saves a full-page screenshot of every page under ``<build>/screenshots`` and, for the phone,
``<build>/screenshots/phone`` (and copies both to ``$AEBOOK_SCREENSHOT_DIR`` when that is set, e.g.
as a CI artifact).

Chromium is Debian's package (``apt-get install chromium``), driven by Python playwright with
``executable_path``; ``playwright install`` is never run. Without Chromium the test is skipped,
unless ``AEBOOK_REQUIRE_BROWSER=1`` (set by ``.ci/run``), where a missing browser is a failure.
``test_checker_reports_a_broken_page`` builds a small, deliberately broken book and shows that
every kind of problem above is reported, and that the clean page is not.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Every request to the network is aborted and reported: the book must read offline, MathJax
# included (sphinx-mathjax-offline serves it from _static/mathjax, not from a CDN).
#
# DESKTOP is playwright's default viewport (1280 x 720). There sphinx-book-theme shows both
# sidebars and the article (article.bd-article) is 752 px wide, 688 px inside its padding. A code
# cell's box is 684 px: 77 characters of its 14 px monospace font (8.4 px each, DejaVu Sans Mono on
# Debian) fit, 75 in a cell tagged hide-cell (666 px). A display equation gets 633 px next to its
# number. PHONE is a phone's width.
DESKTOP = {"viewport": {"width": 1280, "height": 720}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
MATHJAX_TIMEOUT_MS = 20_000

# Roles that MyST turns into something else; seen as raw text in the prose they were not parsed.
RAW_ROLE = re.compile(r"\{(glue(:\w+)?|eq|cite(:\w+)?|doc|ref|numref|term|download|math|func|class|mod)\}`")
GLUE_ROLE = re.compile(r"\{glue(?::\w+)?\}`([^`]+)`")
GLUE_DIRECTIVE = re.compile(r"^\s*(?:`{3,}|:{3,})\{glue(?::\w+)?\}\s+(\S+)", re.MULTILINE)
PYTHON_WARNING = re.compile(r"\b\w*(Warning|Error)\b")
# TeX that a reader should never see as text: math delimiters, and commands such as \int or \frac.
RAW_MATH = re.compile(r"\\\(|\\\[|\$\$")
TEX_COMMAND = re.compile(r"\\[A-Za-z]+")


# ----------------------------------------------------------------------------- the source side
def toc_docnames(toc_file: Path) -> list[str]:
    """Return the docnames of ``toc_file`` (a jb-book ``_toc.yml``) in reading order."""
    toc = yaml.safe_load(toc_file.read_text())
    names = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            walk(entry.get("sections", []))
            walk(entry.get("chapters", []))

    walk(toc.get("chapters", []))
    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    return [re.sub(r"\.(md|ipynb)$", "", n) for n in names]


def source_file(book_root: Path, docname: str) -> Path:
    """Return the ``.ipynb`` or ``.md`` file behind ``docname``."""
    for suffix in (".ipynb", ".md"):
        path = book_root / f"{docname}{suffix}"
        if path.exists():
            return path
    raise FileNotFoundError(f"{docname} is in _toc.yml but neither {docname}.ipynb nor {docname}.md exists")


def markdown_of(path: Path) -> str:
    """Return the markdown prose of a chapter (the markdown cells of a notebook)."""
    if path.suffix == ".ipynb":
        notebook = nbformat.read(path, as_version=4)
        return "\n\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    return path.read_text()


def glue_references(markdown: str) -> list[str]:
    """Return the glue keys that ``markdown`` pastes (roles and directives), format specs removed."""
    keys = [m.group(1) for m in GLUE_ROLE.finditer(markdown)]
    keys += [m.group(1) for m in GLUE_DIRECTIVE.finditer(markdown)]
    return [_strip_format(k) for k in keys]


def _strip_format(key: str) -> str:
    """``key:.4f`` -> ``key``; ``other.ipynb::key:.4f`` -> ``other.ipynb::key``."""
    if "::" in key:
        path, name = key.split("::", 1)
        return f"{path}::{name.split(':')[0]}"
    return key.split(":")[0]


def stored_glue_keys(notebook_path: Path) -> set[str]:
    """Return the keys a notebook's stored outputs glue (myst-nb's ``scrapbook`` metadata)."""
    notebook = nbformat.read(notebook_path, as_version=4)
    return {
        out.metadata["scrapbook"]["name"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if "scrapbook" in out.get("metadata", {})
    }


def neighbours(docnames: list[str], docname: str) -> tuple[str | None, str | None]:
    """Return the previous and next docname in reading order (None at either end)."""
    i = docnames.index(docname)
    return (docnames[i - 1] if i > 0 else None, docnames[i + 1] if i + 1 < len(docnames) else None)


# ----------------------------------------------------------------------------- the page side
PAGE_FACTS_JS = """
() => {
  const article = document.querySelector("article.bd-article") || document.body;
  const text = (e) => (e.querySelector("pre") || e).textContent.replace(/\\s+/g, " ").trim().slice(0, 160);
  const without = (selector) => {
    const copy = article.cloneNode(true);
    copy.querySelectorAll(selector).forEach((e) => e.remove());
    return copy.textContent;
  };
  const raisesOk = (e) => !!e.closest(".tag_raises-exception");
  return {
    h1: Array.from(article.querySelectorAll("h1")).map(text),
    images: Array.from(article.querySelectorAll("img")).map((img) => {
      const caption = img.closest("figure")?.querySelector("figcaption");
      return {
        src: img.getAttribute("src"), loaded: img.complete && img.naturalWidth > 0,
        inOutput: !!img.closest(".cell_output"),
        number: caption?.querySelector(".caption-number")?.textContent.trim() ?? "",
        caption: caption?.querySelector(".caption-text")?.textContent.trim() ?? "",
      };
    }),
    unresolvedRefs: Array.from(article.querySelectorAll(".xref")).filter((e) => !e.closest("a")).map(text),
    systemMessages: Array.from(article.querySelectorAll(".system-message, .problematic")).map(text),
    emptyCitations: Array.from(article.querySelectorAll(".bibtex-citation"))
                         .filter((e) => e.textContent.replace(/[\\[\\]()\\s,;]/g, "") === "").length,
    tracebacks: Array.from(article.querySelectorAll(".cell_output .output.traceback, .cell_output .output.error"))
                     .filter((e) => !raisesOk(e)).map(text),
    stderr: Array.from(article.querySelectorAll(".cell_output .output.stderr"))
                 .filter((e) => !raisesOk(e)).map(text),
    pasted: article.querySelectorAll("[class^='pasted-'], [class*=' pasted-']").length,
    prose: without("pre, code, script, style, .math, .cell_input, .cell_output, mjx-container"),
    // The text a reader sees outside code, math elements included: typeset math leaves no TeX.
    mathProse: without("pre, code, script, style, mjx-container"),
    prev: document.querySelector("a.left-prev")?.getAttribute("href") ?? null,
    next: document.querySelector("a.right-next")?.getAttribute("href") ?? null,
    downloads: Array.from(document.querySelectorAll("a.btn-download-source-button")).map((a) => a.getAttribute("href")),
    ids: Array.from(article.querySelectorAll("[id]")).map((e) => e.id),
    pageWidth: document.documentElement.scrollWidth,
    windowWidth: document.documentElement.clientWidth,
    // What sticks out past the window's right edge outside any box that scrolls or clips it:
    // the innermost such elements, which make the whole page scroll sideways.
    beyondWindow: Array.from(document.body.querySelectorAll("*"))
      .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
      .filter((e) => !Array.from(e.children).some(
        (c) => c.getBoundingClientRect().right > document.documentElement.clientWidth + 1))
      .filter((e) => !e.closest(".skip-link"))  // hidden until focused; it follows the page's width
      .filter((e) => {
        for (let a = e.parentElement; a; a = a.parentElement) {
          if (["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(a).overflowX)) return false;
        }
        return true;
      })
      .slice(0, 3).map((e) => `${e.tagName.toLowerCase()} ${JSON.stringify(text(e).slice(0, 80))}`),
  };
}
"""

# What MathJax made of the page, and what does not fit its column. The TeX of each equation comes
# from MathJax's own list of what it typeset (MathJax.startup.document.math).
MATH_AND_LAYOUT_JS = """
() => {
  const article = document.querySelector("article.bd-article") || document.body;
  const text = (e) => e.textContent.replace(/\\s+/g, " ").trim().slice(0, 160);
  const tex = new Map();
  try {
    for (const item of window.MathJax?.startup?.document?.math ?? []) tex.set(item.typesetRoot, item.math);
  } catch (e) { /* no MathJax on the page */ }
  const texOf = (container) => (tex.get(container) ?? container.textContent).replace(/\\s+/g, " ").trim();
  const columns = (box) => {  // how many characters of the box's font fit on one line
    const probe = document.createElement("span");
    probe.style.cssText = "position: absolute; visibility: hidden; white-space: pre";
    probe.textContent = "0".repeat(100);
    box.appendChild(probe);
    const char = probe.getBoundingClientRect().width / 100;
    probe.remove();
    const style = getComputedStyle(box);
    return Math.floor((box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)) / char);
  };
  const BOXES = "div.highlight pre, div.cell_output pre, .output pre, .pst-scrollable-table-container, "
              + ".table-wrapper, div.cell_output .text_html";
  return {
    untypeset: Array.from(article.querySelectorAll("span.math, div.math"))
                    .filter((e) => !e.querySelector("mjx-container"))
                    .map(text),
    texErrors: Array.from(article.querySelectorAll("mjx-merror")).map((e) => ({
      error: e.getAttribute("data-mjx-error") || e.textContent, tex: texOf(e.closest("mjx-container"))})),
    wideEquations: Array.from(article.querySelectorAll('mjx-container[display="true"]')).map((c) => ({
      width: Math.ceil((c.querySelector("mjx-math") || c).getBoundingClientRect().width),
      column: c.clientWidth, id: c.closest("div.math")?.id ?? "", tex: texOf(c)}))
      .filter((e) => e.width > e.column + 1),
    // Inline math cannot wrap (MathJax 3): one that runs past the right edge of its paragraph
    // is cut off there.
    wideInlineMath: Array.from(article.querySelectorAll('mjx-container:not([display="true"])'))
      .filter((c) => !c.closest("pre, table, .cell_output"))
      .map((c) => {
        const block = c.closest("p, li, dd, td, div") || article;
        const edge = block.getBoundingClientRect().right - (parseFloat(getComputedStyle(block).paddingRight) || 0);
        return {over: Math.ceil(c.getBoundingClientRect().right - edge), tex: texOf(c)};
      })
      .filter((e) => e.over > 1),
    wideBoxes: Array.from(article.querySelectorAll(BOXES)).filter((b) => b.scrollWidth > b.clientWidth + 1).map((b) => {
      const isPre = b.matches("pre");
      return {
        kind: b.closest(".cell_output, .output") ? "cell output" : b.closest(".cell_input") ? "code cell"
            : isPre ? "code block" : "table",
        cell: b.closest(".cell")?.querySelector(".cell_input pre")?.textContent.split("\\n")[0] ?? "",
        scrollWidth: b.scrollWidth, clientWidth: b.clientWidth, fit: isPre ? columns(b) : null,
        lines: isPre ? b.textContent.split("\\n") : [text(b)],
      };
    }),
  };
}
"""


@dataclass
class PageReport:
    """What one page load showed: the facts gathered from the DOM, and the events on the way."""

    url: str
    facts: dict
    console_errors: list[str] = field(default_factory=list)
    network: list[str] = field(default_factory=list)


def load_page(browser, html_file: Path, screenshot: Path | None = None, device: dict = DESKTOP) -> PageReport:
    """Open ``html_file`` in a fresh page on ``device``, wait for it (and MathJax) to settle, and
    gather its facts."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    context = browser.new_context(**device)
    page = context.new_page()
    report = PageReport(url=html_file.as_uri(), facts={})

    def on_console(message) -> None:
        if message.type == "error":
            report.console_errors.append(f"console error: {message.text} ({message.location.get('url', '')})")

    def on_route(route) -> None:
        report.network.append(f"page requests {route.request.url} from the network")
        route.abort()

    page.on("console", on_console)
    page.on("pageerror", lambda error: report.console_errors.append(f"uncaught exception: {error}"))
    page.on("requestfailed", lambda r: report.network.append(f"failed to load {r.url}: {r.failure}"))
    page.route(re.compile(r"^(https?|wss?)://"), on_route)
    page.goto(report.url, wait_until="load")
    page.wait_for_load_state("networkidle")
    if page.evaluate("() => !!document.querySelector('.math, script[src*=\"mathjax\"]')"):
        try:
            page.wait_for_function(
                "window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=MATHJAX_TIMEOUT_MS
            )
            page.evaluate("() => MathJax.startup.promise.then(() => document.fonts.ready).then(() => true)")
            page.wait_for_load_state("networkidle")  # the fonts and extensions MathJax loaded
        except PlaywrightTimeout:
            report.console_errors.append(f"MathJax did not start within {MATHJAX_TIMEOUT_MS // 1000} s")
    report.facts = page.evaluate(PAGE_FACTS_JS) | page.evaluate(MATH_AND_LAYOUT_JS)
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=True)
    context.close()
    return report


def _around(text: str, match: re.Match, width: int = 50) -> str:
    """The text around ``match``, on one line, to find it in the source."""
    before = text[max(0, match.start() - width) : match.start()]
    after = text[match.end() : match.end() + width]
    return re.sub(r"\s+", " ", f"...{before}{match.group(0)}{after}...")


def math_problems(facts: dict) -> list[str]:
    """Math that a reader sees as TeX source or as a MathJax error."""
    problems = []
    for match in RAW_MATH.finditer(facts["mathProse"]):
        what = "display math that did not parse" if match.group(0) == "$$" else "math that MathJax did not typeset"
        problems.append(f"raw '{match.group(0)}' left in the prose ({what}): {_around(facts['mathProse'], match)}")
    for match in TEX_COMMAND.finditer(facts["mathProse"]):
        problems.append(
            f"TeX command '{match.group(0)}' left in the prose (math outside $...$?): "
            f"{_around(facts['mathProse'], match)}"
        )
    problems += [f"math element not typeset by MathJax: {tex}" for tex in facts["untypeset"]]
    problems += [f"TeX error in an equation ({e['error']}): {e['tex']}" for e in facts["texErrors"]]
    return problems


def layout_problems(facts: dict) -> list[str]:
    """What does not fit its column: boxes that scroll sideways and display equations too wide."""
    problems = []
    for box in facts["wideBoxes"]:
        where = f" of the cell starting {box['cell']!r}" if box["cell"] and box["kind"] != "code cell" else ""
        what = f"{box['kind']}{where} scrolls sideways ({box['scrollWidth']} px wide in a {box['clientWidth']} px box"
        if box["fit"] is None:
            problems.append(f"{what}): {box['lines'][0]!r}")
            continue
        too_long = [(n, line) for n, line in enumerate(box["lines"], 1) if len(line) > box["fit"]]
        lines = "; ".join(f"line {n} has {len(line)} characters: {line.strip()[:120]!r}" for n, line in too_long)
        problems.append(f"{what}, {box['fit']} characters fit): {lines or repr(box['lines'][0][:120])}")
    for eq in facts["wideEquations"]:
        label = f" {eq['id']}" if eq["id"] else ""
        problems.append(
            f"display equation{label} is {eq['width']} px wide in a {eq['column']} px column "
            f"(break it with aligned): {eq['tex'][:200]}"
        )
    return problems


def inline_math_problems(facts: dict) -> list[str]:
    """Inline formulas that run past the right edge of their paragraph (MathJax 3 does not wrap them)."""
    return [
        f"inline formula runs {m['over']} px past its paragraph (make it a display equation): {m['tex'][:120]}"
        for m in facts["wideInlineMath"]
    ]


def page_width_problems(facts: dict) -> list[str]:
    """A page wider than its window: the reader must scroll the whole page sideways."""
    if facts["pageWidth"] <= facts["windowWidth"] + 1:
        return []
    culprits = "; ".join(facts["beyondWindow"]) or "(no single element found)"
    return [f"page is {facts['pageWidth']} px wide in a {facts['windowWidth']} px window, because of: {culprits}"]


def page_problems(
    report: PageReport,
    html_file: Path,
    html_root: Path,
    *,
    is_notebook: bool,
    glue_keys: list[str],
    missing_glue: set[str],
    prev_doc: str | None,
    next_doc: str | None,
) -> list[str]:
    """Return every problem a reader would meet on the page described by ``report``."""
    facts = report.facts
    problems = list(report.console_errors) + list(report.network)
    if not facts["h1"]:
        problems.append("page has no title (h1)")
    for image in facts["images"]:
        if not image["loaded"]:
            problems.append(f"image does not load: {image['src']}")
        if not (image["number"] and image["caption"]):
            lacks = " and ".join(w for w in ("number", "caption") if not image[w])
            problems.append(
                f"figure without a {lacks}: {image['src']} (give its cell mystnb.figure.name and .caption)"
            )
    if is_notebook and not any(i["inOutput"] and i["loaded"] for i in facts["images"]):
        problems.append("notebook chapter shows no figure in its cell outputs")
    for key in sorted(missing_glue):
        problems.append(f"unresolved glue key {key!r}: the prose pastes it but no stored output glues it")
    if facts["pasted"] < len(glue_keys):
        problems.append(
            f"{len(glue_keys)} glue references in the source but {facts['pasted']} pasted values on the page"
        )
    problems += [f"unresolved cross-reference: {t}" for t in facts["unresolvedRefs"]]
    problems += [f"docutils system message on the page: {t}" for t in facts["systemMessages"]]
    if facts["emptyCitations"]:
        problems.append(f"{facts['emptyCitations']} citation(s) render empty (unknown bibtex key?)")
    problems += [f"cell output shows a traceback: {t}" for t in facts["tracebacks"]]
    problems += [f"cell output shows a warning on stderr: {t}" for t in facts["stderr"] if PYTHON_WARNING.search(t)]
    for match in RAW_ROLE.finditer(facts["prose"]):
        problems.append(f"raw role left in the prose: {match.group(0)}")
    problems += math_problems(facts) + layout_problems(facts) + inline_math_problems(facts)
    problems += page_width_problems(facts)
    for label, href, doc in (("previous", facts["prev"], prev_doc), ("next", facts["next"], next_doc)):
        if doc is None:
            if href is not None:
                problems.append(f"{label} link {href!r} where the table of contents has no {label} page")
            continue
        target = (html_file.parent / href.split("#")[0]).resolve() if href else None
        expected = (html_root / f"{doc}.html").resolve()
        if target != expected:
            problems.append(f"{label} link is {href!r}, expected a link to {doc}.html")
    if is_notebook:
        ipynb = [h for h in facts["downloads"] if h.endswith(".ipynb")]
        if not ipynb:
            problems.append("no 'download .ipynb' link")
        for href in ipynb:
            if not (html_file.parent / href).exists():
                problems.append(f"download link {href} points to a file missing from the build")
    return problems


# ----------------------------------------------------------------------------- fixtures
def _require_browser():
    """Return playwright's sync API and the chromium path, or skip / fail with a clear message."""
    chromium = shutil.which("chromium")
    required = os.environ.get("AEBOOK_REQUIRE_BROWSER", "") not in ("", "0")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is pinned in requirements.txt
        sync_playwright = None
    if chromium and sync_playwright:
        return sync_playwright, chromium
    missing = "Debian's chromium (apt-get install chromium)" if not chromium else "python playwright"
    message = f"browser test needs {missing}; it is not installed."
    if required:
        pytest.fail(message + " AEBOOK_REQUIRE_BROWSER is set, so this is a failure.")
    pytest.skip(message + " Set AEBOOK_REQUIRE_BROWSER=1 to make this a failure.")


@pytest.fixture(scope="session")
def browser():
    sync_playwright, chromium = _require_browser()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


def build_book(source: Path, output: Path, *, strict: bool = True) -> subprocess.CompletedProcess:
    """Run ``jupyter-book build`` on ``source`` into ``output``; ``strict`` adds ``-W -n``."""
    exe = Path(sys.executable).with_name("jupyter-book")
    command = [str(exe) if exe.exists() else "jupyter-book", "build", "--keep-going", "--path-output", str(output)]
    if strict:
        command[2:2] = ["-W", "-n"]
    return subprocess.run([*command, str(source)], capture_output=True, text=True, cwd=source, timeout=900)


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> Path:
    """Build the book once per session with ``-W -n``; return the folder holding the HTML."""
    _require_browser()
    out = tmp_path_factory.mktemp("book")
    result = build_book(ROOT, out)
    if result.returncode != 0:
        pytest.fail(f"jupyter-book build -W -n failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return out / "_build" / "html"


def _screenshots(html_root: Path) -> Path:
    return html_root.parent.parent / "screenshots"


def _load(browser, html_root: Path, docname: str, device: dict, keep_screenshot: bool) -> PageReport:
    """Load ``docname`` on ``device``; its screenshot goes to ``<build>/screenshots`` (desktop) or
    ``<build>/screenshots/phone``, and is copied to ``$AEBOOK_SCREENSHOT_DIR`` when that is set."""
    html_file = html_root / f"{docname}.html"
    assert html_file.exists(), f"{html_file} was not built"
    relative = Path("phone" if device is PHONE else "") / f"{docname.replace('/', '__')}.png"
    shot = _screenshots(html_root) / relative
    report = load_page(browser, html_file, shot, device)
    if keep_screenshot and os.environ.get("AEBOOK_SCREENSHOT_DIR"):
        keep = Path(os.environ["AEBOOK_SCREENSHOT_DIR"]) / relative
        keep.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, keep)
    return report


def _check_on_phone(browser, html_root: Path, docname: str, keep_screenshot: bool = True) -> list[str]:
    """The problems at a phone's width: console errors, network requests and a page wider than the
    phone (code boxes may scroll sideways inside the page, as on any phone)."""
    report = _load(browser, html_root, docname, PHONE, keep_screenshot)
    facts = report.facts
    return report.console_errors + report.network + page_width_problems(facts) + inline_math_problems(facts)


def _check(
    browser, html_root: Path, book_root: Path, docnames: list[str], docname: str, keep_screenshot: bool = True
) -> list[str]:
    """Every problem on ``docname`` at the desktop width (see ``page_problems``)."""
    source = source_file(book_root, docname)
    html_file = html_root / f"{docname}.html"
    report = _load(browser, html_root, docname, DESKTOP, keep_screenshot)
    is_notebook = source.suffix == ".ipynb"
    keys = glue_references(markdown_of(source))
    missing = set()
    for key in keys:
        if "::" in key:  # pasted from another notebook: {glue:text}`other.ipynb::key`
            other, name = key.split("::", 1)
            other_nb = source.parent / other
            if not (other_nb.exists() and name in stored_glue_keys(other_nb)):
                missing.add(key)
        elif not (is_notebook and key in stored_glue_keys(source)):
            missing.add(key)
    prev_doc, next_doc = neighbours(docnames, docname)
    return page_problems(
        report, html_file, html_root, is_notebook=is_notebook, glue_keys=keys, missing_glue=missing,
        prev_doc=prev_doc, next_doc=next_doc,
    )


# ----------------------------------------------------------------------------- the tests
DOCNAMES = toc_docnames(ROOT / "_toc.yml")


@pytest.mark.parametrize("docname", DOCNAMES)
def test_page_reads_cleanly(browser, built_book, docname):
    problems = _check(browser, built_book, ROOT, DOCNAMES, docname)
    assert not problems, f"{docname}: " + "\n  ".join(["problems a reader would see:", *problems])


@pytest.mark.parametrize("docname", DOCNAMES)
def test_page_reads_cleanly_on_a_phone(browser, built_book, docname):
    problems = _check_on_phone(browser, built_book, docname)
    assert not problems, f"{docname} at {PHONE['viewport']['width']} px: " + "\n  ".join(problems)


def test_api_page_documents_every_public_name(browser, built_book):
    import aebook

    if "book/api" not in DOCNAMES:
        pytest.skip("book/api is not in _toc.yml")
    facts = load_page(browser, built_book / "book" / "api.html").facts
    ids = set(facts["ids"])
    missing = []
    for name in aebook.__all__:
        is_module = type(getattr(aebook, name)).__name__ == "module"
        anchor = f"module-aebook.{name}" if is_module else f"aebook.{name}"
        if anchor not in ids:
            missing.append(name)
    assert not missing, f"the API page does not document aebook.{missing}; add them to book/api.md"


BROKEN_NOTEBOOK_PNG = "bm90IGEgcG5nIGF0IGFsbA=="  # base64 of b"not a png at all"
GREY_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAD0lEQVR4nGNowAEYhpYEAILzYAGc7g8kAAAAAElFTkSuQmCC"  # 8x8
LONG_LITERAL = "/".join(["a_long_folder_name"] * 3) + "/file.py"  # 64 characters: wider than a phone
WIDE_CODE_LINE = "values = [" + ", ".join(str(i) for i in range(40)) + "]"  # 159 characters


def _notebook(*cells) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = list(cells)
    return nb


def _code(source: str, *outputs, tags: tuple[str, ...] = ()) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = list(outputs)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def _write_broken_book(root: Path) -> None:
    """A four-page book, ``index`` -> ``broken`` -> ``math`` -> ``untitled``, planting every
    problem the checker reports (the test lists them again, each with the text it must report):

    ``book/index.md``, clean: an equation (typeset by the MathJax in ``_static``), an ``{eq}`` and
    a ``{doc}`` reference, a value pasted from the notebook (``broken.ipynb::good``), and a long
    inline literal (``LONG_LITERAL``), which wraps, through ``_static/custom.css``.

    ``book/broken.ipynb``:

    * console error: ``<script>console.error(...)``; uncaught exception: ``<script>throw ...``;
    * network request: ``<script src="https://example.invalid/...">``; local file that does not
      load: ``<img src="no-such-file.png">``;
    * image that does not load, and no figure: a stored "PNG" that is not one;
    * glue: ``{glue:text}`missing_key``` that no output glues (also one fewer pasted value);
    * cross-reference: ``{ref}`no-such-label```; citation: ``{cite}`nobody1999```;
    * system message: an ``{eval-rst}`` block with an unknown target (``nowhere`_``);
    * raw role: ``{doc}`index``` inside a raw HTML block, which MyST does not parse; raw ``$$``;
    * traceback: a stored ``ZeroDivisionError``; warning: a ``UserWarning`` on stderr;
    * a page wider than its window: a ``<div>`` 1500 px wide, at desktop and at phone width;
    * previous link: ``<a class="left-prev" href="untitled.html">``, which comes before the
      theme's own link (to ``index``) in the page;
    * ``.ipynb`` download: the link is there, but the test deletes its target from the build;
    * not problems: a traceback in a cell tagged ``raises-exception`` and stderr without a warning.

    ``book/math.ipynb``, math and layout (every problem it reports must be one of these):

    * raw TeX in the prose: inline math with a line that starts with ``- `` (MyST reads a list);
    * a math element MathJax does not typeset (no delimiters), and a TeX error (``x^2^3``);
    * an over-wide code line (``WIDE_CODE_LINE``), and a display equation of 40 terms, and the
      same 40 terms as inline math;
    * a figure without a number and caption (a plot cell without ``mystnb.figure`` metadata);
    * not problems: math that renders, TeX in code, a long one-line output, which wraps, and a
      figure with its number and caption.

    ``book/untitled.ipynb`` (last in the table of contents):

    * page title: no heading at all;
    * next link: ``<a class="right-next" href="index.html">`` where the contents have no next page;
    * ``.ipynb`` download: a script removes the theme's download link.
    """
    (root / "book").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", root / "_config.yml")
    shutil.copy(ROOT / "references.bib", root / "references.bib")
    shutil.copytree(ROOT / "_static", root / "_static")
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/index\nchapters:\n"
        "  - file: book/broken\n  - file: book/math\n  - file: book/untitled\n"
    )
    (root / "book" / "index.md").write_text(
        "# Index\n\nA good page, with an equation\n\n$$\nx^2\n$$ (eq-x)\n\nthat {eq}`eq-x` refers to, "
        "a link to {doc}`broken`, and a value pasted from it: {glue:text}`broken.ipynb::good:.2f`.\n\n"
        f"A long literal wraps instead of widening the page: `{LONG_LITERAL}`.\n"
    )
    glued = _code("glue('good', 0.5, display=False)", nbformat.v4.new_output(
        "display_data", data={"application/papermill.record/text/plain": "0.5"},
        metadata={"scrapbook": {"name": "good", "mime_prefix": "application/papermill.record/"}},
    ))
    figure = _code("plt.show()", nbformat.v4.new_output(
        "display_data", data={"image/png": BROKEN_NOTEBOOK_PNG, "text/plain": "<Figure size 640x480 with 1 Axes>"},
    ))
    crash = _code("1 / 0", nbformat.v4.new_output(
        "error", ename="ZeroDivisionError", evalue="division by zero",
        traceback=["ZeroDivisionError: division by zero"],
    ))
    expected_crash = _code("{}['meant']", nbformat.v4.new_output(
        "error", ename="KeyError", evalue="'meant'", traceback=["KeyError: 'meant'"],
    ), tags=("raises-exception",))
    warn = _code("noisy()", nbformat.v4.new_output("stream", name="stderr", text="/x/y.py:3: UserWarning: careful\n"))
    quiet = _code("progress()", nbformat.v4.new_output("stream", name="stderr", text="step 3 of 3 done\n"))
    broken = _notebook(
        nbformat.v4.new_markdown_cell(
            "# Broken\n\nGlued {glue:text}`good:.2f`, unresolved {glue:text}`missing_key:.3f`, "
            "a missing label {ref}`no-such-label`, a missing citation {cite}`nobody1999`."
        ),
        glued, figure, crash, expected_crash, warn, quiet,
        nbformat.v4.new_markdown_cell(
            "<script>console.error('deliberate console error')</script>\n\n"
            "<script>throw new Error('deliberate uncaught exception')</script>\n\n"
            '<script src="https://example.invalid/planted.js"></script>\n\n'
            '<img src="no-such-file.png" alt="missing">\n\n'
            "<p>A role in raw HTML is not parsed: {doc}`index`.</p>\n\n"
            '<a class="left-prev" href="untitled.html">a previous link to the wrong page</a>\n\n'
            "```{eval-rst}\nA reference to an unknown target: `nowhere`_.\n```\n\nRaw $$ here.\n\n"
            '<div style="width: 1500px">a planted box wider than the window</div>'
        ),
    )
    nbformat.write(broken, root / "book" / "broken.ipynb")
    wide_terms = " + ".join(f"a_{{{i}}}" for i in range(1, 41))
    prose = nbformat.v4.new_markdown_cell(
        "# Math\n\nMath that renders, $a^2 + b^2 = c^2$, and a display equation that fits:\n\n"
        "$$\n\\sum_{i=1}^{n} x_i = \\frac{1}{2}\n$$\n\n"
        "Inline math with a line that starts with a minus: $\\alpha = 1\n- 2$ is not math.\n\n"
        '<p>A math element without delimiters: <span class="math notranslate nohighlight">x^2 + y^2</span>.</p>\n\n'
        f"A TeX error: $x^2^3$. An inline formula too long for its line: ${wide_terms}$.\n\n"
        "A display equation that does not fit:\n\n"
        f"$$\n{wide_terms}\n$$ (eq-wide)"
    )
    wide_code = _code(
        f'{WIDE_CODE_LINE}\nlabel = r"$\\frac{{1}}{{2}}$"  # TeX in code\nprint(values * 3, "a" * 300)',
        nbformat.v4.new_output("stream", name="stdout", text=f"{list(range(40)) * 3} {'a' * 300}\n"),
    )
    plot = _code("plt.show()", nbformat.v4.new_output("display_data", data={"image/png": GREY_PNG}))
    captioned = _code("plt.show()", nbformat.v4.new_output("display_data", data={"image/png": GREY_PNG}))
    captioned.metadata["mystnb"] = {"figure": {"name": "fig-grey", "caption": "A grey square, 8 px wide."}}
    math = _notebook(prose, wide_code, plot, captioned)
    nbformat.write(math, root / "book" / "math.ipynb")
    untitled = _notebook(nbformat.v4.new_markdown_cell(
        "A page without a heading.\n\n"
        '<a class="right-next" href="index.html">a next link after the last page</a>\n\n'
        "<script>document.addEventListener('DOMContentLoaded', () => document\n"
        "  .querySelectorAll('a.btn-download-source-button').forEach((a) => a.remove()));</script>"
    ))
    nbformat.write(untitled, root / "book" / "untitled.ipynb")


def test_checker_reports_a_broken_page(browser, tmp_path):
    """The checks can fail: every problem planted by ``_write_broken_book`` is reported, each by
    the text of its own check, and the clean page and the deliberate non-problems are not."""
    source = tmp_path / "src"
    _write_broken_book(source)
    result = build_book(source, tmp_path / "out", strict=False)  # -W would stop at the planted warnings
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    html_root = tmp_path / "out" / "_build" / "html"
    (html_root / "_sources" / "book" / "broken.ipynb").unlink()  # the target of its download link
    docnames = toc_docnames(source / "_toc.yml")
    expected = {
        "book/broken": [
            "console error: deliberate console error",
            "uncaught exception: deliberate uncaught exception",
            "page requests https://example.invalid/planted.js from the network",
            "failed to load file://",  # no-such-file.png
            "image does not load",
            "notebook chapter shows no figure",
            "unresolved glue key 'missing_key'",
            "2 glue references in the source but 1 pasted",
            "unresolved cross-reference: no-such-label",
            "citation(s) render empty",
            "docutils system message on the page: `nowhere`_",
            "raw role left in the prose: {doc}`",
            "raw '$$'",
            "cell output shows a traceback: ZeroDivisionError",
            "cell output shows a warning on stderr: /x/y.py:3: UserWarning",
            "previous link is 'untitled.html', expected a link to book/index.html",
            "download link ../_sources/book/broken.ipynb points to a file missing from the build",
            'a 1280 px window, because of: div "a planted box wider than the window"',
        ],
        "book/untitled": [
            "page has no title (h1)",
            "next link 'index.html' where the table of contents has no next page",
            "no 'download .ipynb' link",
        ],
    }
    not_problems = ["KeyError", "step 3 of 3"]  # raises-exception cell; stderr that is no warning
    for docname, wanted in expected.items():
        problems = "\n".join(_check(browser, html_root, source, docnames, docname, keep_screenshot=False))
        missed = [e for e in wanted if e not in problems]
        assert not missed, f"{docname}: checker missed {missed}; it reported:\n{problems}"
        wrong = [e for e in not_problems if e in problems]
        assert not wrong, f"{docname}: checker reported {wrong}, which is no problem:\n{problems}"
    assert _check(browser, html_root, source, docnames, "book/index", keep_screenshot=False) == []

    # Math and layout: each planted problem is reported, and nothing else is (the equations that
    # render, TeX in code and the long output, which wraps, are no problems).
    planted = [
        "TeX command '\\alpha' left in the prose",
        "math element not typeset by MathJax: x^2 + y^2",
        "TeX error in an equation (Double exponent: use braces to clarify): x^2^3",
        f"code cell scrolls sideways ({{}}): line 1 has {len(WIDE_CODE_LINE)} characters: '{WIDE_CODE_LINE[:40]}",
        "display equation equation-eq-wide is",
        "inline formula runs {} px past its paragraph (make it a display equation): a_{1} + a_{2}",
        "figure without a number and caption: ../_images/",
    ]
    problems = _check(browser, html_root, source, docnames, "book/math", keep_screenshot=False)
    missed = [e for e in planted if not any(_matches(e, p) for p in problems)]
    assert not missed, f"book/math: checker missed {missed}; it reported:\n" + "\n".join(problems)
    extra = [p for p in problems if not any(_matches(e, p) for e in planted)]
    assert not extra, "book/math: checker reported what is no problem:\n" + "\n".join(extra)

    # At a phone's width: console errors and network requests are reported, and a screenshot kept.
    phone = "\n".join(_check_on_phone(browser, html_root, "book/broken", keep_screenshot=False))
    assert "console error: deliberate console error" in phone and "page requests https://example" in phone, phone
    assert 'a 390 px window, because of: div "a planted box wider' in phone, phone
    assert _check_on_phone(browser, html_root, "book/index", keep_screenshot=False) == []
    assert (_screenshots(html_root) / "phone" / "book__broken.png").stat().st_size > 0


def _matches(expected: str, problem: str) -> bool:
    """Whether ``problem`` contains the parts of ``expected`` (``{}`` stands for any text)."""
    return re.search(".*?".join(re.escape(part) for part in expected.split("{}")), problem) is not None


def test_source_helpers(tmp_path):
    md = "A {glue:text}`a:.4f`, {glue}`b`, {glue:text}`other/nb.ipynb::c:.2f`.\n\n```{glue:figure} fig\n```\n"
    assert glue_references(md) == ["a", "b", "other/nb.ipynb::c", "fig"]
    assert neighbours(["x", "y", "z"], "x") == (None, "y")
    assert neighbours(["x", "y", "z"], "z") == ("y", None)
    toc = {"format": "jb-book", "root": "r", "parts": [{"chapters": [{"file": "a.md", "sections": [{"file": "b"}]}]}]}
    (tmp_path / "_toc.yml").write_text(yaml.safe_dump(toc))
    assert toc_docnames(tmp_path / "_toc.yml") == ["r", "a", "b"]
