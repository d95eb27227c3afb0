"""The chat widget in a real Chromium, against a real `qa serve` on a free localhost port.

The served corpus is seeds/ plus one note that quotes HTML, to show that corpus text is never run.
A second origin serves a host page with hostile CSS that embeds the widget with one script tag, and
plain host pages (written per test) with the widget's options, inputs of their own, and light or dark looks.
"""

import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.server_fixtures import free_port, stop, wait_for

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
# Generous waits, not timing checks: the machine may be busy and the first question warms the model.
expect.set_options(timeout=60_000)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SCREENSHOT = ROOT / "docs" / "widget.png"
SCREENSHOT_DARK = ROOT / "docs" / "widget-dark.png"
SCREENSHOT_PHONE = ROOT / "docs" / "widget-phone.png"
# axe-core 4.14.1 from the npm registry (MPL-2.0, licence header kept in the file).
AXE = Path(__file__).resolve().parent / "data" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

ROME_QUESTION = "How many Libyan army officers appeared in Rome?"
ROME_TITLE = "Military Officials Flee Qaddafi's Libya"
IMG_TAG = "<img src=x onerror=alert(1)>"
SCRIPT_TAG = "<script>alert(1)</script>"
MARKUP_QUESTION = "What markup does the test note quote?"
MARKUP_NOTE = f"""Markup test note

This note is about web page markup. It quotes an image tag with an error handler, {IMG_TAG}, \
and a script element, {SCRIPT_TAG}, so a reader sees the characters themselves.
"""

# Rules that would wreck an unprotected widget: they reach it only through inheritance and its host element.
HOST_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Someone else's page</title>
  <style>
    * {{ font-family: "Comic Sans MS", cursive !important; color: #c0f !important; line-height: 4 !important;
         letter-spacing: 3px; text-transform: uppercase; box-sizing: content-box; }}
    html {{ font-size: 6px; }}
    button {{ display: none !important; }}
    div, section, p, ol, li, mark, textarea, blockquote, form {{ display: none !important; padding: 40px; }}
    mark {{ background: black !important; }}
    main {{ display: block; padding: 8px; }}
    a {{ display: inline-block; }}
  </style>
  <script src="{api}/widget.js" defer></script>
</head>
<body>
  <main><h1 id="host-title">A page that embeds the widget</h1><a href="#top">Host link</a></main>
</body>
</html>
"""


@dataclass
class Site:
    api: str
    host: str
    pages: Path
    dialogs: list[str] = field(default_factory=list)
    index: Path | None = None


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """`qa serve` over seeds/, the markup note and a copy of it, and a host page on another origin
    allowed by CORS."""
    from qa.ingest.indexing import index_paths

    work = tmp_path_factory.mktemp("browser")
    corpus = work / "corpus"
    corpus.mkdir()
    for path in SEEDS.glob("*.txt"):
        shutil.copy(path, corpus)
    (corpus / "markup-note.txt").write_text(MARKUP_NOTE, encoding="utf-8")
    (corpus / "copies").mkdir()  # the same words at a second place: cited once, under the passage
    (corpus / "copies" / "markup-note.txt").write_text(MARKUP_NOTE, encoding="utf-8")
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "QA_HOME": str(work / "home"),
        "QA_CACHE_DIR": os.environ.get("QA_TEST_CACHE_DIR") or str(work / "cache"),
    }
    with pytest.MonkeyPatch.context() as patch:
        for name in ("QA_HOME", "QA_CACHE_DIR"):
            patch.setenv(name, env[name])
        index_paths([corpus], work / "corpus.qa")

    api = f"http://127.0.0.1:{free_port()}"
    host_port = free_port()
    host = f"http://127.0.0.1:{host_port}"
    pages = work / "host"
    pages.mkdir()
    (pages / "index.html").write_text(HOST_PAGE.format(api=api), encoding="utf-8")

    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    host_server = ThreadingHTTPServer(("127.0.0.1", host_port), partial(QuietHandler, directory=str(pages)))
    threading.Thread(target=host_server.serve_forever, daemon=True).start()

    log = work / "serve.log"
    command = [
        sys.executable,
        "-m",
        "qa",
        "serve",
        "--index",
        str(work / "corpus.qa"),
        "--port",
        api.rsplit(":", 1)[1],
        "--cors-origin",
        host,
    ]
    with log.open("w") as output:
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for(f"{api}/health", server, timeout=300, log=log)
        yield Site(api=api, host=host, pages=pages, index=work / "corpus.qa")
    finally:
        stop(server, timeout=15)
        host_server.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Chromium for one test module: the sync API runs an event loop in this thread while it is
    open, so it is closed before other modules (MCP clients, anyio) run theirs."""
    if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
        pytest.skip(f"needs Chromium at {CHROMIUM} (apt-get install -y chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, site: Site) -> Iterator[object]:
    """A fresh page; dialogs are recorded (and dismissed), and a request to any third origin fails the test."""
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    context.set_default_timeout(60_000)
    page = context.new_page()
    site.dialogs = []
    page.on("dialog", lambda dialog: (site.dialogs.append(dialog.message), dialog.dismiss()))
    elsewhere: list[str] = []
    page.on("request", lambda request: request.url.startswith((site.api, site.host)) or elsewhere.append(request.url))
    yield page
    context.close()
    assert elsewhere == [], "the widget must not request anything from a third origin"


def ask(page, question: str) -> None:
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")


def test_home_page_answers_a_typed_question(page, site: Site) -> None:
    page.goto(f"{site.api}/")
    box = page.get_by_label("Your question")
    box.press_sequentially(ROME_QUESTION)
    box.press("Enter")

    best = page.locator("qa-chat .passage").first
    expect(best).to_contain_text("Eight Libyan army officers appeared in Rome")
    expect(best.locator("mark")).to_contain_text("Eight Libyan army officers")
    expect(best.locator(".cite-title")).to_have_text(ROME_TITLE)
    expect(best.locator(".cite-where")).to_have_text("000_5ff8cc3110b41a82.txt")
    expect(page.locator("qa-chat .question")).to_have_text(ROME_QUESTION)
    expect(page.locator("qa-chat [role=status]")).to_contain_text("Eight Libyan army officers")
    expect(box).to_have_value("")
    passages = httpx.get(f"{site.api}/health").json()["index"]["passages"]
    expect(page.locator("qa-chat .facts")).to_have_text(f"7 documents · {passages} passages")

    page.set_viewport_size({"width": 900, "height": 760})
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))


