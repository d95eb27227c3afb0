"""The chat widget in a real Chromium, against a real `qa serve` on a free localhost port.

The served corpus is seeds/ plus one note that quotes HTML, to show that corpus text is never run.
A second origin serves a host page with hostile CSS that embeds the widget with one script tag.
"""

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
# Generous waits, not timing checks: the machine may be busy and the first question warms the model.
expect.set_options(timeout=60_000)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SCREENSHOT = ROOT / "docs" / "widget.png"
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
    dialogs: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen, log: Path) -> None:
    """Poll /health until the server answers; fail with its log if it exits first."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"qa serve exited with {server.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    pytest.fail(f"qa serve did not answer within 300 s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """`qa serve` over seeds/ and the markup note, and a host page on another origin allowed by CORS."""
    from qa.collection import index_paths

    work = tmp_path_factory.mktemp("browser")
    corpus = work / "corpus"
    corpus.mkdir()
    for path in SEEDS.glob("*.txt"):
        shutil.copy(path, corpus)
    (corpus / "markup-note.txt").write_text(MARKUP_NOTE, encoding="utf-8")
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
        wait_until_up(api, server, log)
        yield Site(api=api, host=host)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        host_server.shutdown()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
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
    expect(page.locator("qa-chat .facts")).to_have_text(f"6 documents · {passages} passages")

    page.set_viewport_size({"width": 900, "height": 760})
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))


def test_citation_opens_the_document_at_the_passage(page, site: Site) -> None:
    page.goto(f"{site.api}/")
    ask(page, "Whom did Qaddafi's regime name as Libya's ambassador to the UN?")

    cited = page.locator("qa-chat .passage").filter(has_text="Escoto Brockmann").first
    cited.locator(".cite").click()

    document = page.locator("qa-chat .doc-text")
    passage = document.locator("mark.passage-mark")
    expect(page.locator("qa-chat .doc-head h3")).to_have_text("Late Night Libya Update: Defections and “Secret Talks”")
    expect(passage).to_contain_text("Escoto Brockmann")
    expect(passage.locator("mark.best")).not_to_be_empty()
    expect(passage).to_be_in_viewport()
    expect(document).to_be_focused()
    assert document.evaluate("box => box.scrollTop") > 0
    assert cited.locator("blockquote").text_content() == passage.text_content()

    page.keyboard.press("Escape")
    expect(document).to_be_hidden()
    expect(cited.locator(".cite")).to_be_focused()


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
    expect(page.locator("qa-chat .passage").first).to_contain_text("Eight Libyan army officers")

    with page.expect_request(f"{site.api}/ask") as second:
        page.keyboard.type("Where did they speak?")
        page.keyboard.press("Enter")
    assert second.value.post_data_json["history"] == ["Who defected\nin Rome?"]
    expect(page.locator("qa-chat .turn").nth(1).locator(".passage").first).to_be_visible()

    page.keyboard.press("Shift+Tab")
    focused_cite = page.locator("qa-chat .cite").last
    expect(focused_cite).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("qa-chat .doc-text")).to_be_focused()
    page.keyboard.press("Escape")
    expect(focused_cite).to_be_focused()
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
    ask(page, "What markup does the test note quote?")

    note = page.locator("qa-chat .passage").filter(has_text="Markup test note").first
    expect(note.locator("blockquote")).to_contain_text(IMG_TAG)
    expect(note.locator("blockquote")).to_contain_text(SCRIPT_TAG)
    note.locator(".cite").click()
    expect(page.locator("qa-chat .doc-text")).to_contain_text(f"{IMG_TAG}, and a script element, {SCRIPT_TAG}")

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
