"""A web citation's link in a real Chromium: opening `citation.url` scrolls to the quoted sentence
and highlights exactly it (the page colours text-fragment highlights with `::target-text`, and the
screenshot's highlighted pixels must cover the sentence's own box and nothing else)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.collection import Collection
from qa.ingest.web.crawler import CrawlSettings
from tests.fakes import FakeEncoder
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.web_site import Site

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser, pytest.mark.slow]

MARK = (255, 0, 170)  # the highlight's colour on the test page
FILLER = "".join(f"<p>Filler paragraph number {n} says little of anything.</p>" for n in range(60))
SHORT = "The ferry to Gozo leaves at dawn from the northern pier."
LONG = (
    "Lighthouse keepers on the island wrote the tide tables by hand, checking every entry twice against the "
    "harbour master's brass gauge before sunrise."
)


def page_html(title: str, sentence: str) -> str:
    style = f"::target-text {{ background-color: rgb{MARK}; color: black; }} body {{ font: 16px serif; }}"
    return (
        f"<html><head><title>{title}</title><style>{style}</style></head><body><h1>{title}</h1>{FILLER}"
        f"<p>Some words before it. {sentence} Some words after it.</p>{FILLER}</body></html>"
    )


@pytest.fixture
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"needs Chromium at {CHROMIUM} (apt-get install -y chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def highlighted_box(png: bytes) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the pixels in the highlight's colour, or None."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    mask = Image.eval(image, lambda v: v)  # a copy to read
    pixels = mask.load()
    xs, ys = [], []
    for y in range(image.height):
        for x in range(image.width):
            r, g, b = pixels[x, y]
            if abs(r - MARK[0]) < 8 and abs(g - MARK[1]) < 8 and abs(b - MARK[2]) < 8:
                xs.append(x)
                ys.append(y)
    return (min(xs), min(ys), max(xs) + 1, max(ys) + 1) if xs else None


SENTENCE_BOX = """sentence => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const at = walker.currentNode.data.indexOf(sentence);
    if (at >= 0) {
      const range = document.createRange();
      range.setStart(walker.currentNode, at);
      range.setEnd(walker.currentNode, at + sentence.length);
      const box = range.getBoundingClientRect();
      return [box.left, box.top, box.right, box.bottom];
    }
  }
  return null;
}"""


@pytest.mark.parametrize("sentence", [SHORT, LONG], ids=["whole-sentence", "start-and-end-words"])
def test_a_web_citation_opens_the_page_with_the_quoted_sentence_highlighted(tmp_path, browser, sentence) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "index.html").write_text(page_html("Harbour", sentence))
    index_dir = tmp_path / "web.qa"
    with Site(folder) as site:
        Collection(index_dir, encoder=FakeEncoder()).add_site(site.url(""), settings=CrawlSettings(delay=0))
        answer = Collection.open(index_dir, encoder=FakeEncoder()).ask(sentence.rstrip("."), top_k=1)
        passage = answer.passages[0]
        assert passage.text[passage.highlight.start : passage.highlight.end] == sentence
        citation_url = passage.citation.url
        assert citation_url.startswith(site.url("") + "#:~:text=")
        page = browser.new_page(viewport={"width": 1000, "height": 700})
        page.goto(citation_url)
        page.wait_for_timeout(500)  # the fragment is found after load
        assert page.evaluate("window.scrollY") > 0  # scrolled to it: it is far below the fold
        box = page.evaluate(SENTENCE_BOX, sentence)
        marked = highlighted_box(page.screenshot())
        page.close()
    assert marked is not None, "nothing is highlighted"
    left, top, right, bottom = box
    assert abs(marked[0] - left) <= 3 and abs(marked[2] - right) <= 3, (marked, box)
    assert abs(marked[1] - top) <= 4 and abs(marked[3] - bottom) <= 4, (marked, box)


def test_the_widget_links_a_web_citation_to_the_page_at_the_quote(tmp_path, browser) -> None:
    from tests.server_fixtures import real_server

    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "index.html").write_text(page_html("Harbour", SHORT))
    index_dir = tmp_path / "web.qa"
    with Site(folder) as site:
        from embeddings import DEFAULT_MODEL

        Collection(index_dir, encoder=FakeEncoder(name=DEFAULT_MODEL)).add_site(
            site.url(""), settings=CrawlSettings(delay=0)
        )
        with real_server(index_dir, tmp_path / "server.log") as (base, _):
            widget = browser.new_page()
            widget.goto(f"{base}/")
            box = widget.get_by_label("Your question")
            box.fill("When does the ferry to Gozo leave?")
            box.press("Enter")
            # The citation itself opens the page at the quote, in a new tab.
            link = widget.locator("qa-chat .passage a.cite").first
            sync_api.expect(link).to_have_attribute("target", "_blank", timeout=60_000)
            href = link.get_attribute("href")
            assert href.startswith(site.url("") + "#:~:text=") and link.get_attribute("rel") == "noopener noreferrer"
            opened = browser.new_page(viewport={"width": 1000, "height": 700})
            opened.goto(href)
            opened.wait_for_timeout(500)
            assert highlighted_box(opened.screenshot()) is not None