def test_a_passage_shows_its_short_form_and_expands_by_keyboard(page, site: Site) -> None:
    answer = httpx.post(f"{site.api}/ask", json={"question": ROME_QUESTION}).json()
    cut = next(p for p in answer["passages"] if p["context"]["start"] > 0 or p["context"]["end"] < len(p["text"]))
    short_text = cut["text"][cut["context"]["start"] : cut["context"]["end"]]
    page.goto(f"{site.api}/")
    ask(page, ROME_QUESTION)

    passage = page.locator("qa-chat .passage").nth(cut["rank"] - 1)
    quote, toggle = passage.locator("blockquote"), passage.get_by_role("button", name="Show the whole passage")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(quote).to_contain_text(short_text)
    assert quote.inner_text().replace("… ", "").replace(" …", "") == short_text
    assert toggle.get_attribute("aria-controls") == quote.get_attribute("id")

    toggle.focus()
    page.keyboard.press("Enter")
    collapse = passage.get_by_role("button", name="Show less")
    expect(collapse).to_have_attribute("aria-expanded", "true")
    expect(collapse).to_be_focused()
    assert quote.inner_text() == cut["text"]
    expect(quote.locator("mark")).to_have_text(cut["text"][cut["highlight"]["start"] : cut["highlight"]["end"]])
    page.keyboard.press(" ")
    expect(passage.get_by_role("button", name="Show the whole passage")).to_have_attribute("aria-expanded", "false")
    expect(quote).not_to_contain_text(cut["text"].replace(short_text, "").strip()[:40])


def test_filter_attributes_narrow_what_the_widget_searches(page, site: Site) -> None:
    open_host_page(page, site, body='<qa-chat filter-source="markup-note.txt|nowhere/"></qa-chat>')
    ask(page, ROME_QUESTION)
    expect(page.locator("qa-chat .passage").first).to_be_visible()
    expect(page.locator("qa-chat .cite-where")).to_have_text(["markup-note.txt"])

    open_host_page(page, site, script='data-filter-doc-id="000_5ff8cc3110b41a82" data-filter-type="txt"')
    page.get_by_role("button", name="Ask the documents").click()
    ask(page, "Who is Moussa Koussa?")
    expect(page.locator("qa-chat .passage").first).to_be_visible()
    assert set(page.locator("qa-chat .cite-where").all_inner_texts()) == {"000_5ff8cc3110b41a82.txt"}

    open_host_page(page, site, body='<qa-chat filter-since="2011-13-01"></qa-chat>')
    ask(page, ROME_QUESTION)
    expect(page.locator("qa-chat .error")).to_contain_text("'2011-13-01' is not a date like 2011-03-01")


