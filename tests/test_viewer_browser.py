"""The viewer in a real Chromium: each passage's `citation.url`, opened as a browser opens it, shows
the quoted sentence marked, in view and focused; previous/next walk the answer; axe-core finds no
serious or critical problem."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest

from tests.conftest import SEED_QUESTIONS, SEEDS
from tests.server_fixtures import real_server
from tests.test_browser import AXE, browser  # noqa: F401 (the session's Chromium)

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
expect.set_options(timeout=60_000)

pytestmark = [pytest.mark.browser]

MORE_QUESTIONS = [
    "Who is Moussa Koussa?",
    "Where did Koussa fly to?",
    "How many Libyan army officers appeared in Rome?",
    "Who was named Libya's ambassador to the UN?",
    "What did the rebels offer?",
    "What did the British Foreign Office say?",
    "Who refused to become Libya's UN ambassador?",
    "What is the ceasefire condition?",
    "Why is Koussa's defection important?",
    "Who is Ali Errishi?",
]


def twenty_questions() -> list[str]:
    seeds = []
    if SEED_QUESTIONS.exists():
        seeds = [json.loads(line)["question"] for line in SEED_QUESTIONS.read_text().splitlines() if line.strip()]
    return list(dict.fromkeys(seeds + MORE_QUESTIONS))[:20]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from qa.ingest.indexing import index_paths
    from tests.fakes import FakeEncoder

    work = tmp_path_factory.mktemp("viewer")
    shutil.copytree(SEEDS, work / "seeds")
    index_paths([work / "seeds"], work / "seeds.qa", encoder=FakeEncoder())
    with real_server(work / "seeds.qa", work / "serve.log") as (base, _):
        yield base


def serious(page) -> list[str]:
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluated, not a <script>: the page's CSP would block it
    results = page.evaluate("axe.run(document)")
    return [
        f"{violation['id']} ({violation['impact']}): {[node['target'] for node in violation['nodes']]}"
        for violation in results["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def test_each_citation_url_opens_at_its_sentence_in_view_and_focused(server, browser):  # noqa: F811
    questions = twenty_questions()
    assert len(questions) == 20
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    problems: list[str] = []
    opened = 0
    for number, question in enumerate(questions):
        answer = httpx.post(server + "/ask", json={"question": question, "top_k": 3}, timeout=60).json()
        for passage in answer["passages"]:
            page.goto(passage["citation"]["url"])
            quote = page.locator("mark.sentence")
            sentence = passage["text"][passage["highlight"]["start"] : passage["highlight"]["end"]]
            expect(quote).to_be_focused()
            assert quote.text_content() == sentence
            expect(quote).to_be_in_viewport()
            assert page.locator("mark.passage").text_content() == passage["text"]
            opened += 1
        if number < 3:
            problems += serious(page)
    assert opened >= 40
    assert problems == []

    # previous/next walk the answer's passages, each opened at its own sentence
    answer = httpx.post(server + "/ask", json={"question": questions[0], "top_k": 3}, timeout=60).json()
    page.goto(answer["passages"][0]["citation"]["url"])
    for passage in answer["passages"][1:]:
        page.get_by_role("link", name="Next passage →").click()
        sentence = passage["text"][passage["highlight"]["start"] : passage["highlight"]["end"]]
        expect(page.locator("mark.sentence")).to_have_text(sentence)
        expect(page.locator("mark.sentence")).to_be_focused()
    expect(page.get_by_role("link", name="Previous passage")).to_be_visible()
    context.close()


def test_the_viewer_in_dark_colours_has_no_serious_problem(server, browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 760}, color_scheme="dark")
    page = context.new_page()
    answer = httpx.post(server + "/ask", json={"question": "Who is Moussa Koussa?"}, timeout=60).json()
    page.goto(answer["passages"][0]["citation"]["url"])
    expect(page.locator("mark.sentence")).to_be_in_viewport()
    assert serious(page) == []
    context.close()


SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "viewer.png"


def test_screenshot_for_the_readme(server, browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1000, "height": 640})
    page = context.new_page()
    answer = httpx.post(server + "/ask", json={"question": "Who is Moussa Koussa?"}, timeout=60).json()
    page.goto(answer["passages"][0]["citation"]["url"])
    expect(page.locator("mark.sentence")).to_be_focused()
    page.screenshot(path=str(SCREENSHOT))
    context.close()