def test_citation_opens_the_document_at_the_passage(page, site: Site) -> None:
    page.goto(f"{site.api}/")
    ask(page, "Whom did Qaddafi's regime name as Libya's ambassador to the UN?")

    cited = page.locator("qa-chat .passage").filter(has_text="Escoto Brockmann").first
    expect(cited).to_be_visible()
    if cited.locator(".more").count():  # the answer shows the passage short; the document, whole
        cited.locator(".more").click()
    expect(cited.locator(".cite")).to_have_accessible_description("Opens the source at this passage, in a new tab.")
    with page.context.expect_page() as opened:
        cited.locator(".cite").click()
    viewer = opened.value  # the server's viewer, in a new tab, at the quoted sentence
    viewer.wait_for_load_state()
    assert viewer.url.startswith(f"{site.api}/view/")
    passage = viewer.locator("mark.passage")
    expect(viewer.locator("h1")).to_have_text("Late Night Libya Update: Defections and “Secret Talks”")
    expect(passage).to_contain_text("Escoto Brockmann")
    expect(passage.locator("mark.sentence")).to_be_focused()
    expect(passage.locator("mark.sentence")).to_be_in_viewport()
    assert cited.locator("blockquote").text_content() == passage.text_content()
    viewer.close()


def test_keyboard_alone_drives_the_launcher_widget(page, site: Site) -> None:
    page.goto(f"{site.host}/")
    launcher = page.get_by_role("button", name="Ask the documents")
    for _ in range(5):
        page.keyboard.press("Tab")
        if launcher.evaluate("button => button.getRootNode().activeElement === button"):
            break
    expect(launcher).to_be_focused()
    assert launcher.evaluate("button => getComputedStyle(button).outlineStyle") == "solid"

    page.keyboard.press("Enter")
    box = page.get_by_label("Your question")
    expect(box).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    page.keyboard.type("Who defected")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("in Rome?")
    expect(box).to_have_value("Who defected\nin Rome?")
    page.keyboard.press("Enter")
    expect(page.locator("qa-chat .cite-title").first).to_have_text(ROME_TITLE)

    with page.expect_request(f"{site.api}/ask") as second:
        page.keyboard.type("Where did they speak?")
        page.keyboard.press("Enter")
    assert second.value.post_data_json["history"] == ["Who defected\nin Rome?"]
    expect(page.locator("qa-chat .turn").nth(1).locator(".passage").first).to_be_visible()

    page.keyboard.press("Shift+Tab")  # the last passage's copy and feedback buttons, then its citation
    expect(page.locator("qa-chat .votes").last.get_by_role("button", name="Copy quote")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(page.locator("qa-chat .votes").last.get_by_role("button", name="Not helpful")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    focused_cite = page.locator("qa-chat .cite").last
    expect(focused_cite).to_be_focused()
    assert focused_cite.get_attribute("href").startswith(f"{site.api}/view/")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")


def test_widget_embeds_on_another_origin_despite_its_css(page, site: Site) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{site.host}/")
    launcher = page.get_by_role("button", name="Ask the documents")
    host_title = page.locator("#host-title")
    title_style = "title => [getComputedStyle(title).fontFamily, getComputedStyle(title).color]"
    host_style = host_title.evaluate(title_style)

    launcher.click()
    ask(page, ROME_QUESTION)

    best = page.locator("qa-chat .passage").first
    expect(best).to_contain_text("Eight Libyan army officers")
    expect(best.locator("mark")).to_be_visible()
    quote = best.locator("blockquote")
    assert "Comic" not in quote.evaluate("quote => getComputedStyle(quote).fontFamily")
    assert quote.evaluate("quote => getComputedStyle(quote).textTransform") == "none"
    panel = page.get_by_role("dialog").bounding_box()
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= 360
    assert panel["y"] >= 0 and panel["y"] + panel["height"] <= 740
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert host_title.evaluate(title_style) == host_style


def test_markup_in_documents_shows_as_text_and_never_runs(page, site: Site) -> None:
    page.goto(f"{site.host}/")
    page.get_by_role("button", name="Ask the documents").click()
    ask(page, MARKUP_QUESTION)

    note = page.locator("qa-chat .passage").filter(has_text="Markup test note").first
    expect(note.locator("blockquote")).to_contain_text(IMG_TAG)
    expect(note.locator("blockquote")).to_contain_text(SCRIPT_TAG)
    with page.context.expect_page() as opened:
        note.locator(".cite").click()
    viewer = opened.value
    viewer.on("dialog", lambda dialog: (site.dialogs.append(dialog.message), dialog.dismiss()))
    expect(viewer.locator("main")).to_contain_text(f"{IMG_TAG}, and a script element, {SCRIPT_TAG}")
    assert viewer.evaluate("document.querySelectorAll('main img, main script').length") == 0
    viewer.close()

    widget_elements = page.evaluate(
        "[...document.querySelector('qa-chat').shadowRoot.querySelectorAll('*')].map(node => node.localName)"
    )
    assert "img" not in widget_elements and "script" not in widget_elements
    page.wait_for_load_state("networkidle")
    assert site.dialogs == []


def test_errors_are_shown_and_the_question_is_kept(page, site: Site) -> None:
    page.goto(f"{site.api}/")
    box = page.get_by_label("Your question")
    error = page.locator("qa-chat .error")

    ask(page, "x" * 2001)
    expect(error).to_contain_text("at most 2000 characters")
    expect(box).to_have_value("x" * 2001)

    page.route(f"{site.api}/ask", lambda route: route.abort())
    ask(page, ROME_QUESTION)
    expect(error).to_contain_text("Could not reach the server")
    expect(box).to_have_value(ROME_QUESTION)
    expect(page.locator("qa-chat .turn")).to_have_count(0)

    page.unroute(f"{site.api}/ask")
    box.press("Enter")
    expect(page.locator("qa-chat .passage").first).to_contain_text("Eight Libyan army officers")
    expect(error).to_be_hidden()


def test_an_unconfident_answer_says_so_and_still_shows_passages(page, site: Site) -> None:
    answer = httpx.post(f"{site.api}/ask", json={"question": ROME_QUESTION}).json()
    page.route(f"{site.api}/ask", lambda route: route.fulfill(json={**answer, "answered": False}))
    page.goto(f"{site.api}/")

    ask(page, ROME_QUESTION)

    expect(page.locator("qa-chat .notice")).to_have_text(
        "No passage answers this confidently. The closest passages are below."
    )
    expect(page.locator("qa-chat .passage")).to_have_count(len(answer["passages"]))
    expect(page.locator("qa-chat [role=status]")).to_contain_text("No passage answers this confidently")


def test_words_no_document_holds_are_named_above_the_passages(page, site: Site) -> None:
    page.goto(f"{site.api}/")

    ask(page, "Which Libyan officers defected to Kubernetes?")

    expect(page.locator("qa-chat .missing")).to_have_text("Not in any document: Kubernetes")
    expect(page.locator("qa-chat .passage").first).to_be_visible()
    expect(page.locator("qa-chat [role=status]")).to_contain_text("Not in any document: Kubernetes. ")
    ask(page, ROME_QUESTION)
    expect(page.locator("qa-chat .answer")).to_have_count(2)
    expect(page.locator("qa-chat .answer").last.locator(".missing")).to_have_count(0)


def test_the_same_words_at_another_place_are_quoted_once_and_linked_there(page, site: Site) -> None:
    page.goto(f"{site.api}/")

    ask(page, MARKUP_QUESTION)

    note = page.locator("qa-chat .passage").filter(has_text="Markup test note")
    expect(note).to_have_count(1)
    also = note.locator(".also")
    places = {"markup-note.txt", "copies/markup-note.txt"}
    cited = note.locator(".cite-where").inner_text()
    assert cited in places
    (other,) = places - {cited}
    expect(also).to_have_text(f"Also in: {other}")
    link = also.get_by_role("link", name=other)
    with page.context.expect_page() as opened:
        link.click()
    viewer = opened.value
    expect(viewer.locator("main mark.passage")).to_contain_text("This note is about web page markup.")
    assert "/view/" in viewer.url
    viewer.close()

    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.api)
    note.get_by_role("button", name="Copy quote").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.splitlines()[-1] == f"Also in: {other} {link.get_attribute('href')}"


# A plain page on the host origin, with fields of its own: the widget's options are filled in per test.
# (Written to the host's folder rather than fulfilled by Playwright: Chromium lets only a page it fetched
# from a local address call the API on 127.0.0.1.)
PLAIN_PAGE = """<!doctype html>
<html lang="{lang}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Field notes</title>
  <style>
    body {{ margin: 0; font: 17px/1.6 Georgia, serif; background: {background}; color: {color}; }}
    main {{ max-width: 620px; margin: 0 auto; padding: 24px; }}
    label, input, textarea, [contenteditable] {{ display: block; font: inherit; margin: 0 0 12px; }}
    input, textarea, [contenteditable] {{ color: inherit; background: transparent; border: 1px solid; padding: 4px; }}
    {style}
  </style>
  <script src="{api}/widget.js" defer {script}></script>
</head>
<body>
  <main>
    <h1 id="host-title">Field notes</h1>
    <p>Reports from the region, collected as they came in. Ask the documents about anything in them.</p>
    <label for="site-search">Search this site</label>
    <input id="site-search" type="search">
    <label for="site-notes">Notes</label>
    <textarea id="site-notes"></textarea>
    <div id="site-editor" contenteditable="true" role="textbox" aria-label="Editor">Editable text</div>
    {body}
  </main>
</body>
</html>
"""


def open_host_page(
    page, site: Site, *, script: str = "", body: str = "", style: str = "", lang: str = "en", dark: bool = False
) -> None:
    """Write a plain host page into the host origin's folder and open it."""
    html = PLAIN_PAGE.format(
        api=site.api,
        script=script,
        body=body,
        style=style,
        lang=lang,
        background="#0d1117" if dark else "#fbfaf7",
        color="#e6edf3" if dark else "#1f2328",
    )
    name = f"plain-{len(list(site.pages.glob('plain-*.html')))}.html"
    (site.pages / name).write_text(html, encoding="utf-8")
    page.goto(f"{site.host}/{name}")


def rgb(colour: str) -> tuple[float, ...]:
    """A computed colour, rgb() or rgba(), as numbers."""
    return tuple(float(part) for part in colour[colour.index("(") + 1 : -1].split(",")[:3])


def luminance(colour: str) -> float:
    """WCAG relative luminance: 0 black, 1 white."""
    linear = [c / 255 / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb(colour)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def colours(locator) -> tuple[str, str]:
    return tuple(locator.evaluate("node => [getComputedStyle(node).backgroundColor, getComputedStyle(node).color]"))


def focused_in_widget(page) -> str | None:
    """What has focus inside the widget's shadow root (its class or tag), or None when focus is outside."""
    return page.evaluate(
        """() => {
            const widget = document.querySelector('qa-chat');
            const inner = widget.shadowRoot.activeElement;
            if (document.activeElement !== widget || !inner) return null;
            return inner.className || inner.localName;
        }"""
    )


def test_dark_theme_from_the_script_tag_and_auto_following_the_system(page, site: Site) -> None:
    open_host_page(page, site, script='data-theme="dark"', dark=True)
    widget = page.locator("qa-chat")
    page.get_by_role("button", name="Ask the documents").click()
    dialog = page.get_by_role("dialog")
    expect(widget).to_have_attribute("theme", "dark")

    ask(page, ROME_QUESTION)
    best = page.locator("qa-chat .passage").first
    expect(best).to_contain_text("Eight Libyan army officers")
    dark_panel, dark_text = colours(dialog)
    assert luminance(dark_panel) < 0.05 and luminance(dark_text) > 0.7
    quote_background, quote_text = colours(best.locator("blockquote"))
    assert luminance(quote_background) < 0.05 and luminance(quote_text) > 0.7
    assert luminance(colours(page.get_by_label("Your question"))[0]) < 0.05

    page.set_viewport_size({"width": 900, "height": 760})
    page.screenshot(path=str(SCREENSHOT_DARK))

    widget.evaluate("node => node.setAttribute('theme', 'light')")
    light_panel, light_text = colours(dialog)
    assert luminance(light_panel) > 0.9 and luminance(light_text) < 0.05

    widget.evaluate("node => node.setAttribute('theme', 'auto')")
    page.emulate_media(color_scheme="dark")
    assert colours(dialog) == (dark_panel, dark_text)
    page.emulate_media(color_scheme="light")
    assert colours(dialog) == (light_panel, light_text)


def test_css_custom_properties_restyle_the_widget(page, site: Site) -> None:
    style = """qa-chat {
        --qa-accent: rgb(200, 0, 80); --qa-accent-text: rgb(255, 255, 255); --qa-background: rgb(255, 250, 240);
        --qa-font-family: Georgia, serif; --qa-font-size: 18px; --qa-radius: 0px;
        --qa-panel-width: 320px; --qa-panel-height: 500px; --qa-launcher-left: 24px; --qa-launcher-right: auto;
    }"""
    open_host_page(page, site, style=style)
    launcher = page.get_by_role("button", name="Ask the documents")
    assert colours(launcher) == ("rgb(200, 0, 80)", "rgb(255, 255, 255)")
    assert launcher.bounding_box()["x"] == 24

    launcher.click()
    dialog = page.get_by_role("dialog")
    box = dialog.bounding_box()
    assert (box["x"], box["width"], box["height"]) == (24, 320, 500)
    style_of = "node => [getComputedStyle(node).fontFamily, getComputedStyle(node).fontSize]"
    assert page.locator("qa-chat h2").evaluate(style_of)[0] == "Georgia, serif"
    assert page.get_by_label("Your question").evaluate(style_of) == ["Georgia, serif", "18px"]
    assert dialog.evaluate("node => getComputedStyle(node).borderRadius") == "0px"
    assert colours(dialog)[0] == "rgb(255, 250, 240)"
    assert colours(page.get_by_role("button", name="Ask", exact=True))[0] == "rgb(200, 0, 80)"


def test_strings_follow_the_language_and_can_be_replaced(page, site: Site) -> None:
    # The page is in French: the widget speaks French without being told.
    open_host_page(page, site, lang="fr", script='data-text-send="Envoyer"')
    launcher = page.get_by_role("button", name="Interroger les documents")
    launcher.click()
    expect(page.get_by_role("dialog", name="Interroger les documents")).to_be_visible()
    box = page.get_by_label("Votre question")
    expect(box).to_be_focused()
    expect(box).to_have_attribute("placeholder", "Posez une question…")
    expect(page.get_by_role("button", name="Fermer")).to_be_visible()
    expect(page.get_by_role("button", name="Envoyer")).to_be_visible()

    box.fill(ROME_QUESTION)
    box.press("Enter")
    best = page.locator("qa-chat .passage").first
    expect(best).to_contain_text("Eight Libyan army officers")
    expect(page.get_by_role("list", name="Passages, le meilleur d’abord")).to_be_visible()
    expect(best.locator(".cite")).to_have_accessible_description("Ouvre la source à ce passage, dans un nouvel onglet.")
    expect(page.locator("qa-chat [role=status]")).to_contain_text("Réponse, 5 passages.")
    page.get_by_role("button", name="Fermer").click()
    expect(launcher).to_be_focused()


def test_english_strings_replaced_by_attributes(page, site: Site) -> None:
    body = '<qa-chat launcher text-launcher="Search the archive" text-label="What do you want to know?" \
text-close="Hide the archive search" text-title="Archive"></qa-chat>'
    open_host_page(page, site, body=body)
    page.get_by_role("button", name="Search the archive").click()
    expect(page.get_by_role("dialog", name="Archive")).to_be_visible()
    expect(page.get_by_label("What do you want to know?")).to_be_focused()
    page.get_by_role("button", name="Hide the archive search").click()
    expect(page.get_by_role("dialog")).to_be_hidden()


def test_example_questions_show_when_the_panel_opens_and_ask_on_click(page, site: Site) -> None:
    open_host_page(page, site, script=f'data-examples="{ROME_QUESTION}|Who is the UN ambassador?"')
    page.get_by_role("button", name="Ask the documents").click()
    examples = page.get_by_role("list", name="Try asking:")
    expect(examples.get_by_role("button")).to_have_text([ROME_QUESTION, "Who is the UN ambassador?"])

    examples.get_by_role("button", name=ROME_QUESTION).click()
    expect(page.locator("qa-chat .question")).to_have_text(ROME_QUESTION)
    expect(page.locator("qa-chat .passage").first).to_contain_text("Eight Libyan army officers")
    expect(examples).to_be_hidden()
    expect(page.get_by_label("Your question")).to_be_focused()


def test_no_shortcut_unless_asked_for(page, site: Site) -> None:
    open_host_page(page, site)
    launcher = page.get_by_role("button", name="Ask the documents")
    expect(launcher).not_to_have_attribute("aria-keyshortcuts", re.compile(".*"))
    page.locator("#host-title").click()
    page.keyboard.press("Control+k")
    page.keyboard.press("Meta+k")
    expect(page.get_by_role("dialog")).to_be_hidden()


def test_shortcut_opens_the_panel_but_never_while_typing_in_the_page(page, site: Site) -> None:
    open_host_page(page, site, script='data-shortcut="mod+k"')
    launcher = page.get_by_role("button", name="Ask the documents")
    expect(launcher).to_have_attribute("aria-keyshortcuts", "Control+K")
    dialog = page.get_by_role("dialog")

    for selector in ("#site-search", "#site-notes", "#site-editor"):
        target = page.locator(selector)
        target.click()
        page.keyboard.type(" typed")
        page.keyboard.press("Control+k")
        expect(dialog).to_be_hidden()
        expect(target).to_be_focused()
        if selector == "#site-editor":
            expect(target).to_contain_text("typed")
        else:
            expect(target).to_have_value(" typed")

    page.locator("#host-title").click()
    page.keyboard.press("Control+k")
    expect(dialog).to_be_visible()
    expect(page.get_by_label("Your question")).to_be_focused()
    page.keyboard.press("Control+k")
    expect(dialog).to_be_hidden()
    expect(launcher).to_be_focused()


def test_launcher_panel_is_modal_and_gives_focus_back(page, site: Site) -> None:
    open_host_page(page, site)
    launcher = page.get_by_role("button", name="Ask the documents")
    launcher.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_have_attribute("aria-modal", "true")
    expect(page.get_by_label("Your question")).to_be_focused()

    ask(page, ROME_QUESTION)
    expect(page.locator("qa-chat .passage").first).to_contain_text("Eight Libyan army officers")
    # Each passage has its citation (a link), and a "Show the whole passage" button (class "more") when it is cut.
    in_passages = page.locator("qa-chat .passage :is(button, a)").evaluate_all(
        "buttons => buttons.map(b => b.className || b.localName)"  # as focused_in_widget names them
    )
    assert "cite" in in_passages and "more" in in_passages
    seen = []
    for _ in range(len(in_passages) + 5):  # from the question box: once round every control, and on to the first two
        page.keyboard.press("Tab")
        seen.append(focused_in_widget(page))
    assert seen == ["send", "close", *in_passages, "textarea", "send", "close"]
    page.keyboard.press("Shift+Tab")  # and back round, from the first to the last
    assert focused_in_widget(page) == "send"

    page.locator("#site-search").focus()  # as a script or a click on the page would
    assert focused_in_widget(page) == "send"

    page.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    page.locator("#site-search").focus()
    expect(page.locator("#site-search")).to_be_focused()


def test_phone_layout_fills_the_screen_and_keeps_the_question_above_the_keyboard(page, site: Site) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    open_host_page(page, site, script=f'data-examples="{ROME_QUESTION}"')
    page.get_by_role("button", name="Ask the documents").click()
    dialog = page.get_by_role("dialog")
    assert dialog.bounding_box() == {"x": 0, "y": 0, "width": 360, "height": 740}
    box = page.get_by_label("Your question")
    assert box.evaluate("node => getComputedStyle(node).fontSize") == "16px"  # iOS zooms below 16 px
    expect(page.get_by_role("button", name="Close")).to_be_in_viewport()

    ask(page, ROME_QUESTION)
    expect(page.locator("qa-chat .passage").first).to_contain_text("Eight Libyan army officers")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(SCREENSHOT_PHONE))

    # The on-screen keyboard takes the lower 340 px: the visual viewport shrinks, as on iOS and Android.
    keyboard = """height => {
        Object.defineProperty(visualViewport, 'height', {value: height, configurable: true});
        visualViewport.dispatchEvent(new Event('resize'));
    }"""
    page.evaluate(keyboard, 400)
    field = box.bounding_box()
    assert field["y"] > 0 and field["y"] + field["height"] <= 400
    send = page.get_by_role("button", name="Ask", exact=True).bounding_box()
    assert send["y"] + send["height"] <= 400
    assert dialog.bounding_box()["height"] == 400
    expect(page.get_by_role("button", name="Close")).to_be_in_viewport()

    page.evaluate(keyboard, 740)
    assert dialog.bounding_box() == {"x": 0, "y": 0, "width": 360, "height": 740}


def run_axe(page, state: str, found: list[str]) -> dict:
    """Run axe-core on the whole page, open shadow roots included; note every serious or critical violation."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluated, not a <script>: the page's CSP would block that
    results = page.evaluate("axe.run(document)")
    for violation in results["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = [node["target"] for node in violation["nodes"]]
            found.append(f"{state}: {violation['id']} ({violation['impact']}) {violation['help']}: {targets}")
    return results


def inside_widget(results: dict) -> int:
    """How many of the checked elements lie inside the widget's shadow root (their target path enters qa-chat)."""
    return sum(
        1
        for rule in results["passes"]
        for node in rule["nodes"]
        if isinstance(node["target"][0], list) and node["target"][0][0].startswith("qa-chat")
    )


def test_axe_finds_no_serious_problems_before_or_after_an_answer(page, site: Site) -> None:
    found: list[str] = []

    page.goto(f"{site.api}/")
    results = run_axe(page, "home page", found)
    assert inside_widget(results) > 10, "axe must look inside the widget's shadow root"
    ask(page, ROME_QUESTION)
    expect(page.locator("qa-chat .passage").first).to_contain_text("Eight Libyan army officers")
    results = run_axe(page, "home page, answered", found)
    named = [node["target"] for rule in results["passes"] if rule["id"] == "link-name" for node in rule["nodes"]]
    assert any(".cite" in target[0][-1] for target in named if isinstance(target[0], list))
    page.locator("qa-chat .more").first.click()
    expect(page.locator("qa-chat .more").first).to_have_attribute("aria-expanded", "true")
    run_axe(page, "home page, a passage shown whole", found)
    page.emulate_media(color_scheme="dark")  # the home page's widget follows the system (theme="auto")
    run_axe(page, "home page, dark, answered", found)
    ask(page, "Which Libyan officers defected to Kubernetes?")  # the muted "Not in any document" line
    expect(page.locator("qa-chat .missing")).to_be_visible()
    run_axe(page, "home page, dark, a word no document holds", found)
    page.emulate_media(color_scheme="light")
    run_axe(page, "home page, a word no document holds", found)
    ask(page, MARKUP_QUESTION)  # the muted "Also in" line with its link
    expect(page.locator("qa-chat .also")).to_be_visible()
    run_axe(page, "home page, a passage found at two places", found)
    page.emulate_media(color_scheme="dark")
    run_axe(page, "home page, dark, a passage found at two places", found)
    page.emulate_media(color_scheme="light")

    for theme, dark in (("light", False), ("dark", True)):
        open_host_page(page, site, script=f'data-theme="{theme}" data-examples="{ROME_QUESTION}"', dark=dark)
        run_axe(page, f"{theme} host page, closed", found)
        page.get_by_role("button", name="Ask the documents").click()
        run_axe(page, f"{theme} host page, open", found)
        page.get_by_role("button", name=ROME_QUESTION).click()
        expect(page.locator("qa-chat .passage").first).to_contain_text("Eight Libyan army officers")
        run_axe(page, f"{theme} host page, answered", found)

    assert found == []


# A shared server: the widget's key and feedback buttons ------------------------------------------------


def test_the_widget_sends_its_read_key_with_every_request(page, site: Site) -> None:
    from qa.server.keys import KeyStore

    _, key = KeyStore.for_index(site.index).create("read", "widget-test")
    sent: list[tuple[str, str | None]] = []
    page.on("request", lambda request: sent.append((request.url, request.headers.get("authorization"))))
    open_host_page(page, site, script=f'data-api-key="{key}"', body="<qa-chat></qa-chat>")
    ask(page, ROME_QUESTION)
    expect(page.locator("qa-chat .passage").first).to_contain_text("Eight Libyan army officers")

    to_api = [(url, header) for url, header in sent if url.startswith(site.api) and not url.endswith("widget.js")]
    assert {url.rsplit("/", 1)[-1] for url, _ in to_api} >= {"health", "ask"}
    assert all(header == f"Bearer {key}" for _, header in to_api)


def test_feedback_buttons_work_by_keyboard_and_are_named(page, site: Site) -> None:
    from qa.server.feedback import FeedbackStore

    before = len(FeedbackStore.for_index(site.index).votes())
    page.goto(f"{site.api}/")
    ask(page, ROME_QUESTION)
    best = page.locator("qa-chat .passage").first
    group = best.get_by_role("group", name="Was this passage helpful?")
    up, down = group.get_by_role("button", name="Helpful", exact=True), group.get_by_role("button", name="Not helpful")
    expect(up).to_have_attribute("aria-pressed", "false")

    up.focus()
    with page.expect_response(lambda response: response.url.endswith("/feedback")) as sent:
        page.keyboard.press("Enter")
    assert sent.value.status == 201
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(page.locator("qa-chat [role=status]")).to_have_text("Thanks: your feedback was sent.")
    page.keyboard.press("Tab")
    expect(down).to_be_focused()
    with page.expect_response(lambda response: response.url.endswith("/feedback")):
        page.keyboard.press(" ")
    expect(down).to_have_attribute("aria-pressed", "true")
    expect(up).to_have_attribute("aria-pressed", "false")

    votes = FeedbackStore.for_index(site.index).votes()[before:]
    assert [vote.vote for vote in votes] == ["up", "down"]
    assert votes[0].question == ROME_QUESTION and "Eight Libyan army officers" in votes[0].text


def test_thumbs_are_drawn_without_an_emoji_font_and_copy_quote_copies_the_citation(page, site: Site) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.api)
    page.goto(f"{site.api}/")
    ask(page, ROME_QUESTION)
    best = page.locator("qa-chat .passage").first
    group = best.get_by_role("group", name="Was this passage helpful?")
    for name in ("Helpful", "Not helpful"):
        thumb = group.get_by_role("button", name=name, exact=True)
        expect(thumb.locator("svg path")).to_have_count(1)  # an inline SVG, not an emoji that may show as a box
        assert thumb.inner_text().strip() == ""
        box = thumb.locator("svg").bounding_box()
        assert box["width"] >= 16 and box["height"] >= 16
    group.get_by_role("button", name="Copy quote").click()
    expect(page.locator("qa-chat [role=status]")).to_have_text("Quote copied, with its citation.")
    copied = page.evaluate("navigator.clipboard.readText()")
    text = best.locator("blockquote").text_content()
    assert "Eight Libyan army officers" in copied and ROME_TITLE in copied
    assert best.locator(".cite").get_attribute("href") in copied
    assert copied.startswith("“") and text.strip("… ") in copied


def test_feedback_strings_can_be_replaced(page, site: Site) -> None:
    open_host_page(page, site, body='<qa-chat text-vote-up="Yes" text-votes="Useful?"></qa-chat>')
    ask(page, ROME_QUESTION)
    group = page.locator("qa-chat .passage").first.get_by_role("group", name="Useful?")
    expect(group.get_by_role("button", name="Yes", exact=True)).to_be_visible()
